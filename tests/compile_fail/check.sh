#!/usr/bin/env bash
# Judges compile outcomes (see compile_outcome.bzl) against what each
# snippet expects, on a line of its own:
#
#   // EXPECT-ERROR: <text>   the compile fails; its first error line contains
#                             <text>, and it is the only error line
#   // EXPECT: compiles       the compile succeeds
#
# Usage: check.sh LOG...   (paths relative to the runfiles' workspace root)
set -uo pipefail

failed=0
checked=0
for log in "$@"; do
  checked=$((checked + 1))
  source=$(sed -n '1s/^source: //p' "$log")
  status=$(sed -n '$s/^exit: //p' "$log")
  output=$(sed '1d;$d' "$log")
  errors=$(grep -c 'error:' <<<"$output")
  first=$(grep -m1 'error:' <<<"$output")
  expect_error=$(sed -n 's|^// EXPECT-ERROR: ||p' "$source")
  expect_compiles=$(grep -c '^// EXPECT: compiles$' "$source")
  problem=""
  if [ -n "$expect_error" ]; then
    if [ "$status" = 0 ]; then
      problem="compiled, but must fail with: $expect_error"
    elif [[ "$first" != *"$expect_error"* ]]; then
      problem="the first error is not \"$expect_error\""
    elif [ "$errors" != 1 ]; then
      problem="$errors error lines, expected exactly one"
    fi
  elif [ "$expect_compiles" = 1 ]; then
    [ "$status" = 0 ] || problem="must compile, failed with exit status $status"
  else
    problem="no '// EXPECT-ERROR: ...' or '// EXPECT: compiles' line"
  fi
  if [ -n "$problem" ]; then
    failed=$((failed + 1))
    echo "FAIL $source: $problem"
    echo "---- compiler output ----"
    sed -n '1,60p' <<<"$output"
    echo "-------------------------"
  else
    echo "ok   $source ($errors error lines)"
  fi
done
echo "$checked snippets, $failed failed"
[ "$checked" -gt 0 ] && [ "$failed" = 0 ]
