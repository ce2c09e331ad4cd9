// Copyright 2026 The mp Authors.
//
// What an MPI pool does when an MPI call fails: the one place that decides.
//
// Open MPI 4 (Debian 12) cannot go on once a rank has died: mpirun stops
// the whole job within a few seconds, whatever the survivors do, and its
// recovery mode (--enable-recovery) leaves rank 0 waiting for ever. So a
// failed call ends the job at once, with a message naming the call and the
// rank (EndJob): never a hang, never a task left waiting.
//
// MPI libraries with the User-Level Failure Mitigation extension (ULFM:
// Open MPI 5, MPICH) report a dead peer as MPIX_ERR_PROC_FAILED and let the
// job go on. IsProcessFailure() recognises it where the extension exists;
// the pool then fails that rank's running tasks with WorkerDied
// (mp/status.h) and gives it no more. With Open MPI 4 it is always false.

#ifndef MP_MPI_FAULT_H_
#define MP_MPI_FAULT_H_

#include <string>

#include "absl/status/status.h"

namespace mp {
namespace internal {
namespace mpi {

// Whether `code`, from an MPI call concerning another rank, says that rank
// died while the job can go on (ULFM).
bool IsProcessFailure(int code);

// The status the tasks held by a dead `rank` fail with (IsProcessFailure).
absl::Status RankDiedStatus(int rank, int code);

// Prints "mp::MpiPool: <why>" to stderr and ends the whole job (MPI_Abort)
// with a non-zero exit code.
[[noreturn]] void EndJob(const std::string& why);

// "<call> failed (<MPI's error string>)".
std::string Describe(const char* call, int code);

// An MPI call concerning rank `peer` (-1: none in particular) failed with
// `code`. With Open MPI 4 the job ends here (EndJob). With ULFM, a
// process failure of a worker rank would instead be handed to that rank's
// pools, which fail its running tasks with RankDiedStatus(peer, code) and
// give it no more.
[[noreturn]] void Fail(const char* call, int code, int peer);

}  // namespace mpi
}  // namespace internal
}  // namespace mp

#endif  // MP_MPI_FAULT_H_
