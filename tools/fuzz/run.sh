#!/usr/bin/env bash
# Builds mp's fuzz targets with clang + libFuzzer (with ASan and UBSan) and
# runs each for a while on a copy of its seed corpus.
#
#   tools/fuzz/run.sh [seconds per target]      # default 60
#
# The build uses its own Bazel output base and makes no convenience symlinks
# (they would sit in the workspace, where `bazel test //...` would walk into
# them), so the ordinary gcc build is untouched. A crash leaves crash-* files here:
# add the input to tests/fuzz/corpus/<target>/ so that
# //tests/fuzz:*_replay_test keeps it fixed, and fix the decoder.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
output_base=${MP_FUZZ_OUTPUT_BASE:-${HOME:-/tmp}/.cache/mp-fuzz}

flags=(
  -c opt --repo_env=CC=clang --repo_env=CXX=clang++
  --copt=-fsanitize=fuzzer-no-link,address,undefined --copt=-gline-tables-only
  --linkopt=-fsanitize=fuzzer,address,undefined
  --linkopt=-fsanitize-link-c++-runtime
)
bazel --output_base="$output_base" build --symlink_prefix=/ "${flags[@]}" \
  //tests/fuzz:codec_fuzzer //tests/fuzz:framing_fuzzer //tests/fuzz:ring_fuzzer
bin=$(bazel --output_base="$output_base" info "${flags[@]}" bazel-bin)

for target in codec framing ring; do
  corpus=$(mktemp -d)
  cp "tests/fuzz/corpus/$target/"* "$corpus/"
  echo "fuzzing $target for ${seconds}s"
  "$bin/tests/fuzz/${target}_fuzzer" -max_total_time="$seconds" \
    -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 "$corpus"
  rm -rf "$corpus"
done
