#!/usr/bin/env bash
# Runs every MPI benchmark once, briefly, under mpirun with 3 ranks on this
# machine alone, and checks each produced a result. Open MPI refuses to run
# as root unless told it may (CI runs as root): said here, for this mpirun
# only. Its session directory goes to a fresh folder under /tmp.
set -euo pipefail
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
TMPDIR=$(mktemp -d /tmp/mp-mpi.XXXXXX)
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
out=$(timeout --kill-after=5 120 mpirun --oversubscribe --bind-to none -np 3 \
  --mca pml ob1 --mca btl vader,self --mca oob_tcp_if_include lo \
  "$1" --benchmark_min_time=0.001 --benchmark_format=json)
expected=3
got=$(grep -c '"run_name"' <<<"$out")
echo "$got benchmark runs"
[ "$got" -ge "$expected" ] || { echo "expected $expected runs"; exit 1; }
