"""win32_test: a test that cross-builds its binary for Windows and runs it
under Wine, so that a plain `bazel test //...` on Linux also runs the Win32
backend's tests, with no flag.

The `binary` attribute carries a configuration transition to
//platform:windows_x86_64, so the cc_binary it names is built by the
mingw-w64 toolchain (registered in WORKSPACE) while this wrapper itself
stays a Linux test. The wrapper runs the .exe through //tools/wine:run, which
prepares a Wine prefix and maps Bazel's test environment to Windows paths.
GoogleTest's XML, --test_filter and exit status pass straight through.
"""

load(":test_wrapper.bzl", "run_binary_as_test")

def _no_sanitizers(flags):
    # mingw-w64 has no sanitizer runtimes: --config=asan/ubsan/tsan apply to
    # the Linux side only, and the Win32 binary is built as usual.
    return [f for f in flags if not f.startswith("-fsanitize") and
                                f != "-fno-sanitize-recover=all"]

def _to_windows_impl(settings, attr):
    return {
        "//command_line_option:platforms": "//platform:windows_x86_64",
        # Keep Windows outputs apart from Linux ones of the same target.
        "//command_line_option:platform_suffix": "win32",
        "//command_line_option:copt": _no_sanitizers(settings["//command_line_option:copt"]),
        "//command_line_option:linkopt": _no_sanitizers(settings["//command_line_option:linkopt"]),
    }

_to_windows = transition(
    implementation = _to_windows_impl,
    inputs = [
        "//command_line_option:copt",
        "//command_line_option:linkopt",
    ],
    outputs = [
        "//command_line_option:platforms",
        "//command_line_option:platform_suffix",
        "//command_line_option:copt",
        "//command_line_option:linkopt",
    ],
)

def _win32_test_impl(ctx):
    # A transitioned attribute arrives as a list (one configuration here).
    binary = ctx.attr.binary[0] if type(ctx.attr.binary) == "list" else ctx.attr.binary
    return [run_binary_as_test(ctx, binary, runner = ctx.attr._runner)]

_win32_test = rule(
    implementation = _win32_test_impl,
    test = True,
    doc = "Runs a cc_binary built for Windows (mingw-w64) under Wine.",
    attrs = {
        "binary": attr.label(
            mandatory = True,
            executable = True,
            cfg = _to_windows,
            doc = "A cc_binary with target_compatible_with Windows.",
        ),
        "_runner": attr.label(
            default = "//tools/wine:run",
            executable = True,
            cfg = "exec",
        ),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)

def win32_test(name, binary, tags = [], **kwargs):
    """A Linux test that runs `binary`, built for Windows, under Wine.

    Runs outside Bazel's sandbox ("no-sandbox"): every Wine process of a
    prefix talks to one wineserver, which signals its clients by unix pid,
    so all of them must share one PID namespace, and the sandbox gives each
    test its own. The prefix itself is shared and created once.
    """
    _win32_test(
        name = name,
        binary = binary,
        tags = tags + ["no-sandbox"],
        **kwargs
    )
