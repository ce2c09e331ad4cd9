#!/usr/bin/env bash
# Runs the README's standard-streams example
# (tools/examples/stdio_example.cc) and checks that the README still shows
# exactly that file.
set -euo pipefail
example=$1
readme=$2
source=$3

out=$("$example")
echo "$out"
grep -qx 'stdout: QUIET WORDS' <<<"$out"
grep -qx 'stderr: hello from the child' <<<"$out"
grep -qx 'exit code 0' <<<"$out"

# The ```cpp block after the line naming the file must be the file.
diff <(awk '/This is `tools\/examples\/stdio_example.cc`/{m=1} m&&/^```cpp$/{f=1;next} f&&/^```$/{exit} f' "$readme") "$source" ||
  { echo "README.md's standard-streams example differs from $source"; exit 1; }
echo "standard-streams example OK"
