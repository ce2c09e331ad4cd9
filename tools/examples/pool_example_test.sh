#!/usr/bin/env bash
# Runs the README's Pool example (tools/examples/pool_example.cc) and checks
# that the README still shows exactly that file.
set -euo pipefail
example=$1
readme=$2
source=$3

out=$("$example")
echo "$out"
grep -qx '7 squared is 49; squares: 1 4 9 16' <<<"$out"

# The README's second ```cpp block must be the example, byte for byte.
diff <(awk '/^```cpp$/{n++; if(n==2){f=1}; next} /^```$/{if(f){exit}} f' "$readme") "$source" ||
  { echo "README.md's Pool example differs from $source"; exit 1; }
echo "README Pool example OK"
