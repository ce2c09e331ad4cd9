#!/usr/bin/env bash
# The MPI pool's fault cases (mpi_fault.cc), each under mpirun on this
# machine alone (3 ranks, shared memory):
#
#   mpi_fault_test.sh kill PROGRAM
#       a worker rank is killed: the job must end with a non-zero exit
#       code within 5 s of the kill, and say which rank ended.
#   mpi_fault_test.sh identity PROGRAM OTHER
#       PROGRAM on every rank runs; PROGRAM on rank 0 with OTHER (another
#       build) on the others must not: non-zero, naming the builds.
#
# Open MPI refuses to run as root unless told it may: CI runs as root, so
# this script says so, for its own mpirun only. Its session directory goes
# to a fresh folder under /tmp (Bazel's TEST_TMPDIR is too long a path for
# a Unix socket), removed at the end.
set -uo pipefail
mode=$1
program=$2

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
TMPDIR=$(mktemp -d /tmp/mp-mpi.XXXXXX) || exit 1
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
mpirun=(timeout --kill-after=5 60 mpirun --oversubscribe --bind-to none
        --mca pml ob1 --mca btl vader,self --mca oob_tcp_if_include lo)
fail() { echo "FAIL: $*"; exit 1; }

case "$mode" in
  kill)
    marker=$TMPDIR/killed
    "${mpirun[@]}" -np 3 "$program" kill "$marker" >"$TMPDIR/out" 2>&1
    rc=$?
    ended=$(date +%s%N)
    cat "$TMPDIR/out"
    [ "$rc" != 0 ] || fail "the job exited 0 after a worker rank was killed"
    [ -s "$marker" ] || fail "the program did not get to kill a worker rank"
    killed=$(cat "$marker")
    ms=$(( (ended - killed) / 1000000 ))
    echo "the job ended with exit code $rc, ${ms} ms after the kill"
    [ "$ms" -lt 5000 ] || fail "the job took ${ms} ms to end (limit 5000)"
    grep -q "exited on signal 9" "$TMPDIR/out" ||
      fail "mpirun's output does not say a rank was killed"
    ;;
  identity)
    other=$3
    "${mpirun[@]}" -np 3 "$program" hello >"$TMPDIR/out" 2>&1
    rc=$?
    cat "$TMPDIR/out"
    [ "$rc" = 0 ] || fail "the same build on every rank exited $rc"
    grep -q "hello from mpi_fault" "$TMPDIR/out" || fail "no hello"
    "${mpirun[@]}" -np 1 "$program" hello : -np 2 "$other" hello \
      >"$TMPDIR/out" 2>&1
    rc=$?
    cat "$TMPDIR/out"
    [ "$rc" != 0 ] || fail "two builds ran as one job (exit 0)"
    [ "$rc" != 124 ] || fail "two builds: the job hung"
    grep -q "every rank must run the same build" "$TMPDIR/out" ||
      fail "the refusal does not say why"
    grep -q "rank 1 runs .*mpi_fault_other" "$TMPDIR/out" ||
      fail "the refusal does not name the rank that differs"
    ! grep -q "hello from" "$TMPDIR/out" || fail "a task ran"
    ;;
  *)
    fail "mode must be kill or identity, not '$mode'"
    ;;
esac
echo "PASS"
