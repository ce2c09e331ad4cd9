"""compile_outcomes: compiles C++ snippets that may fail, and keeps the result.

Each snippet in `srcs` is compiled with -fsyntax-only by the build's own C++
toolchain, with the compiler flags of the build (--copt, --cxxopt and the
toolchain's features) and the headers, include paths and defines of `deps`,
exactly as a cc_library depending on them would be. The action always
succeeds: it writes `<name>/<snippet>.log`, holding

    source: <the snippet's path in the workspace>
    <everything the compiler printed>
    exit: <the compiler's exit status>

so that a test (see check.sh) can judge the outcome, a failed compile
included.
"""

load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "CPP_COMPILE_ACTION_NAME")
load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")

def _compile_outcomes_impl(ctx):
    cc_toolchain = find_cpp_toolchain(ctx)
    features = cc_common.configure_features(
        ctx = ctx,
        cc_toolchain = cc_toolchain,
        requested_features = ctx.features,
        unsupported_features = ctx.disabled_features,
    )
    compiler = cc_common.get_tool_for_action(
        feature_configuration = features,
        action_name = CPP_COMPILE_ACTION_NAME,
    )
    deps = cc_common.merge_cc_infos(
        cc_infos = [d[CcInfo] for d in ctx.attr.deps],
    ).compilation_context
    flags = (ctx.fragments.cpp.copts + ctx.fragments.cpp.cxxopts +
             ["-fsyntax-only", "-fdiagnostics-color=never"])
    env = dict(ctx.configuration.default_shell_env)
    logs = []
    for src in ctx.files.srcs:
        variables = cc_common.create_compile_variables(
            feature_configuration = features,
            cc_toolchain = cc_toolchain,
            user_compile_flags = flags,
            source_file = src.path,
            include_directories = deps.includes,
            quote_include_directories = deps.quote_includes,
            system_include_directories = deps.system_includes,
            framework_include_directories = deps.framework_includes,
            preprocessor_defines = deps.defines,
        )
        command_line = cc_common.get_memory_inefficient_command_line(
            feature_configuration = features,
            action_name = CPP_COMPILE_ACTION_NAME,
            variables = variables,
        )
        env.update(cc_common.get_environment_variables(
            feature_configuration = features,
            action_name = CPP_COMPILE_ACTION_NAME,
            variables = variables,
        ))
        log = ctx.actions.declare_file("{}/{}.log".format(ctx.label.name, src.basename))
        logs.append(log)
        ctx.actions.run_shell(
            command = """log="$1"; source="$2"; shift 2
{ echo "source: $source"; "$@" 2>&1; echo "exit: $?"; } >"$log"
""",
            arguments = [log.path, src.short_path, compiler] + command_line,
            inputs = depset([src], transitive = [deps.headers, cc_toolchain.all_files]),
            outputs = [log],
            env = env,
            mnemonic = "CompileOutcome",
            progress_message = "Compiling %s (may fail)" % src.short_path,
        )
    return [DefaultInfo(files = depset(logs), runfiles = ctx.runfiles(files = logs))]

compile_outcomes = rule(
    implementation = _compile_outcomes_impl,
    doc = "Compiles C++ snippets and records the compiler's output and status.",
    attrs = {
        "srcs": attr.label_list(allow_files = [".cc"], doc = "One snippet per file."),
        "deps": attr.label_list(providers = [CcInfo], doc = "What the snippets include."),
        "_cc_toolchain": attr.label(default = "@bazel_tools//tools/cpp:current_cc_toolchain"),
    },
    fragments = ["cpp"],
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
)
