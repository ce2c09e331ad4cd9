// Copyright 2026 The mp Authors.
//
// A worker rank (mp/mpi_pool.h): it serves rank 0's pools until rank 0's
// program ends. For each pool it runs a local mp::Pool with the rank's
// share of the workers, on this host, and passes tasks from rank 0 to it
// and results back (wire.h). The local pool does everything a pool does
// to its workers here (the initializer, timeouts, replacing a worker that
// died, max_tasks_per_child); this loop only relays, so it is always ready
// for rank 0's next message, even while every worker runs a long task.
// Only starting a pool's workers (Pool::Create, the initializer included)
// and ending them hold it up.

#include <sched.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "mp/codec.h"
#include "mp/internal/os.h"
#include "mp/internal/pool_impl.h"
#include "mp/pool.h"
#include "mpi/fault.h"
#include "mpi/runtime.h"
#include "mpi/wire.h"

namespace mp {
namespace internal {
namespace mpi {
namespace {

// The longest the loop sleeps: how late it may see rank 0's next message
// (its local tasks' ends wake it at once), while it serves a pool, and
// while it serves none.
constexpr int64_t kLongestSleepMicros = 1000;
constexpr int64_t kIdleSleepMicros = 20 * 1000;

struct InFlight {
  uint64_t id;  // rank 0's
  std::shared_ptr<TaskState> task;
};

struct LocalPool {
  std::optional<Pool> pool;
  std::vector<InFlight> in_flight;
  std::vector<int64_t> pids;  // as last sent to rank 0
};

class Relay {
 public:
  Relay() : notifier_(std::make_shared<TaskNotifier>()) {}

  [[noreturn]] void Run() {
    Pacer pacer;
    for (;;) {
      bool progressed = false;
      for (int i = 0; i < 64; ++i) {
        std::optional<Message> m = TryReceive(0, MPI_ANY_TAG);
        if (!m.has_value()) break;
        progressed = true;
        Handle(*m);
      }
      for (auto& [tag, p] : pools_) {
        if (Forward(tag, &p)) progressed = true;
      }
      if (outbox_.Progress()) progressed = true;
      if (progressed) {
        pacer.Reset();
        continue;
      }
      const int64_t micros = pacer.NextSleepMicros(
          pools_.empty() ? kIdleSleepMicros : kLongestSleepMicros);
      if (micros == 0) {
        sched_yield();
        continue;
      }
      // Until a local task ends, or the pause is over (rank 0's messages
      // can only be polled for).
      std::unique_lock<std::mutex> lock(notifier_->mu);
      notifier_->cv.wait_for(lock, std::chrono::microseconds(micros),
                             [this] { return AnyDone(); });
    }
  }

 private:
  bool AnyDone() {
    for (auto& [tag, p] : pools_) {
      for (const InFlight& f : p.in_flight) {
        if (f.task->done()) return true;
      }
    }
    return false;
  }

  void Send(int tag, const Encoder& e) { outbox_.Send(0, tag, e.bytes()); }

  void SendKind(int tag, Kind kind) {
    Encoder e;
    e.PutVarint(kind);
    Send(tag, e);
  }

  void Handle(const Message& m) {
    Decoder d(m.bytes);
    absl::StatusOr<uint64_t> kind = d.GetVarint();
    if (!kind.ok()) return;
    if (m.tag == kJobTag) {
      if (*kind == kShutdown) Shutdown();
      return;
    }
    switch (*kind) {
      case kOpen:
        Open(m.tag, d);
        return;
      case kTask:
        Task(m.tag, m.bytes, d);
        return;
      case kClose:
      case kTerminate: {
        auto it = pools_.find(m.tag);
        if (it != pools_.end()) {
          if (it->second.pool.has_value()) {
            if (*kind == kClose) {
              (void)it->second.pool->Close();
              (void)it->second.pool->Join();
            } else {
              (void)it->second.pool->Terminate();
            }
          }
          pools_.erase(it);
        }
        SendKind(m.tag, kEnded);
        return;
      }
      default:
        return;
    }
  }

  void Open(int tag, Decoder& d) {
    uint64_t workers = 0;
    int32_t method = 0, max_tasks = 0;
    int64_t timeout_ns = -1;
    bool has_init = false;
    CodeRef runner, fn;
    std::string args;
    absl::StatusOr<uint64_t> count = d.GetVarint();
    absl::Status s = count.status();
    if (s.ok()) workers = *count;
    if (s.ok()) s = Decode(d, method);
    if (s.ok()) s = Decode(d, max_tasks);
    if (s.ok()) s = Decode(d, timeout_ns);
    if (s.ok()) s = Decode(d, has_init);
    if (s.ok() && has_init) s = Decode(d, runner);
    if (s.ok() && has_init) s = Decode(d, fn);
    if (s.ok() && has_init) s = Decode(d, args);
    absl::StatusOr<Pool> pool = absl::InvalidArgumentError(
        absl::StrCat("mp::MpiPool: a malformed pool message: ", s.message()));
    if (s.ok()) {
      Pool::Options o;
      o.workers = static_cast<int>(workers);
      o.start_method = static_cast<StartMethod>(method);
      o.max_tasks_per_child = max_tasks;
      o.task_timeout = timeout_ns < 0 ? absl::InfiniteDuration()
                                      : absl::Nanoseconds(timeout_ns);
      if (has_init) o.make_worker = MakeInitializerFactory(runner, fn, args);
      pool = Pool::Create(std::move(o));
    }
    Encoder e;
    if (!pool.ok()) {
      e.PutVarint(kInitFailed);
      PutStatus(e, pool.status());
      Send(tag, e);
      return;
    }
    LocalPool& p = pools_[tag];
    p.pool = *std::move(pool);
    p.pids = p.pool->WorkerPids();
    e.PutVarint(kReady);
    Encode(e, p.pids);
    Send(tag, e);
  }

  void Task(int tag, const std::string& bytes, Decoder& d) {
    absl::StatusOr<uint64_t> id = d.GetVarint();
    if (!id.ok()) return;
    auto it = pools_.find(tag);
    if (it == pools_.end()) {
      Encoder e;
      e.PutVarint(kTaskFailed);
      e.PutVarint(*id);
      PutStatus(e, absl::FailedPreconditionError(
                       absl::StrCat("mp::MpiPool: worker rank ",
                                    CurrentJob().rank, " has no such pool")));
      Send(tag, e);
      return;
    }
    // The task message, less rank 0's id, is the local task's body.
    const size_t body = bytes.size() - d.remaining();
    absl::string_view rest(bytes);
    rest.remove_prefix(body);
    it->second.in_flight.push_back(
        {*id, PoolAccess::SubmitMessage(*it->second.pool, rest, 1, notifier_)});
  }

  // Sends the results of the pool's tasks that ended, after its workers'
  // pids if they changed. Whether anything was sent.
  bool Forward(int tag, LocalPool* p) {
    bool any = false;
    size_t kept = 0;
    for (size_t i = 0; i < p->in_flight.size(); ++i) {
      InFlight& f = p->in_flight[i];
      if (!f.task->done()) {
        if (kept != i) p->in_flight[kept] = std::move(f);
        ++kept;
        continue;
      }
      if (!any) {
        any = true;
        SendPidsIfChanged(tag, p);
      }
      Encoder e;
      if (f.task->status().ok()) {
        e.PutVarint(kResult);
        e.PutVarint(f.id);
        e.PutBytes(f.task->results().data(), f.task->results().size());
      } else {
        e.PutVarint(kTaskFailed);
        e.PutVarint(f.id);
        PutStatus(e, f.task->status());
      }
      outbox_.Send(0, tag, e.Release());
    }
    p->in_flight.resize(kept);
    if (!any && ++pid_checks_ % 256 == 0) SendPidsIfChanged(tag, p);
    return any;
  }

  void SendPidsIfChanged(int tag, LocalPool* p) {
    std::vector<int64_t> pids = p->pool->WorkerPids();
    if (pids == p->pids) return;
    p->pids = std::move(pids);
    Encoder e;
    e.PutVarint(kPids);
    Encode(e, p->pids);
    Send(tag, e);
  }

  // Rank 0's program ends: every pool ends, and so does this rank.
  [[noreturn]] void Shutdown() {
    for (auto& [tag, p] : pools_) {
      if (p.pool.has_value()) (void)p.pool->Terminate();
    }
    pools_.clear();
    SendKind(kJobTag, kBye);
    while (!outbox_.Empty()) {
      if (!outbox_.Progress()) sched_yield();
    }
    MPI_Comm comm = CurrentJob().comm;
    MPI_Comm_free(&comm);
    MPI_Finalize();
    os::ExitNow(0);
  }

  std::shared_ptr<TaskNotifier> notifier_;
  std::map<int, LocalPool> pools_;
  Outbox outbox_;
  uint64_t pid_checks_ = 0;
};

}  // namespace

void RunWorkerRank() {
  // Never destroyed: the rank ends inside Run().
  auto* relay = new Relay;
  relay->Run();
}

}  // namespace mpi
}  // namespace internal
}  // namespace mp
