"""One fuzz target: the libFuzzer binary and the replay of its corpus."""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")
load("//platform:targets.bzl", "NOT_WINDOWS")

def fuzz_target(name, deps = []):
    """`<name>_fuzzer` from `<name>_fuzzer.cc`, and `<name>_fuzzer_replay_test`.

    The binary is what tools/fuzz/run.sh builds with clang and
    -fsanitize=fuzzer (libFuzzer supplies main()); it is `manual`, so the
    ordinary build skips it. The test runs the same code over every file in
    corpus/<name>/ with replay_main.cc, under `bazel test`.

    Args:
      name: the target's short name, e.g. "codec".
      deps: what the fuzzer source needs besides //:mp.
    """
    src = name + "_fuzzer.cc"
    cc_binary(
        name = name + "_fuzzer",
        srcs = [src],
        tags = ["manual"],
        target_compatible_with = NOT_WINDOWS,
        deps = ["//:mp"] + deps,
    )
    cc_test(
        name = name + "_fuzzer_replay_test",
        size = "small",
        srcs = [src, "replay_main.cc"],
        args = ["tests/fuzz/corpus/" + name],
        data = native.glob(["corpus/" + name + "/*"]),
        target_compatible_with = NOT_WINDOWS,
        deps = ["//:mp"] + deps,
    )
