#!/usr/bin/env bash
# Runs each of the seed's ported programs under fork and under spawn and
# checks what the seed says it shows. Arguments: the program binaries, in
# the order function class join_ten daemon is_alive terminate.
set -uo pipefail
declare -A bin=(
  [function]=$1 [class]=$2 [join_ten]=$3 [daemon]=$4 [is_alive]=$5 [terminate]=$6
)
failures=0
fail() { echo "FAIL [$name/$method]: $*"; echo "--- output:"; echo "$out"; failures=$((failures + 1)); }
count() { grep -c -- "$1" <<<"$out"; }
line_of() { grep -n -- "$1" <<<"$out" | tail -1 | cut -d: -f1; }

for method in fork spawn; do
  name=function
  out=$(timeout 60 "${bin[$name]}" "$method")
  main=$(sed -nE 's/^main1 ([0-9]+)$/\1/p' <<<"$out")
  child=$(sed -nE 's/^start ([0-9]+)$/\1/p' <<<"$out")
  [ -n "$main" ] && [ -n "$child" ] && [ "$main" != "$child" ] || fail "no main1/start pids"
  grep -qE "^end $child $main\$" <<<"$out" || fail "child's parent pid is not main's pid"
  [ "$(count '^main2')" = 1 ] || fail "main2 printed $(count '^main2') times"

  name=class
  out=$(timeout 60 "${bin[$name]}" "$method")
  [ "$(count '^MYserver2222$')" = 5 ] || fail "MYserver2 printed $(count '^MYserver2222$') times, not 5"
  [ "$(count '^MYserver1 x=1 y=2$')" -ge 1 ] || fail "MYserver1 did not see its constructor arguments"
  [ "$(line_of '^MYserver1')" -lt "$(line_of '^main code ends')" ] || fail "the daemon printed after main's code ended"
  [ "$(tail -1 <<<"$out" | cut -c1-15)" = "all children do" ] || fail "main did not wait for MYserver2"

  name=join_ten
  out=$(timeout 60 "${bin[$name]}" "$method")
  for i in 0 1 2 3 4 5 6 7 8 9; do
    [ "$(count "^start $i\$")" = 1 ] || fail "child $i printed $(count "^start $i\$") times"
  done
  [ "$(tail -1 <<<"$out")" = hahhahaha ] || fail "the parent's line is not last"

  name=daemon
  out=$(timeout 60 "${bin[$name]}" "$method")
  [ "$(count '^son2222$')" = 5 ] || fail "son2 printed $(count '^son2222$') times, not 5"
  [ "$(count '^son1 alive$')" -ge 2 ] || fail "son1 barely ran"
  # son1's print at the 2 s mark races with main's own: one line may land
  # after "main code ends". A daemon that survived would print every 0.5 s
  # for the 3 s that son2 still runs.
  late=$(sed -n '/^main code ends$/,$p' <<<"$out" | grep -c '^son1 alive$')
  [ "$late" -le 1 ] || fail "son1 outlived main's code ($late lines after it)"
  [ "$(tail -1 <<<"$out")" = "main process ends" ] || fail "main ended before son2"

  name=is_alive
  out=$(timeout 60 "${bin[$name]}" "$method")
  grep -qx "is_alive after start: True" <<<"$out" || fail "not alive after start"
  grep -qx "is_alive after join: False" <<<"$out" || fail "alive after join"

  name=terminate
  out=$(timeout 60 "${bin[$name]}" "$method")
  grep -qx "before terminate: True" <<<"$out" || fail "not alive before terminate"
  grep -qxE "right after terminate: (True|False)" <<<"$out" || fail "no line right after terminate"
  grep -qx "a moment later: False" <<<"$out" || fail "still alive a moment after terminate"
  grep -qx "exit code: -15" <<<"$out" || fail "exit code is not -SIGTERM"
done

echo "seed examples: $failures failure(s)"
[ "$failures" = 0 ]
