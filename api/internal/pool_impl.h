// Copyright 2026 The mp Authors.
//
// The seam between a Pool's front and the way it reaches its workers. The
// front (Pool::Impl, shared): the queue of pending tasks, Close, Join,
// Terminate and the worker pids, used by Pool's methods from any thread.
// A transport derives from it and runs one dispatcher thread (Run) that
// takes tasks from the queue, hands them to its workers and completes them:
//   the local pool (pool.cc)       worker processes on this machine;
//   the MPI pool (mpi/pool.cc)     the ranks of an MPI job (mp/mpi_pool.h).
//
// The contract of a transport's Run(): it reports the pool's creation once
// (SetCreated), takes tasks from `pending_` with `mu_` held (a task whose
// Start() fails was cancelled and is dropped), completes every task it took
// exactly once (TaskState::Complete), and before it returns it has failed
// every task it holds and every pending one, and set `finished_` (under
// `mu_`, with `cv_` notified). It returns once `terminating_` is set, or
// once the pool is closed and drained.

#ifndef MP_INTERNAL_POOL_IMPL_H_
#define MP_INTERNAL_POOL_IMPL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "mp/codec.h"
#include "mp/pool.h"

namespace mp {

class Pool::Impl {
 public:
  Impl(int n, int64_t owner) : n_(n), owner_(owner) {}
  // A derived class's destructor calls Terminate(), so that the dispatcher
  // thread has ended before the transport's members go.
  virtual ~Impl() = default;

  std::shared_ptr<internal::TaskState> Enqueue(
      std::shared_ptr<internal::TaskState> task);
  // Queues the tasks of `batch` that are not done already.
  void Enqueue(Batch* batch);
  absl::Status Close();
  absl::Status Join();
  absl::Status Terminate();
  std::vector<int64_t> Pids();
  int size() const { return n_; }
  int64_t owner() const { return owner_; }

 protected:
  // Starts the dispatcher thread (Run) and waits until it calls
  // SetCreated; returns what it was given.
  absl::Status StartDispatcher();
  virtual void Run() = 0;
  // Called with `mu_` held whenever the dispatcher should look again:
  // tasks were queued (`for_tasks`), or the pool was closed or terminated.
  virtual void WakeLocked(bool for_tasks) = 0;
  void SetCreated(absl::Status s);
  static void FailLocked(
      std::deque<std::shared_ptr<internal::TaskState>>* tasks,
      const absl::Status& s);

  const int n_;
  const int64_t owner_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<internal::TaskState>> pending_;  // guarded by mu_
  bool closed_ = false;                                       // guarded by mu_
  bool terminating_ = false;                                  // guarded by mu_
  bool finished_ = false;                                     // guarded by mu_
  bool created_ = false;                                      // guarded by mu_
  absl::Status create_status_;                                // guarded by mu_
  // Set when no task can run any more: every queued one fails with it.
  absl::Status broken_;        // guarded by mu_
  std::vector<int64_t> pids_;  // guarded by mu_

 private:
  std::mutex join_mu_;
  std::thread thread_;
};

namespace internal {

// What the MPI pool (mp/mpi_pool.h) needs of Pool beyond its public API.
struct PoolAccess {
  static Pool Make(std::shared_ptr<Pool::Impl> impl) {
    return Pool(std::move(impl));
  }
  // Queues a task made by another copy of this program: `body` is a task
  // message without its id (CodeRef invoker, CodeRef target, then the
  // arguments of `count` calls; task.h). The worker checks the invoker
  // as for any task.
  static std::shared_ptr<TaskState> SubmitMessage(
      Pool& pool, absl::string_view body, size_t count,
      std::shared_ptr<TaskNotifier> notifier);
};

// What Pool::Create and MpiPool::Create both refuse: InvalidArgument for a
// negative number of workers or a task timeout that is not > 0;
// FailedPrecondition in a daemon process (a Pool worker, too), which may
// start no children.
absl::Status CheckPoolOptions(const Pool::Options& options);

// A worker factory for an initializer given as code references and bytes
// (InitializerSpec, resolved in the worker).
WorkerFactory MakeInitializerFactory(CodeRef runner, CodeRef fn,
                                     std::string args);

// A status as bytes (varint code, string message) and back; a malformed
// one reads as InternalError.
void PutStatus(Encoder& e, const absl::Status& s);
absl::Status TakeStatus(Decoder& d);

}  // namespace internal
}  // namespace mp

#endif  // MP_INTERNAL_POOL_IMPL_H_
