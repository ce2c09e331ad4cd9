// Copyright 2026 The mp Authors.
//
// MPI in an mp program (mp/mpi_pool.h): the job, set up from mp::Init (the
// init hook, mp/internal/hooks.h), and the few MPI operations the pool
// makes, on mp's own communicator.
//
// Threads: on rank 0 every MPI call is made with Lock() held (the library
// is initialised at MPI_THREAD_SERIALIZED), by the pools' dispatcher threads
// and by the end of the program. A worker rank makes its calls from its one
// thread.

#ifndef MP_MPI_RUNTIME_H_
#define MP_MPI_RUNTIME_H_

#include <mpi.h>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "mp/codec.h"

namespace mp {
namespace internal {
namespace mpi {

struct Job {
  bool active = false;  // MPI is initialised and the ranks agreed
  int rank = 0;
  int size = 1;
  MPI_Comm comm = MPI_COMM_NULL;  // mp's own, a duplicate of the world
  // Why the job cannot serve pools, when not `active` (no mpirun, ...).
  std::string why_not;
};

// The job as mp::Init set it up; inactive before, and in a program not
// started by mpirun.
const Job& CurrentJob();

// Held for every MPI call on rank 0.
std::mutex& Lock();
// With Lock() held: true once the program is ending on rank 0, after which
// no MPI call may be made.
bool Ending();

// The identity of this build of the program: the main program's ELF build
// id, or, if it has none, its size and a hash of its bytes.
std::string BuildIdentity();

// A status as bytes with mp's kind of it (mp/status.h: WorkerDied, ...):
// internal::PutStatus's bytes, then the kind ("" for none); and back.
void PutStatus(Encoder& e, const absl::Status& s);
absl::Status TakeStatus(Decoder& d);

// A received message.
struct Message {
  int source = 0;
  int tag = 0;
  std::string bytes;
};

// The next message from `source` with `tag` (MPI_ANY_SOURCE, MPI_ANY_TAG
// allowed) if one has arrived, without waiting for one.
std::optional<Message> TryReceive(int source, int tag);

// Sends without waiting: each message's bytes are kept until MPI is done
// with them. Progress() must be called until Empty() before the process
// ends (MPI must complete every send before MPI_Finalize).
class Outbox {
 public:
  Outbox() = default;
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;
  ~Outbox();

  void Send(int dest, int tag, std::string bytes);
  // Completes the sends MPI is done with; true if any.
  bool Progress();
  bool Empty() const { return sends_.empty(); }

 private:
  struct Pending {
    MPI_Request request = MPI_REQUEST_NULL;
    std::string bytes;
  };
  std::deque<std::unique_ptr<Pending>> sends_;
};

// How a side waits for the other: polls at first (a peer answering within
// microseconds costs no sleep), then sleeps a little longer each time, up
// to `longest`; Reset() after progress.
class Pacer {
 public:
  // How long to sleep now (zero: poll again at once, after a yield).
  int64_t NextSleepMicros(int64_t longest);
  void Reset() { polls_ = 0, sleep_ = 0; }

 private:
  int polls_ = 0;
  int64_t sleep_ = 0;
};

// Runs the worker rank's loop (relay.cc); never returns.
[[noreturn]] void RunWorkerRank();

}  // namespace mpi
}  // namespace internal
}  // namespace mp

#endif  // MP_MPI_RUNTIME_H_
