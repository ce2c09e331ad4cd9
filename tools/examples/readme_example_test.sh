#!/usr/bin/env bash
# Runs the README's example (tools/examples/readme_example.cc) and checks
# that the README still shows exactly that file.
set -euo pipefail
example=$1
readme=$2
source=$3

out=$("$example")
echo "$out"
grep -qE '^child [0-9]+ \(parent [0-9]+\): hello world #7$' <<<"$out"
grep -qE '^parent [0-9]+: child exited with 0$' <<<"$out"
child_parent=$(sed -nE 's/^child [0-9]+ \(parent ([0-9]+)\).*/\1/p' <<<"$out")
parent=$(sed -nE 's/^parent ([0-9]+):.*/\1/p' <<<"$out")
[ "$child_parent" = "$parent" ] || { echo "child's parent $child_parent != parent $parent"; exit 1; }

# The README's first ```cpp block must be the example, byte for byte.
diff <(awk '/^```cpp$/{f=1;next} /^```$/{if(f){exit}} f' "$readme") "$source" ||
  { echo "README.md's example differs from $source"; exit 1; }
echo "README example OK"
