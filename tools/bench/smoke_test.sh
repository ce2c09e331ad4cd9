#!/usr/bin/env bash
# Runs every benchmark once, briefly, and checks each produced a result.
set -euo pipefail
out=$("$1" --benchmark_min_time=0.001 --benchmark_format=json)
expected=29
got=$(grep -c '"run_name"' <<<"$out")
echo "$got benchmark runs"
[ "$got" -ge "$expected" ] || { echo "expected $expected runs"; exit 1; }
