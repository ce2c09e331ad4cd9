#!/usr/bin/env bash
# `bazel run //tools:conformance -- [options]`: finds the runfiles holding
# the conformance binaries and runs conformance.py there (see that file).
set -euo pipefail
if [ -d "$0.runfiles/mp" ]; then
  root=$(cd "$0.runfiles/mp" && pwd)
else
  root=$PWD  # bazel run starts in the runfiles root
fi
exec python3 "$root/tools/jobs/conformance.py" --root "$root" "$@"
