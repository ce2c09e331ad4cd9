"""cc_toolchain_config for Debian's mingw-w64 g++ (posix thread model).

Binaries are linked fully static (no mingw DLLs to ship next to the .exe,
which keeps Wine runs hermetic) and get the .exe extension.
"""

load(
    "@bazel_tools//tools/cpp:cc_toolchain_config_lib.bzl",
    "artifact_name_pattern",
    "feature",
    "flag_group",
    "flag_set",
    "tool_path",
)
load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "ACTION_NAMES")

_PREFIX = "/usr/bin/x86_64-w64-mingw32-"
_GCC_DIR = "/usr/lib/gcc/x86_64-w64-mingw32/12-posix"

_COMPILE = [
    ACTION_NAMES.c_compile,
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
    ACTION_NAMES.assemble,
    ACTION_NAMES.preprocess_assemble,
]
_LINK = [
    ACTION_NAMES.cpp_link_executable,
    ACTION_NAMES.cpp_link_dynamic_library,
    ACTION_NAMES.cpp_link_nodeps_dynamic_library,
]

def _impl(ctx):
    tools = [
        tool_path(name = "gcc", path = _PREFIX + "gcc-posix"),
        tool_path(name = "g++", path = _PREFIX + "g++-posix"),
        tool_path(name = "ld", path = _PREFIX + "ld"),
        tool_path(name = "ar", path = _PREFIX + "ar"),
        tool_path(name = "cpp", path = _PREFIX + "cpp-posix"),
        tool_path(name = "nm", path = _PREFIX + "nm"),
        tool_path(name = "objdump", path = _PREFIX + "objdump"),
        tool_path(name = "strip", path = _PREFIX + "strip"),
        tool_path(name = "gcov", path = "/bin/false"),
    ]
    features = [
        feature(
            name = "mingw_compile_flags",
            enabled = True,
            flag_sets = [flag_set(
                actions = _COMPILE,
                flag_groups = [flag_group(flags = [
                    # Bazel checks that headers come from declared inputs;
                    # keep the toolchain's own paths as given.
                    "-fno-canonical-system-headers",
                    "-D_WIN32_WINNT=0x0A00",
                    "-DUNICODE",
                    "-D_UNICODE",
                    "-gdwarf-4",
                ])],
            )],
        ),
        feature(
            name = "mingw_link_flags",
            enabled = True,
            flag_sets = [flag_set(
                actions = _LINK,
                flag_groups = [flag_group(flags = [
                    "-static",
                    # The gcc driver links C++ objects: name the C++ runtime.
                    "-lstdc++",
                    "-lbcrypt",
                    "-ldbghelp",
                    "-ladvapi32",
                    "-lkernel32",
                ])],
            )],
        ),
        feature(name = "opt", flag_sets = [flag_set(
            actions = _COMPILE,
            flag_groups = [flag_group(flags = ["-O2", "-DNDEBUG"])],
        )]),
        feature(name = "dbg", flag_sets = [flag_set(
            actions = _COMPILE,
            flag_groups = [flag_group(flags = ["-g"])],
        )]),
        feature(name = "supports_pic", enabled = False),
    ]
    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        toolchain_identifier = "mingw-w64-x86_64-posix",
        host_system_name = "local",
        target_system_name = "x86_64-w64-mingw32",
        target_cpu = "x64_windows",
        target_libc = "msvcrt",
        # Abseil's BUILD files recognise this name (//absl:mingw_compiler).
        compiler = "mingw-gcc",
        abi_version = "local",
        abi_libc_version = "local",
        tool_paths = tools,
        features = features,
        cxx_builtin_include_directories = [
            _GCC_DIR + "/include",
            _GCC_DIR + "/include-fixed",
            "/usr/x86_64-w64-mingw32/include",
            "/usr/share/mingw-w64/include",
        ],
        artifact_name_patterns = [
            artifact_name_pattern(
                category_name = "executable",
                prefix = "",
                extension = ".exe",
            ),
        ],
    )

mingw_toolchain_config = rule(
    implementation = _impl,
    attrs = {},
    provides = [CcToolchainConfigInfo],
)
