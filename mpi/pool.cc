// Copyright 2026 The mp Authors.
//
// MpiPool (mp/mpi_pool.h): rank 0's side. The front of the pool (its
// queue, Close, Join, Terminate) is every pool's (mp/internal/pool_impl.h);
// the dispatcher here hands tasks to worker ranks instead of local workers,
// and a worker rank runs them on a local pool of its own (relay.cc). Each
// pool has its own MPI tag for its lifetime; all of rank 0's MPI calls are
// made with the job's lock held (runtime.h).

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "mp/codec.h"
#include "mp/internal/children.h"
#include "mp/internal/pool_impl.h"
#include "mp/mpi_pool.h"
#include "mpi/fault.h"
#include "mpi/pools.h"
#include "mpi/runtime.h"
#include "mpi/wire.h"

namespace mp {
namespace internal {
namespace mpi {
namespace {

// While tasks have been short (under kShortTask on average), each worker
// rank is sent up to kPrefetch tasks per worker ahead, so that it never
// waits for rank 0; only small ones are sent ahead.
constexpr size_t kPrefetch = 16;
constexpr absl::Duration kShortTask = absl::Milliseconds(1);
constexpr size_t kPrefetchBytes = 16 * 1024;
// The longest the dispatcher sleeps while tasks run (results can only be
// polled for), and while none does (new tasks wake it at once).
constexpr int64_t kBusySleepMicros = 1000;
constexpr int64_t kIdleSleepMicros = 50 * 1000;
// How long a worker rank may take to end its part of a pool (a local
// pool's Close or Terminate) before the job is ended instead of waiting.
constexpr absl::Duration kEndPatience = absl::Seconds(20);

absl::Duration Now() {
  return absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

// --- Which worker ranks serve which pool ------------------------------------

std::mutex g_ranks_mu;
std::vector<int>* g_load = nullptr;  // workers per rank, over live pools
int g_next_tag = kFirstPoolTag;

struct Share {
  int rank;
  int workers;
};

// `n` workers over the worker ranks, each to the least loaded; and the
// pool's tag.
std::pair<std::vector<Share>, int> TakeShares(int n) {
  std::lock_guard<std::mutex> lock(g_ranks_mu);
  const int size = CurrentJob().size;
  if (g_load == nullptr) g_load = new std::vector<int>(size, 0);
  std::vector<int> mine(size, 0);
  for (int i = 0; i < n; ++i) {
    int best = 1;
    for (int r = 2; r < size; ++r) {
      if ((*g_load)[r] < (*g_load)[best]) best = r;
    }
    ++(*g_load)[best];
    ++mine[best];
  }
  std::vector<Share> shares;
  for (int r = 1; r < size; ++r) {
    if (mine[r] > 0) shares.push_back({r, mine[r]});
  }
  const int tag = g_next_tag;
  g_next_tag = g_next_tag + 1 < kPoolTagLimit ? g_next_tag + 1 : kFirstPoolTag;
  return {shares, tag};
}

void GiveBack(const std::vector<Share>& shares) {
  std::lock_guard<std::mutex> lock(g_ranks_mu);
  for (const Share& s : shares) (*g_load)[s.rank] -= s.workers;
}

// --- The pool
// -------------------------------------------------------------------

class MpiPoolImpl final : public Pool::Impl {
 public:
  // `open`: the kOpen message's fields after the worker count.
  MpiPoolImpl(std::string open, int n, std::vector<Share> shares, int tag)
      : Impl(n, CurrentPid()), open_(std::move(open)), tag_(tag) {
    for (const Share& s : shares) {
      Rank r;
      r.rank = s.rank;
      r.workers = s.workers;
      ranks_.push_back(std::move(r));
    }
    shares_ = std::move(shares);
  }
  ~MpiPoolImpl() override {
    (void)Terminate();
    GiveBack(shares_);
  }

  absl::Status Init() { return StartDispatcher(); }

 private:
  struct Held {
    std::shared_ptr<TaskState> task;
    absl::Duration sent;
  };
  struct Rank {
    int rank = 0;
    int workers = 0;
    bool ready = false;     // its local pool is up (kReady)
    bool answered = false;  // kReady or kInitFailed came
    bool ended = false;     // its part of the pool is over
    absl::Status init_failure;
    std::deque<Held> held;  // sent, not yet answered
    std::vector<int64_t> pids;
    absl::Duration last_result;
  };

  void Run() override;
  void WakeLocked(bool) override {
    woken_ = true;
    wake_cv_.notify_one();
  }
  bool Assign(bool* terminating, bool* drained);
  // Takes what the worker ranks sent; false if the program is ending
  // (then nothing was done, and MPI may not be used any more).
  bool Poll(bool* progressed);
  void Handle(const Message& m);
  Rank* RankOf(int rank);
  void UpdatePids();
  bool AnyHeld() const;
  // Ends the pool on every rank (kClose, or kTerminate failing every task
  // Cancelled) and waits for each to answer.
  void End(bool terminate, const absl::Status& why);
  void Finish();
  void Sleep(int64_t micros);

  const std::string open_;  // kOpen's fields after the worker count
  const int tag_;
  std::vector<Share> shares_;

  std::condition_variable wake_cv_;
  bool woken_ = false;  // guarded by mu_

  // The dispatcher thread's own.
  std::vector<Rank> ranks_;
  Outbox outbox_;
  absl::Duration average_ = absl::InfiniteDuration();  // task time, smoothed
  bool ending_ = false;  // the program is ending: MPI is off limits
};

MpiPoolImpl::Rank* MpiPoolImpl::RankOf(int rank) {
  for (Rank& r : ranks_) {
    if (r.rank == rank) return &r;
  }
  return nullptr;
}

bool MpiPoolImpl::AnyHeld() const {
  for (const Rank& r : ranks_) {
    if (!r.held.empty()) return true;
  }
  return false;
}

void MpiPoolImpl::UpdatePids() {
  std::vector<int64_t> pids;
  for (const Rank& r : ranks_) {
    if (r.ready && !r.ended)
      pids.insert(pids.end(), r.pids.begin(), r.pids.end());
  }
  std::lock_guard<std::mutex> lock(mu_);
  pids_ = std::move(pids);
}

void MpiPoolImpl::Sleep(int64_t micros) {
  if (micros == 0) {
    sched_yield();
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  wake_cv_.wait_for(lock, std::chrono::microseconds(micros),
                    [this] { return woken_; });
  woken_ = false;
}

bool MpiPoolImpl::Poll(bool* progressed) {
  std::lock_guard<std::mutex> lock(Lock());
  if (Ending()) {
    ending_ = true;
    return false;
  }
  if (outbox_.Progress()) *progressed = true;
  for (int i = 0; i < 256; ++i) {
    std::optional<Message> m = TryReceive(MPI_ANY_SOURCE, tag_);
    if (!m.has_value()) break;
    *progressed = true;
    Handle(*m);
  }
  return true;
}

void MpiPoolImpl::Handle(const Message& m) {
  Rank* r = RankOf(m.source);
  if (r == nullptr) return;
  Decoder d(m.bytes);
  absl::StatusOr<uint64_t> kind = d.GetVarint();
  if (!kind.ok()) return;
  switch (*kind) {
    case kReady:
      if (Decode(d, r->pids).ok()) {
        r->ready = r->answered = true;
        UpdatePids();
      }
      return;
    case kInitFailed:
      r->init_failure = TakeStatus(d);
      r->answered = r->ended = true;
      return;
    case kPids:
      if (Decode(d, r->pids).ok()) UpdatePids();
      return;
    case kEnded:
      r->ended = true;
      return;
    case kResult:
    case kTaskFailed: {
      absl::StatusOr<uint64_t> id = d.GetVarint();
      if (!id.ok()) return;
      auto it = std::find_if(r->held.begin(), r->held.end(),
                             [&](const Held& h) { return h.task->id == *id; });
      if (it == r->held.end()) return;
      std::shared_ptr<TaskState> task = std::move(it->task);
      const absl::Duration now = Now();
      const absl::Duration took = now - std::max(it->sent, r->last_result);
      r->last_result = now;
      r->held.erase(it);
      average_ = average_ == absl::InfiniteDuration()
                     ? took
                     : (average_ * 7 + took) / 8;
      if (*kind == kResult) {
        absl::StatusOr<absl::string_view> items = d.GetView(d.remaining());
        task->Complete(absl::OkStatus(), std::string(items.ok() ? *items : ""));
      } else {
        task->Complete(TakeStatus(d), "");
      }
      return;
    }
    default:
      return;
  }
}

// Hands queued tasks to worker ranks: one per worker first; then, while
// tasks are short, more, up to kPrefetch per worker. Whether any was sent.
bool MpiPoolImpl::Assign(bool* terminating, bool* drained) {
  std::vector<std::pair<int, std::shared_ptr<TaskState>>> sends;
  {
    std::lock_guard<std::mutex> lock(mu_);
    *terminating = terminating_;
    *drained = closed_ && pending_.empty();
    if (terminating_ || pending_.empty()) return false;
    const bool prefetch = average_ < kShortTask;
    const absl::Duration now = Now();
    for (size_t depth = 1; depth <= (prefetch ? kPrefetch : 1); ++depth) {
      for (Rank& r : ranks_) {
        if (!r.ready || r.ended) continue;
        while (!pending_.empty() &&
               r.held.size() < depth * static_cast<size_t>(r.workers)) {
          std::shared_ptr<TaskState> t = pending_.front();
          if (depth > 1 && t->message.size() > kPrefetchBytes) break;
          pending_.pop_front();
          if (!t->Start()) continue;  // cancelled
          r.held.push_back({t, now});
          sends.emplace_back(r.rank, std::move(t));
        }
      }
      if (pending_.empty()) break;
    }
    *drained = closed_ && pending_.empty();
  }
  if (sends.empty()) return false;
  std::lock_guard<std::mutex> lock(Lock());
  if (Ending()) {
    ending_ = true;
    return false;
  }
  for (auto& [rank, t] : sends) {
    std::string m;
    m.reserve(t->message.size() + 1);
    Encoder kind;
    kind.PutVarint(kTask);
    m = kind.Release();
    m.append(t->message);
    outbox_.Send(rank, tag_, std::move(m));
  }
  return true;
}

void MpiPoolImpl::End(bool terminate, const absl::Status& why) {
  if (terminate) {
    std::lock_guard<std::mutex> lock(mu_);
    FailLocked(&pending_, why);
    for (Rank& r : ranks_) {
      for (Held& h : r.held) h.task->Complete(why, "");
      r.held.clear();
    }
  }
  if (ending_) return;
  {
    std::lock_guard<std::mutex> lock(Lock());
    if (Ending()) {
      ending_ = true;
      return;
    }
    Encoder e;
    e.PutVarint(terminate ? kTerminate : kClose);
    for (Rank& r : ranks_) {
      if (r.answered && !r.ended) outbox_.Send(r.rank, tag_, e.bytes());
    }
  }
  // Each rank's kEnded is the last message on this pool's tag from it:
  // once every rank's came, nothing of this pool is left in MPI.
  const absl::Duration deadline = Now() + kEndPatience;
  Pacer pacer;
  for (;;) {
    bool waiting = false;
    for (const Rank& r : ranks_) {
      if (!r.ended) waiting = true;
    }
    bool progressed = false;
    if (!Poll(&progressed)) return;
    if (!waiting) {
      std::lock_guard<std::mutex> lock(Lock());
      if (outbox_.Empty()) return;
    }
    if (Now() > deadline) {
      for (const Rank& r : ranks_) {
        if (!r.ended) {
          EndJob(absl::StrCat("worker rank ", r.rank,
                              " did not end its part of a pool within ",
                              absl::FormatDuration(kEndPatience)));
        }
      }
      EndJob("the sends to the worker ranks did not complete");
    }
    if (progressed) {
      pacer.Reset();
    } else {
      const int64_t micros = pacer.NextSleepMicros(kBusySleepMicros);
      if (micros == 0) {
        sched_yield();
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(micros));
      }
    }
  }
}

void MpiPoolImpl::Finish() {
  const absl::Status ending = absl::CancelledError(
      "mp::MpiPool: the program is ending; the pool was terminated");
  std::lock_guard<std::mutex> lock(mu_);
  FailLocked(&pending_, ending);
  for (Rank& r : ranks_) {
    for (Held& h : r.held) h.task->Complete(ending, "");
    r.held.clear();
  }
  pids_.clear();
  finished_ = true;
  cv_.notify_all();
}

void MpiPoolImpl::Run() {
  {
    std::lock_guard<std::mutex> lock(Lock());
    if (Ending()) {
      ending_ = true;
    } else {
      for (const Rank& r : ranks_) {
        Encoder e;
        e.PutVarint(kOpen);
        e.PutVarint(static_cast<uint64_t>(r.workers));
        e.PutBytes(open_.data(), open_.size());
        outbox_.Send(r.rank, tag_, e.Release());
      }
    }
  }
  // Every rank starts its workers and answers.
  Pacer pacer;
  while (!ending_) {
    bool progressed = false;
    if (!Poll(&progressed)) break;
    bool all = true;
    for (const Rank& r : ranks_) all = all && r.answered;
    if (all) break;
    if (progressed) {
      pacer.Reset();
    } else {
      Sleep(pacer.NextSleepMicros(kBusySleepMicros));
    }
  }
  if (ending_) {
    SetCreated(
        absl::FailedPreconditionError("mp::MpiPool: the program is ending"));
    Finish();
    return;
  }
  for (const Rank& r : ranks_) {
    if (r.init_failure.ok()) continue;
    SetCreated(absl::Status(r.init_failure.code(),
                            absl::StrCat("mp::MpiPool: on worker rank ", r.rank,
                                         ": ", r.init_failure.message())));
    End(true, absl::CancelledError("mp::Pool: the pool was not created"));
    Finish();
    return;
  }
  SetCreated(absl::OkStatus());
  pacer.Reset();
  for (;;) {
    bool terminating = false, drained = false;
    bool progressed = Assign(&terminating, &drained);
    if (ending_) break;
    if (terminating) {
      End(true, absl::CancelledError("mp::Pool: the pool was terminated"));
      break;
    }
    if (!Poll(&progressed)) break;
    if (drained && !AnyHeld()) {
      End(false, absl::OkStatus());
      break;
    }
    if (progressed) {
      pacer.Reset();
      continue;
    }
    bool idle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle = pending_.empty() || terminating_;
    }
    Sleep(pacer.NextSleepMicros(idle && !AnyHeld() ? kIdleSleepMicros
                                                   : kBusySleepMicros));
  }
  Finish();
}

// --- Live pools
// ---------------------------------------------------------------

std::mutex g_live_mu;
std::vector<std::weak_ptr<MpiPoolImpl>>* g_live = nullptr;

void Track(const std::shared_ptr<MpiPoolImpl>& impl) {
  std::lock_guard<std::mutex> lock(g_live_mu);
  if (g_live == nullptr) g_live = new std::vector<std::weak_ptr<MpiPoolImpl>>;
  g_live->erase(std::remove_if(g_live->begin(), g_live->end(),
                               [](const auto& w) { return w.expired(); }),
                g_live->end());
  g_live->push_back(impl);
}

}  // namespace

void TerminateLivePools() {
  std::vector<std::shared_ptr<MpiPoolImpl>> live;
  {
    std::lock_guard<std::mutex> lock(g_live_mu);
    if (g_live == nullptr) return;
    for (const auto& w : *g_live) {
      if (std::shared_ptr<MpiPoolImpl> p = w.lock()) live.push_back(p);
    }
  }
  for (const auto& p : live) (void)p->Terminate();
}

}  // namespace mpi
}  // namespace internal

bool MpiPool::Available() {
  const internal::mpi::Job& job = internal::mpi::CurrentJob();
  return job.active && job.rank == 0 && job.size >= 2;
}

int MpiPool::WorkerRanks() {
  const internal::mpi::Job& job = internal::mpi::CurrentJob();
  return job.active ? job.size - 1 : 0;
}

absl::StatusOr<Pool> MpiPool::Create(Pool::Options options) {
  using internal::mpi::CurrentJob;
  const internal::mpi::Job& job = CurrentJob();
  if (!Available()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "mp::MpiPool: ", job.why_not.empty()
                             ? std::string("not rank 0 of an MPI job")
                             : job.why_not));
  }
  if (absl::Status s = internal::CheckPoolOptions(options); !s.ok()) return s;
  // Checked here for a value that names no method; whether the worker
  // ranks' OS has it is their local pool's check.
  switch (options.start_method) {
    case StartMethod::kDefault:
    case StartMethod::kFork:
    case StartMethod::kSpawn:
    case StartMethod::kForkserver:
      break;
    default:
      return absl::InvalidArgumentError("mp::MpiPool: not a start method");
  }
  const internal::InitializerSpec& init = options.initializer;
  const int n = options.workers > 0 ? options.workers : job.size - 1;
  Encoder rest;
  Encode(rest, static_cast<int32_t>(options.start_method));
  Encode(rest, static_cast<int32_t>(options.max_tasks_per_child));
  Encode(rest, options.task_timeout == absl::InfiniteDuration()
                   ? int64_t{-1}
                   : absl::ToInt64Nanoseconds(options.task_timeout));
  Encode(rest, init.runner != nullptr);
  if (init.runner != nullptr) {
    if (!init.sendable.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "mp::MpiPool: the initializer's arguments cannot be sent to "
          "another host: ",
          init.sendable.message(),
          "; an OS handle exists only on its own host, so an MPI pool's "
          "workers cannot be given one"));
    }
    absl::StatusOr<internal::CodeRef> runner =
        internal::TaskCodeRef(reinterpret_cast<const void*>(init.runner));
    if (!runner.ok()) return runner.status();
    absl::StatusOr<internal::CodeRef> fn =
        internal::TaskCodeRef(reinterpret_cast<const void*>(init.fn));
    if (!fn.ok()) return fn.status();
    Encode(rest, *runner);
    Encode(rest, *fn);
    Encode(rest, init.args);
  }
  auto [shares, tag] = internal::mpi::TakeShares(n);
  auto impl = std::make_shared<internal::mpi::MpiPoolImpl>(
      rest.Release(), n, std::move(shares), tag);
  internal::mpi::Track(impl);
  absl::Status s = impl->Init();
  if (!s.ok()) {
    (void)impl->Terminate();
    return s;
  }
  return internal::PoolAccess::Make(std::move(impl));
}

}  // namespace mp
