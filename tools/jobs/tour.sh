#!/usr/bin/env bash
# `bazel run //tools:tour -- [--method spawn]`: runs tour.py in the runfiles
# that hold the seed's programs (see tour.py).
set -euo pipefail
if [ -d "$0.runfiles/mp" ]; then
  root=$(cd "$0.runfiles/mp" && pwd)
else
  root=$PWD  # bazel run starts in the runfiles root
fi
exec python3 "$root/tools/jobs/tour.py" --root "$root" "$@"
