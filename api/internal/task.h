// Copyright 2026 The mp Authors.
//
// What a Pool task is on the wire (mp/pool.h), and the code that runs one
// in a worker.
//
// A task names its code as a Process launch does (mp/internal/target.h):
// two CodeRefs, the target function and a *task invoker*, a template
// instantiation RunTasks<R, P...> that decodes argument tuples, calls the
// target once per tuple and encodes each call's outcome. Every task invoker
// registers itself during static initialisation (TaskInvokerRegistration),
// in every copy of the binary, and a worker refuses a task whose invoker is
// not one of them, as a spawned child refuses a forged launch.
//
// A task's arguments: a varint count N, then N encoded
// std::tuple<std::decay_t<P>...>. Its results: N item records, each a
// varint absl::StatusCode (0: OK), then the message if not OK, else the
// value (nothing for void). A returned absl::Status or absl::StatusOr<T>
// that is an error travels as the item's status; an exception thrown by
// the target becomes kUnknown with its what(). mp::Exit() is not caught:
// it ends the worker, and the task fails as one whose worker died.

#ifndef MP_INTERNAL_TASK_H_
#define MP_INTERNAL_TASK_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "mp/codec.h"
#include "mp/internal/target.h"
#include "mp/pipe.h"

namespace mp {
namespace internal {

// Runs `target` once per argument tuple in `args` and appends one item
// record per tuple to `out`.
using TaskInvokerFn = void (*)(void (*target)(), absl::string_view args,
                               std::string* out);

void RegisterTaskInvoker(TaskInvokerFn invoker);
bool IsTaskInvoker(const void* address);
template <TaskInvokerFn kInvoker>
struct TaskInvokerRegistration {
  static const bool registered;
};
template <TaskInvokerFn kInvoker>
const bool TaskInvokerRegistration<kInvoker>::registered =
    (RegisterTaskInvoker(kInvoker), true);

void PutItemStatus(Encoder& e, const absl::Status& status);
// The status an item record starts with; a malformed record is
// InvalidArgument (`*malformed` set).
absl::Status TakeItemStatus(Decoder& d, bool* malformed);
absl::Status MalformedResult(const absl::Status& why);
absl::Status ExceptionStatus(const char* what);

// How a task's return type R travels back, and what Future<R>::Get gives:
//   void             -> absl::Status
//   absl::Status     -> absl::Status (the returned one)
//   absl::StatusOr<T>-> absl::StatusOr<T> (the returned one)
//   T                -> absl::StatusOr<T>
// `Value` is what Map collects per input (void for void and absl::Status).
template <typename R>
struct TaskResult {
  using Get = absl::StatusOr<R>;
  using Value = R;
  static constexpr bool kValid =
      !std::is_reference_v<R> && !std::is_pointer_v<R> && !std::is_const_v<R> &&
      Complete<R>::value &&
      std::conjunction_v<Encodable<R>, DefaultConstructible<R>>;
  static void Put(Encoder& e, const R& value) {
    PutItemStatus(e, absl::OkStatus());
    mp::Encode(e, value);
  }
  static Get Take(Decoder& d) {
    bool malformed = false;
    absl::Status s = TakeItemStatus(d, &malformed);
    if (!s.ok()) return s;
    R value{};
    s = mp::Decode(d, value);
    if (!s.ok()) return MalformedResult(s);
    return value;
  }
};

template <>
struct TaskResult<void> {
  using Get = absl::Status;
  using Value = void;
  static constexpr bool kValid = true;
  static Get Take(Decoder& d) {
    bool malformed = false;
    return TakeItemStatus(d, &malformed);
  }
};

template <>
struct TaskResult<absl::Status> {
  using Get = absl::Status;
  using Value = void;
  static constexpr bool kValid = true;
  static void Put(Encoder& e, const absl::Status& value) {
    PutItemStatus(e, value);
  }
  static Get Take(Decoder& d) {
    bool malformed = false;
    return TakeItemStatus(d, &malformed);
  }
};

template <typename T>
struct TaskResult<absl::StatusOr<T>> {
  using Get = absl::StatusOr<T>;
  using Value = T;
  static constexpr bool kValid = TaskResult<T>::kValid;
  static void Put(Encoder& e, const absl::StatusOr<T>& value) {
    if (!value.ok()) {
      PutItemStatus(e, value.status());
    } else {
      TaskResult<T>::Put(e, *value);
    }
  }
  static Get Take(Decoder& d) { return TaskResult<T>::Take(d); }
};

// The task invoker for a target R(P...).
template <typename R, typename... P>
void RunTasks(void (*target)(), absl::string_view args, std::string* out) {
  using Values = std::tuple<std::decay_t<P>...>;
  auto fn = reinterpret_cast<R (*)(P...)>(target);
  Decoder d(args);
  Encoder e;
  absl::StatusOr<uint64_t> count = d.GetVarint();
  const uint64_t n = count.ok() ? *count : 0;
  for (uint64_t i = 0; i < n; ++i) {
    Values values{};
    absl::Status s;
    try {
      s = mp::Decode(d, values);
    } catch (const std::exception& ex) {
      s = absl::ResourceExhaustedError(ex.what());
    }
    if (!s.ok()) {
      PutItemStatus(
          e, absl::InvalidArgumentError(absl::StrCat(
                 "mp: cannot decode the task's arguments: ", s.message())));
      break;
    }
    try {
      if constexpr (std::is_void_v<R>) {
        std::apply([fn](auto&... v) { fn(AsParameter<P>(v)...); }, values);
        PutItemStatus(e, absl::OkStatus());
      } else {
        TaskResult<R>::Put(
            e, std::apply(
                   [fn](auto&... v) -> R { return fn(AsParameter<P>(v)...); },
                   values));
      }
    } catch (const ExitRequest&) {
      throw;  // mp::Exit(): ends the worker
    } catch (const std::exception& ex) {
      PutItemStatus(e, ExceptionStatus(ex.what()));
    } catch (...) {
      PutItemStatus(e, ExceptionStatus(nullptr));
    }
  }
  if (!e.status().ok()) {
    // A result that cannot be encoded here (one that wraps an OS handle):
    // every item of the task fails with the reason.
    Encoder failed;
    for (uint64_t i = 0; i < n; ++i) {
      PutItemStatus(failed, absl::InvalidArgumentError(absl::StrCat(
                                "mp: the task's result cannot be sent back: ",
                                e.status().message())));
    }
    out->append(failed.bytes());
    return;
  }
  out->append(e.bytes());
}

// Wakes whoever waits for any of several tasks (ImapUnordered).
struct TaskNotifier {
  std::mutex mu;
  std::condition_variable cv;
};

// One task's state, shared by the pool, its Future and its stream.
class TaskState {
 public:
  enum Phase : int { kPending = 0, kRunning = 1, kDone = 2 };

  // A task that failed before it was queued.
  static std::shared_ptr<TaskState> Failed(absl::Status status, size_t count);

  // Waits until done, at most `timeout`; true when done.
  bool Wait(absl::Duration timeout);
  bool done() const { return phase_.load(std::memory_order_acquire) == kDone; }
  // Pending -> done with Cancelled; false if it already started or ended.
  bool Cancel();
  // Pending -> running; false if it was cancelled.
  bool Start();
  // Running -> pending: a task handed to a worker that ended before it
  // started it.
  void Unstart();
  // Ends the task: `status` OK with `results` (item records), or the
  // reason every item failed. No-op if done already.
  void Complete(absl::Status status, std::string results);

  // Valid once done() (Wait returned true).
  const absl::Status& status() const { return status_; }
  const std::string& results() const { return results_; }
  size_t count() const { return count_; }

  // Set before the task is queued.
  uint64_t id = 0;
  std::string message;  // what the worker receives
  std::shared_ptr<TaskNotifier> notifier;

  explicit TaskState(size_t count) : count_(count) {}

 private:
  // Complete() writes the outcome between kCompleting and kDone; status_
  // and results_ are read only after done(). No lock: a task costs no
  // mutex of its own, and waiters sleep on a few shared ones (pool.cc).
  static constexpr int kCompleting = 3;
  std::atomic<int> phase_{kPending};
  absl::Status status_;
  std::string results_;
  size_t count_;
};

// The items of a done task, read in order.
template <typename R>
class TaskItems {
 public:
  explicit TaskItems(const TaskState& task) : task_(task), d_(task.results()) {}
  typename TaskResult<R>::Get Next() {
    if (!task_.status().ok()) return task_.status();
    return TaskResult<R>::Take(d_);
  }

 private:
  const TaskState& task_;
  Decoder d_;
};

class Ring;

// What joins a worker to its pool: two rings in shared memory that carry
// tasks and results without system calls, and two simplex pipes for what
// does not fit in a ring record, for waking a parked side, and for end of
// file (the pool retiring the worker, or the worker ending). pool.cc says
// what travels where.
struct WorkerLink {
  std::shared_ptr<Ring> task_ring;    // pool -> worker
  std::shared_ptr<Ring> result_ring;  // worker -> pool
  Connection tasks;                   // pool -> worker
  Connection results;                 // worker -> pool
};

}  // namespace internal

template <>
struct Codec<internal::WorkerLink> {
  static void Encode(Encoder& e, const internal::WorkerLink& link);
  static absl::Status Decode(Decoder& d, internal::WorkerLink& link);
};

}  // namespace mp

#endif  // MP_INTERNAL_TASK_H_
