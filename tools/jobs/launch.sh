#!/usr/bin/env bash
# Runs one of this folder's Python jobs in the runfiles that hold what it
# runs: `launch.sh conformance.py [options]` (//tools:conformance),
# `launch.sh tour.py [options]` (//tools:tour), as `bazel run` or as a test.
set -euo pipefail
job=${1:?usage: launch.sh JOB.py [options]}
shift
if [ -d "$0.runfiles/mp" ]; then
  root=$(cd "$0.runfiles/mp" && pwd)
else
  root=$PWD  # bazel run and bazel test start in the runfiles root
fi
exec python3 "$root/tools/jobs/$job" --root "$root" "$@"
