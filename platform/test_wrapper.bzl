"""The wrapper script of a test rule that runs another (transitioned) binary.

win32_test and sanitized_test both build a binary in another configuration
and run it as this test: the wrapper finds the binary in the test's
runfiles and execs it, through `runner` if one is given, with the test's
arguments. Shared here so the two stay the same.
"""

def run_binary_as_test(ctx, binary, runner = None):
    """Writes the wrapper for `binary` and returns its DefaultInfo.

    Args:
      ctx: the test rule's context.
      binary: the target to run (already transitioned).
      runner: an optional executable target that runs the binary.
    """
    exe = binary[DefaultInfo].files_to_run.executable

    # Declared under the label's own name so the runfiles tree is named
    # after this test, as Bazel's test runner expects.
    script = ctx.actions.declare_file(ctx.label.name)
    runner_exe = runner[DefaultInfo].files_to_run.executable if runner else None
    command = '"$root/{}" '.format(runner_exe.short_path) if runner else ""
    ctx.actions.write(
        output = script,
        is_executable = True,
        content = """#!/usr/bin/env bash
set -euo pipefail
root="${{TEST_SRCDIR:-$0.runfiles}}/${{TEST_WORKSPACE:-{workspace}}}"
exec {command}"$root/{exe}" "$@"
""".format(workspace = ctx.workspace_name, command = command, exe = exe.short_path),
    )
    runfiles = ctx.runfiles(files = [exe] + ([runner_exe] if runner else []))
    runfiles = runfiles.merge(binary[DefaultInfo].default_runfiles)
    if runner:
        runfiles = runfiles.merge(runner[DefaultInfo].default_runfiles)
    return DefaultInfo(executable = script, runfiles = runfiles)
