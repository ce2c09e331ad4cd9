#!/usr/bin/env bash
# Runs the README's ticket counter (tools/examples/ticket_example.cc): ten
# buyers, three tickets, exactly three sold. Checks that the README's
# shared-memory section still shows exactly that file.
set -euo pipefail
example=$1
readme=$2
source=$3

out=$("$example")
echo "$out"
sold=$(grep -cE '^buyer [0-9] got a ticket$' <<<"$out" || true)
turned=$(grep -cE '^buyer [0-9]: sold out$' <<<"$out" || true)
[ "$sold" = 3 ] || { echo "sold $sold tickets, want 3"; exit 1; }
[ "$turned" = 7 ] || { echo "turned $turned buyers away, want 7"; exit 1; }
grep -qx 'tickets left: 0' <<<"$out"

# The ```cpp block after the line naming the file must be the file.
diff <(awk '/This is `tools\/examples\/ticket_example.cc`/{m=1} m&&/^```cpp$/{f=1;next} f&&/^```$/{exit} f' "$readme") "$source" ||
  { echo "README.md's ticket example differs from $source"; exit 1; }
echo "ticket example OK"
