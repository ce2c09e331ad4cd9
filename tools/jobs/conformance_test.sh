#!/usr/bin/env bash
# Checks how the conformance report reads GoogleTest's XML: a pass, a
# failure with the first line of why, a documented difference, and a skip
# with no documented reason (which must count as a failure).
set -uo pipefail
report=$1
xml=$TEST_TMPDIR/sample.xml
cat >"$xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="4" failures="1">
  <testsuite name="Conformance/PipeTest/fork" tests="2">
    <testcase name="Works" status="run" result="completed"/>
    <testcase name="Breaks" status="run" result="completed">
      <failure message="tests/conformance/pipe_test.cc:42&#x0A;Value of: c.Recv().ok()&#x0A;  Actual: false"/>
    </testcase>
  </testsuite>
  <testsuite name="Conformance/PipeTest/threads" tests="2">
    <testcase name="Works" status="run" result="skipped">
      <skipped message="x.cc:1&#x0A;documented difference (threads): no reason to worry"/>
    </testcase>
    <testcase name="Breaks" status="run" result="skipped">
      <skipped message="x.cc:2&#x0A;GTEST_SKIP for no documented reason"/>
    </testcase>
  </testsuite>
</testsuites>
XML
out=$(python3 "$report" --backends fork,threads --xml "$xml" --out "$TEST_TMPDIR/r")
rc=$?
failures=0
check() { grep -qF -- "$1" <<<"$out" || { echo "missing: $1"; failures=$((failures + 1)); }; }
grep -qE "^  Works +pass +diff" <<<"$out" || { echo "missing: the Works row"; failures=$((failures + 1)); }
check "fork     PipeTest.Breaks: pipe_test.cc:42: Value of: c.Recv().ok()"
check "threads  PipeTest.Works: no reason to worry"
check "threads  PipeTest.Breaks: skipped without a documented difference"
check "1 passed, 1 documented differences, 2 failed (2 cases x 2 backends)"
[ "$rc" = 1 ] || { echo "exit status $rc, want 1"; failures=$((failures + 1)); }
grep -q '"status": "diff"' "$TEST_TMPDIR/r.json" || { echo "no JSON"; failures=$((failures + 1)); }
grep -q '| Pipe | Breaks | \*\*FAIL\*\* | \*\*FAIL\*\* |' "$TEST_TMPDIR/r.md" || { echo "no Markdown row"; failures=$((failures + 1)); }
[ "$failures" = 0 ] || { echo "--- output:"; echo "$out"; exit 1; }
echo OK
