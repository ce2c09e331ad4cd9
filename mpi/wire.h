// Copyright 2026 The mp Authors.
//
// What rank 0 and the worker ranks of an MPI pool say to each other
// (mp/mpi_pool.h). Every message is codec bytes (mp/codec.h) on mp's own
// communicator (a duplicate of MPI_COMM_WORLD), starting with a varint
// kind. Messages between two ranks arrive in the order they were sent, and
// a worker rank receives from rank 0 with any tag, so it sees rank 0's
// messages in order across tags.
//
// The job (tag kJobTag):
//   rank 0 -> worker  kHello     string magic, varint protocol, string
//                                build identity, string program path
//   worker -> rank 0  kWelcome   bool same build, string build identity,
//                                string program path, string host, int64 pid
//   rank 0 -> worker  kShutdown  the program ends: end every pool, answer,
//                                finalize MPI and exit
//   worker -> rank 0  kBye       the last message a worker rank sends
//
// A pool (its own tag, >= kFirstPoolTag, for the pool's lifetime):
//   rank 0 -> worker  kOpen      varint workers, int32 start method,
//                                int32 max_tasks_per_child, int64 task
//                                timeout in ns (-1: none), bool initializer,
//                                [CodeRef runner, CodeRef fn, string args]
//   worker -> rank 0  kReady     vector<int64> worker pids
//                     kInitFailed  a status (below); the pool ended on
//                                that rank
//   rank 0 -> worker  kTask      a task message (task.h: varint id, CodeRef
//                                invoker, CodeRef target, arguments)
//   worker -> rank 0  kResult    varint id, the task's item records
//                     kTaskFailed  varint id, a status
//                     kPids      vector<int64>: its workers changed; sent
//                                before any result of a task that ran on
//                                a new worker
//   rank 0 -> worker  kClose     no task is outstanding: end the workers
//                     kTerminate kill the workers, drop every task
//   worker -> rank 0  kEnded     the last message on the pool's tag
//
// A status: varint absl::StatusCode, string message, string mp kind (the
// payload mp/status.h marks WorkerDied and the rest with; "" for none).

#ifndef MP_MPI_WIRE_H_
#define MP_MPI_WIRE_H_

#include <cstdint>

namespace mp {
namespace internal {
namespace mpi {

inline constexpr char kMagic[] = "mp-mpi";
inline constexpr uint64_t kProtocol = 1;

inline constexpr int kJobTag = 0;
inline constexpr int kFirstPoolTag = 1;
// Pool tags are taken in turn below this (MPI promises tags up to 32767).
inline constexpr int kPoolTagLimit = 32767;

enum Kind : uint64_t {
  kHello = 1,
  kWelcome = 2,
  kShutdown = 3,
  kBye = 4,
  kOpen = 10,
  kReady = 11,
  kInitFailed = 12,
  kTask = 13,
  kResult = 14,
  kTaskFailed = 15,
  kPids = 16,
  kClose = 17,
  kTerminate = 18,
  kEnded = 19,
};

}  // namespace mpi
}  // namespace internal
}  // namespace mp

#endif  // MP_MPI_WIRE_H_
