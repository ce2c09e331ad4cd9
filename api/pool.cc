// Copyright 2026 The mp Authors.
//
// The Pool (mp/pool.h). Each worker is an mp::Process (a daemon) running
// RunPoolWorker on a WorkerLink of its own (task.h): a task ring and a
// result ring in shared memory, and two simplex pipes. One dispatcher
// thread per pool, the only user of the pool's ends, hands queued tasks to
// workers, takes results, and watches each worker's sentinel: since each
// worker has its own link, the pool knows exactly which tasks a worker
// holds, and a worker's end fails exactly its running task (those queued
// behind it never started and go back to the queue).
//
// What travels where:
//   pool -> worker  each task is one record in the task ring; one too large
//                   for a record goes through the `tasks` pipe, announced by
//                   an empty record at its place in the ring, so the worker
//                   takes tasks in the order they were sent. Closing the pipe
//                   retires the worker.
//   worker -> pool  kResult and kTaskFailed records go in the result ring, or
//                   through the `results` pipe when too large for a record;
//                   kReady and kInitFailed through the pipe.
//   wakeups         a side that finds its ring empty waits a little
//                   (Backoff), then parks the ring (Ring::Park) and sleeps
//                   on its pipe (the worker) or in Wait() (the dispatcher);
//                   the other side, after a record, sends one empty message
//                   on that pipe if it took the park mark. A busy pool makes
//                   no system call per task.
//
// Records, worker -> pool (each starting with a varint kind):
//   kReady       int64 pid            the initializer succeeded
//   kInitFailed  varint code, string  the initializer failed; the worker ends
//   kResult      varint id, items     the task's item records (task.h)
//   kTaskFailed  varint id, varint code, string   the task could not run
// Tasks, pool -> worker: varint id, CodeRef invoker, CodeRef target, then
// the argument bytes (task.h).

#include "mp/pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "mp/internal/children.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "mp/internal/pool_impl.h"
#include "mp/internal/ring.h"

namespace mp {
namespace internal {
namespace {

// Time since the first call, on the monotonic clock: how long tasks and
// initializers have run, whatever happens to the wall clock.
absl::Duration Elapsed() {
  static const std::chrono::steady_clock::time_point origin =
      std::chrono::steady_clock::now();
  return absl::FromChrono(std::chrono::steady_clock::now() - origin);
}

enum Record : uint64_t {
  kReady = 1,
  kInitFailed = 2,
  kResult = 3,
  kTaskFailed = 4,
};

// Filled during static initialisation only, read after it.
std::vector<const void*>& TaskInvokers() {
  static auto* invokers = new std::vector<const void*>;
  return *invokers;
}

std::vector<const void*>& InitializerRunners() {
  static auto* runners = new std::vector<const void*>;
  return *runners;
}

}  // namespace

void PutStatus(Encoder& e, const absl::Status& s) {
  e.PutVarint(static_cast<uint64_t>(s.code()));
  Encode(e, std::string(s.message()));
}

absl::Status TakeStatus(Decoder& d) {
  absl::StatusOr<uint64_t> code = d.GetVarint();
  std::string message;
  absl::Status s = code.ok() ? Decode(d, message) : code.status();
  if (!s.ok()) return MalformedResult(s);
  if (*code == 0 || *code > 16) *code = 2;  // kUnknown
  return absl::Status(static_cast<absl::StatusCode>(*code), message);
}

void RegisterInitializerRunner(InitializerRunnerFn runner) {
  InitializerRunners().push_back(reinterpret_cast<const void*>(runner));
}

bool IsInitializerRunner(const void* address) {
  const std::vector<const void*>& v = InitializerRunners();
  return std::find(v.begin(), v.end(), address) != v.end();
}

void RegisterTaskInvoker(TaskInvokerFn invoker) {
  TaskInvokers().push_back(reinterpret_cast<const void*>(invoker));
}

bool IsTaskInvoker(const void* address) {
  const std::vector<const void*>& v = TaskInvokers();
  return std::find(v.begin(), v.end(), address) != v.end();
}

void PutItemStatus(Encoder& e, const absl::Status& status) {
  e.PutVarint(static_cast<uint64_t>(status.code()));
  if (!status.ok()) Encode(e, std::string(status.message()));
}

absl::Status TakeItemStatus(Decoder& d, bool* malformed) {
  absl::StatusOr<uint64_t> code = d.GetVarint();
  if (!code.ok()) {
    *malformed = true;
    return MalformedResult(code.status());
  }
  if (*code == 0) return absl::OkStatus();
  std::string message;
  absl::Status s = Decode(d, message);
  if (!s.ok()) {
    *malformed = true;
    return MalformedResult(s);
  }
  if (*code > 16) *code = 2;  // kUnknown
  return absl::Status(static_cast<absl::StatusCode>(*code), message);
}

absl::Status MalformedResult(const absl::Status& why) {
  return absl::InternalError(
      absl::StrCat("mp: a malformed task result: ", why.message()));
}

absl::Status ExceptionStatus(const char* what) {
  return absl::UnknownError(
      what != nullptr
          ? absl::StrCat("mp: the task threw: ", what)
          : std::string("mp: the task threw an exception that is not a "
                        "std::exception"));
}

namespace {

// How a side of the pool waits for the other before sleeping: a few checks
// a pause apart, so that a worker fed without pause, or a dispatcher whose
// workers answer within microseconds, makes no system call; then a few
// checks that each yield the core, so that a side whose peer has no core
// to run on (more runnable threads than cores) lets it run rather than
// spinning through its time slice.
class Backoff {
 public:
  // False once the caller should park.
  bool Next() {
    if (n_ >= kPauses + kYields) return false;
    if (n_++ < kPauses) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
    return true;
  }
  void Reset() { n_ = 0; }

 private:
  static constexpr int kPauses = 64;
  static constexpr int kYields = 8;
  int n_ = 0;
};

}  // namespace

// --- TaskState --------------------------------------------------------------

std::shared_ptr<TaskState> TaskState::Failed(absl::Status status,
                                             size_t count) {
  auto t = std::make_shared<TaskState>(count);
  t->Complete(std::move(status), "");
  return t;
}

namespace {

// Where threads wait for tasks: a few shared mutexes and condition
// variables instead of one per task, picked by the task's address. Never
// destroyed, so a thread still waiting at exit finds them.
struct WaitShard {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<int> waiters{0};
};

WaitShard& ShardOf(const void* task) {
  constexpr size_t kShards = 16;
  static WaitShard* shards = new WaitShard[kShards];
  return shards[(reinterpret_cast<uintptr_t>(task) >> 6) % kShards];
}

}  // namespace

bool TaskState::Wait(absl::Duration timeout) {
  if (done()) return true;
  if (timeout > absl::ZeroDuration()) {
    // A result due within microseconds (a busy pool's next one) is taken
    // without sleeping and being woken.
    for (Backoff b; b.Next();) {
      if (done()) return true;
    }
  }
  // The count and Complete's phase store are sequentially consistent: a
  // Complete that reads no waiter stored kDone before the count went up,
  // and the check under the lock sees it.
  WaitShard& shard = ShardOf(this);
  std::unique_lock<std::mutex> lock(shard.mu);
  shard.waiters.fetch_add(1);
  bool ended = true;
  if (timeout == absl::InfiniteDuration()) {
    shard.cv.wait(lock, [this] { return done(); });
  } else {
    ended = shard.cv.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                              [this] { return done(); });
  }
  shard.waiters.fetch_sub(1);
  return ended;
}

bool TaskState::Cancel() {
  int expected = kPending;
  if (!phase_.compare_exchange_strong(expected, kRunning)) return false;
  Complete(absl::CancelledError("mp: the task was cancelled before it ran"),
           "");
  return true;
}

bool TaskState::Start() {
  int expected = kPending;
  return phase_.compare_exchange_strong(expected, kRunning);
}

void TaskState::Unstart() {
  int expected = kRunning;
  phase_.compare_exchange_strong(expected, kPending);
}

void TaskState::Complete(absl::Status status, std::string results) {
  int phase = phase_.load(std::memory_order_acquire);
  do {
    if (phase == kDone || phase == kCompleting) return;
  } while (!phase_.compare_exchange_weak(phase, kCompleting));
  status_ = std::move(status);
  results_ = std::move(results);
  phase_.store(kDone);
  WaitShard& shard = ShardOf(this);
  if (shard.waiters.load() > 0) {
    { std::lock_guard<std::mutex> lock(shard.mu); }
    shard.cv.notify_all();
  }
  if (notifier != nullptr) {
    { std::lock_guard<std::mutex> lock(notifier->mu); }
    notifier->cv.notify_all();
  }
}

// --- Code references
// ----------------------------------------------------------

absl::StatusOr<CodeRef> TaskCodeRef(const void* address) {
  static std::mutex mu;
  static auto* cache = new std::unordered_map<const void*, CodeRef>;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache->find(address);
  if (it != cache->end()) return it->second;
  absl::StatusOr<CodeRef> ref = os::MakeCodeRef(address);
  if (ref.ok()) cache->emplace(address, *ref);
  return ref;
}

absl::StatusOr<const void*> ResolveTaskCode(const CodeRef& ref) {
  return os::ResolveCodeRef(ref);
}

// --- The worker
// ---------------------------------------------------------------

namespace {

// The worker's end of its link: takes tasks in the order the pool sent
// them, sends records back.
class WorkerEnd {
 public:
  explicit WorkerEnd(WorkerLink link)
      : link_(std::move(link)), buffer_(new char[os::kMaxRecordBytes]) {}

  // The next task's bytes, valid until the next call; nullopt at end of
  // file (the pool retired this worker or is gone) or on a corrupt ring.
  std::optional<absl::string_view> NextTask() {
    for (;;) {
      absl::StatusOr<size_t> n = link_.task_ring->TryRecv(buffer_.get());
      for (Backoff b; absl::IsUnavailable(n.status()) && b.Next();) {
        n = link_.task_ring->TryRecv(buffer_.get());
      }
      if (n.ok()) {
        if (*n > 0) return absl::string_view(buffer_.get(), *n);
        // An empty record: this task came through the pipe.
        while (piped_.empty()) {
          if (!ReadPipe()) return std::nullopt;
        }
        current_ = std::move(piped_.front());
        piped_.pop_front();
        return absl::string_view(current_);
      }
      if (!absl::IsUnavailable(n.status())) return std::nullopt;
      if (link_.task_ring->Park()) {
        const bool open = ReadPipe();
        link_.task_ring->Unpark();
        if (!open) return std::nullopt;
      }
    }
  }

  // Sends one record to the pool. False once the pool is gone.
  bool Send(const std::string& record) {
    if (record.size() > os::kMaxRecordBytes) {
      return link_.results.SendBytes(record).ok();
    }
    // Room now (the usual case) costs no clock reading.
    for (Deadline d = Deadline::Passed();;
         d = Deadline::After(absl::Milliseconds(50))) {
      absl::Status s = link_.result_ring->Send({record}, true, false, d);
      if (s.ok()) break;
      if (!absl::IsDeadlineExceeded(s)) return false;
      // The ring stays full: the pool is busy, or gone (then the pipe says
      // so; an empty message only wakes it).
      if (!link_.results.SendBytes("").ok()) return false;
    }
    if (link_.result_ring->TakeParked()) {
      return link_.results.SendBytes("").ok();
    }
    return true;
  }

  bool SendMessage(const std::string& record) {
    return link_.results.SendBytes(record).ok();
  }

 private:
  // Waits for one pipe message: keeps a task, drops a wakeup. False at end
  // of file.
  bool ReadPipe() {
    absl::StatusOr<std::string> m = link_.tasks.RecvBytes();
    if (!m.ok()) return false;
    if (!m->empty()) piped_.push_back(*std::move(m));
    return true;
  }

  WorkerLink link_;
  std::unique_ptr<char[]> buffer_;
  std::deque<std::string> piped_;  // tasks read from the pipe, in order
  std::string current_;
};

}  // namespace

void RunPoolWorker(WorkerLink link, absl::Status init) {
  WorkerEnd end(std::move(link));
  if (!init.ok()) {
    Encoder e;
    e.PutVarint(kInitFailed);
    PutStatus(e, init);
    (void)end.SendMessage(e.bytes());
    return;
  }
  {
    Encoder e;
    e.PutVarint(kReady);
    Encode(e, os::CurrentPid());
    if (!end.SendMessage(e.bytes())) return;
  }
  CodeRef invoker_ref, target_ref;
  TaskInvokerFn invoker = nullptr;
  void (*target)() = nullptr;
  absl::Status resolved = absl::InvalidArgumentError("mp: no task yet");
  std::string out;
  for (;;) {
    std::optional<absl::string_view> message = end.NextTask();
    if (!message.has_value()) return;
    Decoder d(*message);
    absl::StatusOr<uint64_t> id = d.GetVarint();
    CodeRef i, t;
    absl::Status s = id.ok() ? Decode(d, i) : id.status();
    if (s.ok()) s = Decode(d, t);
    absl::StatusOr<absl::string_view> args =
        s.ok() ? d.GetView(d.remaining())
               : absl::StatusOr<absl::string_view>(s);
    if (!args.ok()) return;  // not from the pool: nothing to answer
    if (i.module != invoker_ref.module || i.offset != invoker_ref.offset ||
        t.module != target_ref.module || t.offset != target_ref.offset) {
      invoker_ref = i;
      target_ref = t;
      absl::StatusOr<const void*> inv = os::ResolveCodeRef(i);
      absl::StatusOr<const void*> fn = inv.ok() ? os::ResolveCodeRef(t) : inv;
      resolved = fn.status();
      if (resolved.ok() && !IsTaskInvoker(*inv)) {
        resolved = absl::InvalidArgumentError(
            "mp: refused a task whose invoker is not one of this program's "
            "task invokers (a forged or corrupt task); nothing was run");
      }
      if (resolved.ok()) {
        invoker = reinterpret_cast<TaskInvokerFn>(const_cast<void*>(*inv));
        target = reinterpret_cast<void (*)()>(const_cast<void*>(*fn));
      }
    }
    Encoder header;
    if (resolved.ok()) {
      header.PutVarint(kResult);
      header.PutVarint(*id);
      out = header.Release();
      invoker(target, *args, &out);
    } else {
      header.PutVarint(kTaskFailed);
      header.PutVarint(*id);
      PutStatus(header, resolved);
      out = header.Release();
    }
    if (!end.Send(out)) return;
  }
}

Process DefaultWorker(WorkerLink link) {
  return Process(&PoolWorker<void>, std::move(link), std::optional<CodeRef>(),
                 std::tuple<>());
}

namespace {

// The worker of MakeInitializerFactory: resolves the runner and the
// initializer in this copy of the program, runs them, then the worker loop.
void RawInitializerWorker(WorkerLink link, CodeRef runner_ref, CodeRef fn_ref,
                          std::string args) {
  absl::StatusOr<const void*> runner = os::ResolveCodeRef(runner_ref);
  absl::StatusOr<const void*> fn =
      runner.ok() ? os::ResolveCodeRef(fn_ref) : runner;
  absl::Status status = fn.status();
  if (status.ok() && !IsInitializerRunner(*runner)) {
    status = absl::InvalidArgumentError(
        "mp: refused an initializer whose runner is not one of this "
        "program's initializer runners (a forged or corrupt message); "
        "nothing was run");
  }
  if (status.ok()) {
    status = reinterpret_cast<InitializerRunnerFn>(const_cast<void*>(*runner))(
        reinterpret_cast<void (*)()>(const_cast<void*>(*fn)), args);
  }
  RunPoolWorker(std::move(link), std::move(status));
}

}  // namespace

WorkerFactory MakeInitializerFactory(CodeRef runner, CodeRef fn,
                                     std::string args) {
  return [runner, fn, args](WorkerLink link) {
    return Process(&RawInitializerWorker, std::move(link), runner, fn, args);
  };
}

}  // namespace internal

void Codec<internal::WorkerLink>::Encode(Encoder& e,
                                         const internal::WorkerLink& link) {
  if (link.task_ring == nullptr || link.result_ring == nullptr) {
    e.Fail(
        absl::FailedPreconditionError("mp: a Pool worker link without rings"));
    return;
  }
  e.PutHandle(link.task_ring->handle(), link.task_ring);
  e.PutHandle(link.result_ring->handle(), link.result_ring);
  mp::Encode(e, link.tasks);
  mp::Encode(e, link.results);
}

absl::Status Codec<internal::WorkerLink>::Decode(Decoder& d,
                                                 internal::WorkerLink& link) {
  for (std::shared_ptr<internal::Ring>* ring :
       {&link.task_ring, &link.result_ring}) {
    absl::StatusOr<intptr_t> handle = d.TakeHandle();
    if (!handle.ok()) return handle.status();
    absl::StatusOr<std::unique_ptr<internal::Ring>> opened =
        internal::Ring::Open(*handle);
    if (!opened.ok()) return opened.status();
    *ring = *std::move(opened);
  }
  absl::Status s = mp::Decode(d, link.tasks);
  if (s.ok()) s = mp::Decode(d, link.results);
  return s;
}

// --- The pool
// -----------------------------------------------------------------

using internal::TaskState;

namespace {

// Tasks a worker may hold at once when tasks have been short: one running,
// the rest waiting in its ring so that it never waits for the dispatcher
// (those never started go back to the queue if it dies).
constexpr size_t kPrefetch = 32;
// Tasks are prefetched only while they take less than this on average, so
// a long task delays only the few short ones queued behind it.
constexpr absl::Duration kShortTask = absl::Milliseconds(1);
// Only small tasks are prefetched, and at most this many bytes of them per
// worker: with the running task's record they always fit in its ring
// (kRingBytes), so that sending never waits for room.
constexpr size_t kPrefetchBytes = 16 * 1024;
constexpr size_t kPrefetchTotalBytes = 96 * 1024;
constexpr size_t kRingBytes = 256 * 1024;
// While busy, the dispatcher looks at the workers' ends and the wakeup
// pipe at least this often.
constexpr absl::Duration kPollEvery = absl::Milliseconds(1);
// Workers that die before their first task, in a row, before the pool
// gives up.
constexpr int kMaxFailedStarts = 3;

std::string HowEnded(std::optional<int> code) {
  if (!code.has_value() || *code == os::kExitCodeUnknown) {
    return "ended with an unknown exit code";
  }
  if (*code < 0) return absl::StrCat("was killed by signal ", -*code);
  return absl::StrCat("exited with code ", *code);
}

// One worker, as the dispatcher sees it.
struct Worker {
  std::unique_ptr<Process> process;
  internal::WorkerLink link;  // the pool's ends
  int64_t pid = -1;
  bool ready = false;
  bool results_ended = false;
  bool retiring = false;   // its task pipe is closed; it ends when idle
  bool replaced = false;   // a replacement was started already
  bool timed_out = false;  // killed because its running task timed out
  absl::Status init_failure;
  // Elapsed() when it started (the initializer's time limit).
  absl::Duration started;
  std::deque<std::shared_ptr<TaskState>> held;  // in order; front runs
  size_t held_bytes = 0;       // of the tasks in `held` but the front
  absl::Duration front_since;  // Elapsed() when the front task started
  int assigned = 0;
};

// The local pool: worker processes on this machine, each joined to the
// dispatcher by its own WorkerLink.
class LocalPool final : public Pool::Impl {
 public:
  LocalPool(Pool::Options options, int n)
      : Impl(n, CurrentPid()), options_(std::move(options)) {}
  ~LocalPool() override { (void)Terminate(); }

  absl::Status Init();

 private:
  void Run() override;
  void WakeLocked(bool for_tasks) override;
  absl::Status StartWorker();
  bool Assign(absl::Duration now, bool* terminating, bool* drained);
  bool AnythingNew();
  void SendTask(Worker* w, const std::shared_ptr<TaskState>& t);
  bool DrainRing(Worker* w);
  void ReadResults(Worker* w);
  void HandleRecord(Worker* w, absl::string_view record, absl::Duration now);
  void WorkerEnded(size_t index);
  void Requeue(Worker* w, size_t from);
  bool Sleep();
  void Shutdown();
  void UpdatePidsLocked();
  bool ShouldReplace();

  const Pool::Options options_;
  Connection wake_r_, wake_w_;

  // The dispatcher sleeps: Close and Terminate wake it, and Enqueue too if
  // `accepting_` (some worker could take a task).
  bool asleep_ = false;     // guarded by mu_
  bool accepting_ = false;  // guarded by mu_
  // Bumped after each change to pending_ by Enqueue, and by Close and
  // Terminate: a cheap sign for the dispatcher that something came.
  std::atomic<uint64_t> events_{0};

  // The dispatcher thread's own.
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<char[]> buffer_{new char[os::kMaxRecordBytes]};
  int failed_starts_ = 0;
  int ready_count_ = 0;
  absl::Duration average_ = absl::InfiniteDuration();  // task time, smoothed
  absl::Duration last_poll_;
  uint64_t seen_events_ = 0;
};

}  // namespace

// --- The front (mp/internal/pool_impl.h) ------------------------------------

absl::Status Pool::Impl::StartDispatcher() {
  thread_ = std::thread([this] { Run(); });
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return created_; });
  return create_status_;
}

void Pool::Impl::SetCreated(absl::Status s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (created_) return;
  created_ = true;
  create_status_ = std::move(s);
  cv_.notify_all();
}

std::shared_ptr<TaskState> Pool::Impl::Enqueue(
    std::shared_ptr<TaskState> task) {
  Batch one = {task};
  Enqueue(&one);
  return task;
}

void Pool::Impl::Enqueue(Batch* batch) {
  std::lock_guard<std::mutex> lock(mu_);
  for (std::shared_ptr<TaskState>& task : *batch) {
    if (task->done()) continue;  // refused when it was made
    if (!broken_.ok()) {
      task->Complete(broken_, "");
    } else if (terminating_) {
      // As every task the pool had not finished: an Imap stream's later
      // inputs reach here after the pool was terminated or destroyed.
      task->Complete(absl::CancelledError("mp::Pool: the pool was terminated"),
                     "");
    } else if (closed_) {
      task->Complete(
          absl::FailedPreconditionError("mp::Pool: the pool is closed"), "");
    } else {
      pending_.push_back(std::move(task));
    }
  }
  WakeLocked(true);
}

absl::Status Pool::Impl::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  WakeLocked(false);
  return absl::OkStatus();
}

absl::Status Pool::Impl::Join() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_ && !terminating_) {
      return absl::FailedPreconditionError(
          "mp::Pool: Join() before Close() or Terminate()");
    }
  }
  std::lock_guard<std::mutex> lock(join_mu_);
  if (thread_.joinable()) thread_.join();
  return absl::OkStatus();
}

absl::Status Pool::Impl::Terminate() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    terminating_ = true;
    WakeLocked(false);
  }
  std::lock_guard<std::mutex> lock(join_mu_);
  if (thread_.joinable()) thread_.join();
  return absl::OkStatus();
}

std::vector<int64_t> Pool::Impl::Pids() {
  std::lock_guard<std::mutex> lock(mu_);
  return pids_;
}

void Pool::Impl::FailLocked(std::deque<std::shared_ptr<TaskState>>* tasks,
                            const absl::Status& s) {
  for (auto& t : *tasks) t->Complete(s, "");
  tasks->clear();
}

// --- The local pool
// -----------------------------------------------------------

absl::Status LocalPool::Init() {
  absl::StatusOr<std::pair<Connection, Connection>> wake = Pipe(false);
  if (!wake.ok()) return wake.status();
  wake_r_ = wake->first;
  wake_w_ = wake->second;
  return StartDispatcher();
}

void LocalPool::WakeLocked(bool for_tasks) {
  events_.fetch_add(1, std::memory_order_release);
  if (!asleep_ || (for_tasks && !accepting_)) return;
  asleep_ = false;
  if (wake_w_.writable()) (void)wake_w_.SendBytes("");
}

void LocalPool::UpdatePidsLocked() {
  pids_.clear();
  for (const auto& w : workers_) {
    if (w->pid != -1 && !w->retiring) pids_.push_back(w->pid);
  }
}

absl::Status LocalPool::StartWorker() {
  absl::StatusOr<std::unique_ptr<internal::Ring>> task_ring =
      internal::Ring::Create(kRingBytes, 0);
  if (!task_ring.ok()) return task_ring.status();
  absl::StatusOr<std::unique_ptr<internal::Ring>> result_ring =
      internal::Ring::Create(kRingBytes, 0);
  if (!result_ring.ok()) return result_ring.status();
  absl::StatusOr<std::pair<Connection, Connection>> tasks = Pipe(false);
  if (!tasks.ok()) return tasks.status();
  absl::StatusOr<std::pair<Connection, Connection>> results = Pipe(false);
  if (!results.ok()) return results.status();
  auto w = std::make_unique<Worker>();
  w->link.task_ring = *std::move(task_ring);
  w->link.result_ring = *std::move(result_ring);
  w->link.tasks = tasks->second;
  w->link.results = results->first;
  w->process = std::make_unique<Process>(options_.make_worker(
      internal::WorkerLink{w->link.task_ring, w->link.result_ring, tasks->first,
                           results->second}));
  w->process->CloseAfterStart(tasks->first);
  w->process->CloseAfterStart(results->second);
  absl::Status s = w->process->SetStartMethod(options_.start_method);
  if (s.ok()) s = w->process->SetDaemon(true);
  if (s.ok()) s = w->process->Start();
  if (!s.ok()) return s;
  w->pid = w->process->Pid().value_or(-1);
  w->started = internal::Elapsed();
  workers_.push_back(std::move(w));
  std::lock_guard<std::mutex> lock(mu_);
  UpdatePidsLocked();
  return absl::OkStatus();
}

// Puts the tasks of `w` from `from` on, which it never started, back at the
// front of the queue.
void LocalPool::Requeue(Worker* w, size_t from) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = w->held.size(); i > from; --i) {
    w->held[i - 1]->Unstart();
    pending_.push_front(w->held[i - 1]);
  }
  w->held.clear();
  w->held_bytes = 0;
}

// Hands queued tasks to workers: idle ones first; then, while tasks are
// short, more to each, up to kPrefetch. Whether any was sent.
bool LocalPool::Assign(absl::Duration now, bool* terminating, bool* drained) {
  std::vector<std::pair<Worker*, std::shared_ptr<TaskState>>> sends;
  {
    std::lock_guard<std::mutex> lock(mu_);
    *terminating = terminating_;
    *drained = closed_ && pending_.empty();
    if (terminating_ || pending_.empty()) return false;
    const bool prefetch = average_ < kShortTask;
    const int max_tasks = options_.max_tasks_per_child;
    for (size_t depth = 1; depth <= (prefetch ? kPrefetch : 1); ++depth) {
      for (auto& w : workers_) {
        if (!w->ready || w->retiring || w->timed_out) continue;
        while (!pending_.empty() && w->held.size() < depth &&
               (max_tasks <= 0 || w->assigned < max_tasks)) {
          std::shared_ptr<TaskState> t = pending_.front();
          const size_t bytes = t->message.size();
          if (depth > 1 && (bytes > kPrefetchBytes ||
                            w->held_bytes + bytes > kPrefetchTotalBytes)) {
            break;
          }
          pending_.pop_front();
          if (!t->Start()) continue;  // cancelled
          if (w->held.empty()) {
            w->front_since = now;
          } else {
            w->held_bytes += bytes;
          }
          w->held.push_back(t);
          ++w->assigned;
          sends.emplace_back(w.get(), std::move(t));
        }
      }
      if (pending_.empty()) break;
    }
    *drained = closed_ && pending_.empty();
  }
  Worker* last = nullptr;
  for (auto& [w, t] : sends) {
    if (last != nullptr && last != w && last->link.task_ring->TakeParked()) {
      (void)last->link.tasks.SendBytes("");
    }
    SendTask(w, t);
    last = w;
  }
  if (last != nullptr && last->link.task_ring->TakeParked()) {
    (void)last->link.tasks.SendBytes("");
  }
  return !sends.empty();
}

// Puts one task in its worker's ring, or in its pipe (announced by an empty
// record) if it is too large for a record. A worker that died meanwhile:
// its sentinel says so later.
void LocalPool::SendTask(Worker* w, const std::shared_ptr<TaskState>& t) {
  const bool fits = t->message.size() <= os::kMaxRecordBytes;
  absl::Status s = w->link.task_ring->Send(
      {fits ? absl::string_view(t->message) : absl::string_view()}, true, false,
      internal::Deadline::Passed());
  if (!s.ok()) {
    // No room although the held tasks always fit: the worker's side of
    // the ring is corrupt. It is stopped; its end fails its running task.
    (void)w->process->Kill();
    return;
  }
  if (!fits) (void)w->link.tasks.SendBytes(t->message);
}

// Takes every record in the worker's result ring. Whether there was one.
bool LocalPool::DrainRing(Worker* w) {
  bool any = false;
  absl::Duration now;
  for (;;) {
    absl::StatusOr<size_t> n = w->link.result_ring->TryRecv(buffer_.get());
    if (!n.ok()) {
      if (!absl::IsUnavailable(n.status())) {
        // Corrupt contents: nothing from this worker can be trusted.
        (void)w->process->Kill();
      }
      return any;
    }
    if (!any) now = internal::Elapsed();
    any = true;
    HandleRecord(w, absl::string_view(buffer_.get(), *n), now);
  }
}

void LocalPool::HandleRecord(Worker* w, absl::string_view record,
                             absl::Duration now) {
  Decoder d(record);
  absl::StatusOr<uint64_t> kind = d.GetVarint();
  if (!kind.ok()) return;  // a wakeup
  switch (*kind) {
    case internal::kReady: {
      int64_t pid = -1;
      if (Decode(d, pid).ok() && !w->ready) {
        w->ready = true;
        failed_starts_ = 0;
        if (++ready_count_ == n_) SetCreated(absl::OkStatus());
      }
      return;
    }
    case internal::kInitFailed:
      w->init_failure = internal::TakeStatus(d);
      return;
    case internal::kResult:
    case internal::kTaskFailed: {
      absl::StatusOr<uint64_t> id = d.GetVarint();
      if (!id.ok()) return;
      auto it = std::find_if(
          w->held.begin(), w->held.end(),
          [&](const std::shared_ptr<TaskState>& t) { return t->id == *id; });
      if (it == w->held.end()) return;
      std::shared_ptr<TaskState> task = *it;
      w->held.erase(it);
      if (!w->held.empty()) {
        w->held_bytes -=
            std::min(w->held_bytes, w->held.front()->message.size());
      }
      const absl::Duration took = now - w->front_since;
      average_ = average_ == absl::InfiniteDuration()
                     ? took
                     : (average_ * 7 + took) / 8;
      w->front_since = now;
      if (*kind == internal::kResult) {
        absl::StatusOr<absl::string_view> items = d.GetView(d.remaining());
        task->Complete(absl::OkStatus(), std::string(items.ok() ? *items : ""));
      } else {
        task->Complete(internal::TakeStatus(d), "");
      }
      return;
    }
    default:
      return;
  }
}

// Reads the worker's pipe: its ready or failed start, results too large
// for a ring record, and wakeups.
void LocalPool::ReadResults(Worker* w) {
  for (int i = 0; i < 1024 && !w->results_ended; ++i) {
    absl::StatusOr<std::string> r =
        w->link.results.RecvBytes(absl::ZeroDuration());
    if (!r.ok()) {
      if (!absl::IsDeadlineExceeded(r.status())) w->results_ended = true;
      return;
    }
    HandleRecord(w, *r, internal::Elapsed());
  }
}

bool LocalPool::ShouldReplace() {
  std::lock_guard<std::mutex> lock(mu_);
  return !terminating_ && broken_.ok() && !(closed_ && pending_.empty());
}

void LocalPool::WorkerEnded(size_t index) {
  Worker* w = workers_[index].get();
  ReadResults(w);
  DrainRing(w);
  (void)w->process->Join(absl::Seconds(5));  // its sentinel is ready
  const std::string how =
      absl::StrCat("worker ", w->pid, " ", HowEnded(w->process->ExitCode()));
  // The tasks still whole in its ring are those it never took: they go
  // back to the queue. The count comes from memory the dead worker could
  // write, so it is read once and bounded by what the pool sent.
  const int64_t in_ring = w->link.task_ring->Items();
  const size_t untaken = std::min(
      w->held.size(), static_cast<size_t>(std::max<int64_t>(in_ring, 0)));
  if (untaken == w->held.size()) Requeue(w, 0);
  if (!w->held.empty()) {
    std::shared_ptr<TaskState> front = w->held.front();
    if (w->timed_out) {
      front->Complete(absl::DeadlineExceededError(absl::StrCat(
                          "mp::Pool: the task ran longer than its timeout of ",
                          absl::FormatDuration(options_.task_timeout),
                          "; its worker was killed and replaced (", how, ")")),
                      "");
    } else {
      front->Complete(WorkerDiedError(absl::StrCat("mp::Pool: the task's ", how,
                                                   " while running it")),
                      "");
    }
    Requeue(w, 1);
  }
  bool replace = !w->replaced && ShouldReplace();
  if (!w->ready) {
    absl::Status why =
        !w->init_failure.ok()
            ? absl::FailedPreconditionError(
                  absl::StrCat("mp::Pool: the initializer failed in worker ",
                               w->pid, ": ", w->init_failure.message()))
            : absl::UnavailableError(absl::StrCat(
                  "mp::Pool: ", how, " before it could take a task"));
    bool creating;
    {
      std::lock_guard<std::mutex> lock(mu_);
      creating = !created_;
    }
    if (creating) {
      SetCreated(why);
      replace = false;
    } else if (!w->init_failure.ok() || ++failed_starts_ >= kMaxFailedStarts) {
      std::lock_guard<std::mutex> lock(mu_);
      broken_ = why;
      FailLocked(&pending_, why);
      replace = false;
    }
  }
  workers_.erase(workers_.begin() + index);
  {
    std::lock_guard<std::mutex> lock(mu_);
    UpdatePidsLocked();
  }
  if (replace) {
    absl::Status s = StartWorker();
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (workers_.empty()) {
        broken_ = absl::UnavailableError(absl::StrCat(
            "mp::Pool: cannot start a replacement worker: ", s.message()));
        FailLocked(&pending_, broken_);
      }
    }
  }
}

void LocalPool::Shutdown() {
  const absl::Status cancelled =
      absl::CancelledError("mp::Pool: the pool was terminated");
  {
    std::lock_guard<std::mutex> lock(mu_);
    FailLocked(&pending_, cancelled);
    if (!created_) {
      created_ = true;
      create_status_ = cancelled;
      cv_.notify_all();
    }
  }
  for (auto& w : workers_) {
    FailLocked(&w->held, cancelled);
    if (!w->process->Kill().ok()) {
      // A thread cannot be killed: closing its pipes ends it once its
      // running task returns.
      (void)w->link.tasks.Close();
      (void)w->link.results.Close();
    }
  }
  const internal::Deadline deadline =
      internal::Deadline::After(absl::Seconds(1));
  for (auto& w : workers_) {
    (void)w->process->Join(deadline.Left());
  }
  workers_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  pids_.clear();
  finished_ = true;
  cv_.notify_all();
}

// Whether a record or a queued task may have come since the last look:
// atomics only, no lock.
bool LocalPool::AnythingNew() {
  const uint64_t events = events_.load(std::memory_order_acquire);
  if (events != seen_events_) {
    seen_events_ = events;
    return true;
  }
  for (auto& w : workers_) {
    if (w->link.result_ring->HasRecord()) return true;
  }
  return false;
}

// Decides to sleep: nothing to hand out that a worker could take, and no
// result in any ring. Marks the dispatcher asleep (for Enqueue, Close and
// Terminate) and parks every result ring (for the workers); false, and
// nothing marked, if something arrived meanwhile.
bool LocalPool::Sleep() {
  bool room = false;
  const bool prefetch = average_ < kShortTask;
  for (auto& w : workers_) {
    if (w->ready && !w->retiring && !w->timed_out &&
        w->held.size() < (prefetch ? kPrefetch : 1)) {
      room = true;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (terminating_ || (room && !pending_.empty())) return false;
    asleep_ = true;
    accepting_ = room;
  }
  size_t parked = 0;
  for (; parked < workers_.size(); ++parked) {
    if (!workers_[parked]->link.result_ring->Park()) break;
  }
  if (parked == workers_.size()) return true;
  for (size_t i = 0; i < parked; ++i) workers_[i]->link.result_ring->Unpark();
  std::lock_guard<std::mutex> lock(mu_);
  asleep_ = false;
  return false;
}

void LocalPool::Run() {
  for (int i = 0; i < n_; ++i) {
    absl::Status s = StartWorker();
    if (!s.ok()) {
      SetCreated(s);
      break;
    }
  }
  internal::Backoff backoff;
  for (;;) {
    absl::Duration wake_at = absl::InfiniteDuration();
    const absl::Duration now = internal::Elapsed();
    bool terminating = false;
    bool drained = false;
    bool progressed = Assign(now, &terminating, &drained);
    if (terminating) break;
    for (auto& w : workers_) {
      if (DrainRing(w.get())) progressed = true;
    }
    // Retire workers: after max_tasks_per_child tasks, or every idle one
    // once the pool is closed and nothing is queued.
    bool retired = false;
    for (size_t i = 0; i < workers_.size(); ++i) {
      Worker* w = workers_[i].get();
      if (w->retiring || !w->ready || !w->held.empty()) continue;
      const bool used_up = options_.max_tasks_per_child > 0 &&
                           w->assigned >= options_.max_tasks_per_child;
      if (!used_up && !drained) continue;
      w->retiring = true;
      retired = true;
      (void)w->link.tasks.Close();
      if (used_up && !drained && ShouldReplace()) {
        w->replaced = true;
        // A replacement that cannot start is retried at the next end.
        (void)StartWorker();
      }
    }
    if (retired || (drained && workers_.empty())) {
      std::lock_guard<std::mutex> lock(mu_);
      UpdatePidsLocked();
      if (drained && workers_.empty()) {
        finished_ = true;
        cv_.notify_all();
        break;
      }
    }
    // Time limits: a running task over its timeout, or an initializer.
    if (options_.task_timeout != absl::InfiniteDuration()) {
      for (size_t i = 0; i < workers_.size(); ++i) {
        Worker* w = workers_[i].get();
        if (w->timed_out) continue;
        const bool running = !w->held.empty();
        if (!running && w->ready) continue;
        const absl::Duration limit =
            (running ? w->front_since : w->started) + options_.task_timeout;
        if (now < limit) {
          wake_at = std::min(wake_at, limit);
          continue;
        }
        if (!running) {
          w->init_failure = absl::DeadlineExceededError(
              absl::StrCat("the initializer ran longer than ",
                           absl::FormatDuration(options_.task_timeout)));
        }
        w->timed_out = true;
        if (!w->process->Kill().ok()) {
          // The threads backend: the thread runs on, abandoned; its task
          // fails now and a replacement takes its place.
          (void)w->link.tasks.Close();
          (void)w->link.results.Close();
          w->results_ended = true;
          if (running) {
            w->held.front()->Complete(
                absl::DeadlineExceededError(absl::StrCat(
                    "mp::Pool: the task ran longer than its timeout of ",
                    absl::FormatDuration(options_.task_timeout),
                    "; its worker thread cannot be killed and was abandoned")),
                "");
            Requeue(w, 1);
          }
          workers_.erase(workers_.begin() + i);
          --i;
          {
            std::lock_guard<std::mutex> lock(mu_);
            UpdatePidsLocked();
          }
          if (ShouldReplace()) (void)StartWorker();
        }
      }
    }
    // Busy: go on, looking at the pipes and the workers' ends only every
    // kPollEvery. Idle: spin a little, then sleep until a record, a
    // worker's end, a wakeup or a time limit.
    bool asleep = false;
    if (progressed) {
      backoff.Reset();
      if (now - last_poll_ < kPollEvery) continue;
    } else if (backoff.Next()) {
      // Only a cheap look until something changes.
      while (!AnythingNew() && backoff.Next()) {
      }
      if (internal::Elapsed() - last_poll_ < kPollEvery) continue;
    } else {
      backoff.Reset();
      asleep = Sleep();
      if (!asleep) continue;
    }
    last_poll_ = now;
    std::vector<const Connection*> conns = {&wake_r_};
    std::vector<Worker*> reading;
    std::vector<const Process*> procs;
    for (auto& w : workers_) {
      if (!w->results_ended) {
        conns.push_back(&w->link.results);
        reading.push_back(w.get());
      }
      procs.push_back(w->process.get());
    }
    absl::StatusOr<std::vector<size_t>> ready = Wait(
        conns, procs,
        asleep ? std::max(wake_at - internal::Elapsed(), absl::ZeroDuration())
               : absl::ZeroDuration());
    if (asleep) {
      for (auto& w : workers_) w->link.result_ring->Unpark();
      std::lock_guard<std::mutex> lock(mu_);
      asleep_ = false;
    }
    if (!ready.ok()) {
      // Nothing here should fail; do not spin if it does.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    std::vector<Worker*> ended;
    for (size_t index : *ready) {
      if (index == 0) {
        for (;;) {
          absl::StatusOr<std::string> r =
              wake_r_.RecvBytes(absl::ZeroDuration());
          if (!r.ok()) break;
        }
      } else if (index < conns.size()) {
        ReadResults(reading[index - 1]);
      } else {
        ended.push_back(workers_[index - conns.size()].get());
      }
    }
    for (Worker* w : ended) {
      for (size_t i = 0; i < workers_.size(); ++i) {
        if (workers_[i].get() == w) {
          WorkerEnded(i);
          break;
        }
      }
    }
  }
  Shutdown();
}

// --- Pool
// ---------------------------------------------------------------------

namespace internal {

absl::Status CheckPoolOptions(const Pool::Options& options) {
  if (options.workers < 0) {
    return absl::InvalidArgumentError("mp::Pool: a negative number of workers");
  }
  if (options.task_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("mp::Pool: a task timeout must be > 0");
  }
  // Refused before anything starts: a daemon's pool could start no worker,
  // and its dispatcher thread would be a thread started in a fork child.
  if (CurrentIsDaemon()) {
    return absl::FailedPreconditionError(
        "mp::Pool: a daemon process (a Pool worker, too) may not start "
        "children, so it cannot create a Pool (as in Python)");
  }
  return absl::OkStatus();
}

}  // namespace internal

absl::StatusOr<Pool> Pool::Create(Options options) {
  if (absl::Status s = internal::CheckPoolOptions(options); !s.ok()) return s;
  const int n = options.workers > 0 ? options.workers : CpuCount();
  if (!options.make_worker) options.make_worker = &internal::DefaultWorker;
  auto impl = std::make_shared<LocalPool>(std::move(options), n);
  absl::Status s = impl->Init();
  if (!s.ok()) {
    (void)impl->Terminate();
    return s;
  }
  return Pool(std::move(impl));
}

Pool::Pool(Pool&& other) noexcept = default;
Pool& Pool::operator=(Pool&& other) noexcept {
  if (this != &other) {
    if (impl_ != nullptr) (void)impl_->Terminate();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Pool::~Pool() {
  if (impl_ != nullptr) (void)impl_->Terminate();
}

absl::Status Pool::Close() {
  if (impl_ == nullptr) return absl::FailedPreconditionError("mp: moved-from");
  return impl_->Close();
}

absl::Status Pool::Join() {
  if (impl_ == nullptr) return absl::FailedPreconditionError("mp: moved-from");
  return impl_->Join();
}

absl::Status Pool::Terminate() {
  if (impl_ == nullptr) return absl::FailedPreconditionError("mp: moved-from");
  return impl_->Terminate();
}

int Pool::size() const { return impl_ == nullptr ? 0 : impl_->size(); }

std::vector<int64_t> Pool::WorkerPids() const {
  return impl_ == nullptr ? std::vector<int64_t>() : impl_->Pids();
}

size_t Pool::DefaultChunksize(size_t n) const {
  const size_t parts = 4 * static_cast<size_t>(std::max(size(), 1));
  return std::max<size_t>(1, (n + parts - 1) / parts);
}

size_t Pool::DefaultWindow() const {
  return 2 * static_cast<size_t>(std::max(size(), 1));
}

std::shared_ptr<TaskState> Pool::SubmitEncoded(internal::TaskInvokerFn invoker,
                                               void (*target)(), Encoder& e,
                                               const HandleList& handles,
                                               size_t count, Batch* batch) {
  return SubmitTo(impl_, invoker, target, e, handles, count, nullptr, batch);
}

void Pool::Enqueue(Batch* batch) {
  if (impl_ != nullptr) impl_->Enqueue(batch);
  batch->clear();
}

namespace {
uint64_t NextTaskId() {
  static std::atomic<uint64_t> next_id{1};
  return next_id.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

std::shared_ptr<TaskState> Pool::SubmitTo(
    const std::shared_ptr<Impl>& impl, internal::TaskInvokerFn invoker,
    void (*target)(), Encoder& e, const HandleList& handles, size_t count,
    std::shared_ptr<internal::TaskNotifier> notifier, Batch* batch) {
  if (impl == nullptr) {
    return TaskState::Failed(
        absl::FailedPreconditionError("mp::Pool: a moved-from Pool"), count);
  }
  if (!handles.handles.empty()) {
    return TaskState::Failed(
        absl::InvalidArgumentError(
            "mp::Pool: a task's arguments wrap an OS handle (a Lock, Queue, "
            "Connection, ...), which cannot be sent with a task; pass it to "
            "every worker as an initializer argument "
            "(Pool::Options::SetInitializer)"),
        count);
  }
  if (!e.status().ok()) {
    return TaskState::Failed(
        absl::InvalidArgumentError(
            absl::StrCat("mp::Pool: a task's arguments cannot be encoded: ",
                         e.status().message())),
        count);
  }
  if (CurrentPid() != impl->owner()) {
    return TaskState::Failed(
        absl::FailedPreconditionError(
            "mp::Pool: only the process that created a pool can use it (a "
            "task may not use the pool that runs it)"),
        count);
  }
  absl::StatusOr<internal::CodeRef> inv =
      internal::TaskCodeRef(reinterpret_cast<const void*>(invoker));
  absl::StatusOr<internal::CodeRef> fn =
      inv.ok() ? internal::TaskCodeRef(reinterpret_cast<const void*>(target))
               : inv;
  if (!fn.ok()) return TaskState::Failed(fn.status(), count);
  auto task = std::make_shared<TaskState>(count);
  task->id = NextTaskId();
  task->notifier = std::move(notifier);
  Encoder m;
  m.PutVarint(task->id);
  Encode(m, *inv);
  Encode(m, *fn);
  m.PutBytes(e.bytes().data(), e.bytes().size());
  task->message = m.Release();
  if (batch != nullptr) {
    batch->push_back(task);
    return task;
  }
  return impl->Enqueue(std::move(task));
}

std::shared_ptr<TaskState> internal::PoolAccess::SubmitMessage(
    Pool& pool, absl::string_view body, size_t count,
    std::shared_ptr<TaskNotifier> notifier) {
  if (pool.impl_ == nullptr) {
    return TaskState::Failed(
        absl::FailedPreconditionError("mp::Pool: a moved-from Pool"), count);
  }
  auto task = std::make_shared<TaskState>(count);
  task->id = NextTaskId();
  task->notifier = std::move(notifier);
  Encoder m;
  m.PutVarint(task->id);
  m.PutBytes(body.data(), body.size());
  task->message = m.Release();
  return pool.impl_->Enqueue(std::move(task));
}

// --- Streams
// ------------------------------------------------------------------

namespace internal {

StreamCore::StreamCore(std::shared_ptr<void> pool, TaskInvokerFn invoker,
                       void (*target)(), InputSource source, size_t chunksize,
                       size_t window, bool ordered)
    : pool_(std::move(pool)),
      invoker_(invoker),
      target_(target),
      source_(std::move(source)),
      chunksize_(chunksize),
      window_(std::max<size_t>(window, 1)),
      ordered_(ordered),
      notifier_(std::make_shared<TaskNotifier>()) {}

StreamCore::~StreamCore() {
  for (auto& t : in_flight_) t->Cancel();
}

std::shared_ptr<TaskState> StreamCore::NextChunk() {
  auto impl = std::static_pointer_cast<Pool::Impl>(pool_);
  while (!exhausted_ && in_flight_.size() < window_) {
    HandleList handles;
    Encoder items(&handles);
    size_t k = 0;
    while (k < chunksize_ && source_(items)) ++k;
    if (k < chunksize_) exhausted_ = true;
    if (k == 0) break;
    Encoder e(&handles);
    e.PutVarint(k);
    e.PutBytes(items.bytes().data(), items.bytes().size());
    if (!items.status().ok()) e.Fail(items.status());
    in_flight_.push_back(Pool::SubmitTo(impl, invoker_, target_, e, handles, k,
                                        notifier_, nullptr));
  }
  if (in_flight_.empty()) return nullptr;
  size_t pick = 0;
  if (ordered_) {
    in_flight_.front()->Wait(absl::InfiniteDuration());
  } else {
    std::unique_lock<std::mutex> lock(notifier_->mu);
    notifier_->cv.wait(lock, [&] {
      for (size_t i = 0; i < in_flight_.size(); ++i) {
        if (in_flight_[i]->done()) {
          pick = i;
          return true;
        }
      }
      return false;
    });
  }
  std::shared_ptr<TaskState> t = in_flight_[pick];
  in_flight_.erase(in_flight_.begin() + pick);
  return t;
}

}  // namespace internal
}  // namespace mp
