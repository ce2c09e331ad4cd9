// Copyright 2026 The mp Authors.
//
// Rank 0's MPI pools that are alive, for the end of the program
// (runtime.cc), which must end them before MPI is finalized.

#ifndef MP_MPI_POOLS_H_
#define MP_MPI_POOLS_H_

namespace mp {
namespace internal {
namespace mpi {

// Terminates every MPI pool still alive (Pool::Terminate); returns once
// each has ended.
void TerminateLivePools();

}  // namespace mpi
}  // namespace internal
}  // namespace mp

#endif  // MP_MPI_POOLS_H_
