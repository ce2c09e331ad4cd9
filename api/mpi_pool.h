// Copyright 2026 The mp Authors.
//
// mp::MpiPool: an mp::Pool whose workers run on the ranks of an MPI job, so
// that one program spreads its tasks over several hosts. Link //:mp_mpi
// (Open MPI) and start the program with mpirun:
//
//   mpirun -np 8 --host a:4,b:4 ./prog
//
//   int main(int argc, char** argv) {
//     mp::MainScope scope = mp::Init(argc, argv);  // ranks 1..7 stay in here
//     absl::StatusOr<mp::Pool> pool = mp::MpiPool::Create();
//     absl::StatusOr<std::vector<int>> r = pool->Map(Square, inputs);
//   }
//
// Rank 0 runs main(). Every other rank is diverted inside mp::Init and
// serves pools until rank 0's program ends; it never returns to main().
// Each worker rank runs its share of a pool's workers as processes of its
// own host (a local mp::Pool there), and passes tasks and results, as codec
// bytes, between them and rank 0. The Pool is the same type with the same
// API and the same results as a local one: Submit, Map, Imap,
// ImapUnordered, Starmap, chunksize, the initializer, max_tasks_per_child
// and task_timeout behave as on one machine; a task that throws, exits,
// crashes or times out fails alone, and its worker is replaced, on its
// rank's host.
//
// Pool::Options on MPI:
//   workers       worker processes in all, spread over the worker ranks,
//                 least loaded first; 0: one per worker rank (N - 1).
//   start_method  how each rank starts its workers on its host.
//   the rest      as on a local pool, applied on each worker's host.
// WorkerPids() are the workers' pids, each on its own host.
//
// What differs from a local pool:
//   * Arguments that wrap OS handles cannot reach another host: a task's
//     are refused as on a local pool (InvalidArgument), and so is such an
//     initializer argument (Create fails InvalidArgument).
//   * A worker *rank* that dies (its host fails, it is killed) ends the
//     whole job: Open MPI 4 cannot go on without one of its ranks. mpirun
//     then stops every rank within a few seconds and exits non-zero,
//     naming the rank; nothing hangs. (A worker *process* that dies is
//     reported as on a local pool, WorkerDied, for its task alone.)
//   * Every host must run the same build of the program: rank 0 compares
//     the build identity (the ELF build id) of every rank's copy when the
//     job starts, and ends the job with a message naming the ranks and
//     hosts that differ.
//   * Pools are made by rank 0 only (a task runs in a worker process and
//     may not use a pool, as on a local pool).
//
// MPI itself: with //:mp_mpi linked, mp::Init calls MPI_Init_thread when
// the program runs under mpirun (a program started otherwise does not touch
// MPI), and MPI_Finalize when the program ends, after telling the worker
// ranks to end. mp owns MPI in such a program: it makes no MPI calls of its
// own.

#ifndef MP_MPI_POOL_H_
#define MP_MPI_POOL_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mp/pool.h"

namespace mp {

class MpiPool {
 public:
  // Starts the pool's workers on the worker ranks and waits until each has
  // run the initializer. FailedPrecondition if the program was not started
  // by mpirun with at least two ranks (Available() is false), or is not
  // rank 0; other errors as Pool::Create.
  static absl::StatusOr<Pool> Create(Pool::Options options = Pool::Options());

  // Whether Create() can work here: this is rank 0 of an MPI job with at
  // least one worker rank.
  static bool Available();

  // The job's worker ranks (N - 1 under `mpirun -np N`); 0 when the
  // program was not started by mpirun.
  static int WorkerRanks();
};

}  // namespace mp

#endif  // MP_MPI_POOL_H_
