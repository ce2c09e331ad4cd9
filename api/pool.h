// Copyright 2026 The mp Authors.
//
// mp::Pool runs functions on a set of worker processes and brings their
// results back, as Python's multiprocessing.Pool and
// concurrent.futures.ProcessPoolExecutor:
//
//   int Square(int x) { return x * x; }
//
//   absl::StatusOr<mp::Pool> pool = mp::Pool::Create();  // CpuCount() workers
//   mp::Future<int> f = pool->Submit(Square, 7);
//   absl::StatusOr<int> r = f.Get();                        // 49
//   absl::StatusOr<std::vector<int>> all =
//       pool->Map(Square, std::vector<int>{1, 2, 3});      // {1, 4, 9}
//
// Tasks are plain functions or captureless, non-generic lambdas, checked at
// compile time as mp::Process targets are (mp/process.h), with arguments
// and return value carried by the codec (mp/codec.h) on every start method.
// The return type R gives Future<R>::Get():
//
//   void                absl::Status
//   absl::Status        absl::Status: the one returned
//   absl::StatusOr<T>   absl::StatusOr<T>: the one returned
//   T (a value)         absl::StatusOr<T>
//
// What a task can end with, besides its own result:
//   * it throws: Unknown with the exception's what(); the worker lives on;
//   * its worker dies (killed, crashed, the OOM killer, mp::Exit()):
//     WorkerDied (mp/status.h) naming the exit code or signal, for that
//     task alone; the worker is replaced and every other task runs;
//   * it runs longer than Options::task_timeout: its worker is killed and
//     replaced and the task is DeadlineExceeded;
//   * the pool is terminated or destroyed before it ends: Cancelled;
//   * the initializer failed in a worker: FailedPrecondition naming why.
// A pool is never left stuck: a worker's death is seen through its
// sentinel, not through a result that never comes (Python's Pool.map hangs
// for ever when a worker is killed).
//
// Cost: a task and its result of up to 64 KiB encoded travel through rings
// in shared memory, a pair per worker, with no system call while the pool
// is busy; larger ones go through a pipe. While tasks are short (under
// 1 ms on average), each worker is handed up to 32 ahead of time, so that
// it never waits for the pool; those it has not started when it dies go
// back to the queue and run elsewhere. A task handed ahead waits for its
// worker even if another one falls idle, so a long task among short ones
// delays the few handed to its worker behind it (Python's Pool delays a
// chunk's tasks the same way); Future::Cancel() no longer stops it.
//
// Arguments that wrap OS handles (a Lock, Queue, Connection, ...) cannot be
// sent with a task: Submit fails such a task with InvalidArgument. Give
// them to every worker as the initializer's arguments instead (they are
// passed at worker start, as Process arguments), and keep them in the
// worker, e.g. in a global the initializer sets.
//
// Workers are daemon processes (mp/process.h): a task may not start
// processes of its own, and a task may not use a pool (Submit from any
// process but the pool's creator fails with FailedPrecondition instead of
// deadlocking). Ending main's code (mp/init.h) terminates them.
//
// The threads backend (//:mp_threads, Python's multiprocessing.dummy):
// workers are threads, which cannot be killed. A task over its timeout
// fails DeadlineExceeded and its worker is replaced, but the abandoned
// thread runs the task to its end; Terminate() and the destructor fail
// pending tasks Cancelled at once but cannot stop one that is running.
//
// On the ranks of an MPI job (mp/mpi_pool.h, //:mp_mpi): the same Pool,
// its workers on other hosts; what differs is said there.
//
// Thread-safety: Submit, Map, Imap, Close, Terminate and Futures may be
// used from several threads at once. A ResultStream is for one thread.

#ifndef MP_POOL_H_
#define MP_POOL_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "mp/codec.h"
#include "mp/internal/target.h"
#include "mp/internal/task.h"
#include "mp/pipe.h"
#include "mp/process.h"
#include "mp/status.h"

namespace mp {

class Pool;
namespace internal {
struct PoolAccess;
}  // namespace internal

// The result of one submitted task. Copies share the task.
template <typename R>
class Future {
 public:
  using Result = typename internal::TaskResult<R>::Get;

  Future() = default;  // invalid: Get() is FailedPrecondition

  // The task's result (see the table above), waiting at most `timeout`:
  // DeadlineExceeded if it is not ready by then (Ready() tells it apart from
  // a task that failed over its own timeout). May be called again.
  Result Get(absl::Duration timeout = absl::InfiniteDuration()) const {
    if (state_ == nullptr) {
      return absl::FailedPreconditionError("mp: an empty Future");
    }
    if (!state_->Wait(timeout)) {
      return absl::DeadlineExceededError("mp: the task's result is not ready");
    }
    return internal::TaskItems<R>(*state_).Next();
  }
  // Whether the task ended (in any way) within `timeout`.
  bool Wait(absl::Duration timeout = absl::InfiniteDuration()) const {
    return state_ != nullptr && state_->Wait(timeout);
  }
  bool Ready() const { return state_ != nullptr && state_->done(); }
  // A task that no worker has been handed yet never runs: true, and Get()
  // is Cancelled. False if it was handed to a worker (which may be ahead
  // of time: see "Cost" above, as Python's ProcessPoolExecutor counts a
  // call running once it is in its call queue), started or ended already.
  bool Cancel() { return state_ != nullptr && state_->Cancel(); }
  bool valid() const { return state_ != nullptr; }

 private:
  friend class Pool;
  explicit Future(std::shared_ptr<internal::TaskState> state)
      : state_(std::move(state)) {}
  std::shared_ptr<internal::TaskState> state_;
};

namespace internal {

// Feeds a ResultStream: encodes the next input's argument tuple, or says
// there is none.
using InputSource = std::function<bool(Encoder& e)>;

// The part of Imap / ImapUnordered that does not depend on the types.
class StreamCore {
 public:
  StreamCore(std::shared_ptr<void> pool, TaskInvokerFn invoker,
             void (*target)(), InputSource source, size_t chunksize,
             size_t window, bool ordered);
  // The next done chunk, topping up the tasks in flight first; nullptr once
  // the input is exhausted and every chunk was returned.
  std::shared_ptr<TaskState> NextChunk();
  ~StreamCore();

 private:
  std::shared_ptr<void> pool_;
  TaskInvokerFn invoker_;
  void (*target_)();
  InputSource source_;
  size_t chunksize_;
  size_t window_;
  bool ordered_;
  bool exhausted_ = false;
  std::shared_ptr<TaskNotifier> notifier_;
  std::vector<std::shared_ptr<TaskState>> in_flight_;
};

template <typename Ptr>
struct ReturnOf;
template <typename R, typename... P>
struct ReturnOf<R (*)(P...)> {
  using type = R;
};

template <typename F, typename = void>
struct TaskReturnType {
  using type = void;
};
template <typename F>
struct TaskReturnType<F, std::enable_if_t<TargetSignature<F>::kIsFunction>> {
  using type = typename ReturnOf<typename TargetSignature<F>::Pointer>::type;
};

// The compile-time checks on a task, in the order mp::Process makes them,
// then the return type; one message per misuse.
template <typename Check, typename R>
constexpr bool CheckTask() {
  static_assert(Check::kIsFunction,
                "mp::Pool: a task must be a plain function (not C variadic) "
                "or a captureless, non-generic lambda; captured state cannot "
                "reach a worker, so pass it as an argument instead");
  static_assert(!Check::kIsFunction || Check::kCountMatches,
                "mp::Pool: the number of arguments does not match the task's "
                "parameters");
  static_assert(!Check::kCountMatches || Check::kNoPointer,
                "mp::Pool: a parameter is a pointer, and what it points to "
                "does not exist in the worker; take a value instead");
  static_assert(!Check::kNoPointer || Check::kComplete,
                "mp::Pool: a parameter's type is incomplete here; include its "
                "definition");
  static_assert(!Check::kComplete || Check::kEncodable,
                "mp::Pool: a parameter's type cannot be sent to a worker (it "
                "has no mp::Codec). For your own struct add MP_FIELDS(field, "
                "...) inside it.");
  static_assert(!Check::kEncodable || Check::kDefaultConstructible,
                "mp::Pool: a parameter's type must be default-constructible: "
                "the worker decodes each argument into a default instance");
  static_assert(!Check::kDefaultConstructible || Check::kArgumentsConvert,
                "mp::Pool: an argument does not convert to the task's "
                "parameter type");
  static_assert(!Check::kValid || TaskResult<R>::kValid,
                "mp::Pool: the task's return type cannot be sent back: return "
                "void, absl::Status, absl::StatusOr<T> or a value T (not a "
                "reference or pointer) with an mp::Codec and a default "
                "constructor");
  return Check::kValid && TaskResult<R>::kValid;
}

// Calls the initializer `fn` with `values`: an error absl::Status it
// returns, or the exception it throws, as a status. mp::Exit() goes through.
template <typename IR, typename... IP>
absl::Status CallInitializer(IR (*fn)(IP...),
                             std::tuple<std::decay_t<IP>...>& values) {
  try {
    if constexpr (std::is_same_v<IR, absl::Status>) {
      return std::apply([fn](auto&... v) { return fn(AsParameter<IP>(v)...); },
                        values);
    } else {
      std::apply([fn](auto&... v) { (void)fn(AsParameter<IP>(v)...); }, values);
      return absl::OkStatus();
    }
  } catch (const ExitRequest&) {
    throw;
  } catch (const std::exception& e) {
    return ExceptionStatus(e.what());
  } catch (...) {
    return ExceptionStatus(nullptr);
  }
}

// The initializer's worker: runs `init` (a CodeRef of an IR(IP...)) with
// `init_args`, then the worker loop.
absl::StatusOr<CodeRef> TaskCodeRef(const void* address);
absl::StatusOr<const void*> ResolveTaskCode(const CodeRef& ref);
void RunPoolWorker(WorkerLink link, absl::Status init);

template <typename IR, typename... IP>
void PoolWorker(WorkerLink link, std::optional<CodeRef> init,
                std::tuple<std::decay_t<IP>...> init_args) {
  absl::Status status;
  if (init.has_value()) {
    absl::StatusOr<const void*> code = ResolveTaskCode(*init);
    if (!code.ok()) {
      status = code.status();
    } else {
      status = CallInitializer(
          reinterpret_cast<IR (*)(IP...)>(const_cast<void*>(*code)), init_args);
    }
  }
  RunPoolWorker(std::move(link), std::move(status));
}

// An initializer as bytes, for workers that a pool starts through another
// program's copy (mp/mpi_pool.h): `runner` decodes `args` (the encoded
// std::tuple of its decayed parameters) and calls `fn`. Every runner
// registers itself during static initialisation, as task invokers do, and
// a worker refuses one that is not registered.
using InitializerRunnerFn = absl::Status (*)(void (*fn)(),
                                             absl::string_view args);
void RegisterInitializerRunner(InitializerRunnerFn runner);
bool IsInitializerRunner(const void* address);
template <InitializerRunnerFn kRunner>
struct InitializerRunnerRegistration {
  static const bool registered;
};
template <InitializerRunnerFn kRunner>
const bool InitializerRunnerRegistration<kRunner>::registered =
    (RegisterInitializerRunner(kRunner), true);

template <typename IR, typename... IP>
absl::Status RunInitializer(void (*fn)(), absl::string_view args) {
  absl::StatusOr<std::tuple<std::decay_t<IP>...>> values =
      FromBytes<std::tuple<std::decay_t<IP>...>>(args);
  if (!values.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("mp: cannot decode the initializer's arguments: ",
                     values.status().message()));
  }
  return CallInitializer(reinterpret_cast<IR (*)(IP...)>(fn), *values);
}

struct InitializerSpec {
  InitializerRunnerFn runner = nullptr;  // nullptr: no initializer
  void (*fn)() = nullptr;
  std::string args;
  // Why the arguments cannot travel as bytes (they wrap an OS handle, or
  // cannot be encoded); OK if they can.
  absl::Status sendable;
};

using WorkerFactory = std::function<Process(WorkerLink link)>;

}  // namespace internal

// Results of Imap / ImapUnordered, one per input, produced lazily: each
// Next() first tops up the tasks in flight (reading more input), then
// waits. At most `window` chunks of `chunksize` inputs are in flight, so
// the input is read at most window × chunksize inputs ahead of the results
// taken (a generator of 10 million inputs is never materialised).
template <typename R>
class ResultStream {
 public:
  using Result = typename internal::TaskResult<R>::Get;

  // The next result, or nullopt once every input's result was returned.
  std::optional<Result> Next() {
    while (items_left_ == 0) {
      chunk_ = core_->NextChunk();
      if (chunk_ == nullptr) return std::nullopt;
      items_ = std::make_unique<internal::TaskItems<R>>(*chunk_);
      items_left_ = chunk_->count();
    }
    --items_left_;
    return items_->Next();
  }

 private:
  friend class Pool;
  explicit ResultStream(std::unique_ptr<internal::StreamCore> core)
      : core_(std::move(core)) {}
  std::unique_ptr<internal::StreamCore> core_;
  std::shared_ptr<internal::TaskState> chunk_;
  std::unique_ptr<internal::TaskItems<R>> items_;
  size_t items_left_ = 0;
};

// How a Pool is made (Pool::Options).
struct PoolOptions {
  // Worker processes; 0: CpuCount().
  int workers = 0;
  StartMethod start_method = StartMethod::kDefault;
  // A worker is replaced after this many tasks (0: never), as Python's
  // maxtasksperchild. A chunk of Map / Imap counts as one task.
  int max_tasks_per_child = 0;
  // How long one task may run; a task over it has its worker killed and
  // replaced and fails DeadlineExceeded. The time runs from when the
  // worker takes the task.
  absl::Duration task_timeout = absl::InfiniteDuration();

  // Runs `fn(args...)` once in each worker before its first task (checked
  // as a Process target). Its arguments may wrap OS handles (a Lock, a
  // Queue, ...): they are passed at worker start. If it throws, or
  // returns an error absl::Status, Create() fails with that reason; in a
  // worker started later (a replacement), every pending and later task
  // fails FailedPrecondition with it.
  template <typename F, typename... A>
  PoolOptions& SetInitializer(F fn, A&&... args);

  // Set by SetInitializer (the default runs no initializer).
  internal::WorkerFactory make_worker;
  internal::InitializerSpec initializer;
};

class Pool {
 public:
  using Options = PoolOptions;

  // Starts the workers and waits until each has run the initializer.
  static absl::StatusOr<Pool> Create(Options options = Options());

  Pool(Pool&& other) noexcept;
  Pool& operator=(Pool&& other) noexcept;
  // Terminate() and wait for the workers to end, as leaving Python's
  // `with Pool() as p:` block does.
  ~Pool();

  // Queues fn(args...) for a worker. Errors come back as the Future's
  // result: FailedPrecondition once the pool is closed, Cancelled once it
  // is terminated (as every task it had not finished, and as an Imap
  // stream's later inputs once its pool is destroyed), InvalidArgument for
  // an argument that wraps an OS handle or cannot be encoded,
  // FailedPrecondition for a caller that is not the pool's creator.
  template <typename F, typename... A>
  Future<typename internal::TaskReturnType<F>::type> Submit(F fn, A&&... args);

  // fn(x) for each x of `inputs`, results in input order; the first
  // failure (in input order) fails the whole call, and the tasks not yet
  // started are cancelled. The inputs are sent in chunks of `chunksize`;
  // 0 picks it as Python does: ceil(size / (4 × workers)). For fn
  // returning void or absl::Status the result is an absl::Status.
  template <typename F, typename Range>
  auto Map(F fn, const Range& inputs, size_t chunksize = 0);
  // fn(a, b, ...) for each tuple (or pair) of `inputs`.
  template <typename F, typename Range>
  auto Starmap(F fn, const Range& inputs, size_t chunksize = 0);

  // Lazily: one result per input in input order (Imap) or as they complete
  // (ImapUnordered); a failed input's result is its failure, and the rest
  // go on. `inputs` is iterated as results are taken; a temporary range is
  // kept by the stream, any other must outlive it. Chunks of `chunksize`
  // (default 1, as Python's), at most `window` chunks in flight (0:
  // 2 × workers).
  template <typename F, typename Range>
  auto Imap(F fn, Range&& inputs, size_t chunksize = 1, size_t window = 0);
  template <typename F, typename Range>
  auto ImapUnordered(F fn, Range&& inputs, size_t chunksize = 1,
                     size_t window = 0);

  // No more tasks; the workers end once the queued ones are done.
  absl::Status Close();
  // Waits until the workers have ended; FailedPrecondition unless Close()
  // or Terminate() came first.
  absl::Status Join();
  // Fails every task not yet done with Cancelled and kills the workers
  // (each has ended when it returns); returns within about a second, or,
  // with hundreds of workers per core, once the OS has ended them (it
  // takes a fraction of a millisecond to a few per process).
  absl::Status Terminate();

  int size() const;
  // The running workers' pids (a worker replaced has a new one).
  std::vector<int64_t> WorkerPids() const;

  class Impl;

 private:
  explicit Pool(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  template <typename R, typename... P, typename... A>
  std::shared_ptr<internal::TaskState> Bind(R (*fn)(P...), A&&... args);
  // A task made, and queued unless `batch` is given: then it is added to
  // `batch`, which Enqueue queues with one lock.
  using Batch = std::vector<std::shared_ptr<internal::TaskState>>;
  std::shared_ptr<internal::TaskState> SubmitEncoded(
      internal::TaskInvokerFn invoker, void (*target)(), Encoder& e,
      const HandleList& handles, size_t count, Batch* batch = nullptr);
  static std::shared_ptr<internal::TaskState> SubmitTo(
      const std::shared_ptr<Impl>& impl, internal::TaskInvokerFn invoker,
      void (*target)(), Encoder& e, const HandleList& handles, size_t count,
      std::shared_ptr<internal::TaskNotifier> notifier, Batch* batch);
  void Enqueue(Batch* batch);
  size_t DefaultChunksize(size_t n) const;
  size_t DefaultWindow() const;
  template <bool kStar, typename F, typename Range>
  auto MapImpl(F fn, const Range& inputs, size_t chunksize);
  template <bool kOrdered, typename F, typename Range>
  auto ImapImpl(F fn, Range&& inputs, size_t chunksize, size_t window);

  friend class internal::StreamCore;
  friend struct internal::PoolAccess;
  std::shared_ptr<Impl> impl_;
};

// --- Implementation details ------------------------------------------------

namespace internal {

// The checks for fn called with the elements of tuple type T.
template <typename F, typename T>
struct StarCheck;
template <typename F, typename... E>
struct StarCheck<F, std::tuple<E...>> {
  using type = FunctionTargetCheck<F, const E&...>;
};
template <typename F, typename A, typename B>
struct StarCheck<F, std::pair<A, B>> {
  using type = FunctionTargetCheck<F, const A&, const B&>;
};
template <bool kStar, typename F, typename E>
struct MapCheck {
  using type = FunctionTargetCheck<F, const E&>;
};
template <typename F, typename E>
struct MapCheck<true, F, E> : StarCheck<F, E> {};

template <typename Range>
using RangeElement =
    std::decay_t<decltype(*std::begin(std::declval<Range&>()))>;

// Encodes one input as the tuple of fn's decayed parameters.
template <bool kStar, typename... P, typename E>
void EncodeInput(Encoder& e, const E& input) {
  if constexpr (kStar) {
    Encode(e, std::apply(
                  [](const auto&... v) {
                    return std::tuple<std::decay_t<P>...>(v...);
                  },
                  input));
  } else {
    Encode(e, std::tuple<std::decay_t<P>...>(input));
  }
}

template <typename Ptr>
struct Params;
template <typename R, typename... P>
struct Params<R (*)(P...)> {
  template <bool kStar, typename E>
  static void Encode(Encoder& e, const E& input) {
    EncodeInput<kStar, P...>(e, input);
  }
  static constexpr TaskInvokerFn kInvoker = &RunTasks<R, P...>;
};

}  // namespace internal

namespace internal {
template <typename IR, typename... IP, typename... A>
WorkerFactory MakeInitializerFactory(IR (*fn)(IP...), InitializerSpec* spec,
                                     A&&... args) {
  auto values = std::make_shared<std::tuple<std::decay_t<IP>...>>(
      std::forward<A>(args)...);
  constexpr InitializerRunnerFn kRunner = &RunInitializer<IR, IP...>;
  (void)InitializerRunnerRegistration<kRunner>::registered;
  HandleList handles;
  Encoder e(&handles);
  Encode(e, *values);
  spec->runner = kRunner;
  spec->fn = reinterpret_cast<void (*)()>(fn);
  spec->args = e.Release();
  spec->sendable = e.status();
  if (spec->sendable.ok() && !handles.handles.empty()) {
    spec->sendable = absl::InvalidArgumentError(
        "an argument wraps an OS handle (a Lock, Queue, Connection, ...)");
  }
  return [fn, values](WorkerLink link) {
    absl::StatusOr<CodeRef> ref =
        TaskCodeRef(reinterpret_cast<const void*>(fn));
    // An initializer that cannot be named fails in the worker, with why.
    std::optional<CodeRef> init = ref.ok() ? *ref : CodeRef{"?", 0};
    return Process(&PoolWorker<IR, IP...>, std::move(link), init, *values);
  };
}
}  // namespace internal

template <typename F, typename... A>
PoolOptions& PoolOptions::SetInitializer(F fn, A&&... args) {
  using Check = internal::FunctionTargetCheck<F, A...>;
  static_assert(Check::kIsFunction,
                "mp::Pool initializer: must be a plain function or a "
                "captureless, non-generic lambda");
  static_assert(!Check::kIsFunction || Check::kCountMatches,
                "mp::Pool initializer: the number of arguments does not match "
                "its parameters");
  static_assert(!Check::kCountMatches || Check::kNoPointer,
                "mp::Pool initializer: a parameter is a pointer; take a value");
  static_assert(!Check::kNoPointer || Check::kComplete,
                "mp::Pool initializer: a parameter's type is incomplete here");
  static_assert(!Check::kComplete || Check::kEncodable,
                "mp::Pool initializer: a parameter's type has no mp::Codec");
  static_assert(!Check::kEncodable || Check::kDefaultConstructible,
                "mp::Pool initializer: a parameter's type must be "
                "default-constructible");
  static_assert(!Check::kDefaultConstructible || Check::kArgumentsConvert,
                "mp::Pool initializer: an argument does not convert to its "
                "parameter type");
  if constexpr (Check::kValid) {
    using Ptr = typename Check::Signature::Pointer;
    Ptr f = +fn;
    make_worker = internal::MakeInitializerFactory(f, &initializer,
                                                   std::forward<A>(args)...);
  }
  return *this;
}

template <typename F, typename... A>
Future<typename internal::TaskReturnType<F>::type> Pool::Submit(F fn,
                                                                A&&... args) {
  using Check = internal::FunctionTargetCheck<F, A...>;
  using R = typename internal::TaskReturnType<F>::type;
  constexpr bool kValid = internal::CheckTask<Check, R>();
  if constexpr (kValid) {
    using Ptr = typename Check::Signature::Pointer;
    return Future<R>(Bind(static_cast<Ptr>(+fn), std::forward<A>(args)...));
  } else {
    return Future<R>();
  }
}

template <typename R, typename... P, typename... A>
std::shared_ptr<internal::TaskState> Pool::Bind(R (*fn)(P...), A&&... args) {
  HandleList handles;
  Encoder e(&handles);
  e.PutVarint(1);
  Encode(e, std::tuple<std::decay_t<P>...>(std::forward<A>(args)...));
  (void)internal::TaskInvokerRegistration<
      &internal::RunTasks<R, P...>>::registered;
  return SubmitEncoded(&internal::RunTasks<R, P...>,
                       reinterpret_cast<void (*)()>(fn), e, handles, 1);
}

template <bool kStar, typename F, typename Range>
auto Pool::MapImpl(F fn, const Range& inputs, size_t chunksize) {
  using E = internal::RangeElement<Range>;
  using Check = typename internal::MapCheck<kStar, F, E>::type;
  using R = typename internal::TaskReturnType<F>::type;
  using Value = typename internal::TaskResult<R>::Value;
  constexpr bool kValid = internal::CheckTask<Check, R>();
  using Out = std::conditional_t<
      std::is_void_v<Value>, absl::Status,
      absl::StatusOr<
          std::vector<std::conditional_t<std::is_void_v<Value>, int, Value>>>>;
  if constexpr (!kValid) {
    return Out(absl::InvalidArgumentError("mp: invalid task"));
  } else {
    using Ptr = typename Check::Signature::Pointer;
    using P = internal::Params<Ptr>;
    Ptr f = +fn;
    (void)internal::TaskInvokerRegistration<P::kInvoker>::registered;
    const size_t n = static_cast<size_t>(
        std::distance(std::begin(inputs), std::end(inputs)));
    if (chunksize == 0) chunksize = DefaultChunksize(n);
    std::vector<std::shared_ptr<internal::TaskState>> chunks;
    chunks.reserve((n + chunksize - 1) / chunksize);
    Batch batch;
    auto it = std::begin(inputs);
    for (size_t done = 0; done < n;) {
      const size_t k = std::min(chunksize, n - done);
      HandleList handles;
      Encoder e(&handles);
      e.PutVarint(k);
      for (size_t i = 0; i < k; ++i, ++it) {
        P::template Encode<kStar>(e, *it);
      }
      chunks.push_back(SubmitEncoded(
          P::kInvoker, reinterpret_cast<void (*)()>(f), e, handles, k, &batch));
      done += k;
      // Queued in batches: the workers start on the first ones while the
      // rest are encoded.
      if (batch.size() == 64 || done == n) Enqueue(&batch);
    }
    auto cancel_rest = [&chunks](size_t from) {
      for (size_t j = from; j < chunks.size(); ++j) chunks[j]->Cancel();
    };
    if constexpr (std::is_void_v<Value>) {
      for (size_t c = 0; c < chunks.size(); ++c) {
        chunks[c]->Wait(absl::InfiniteDuration());
        internal::TaskItems<R> items(*chunks[c]);
        for (size_t i = 0; i < chunks[c]->count(); ++i) {
          absl::Status s = items.Next();
          if (!s.ok()) {
            cancel_rest(c + 1);
            return Out(s);
          }
        }
      }
      return Out(absl::OkStatus());
    } else {
      std::vector<Value> out;
      out.reserve(n);
      for (size_t c = 0; c < chunks.size(); ++c) {
        chunks[c]->Wait(absl::InfiniteDuration());
        internal::TaskItems<R> items(*chunks[c]);
        for (size_t i = 0; i < chunks[c]->count(); ++i) {
          absl::StatusOr<Value> v = items.Next();
          if (!v.ok()) {
            cancel_rest(c + 1);
            return Out(v.status());
          }
          out.push_back(*std::move(v));
        }
      }
      return Out(std::move(out));
    }
  }
}

template <typename F, typename Range>
auto Pool::Map(F fn, const Range& inputs, size_t chunksize) {
  return MapImpl<false>(fn, inputs, chunksize);
}

template <typename F, typename Range>
auto Pool::Starmap(F fn, const Range& inputs, size_t chunksize) {
  return MapImpl<true>(fn, inputs, chunksize);
}

template <bool kOrdered, typename F, typename Range>
auto Pool::ImapImpl(F fn, Range&& inputs, size_t chunksize, size_t window) {
  using E = internal::RangeElement<Range>;
  using Check = internal::FunctionTargetCheck<F, const E&>;
  using R = typename internal::TaskReturnType<F>::type;
  constexpr bool kValid = internal::CheckTask<Check, R>();
  if constexpr (!kValid) {
    return ResultStream<R>(nullptr);
  } else {
    using Ptr = typename Check::Signature::Pointer;
    using P = internal::Params<Ptr>;
    Ptr f = +fn;
    (void)internal::TaskInvokerRegistration<P::kInvoker>::registered;
    // The range: kept by the stream if it is a temporary.
    using Held = std::conditional_t<
        std::is_lvalue_reference_v<Range>,
        std::reference_wrapper<std::remove_reference_t<Range>>,
        std::decay_t<Range>>;
    struct Cursor {
      explicit Cursor(Held h) : held(std::move(h)) {}
      Held held;
      decltype(std::begin(std::declval<std::remove_reference_t<Range>&>())) it,
          end;
      bool started = false;
    };
    auto cursor = std::make_shared<Cursor>(Held(std::forward<Range>(inputs)));
    internal::InputSource source = [cursor](Encoder& e) {
      auto& range = static_cast<std::remove_reference_t<Range>&>(cursor->held);
      if (!cursor->started) {
        cursor->it = std::begin(range);
        cursor->end = std::end(range);
        cursor->started = true;
      }
      if (cursor->it == cursor->end) return false;
      P::template Encode<false>(e, *cursor->it);
      ++cursor->it;
      return true;
    };
    if (chunksize == 0) chunksize = 1;
    if (window == 0) window = DefaultWindow();
    return ResultStream<R>(std::make_unique<internal::StreamCore>(
        std::static_pointer_cast<void>(impl_), P::kInvoker,
        reinterpret_cast<void (*)()>(f), std::move(source), chunksize, window,
        kOrdered));
  }
}

template <typename F, typename Range>
auto Pool::Imap(F fn, Range&& inputs, size_t chunksize, size_t window) {
  return ImapImpl<true>(fn, std::forward<Range>(inputs), chunksize, window);
}

template <typename F, typename Range>
auto Pool::ImapUnordered(F fn, Range&& inputs, size_t chunksize,
                         size_t window) {
  return ImapImpl<false>(fn, std::forward<Range>(inputs), chunksize, window);
}

}  // namespace mp

#endif  // MP_POOL_H_
