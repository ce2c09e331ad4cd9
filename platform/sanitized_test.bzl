"""sanitized_test: runs a test binary rebuilt with sanitizers, so that a plain
`bazel test //...` (and so CI) also runs the suite under ASan+UBSan and TSan.

Like win32_test (platform/win32_test.bzl), the `binary` attribute carries a
configuration transition: the named test is built again, with its whole
dependency tree, under the sanitizer's compiler and linker flags and an
output suffix of its own, and this wrapper runs it with the same arguments
and environment. The plain test keeps running as itself.

    bazel test //... --test_tag_filters=-sanitizer   # skip them locally
"""

load(":test_wrapper.bzl", "run_binary_as_test")

_FLAGS = {
    "asan_ubsan": (
        ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
         "-fno-omit-frame-pointer"],
        ["-fsanitize=address,undefined"],
    ),
    "tsan": (["-fsanitize=thread"], ["-fsanitize=thread"]),
}

def _sanitize_impl(settings, attr):
    copts, linkopts = _FLAGS[attr.sanitizer]
    return {
        "//command_line_option:copt": settings["//command_line_option:copt"] + copts,
        "//command_line_option:linkopt": settings["//command_line_option:linkopt"] + linkopts,
        "//command_line_option:platform_suffix": attr.sanitizer,
    }

_sanitize = transition(
    implementation = _sanitize_impl,
    inputs = [
        "//command_line_option:copt",
        "//command_line_option:linkopt",
    ],
    outputs = [
        "//command_line_option:copt",
        "//command_line_option:linkopt",
        "//command_line_option:platform_suffix",
    ],
)

def _sanitized_test_impl(ctx):
    binary = ctx.attr.binary[0] if type(ctx.attr.binary) == "list" else ctx.attr.binary
    return [run_binary_as_test(ctx, binary)]

_sanitized_test = rule(
    implementation = _sanitized_test_impl,
    test = True,
    doc = "Runs a test binary rebuilt with sanitizers.",
    attrs = {
        "binary": attr.label(mandatory = True, executable = True, cfg = _sanitize),
        "sanitizer": attr.string(mandatory = True, values = _FLAGS.keys()),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)

def sanitized_tests(binary, tags = [], args = [], extra_args = {}, **kwargs):
    """<binary's name>_asan_ubsan and <binary's name>_tsan tests.

    Args:
      binary: the test binary to rebuild with each sanitizer.
      tags: tags for both tests ("sanitizer" is added).
      args: arguments for both tests.
      extra_args: sanitizer name -> more arguments for that test only.
      **kwargs: passed to both tests (size, target_compatible_with, ...).
    """
    name = binary.split(":")[-1]
    for sanitizer in _FLAGS.keys():
        _sanitized_test(
            name = name + "_" + sanitizer,
            binary = binary,
            sanitizer = sanitizer,
            tags = tags + ["sanitizer"],
            args = args + extra_args.get(sanitizer, []),
            **kwargs
        )
