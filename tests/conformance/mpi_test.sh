#!/usr/bin/env bash
# Runs an MPI test binary under mpirun on this machine alone:
#
#   mpi_test.sh BINARY shm|tcp [ARGS...]
#
# 4 ranks (rank 0 runs main(), ranks 1-3 serve its pools), over shared
# memory (shm) or forced onto TCP over the loopback interface (tcp). Only
# rank 0 runs GoogleTest, so only it writes results (XML_OUTPUT_FILE, from
# Bazel). Open MPI refuses to run as root unless told it may: CI runs as
# root, so this script says so, for its own mpirun only. Open MPI's session
# directory goes to a fresh folder under /tmp (a Unix socket's path must be
# short, and Bazel's TEST_TMPDIR is long), removed at the end.
set -uo pipefail
bin=$1
transport=$2
shift 2

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
TMPDIR=$(mktemp -d /tmp/mp-mpi.XXXXXX) || exit 1
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT

# ob1 is the point-to-point layer that uses the byte transfer layers named
# by `btl`; the out-of-band channel stays on the loopback interface too.
mca=(--mca pml ob1 --mca oob_tcp_if_include lo)
case "$transport" in
  shm) mca+=(--mca btl vader,self) ;;
  tcp) mca+=(--mca btl tcp,self --mca btl_tcp_if_include lo) ;;
  *) echo "mpi_test.sh: transport must be shm or tcp, not '$transport'" >&2; exit 2 ;;
esac

# The suite takes seconds; the bound only keeps a broken build from hanging
# until Bazel's own timeout.
timeout --kill-after=5 120 \
  mpirun --oversubscribe --bind-to none -np 4 "${mca[@]}" "$bin" "$@"
