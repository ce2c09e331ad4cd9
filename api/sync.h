// Copyright 2026 The mp Authors.
//
// Synchronisation between processes, as Python's multiprocessing.Lock,
// RLock, Semaphore, BoundedSemaphore, Event, Condition and Barrier.
//
//   absl::StatusOr<mp::Lock> lock = mp::Lock::Create();
//   mp::Process p(Worker, *lock);          // the child gets the same lock
//   {
//     mp::Guard guard(*lock);              // Python's `with lock:`
//     if (mp::IsOwnerDied(guard.status())) { ... repair shared state ... }
//     ...
//   }
//
// Every object here is a handle to shared state: copies (and the objects a
// child decodes from its arguments) all refer to the same lock. They can be
// passed to a child only as Process arguments, on every start method; the
// child receives an inherited descriptor or handle — never a name in
// /dev/shm that could leak. A default-constructed object is empty, and every
// operation on it is FailedPrecondition.
//
// Owners and owner death. Deliberately unlike Python's Lock, mp::Lock and
// mp::RLock have an owner, the thread that acquired them: only it may
// release (FailedPrecondition otherwise), and acquiring a Lock twice from
// one thread is FailedPrecondition instead of a deadlock. Because there is an
// owner, its death is detectable: when a process dies holding a Lock, RLock
// or Condition, the next Acquire succeeds and returns OwnerDied
// (mp/status.h) — the caller holds the lock, and what it protected may be
// half-updated. Python deadlocks forever here. The owner is a thread: on
// POSIX and Win32 a thread that ends holding the lock, alone or with its
// process, has died holding it (POSIX: robust mutexes; Win32: the waiters
// watch the holder's thread, as WAIT_ABANDONED does for a kernel mutex). A
// lock that another process may release is a Semaphore(1).
//
// Semaphore, Event and Barrier keep their state under an internal lock held
// only for a few instructions; a process killed inside one cannot leave that
// state half-written, so they never report OwnerDied.
//
// Waiters that die. A process killed while it waits (Event::Wait,
// Semaphore::Acquire, Condition::Wait, Barrier::Wait) leaves nothing that
// later waits or notifies depend on: every other process's Set, Release,
// Notify and Wait work on as before. A Barrier counts a party killed while
// waiting as arrived, as Python's does; Reset() sends it away.
//
// Trust. Every process that holds an mp synchronisation object or Queue
// (a copy received as a Process argument, or the OS handle behind it) can
// write every byte of that object's shared memory, and is trusted with:
//   * its state: it can corrupt counts, flags, the barrier and the Queue's
//     items and positions, take a lock and never release it, make a lock
//     look released or held by someone else, and make every wait on the
//     object fail, time out or return early;
//   * on POSIX, the address space of whichever process holds one of the
//     object's locks (a Lock, RLock or Condition, or any object's internal
//     lock, the Queue's read and write locks included). These are glibc
//     robust mutexes: while a thread holds one, glibc links it into that
//     thread's robust list by storing two pointers inside the mutex, in
//     the shared memory: `__data.__list.__next` (the holder's previous
//     list head) and `__data.__list.__prev` (the holder's own robust-list
//     head, in its thread control block). A peer can read them, learning
//     the holder's address layout; and a peer that rewrites them turns the
//     holder's unlock into two writes, each of a pointer-sized value it
//     chose to an address it chose, in the holder's process. The kernel
//     follows the same pointers when the holder's thread exits.
// Nothing else, on any backend: beyond the above, a holder cannot make
// another process read or write outside the shared memory, or crash. The
// memory cannot be resized under another holder (a sealed memfd on POSIX,
// a section of fixed size on Win32); the sizes a process reads from it
// when it receives an object (the memory's size, the Queue's capacity and
// maxsize) are validated once and kept in the process; and corrupt Queue
// contents are DataLoss, with the Queue usable afterwards. On Win32 a lock
// is a word in the shared memory holding its holder's thread id and stamp,
// never a pointer, so the second point does not apply; a peer that
// rewrites the word with an id no running thread has makes the next locker
// take the lock over with OwnerDied. On threads every "process" is this
// one.
//
// Timeouts are absl::Duration; zero means "just try"; the result on expiry
// is DeadlineExceeded. Waits are not interrupted by signals.
//
// Thread-safety: all objects are thread-safe and process-safe.

#ifndef MP_SYNC_H_
#define MP_SYNC_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mp/codec.h"
#include "mp/status.h"

namespace mp {
namespace internal {

class SyncState;  // one OS monitor, shared by every copy in this process

// What every shared synchronisation object is: a handle to a SyncState.
class SharedObject {
 public:
  bool empty() const { return state_ == nullptr; }

 protected:
  SharedObject() = default;
  explicit SharedObject(std::shared_ptr<SyncState> state)
      : state_(std::move(state)) {}
  absl::Status CheckNotEmpty() const;

  std::shared_ptr<SyncState> state_;

  template <typename T, typename E>
  friend struct ::mp::Codec;
  intptr_t handle() const;
};

// Opens the state for a handle a child received, if its kind is accepted.
absl::StatusOr<std::shared_ptr<SyncState>> AdoptSyncState(
    intptr_t handle, bool (*accepts)(uint32_t kind));

}  // namespace internal

// A process-shared mutual-exclusion lock with an owner (see above).
class Lock : public internal::SharedObject {
 public:
  static constexpr uint32_t kKind = 1;
  static absl::StatusOr<Lock> Create();
  Lock() = default;

  // OK or OwnerDied (held in both cases); FailedPrecondition if this thread
  // holds it already.
  absl::Status Acquire();
  // ... or DeadlineExceeded after `timeout`.
  absl::Status Acquire(absl::Duration timeout);
  absl::Status TryAcquire() { return Acquire(absl::ZeroDuration()); }
  // FailedPrecondition unless this thread holds it.
  absl::Status Release();

 private:
  friend absl::StatusOr<Lock> AdoptLock(intptr_t);
  using SharedObject::SharedObject;
};

// A Lock its owner may acquire again; it is free after as many Releases.
class RLock : public internal::SharedObject {
 public:
  static constexpr uint32_t kKind = 2;
  static absl::StatusOr<RLock> Create();
  RLock() = default;

  absl::Status Acquire();
  absl::Status Acquire(absl::Duration timeout);
  absl::Status TryAcquire() { return Acquire(absl::ZeroDuration()); }
  absl::Status Release();

 private:
  using SharedObject::SharedObject;
};

// A counter: Acquire takes one (waiting while it is zero), Release adds one.
// No owner: any process may release.
class Semaphore : public internal::SharedObject {
 public:
  static constexpr uint32_t kKind = 3;
  // A BoundedSemaphore may travel as a Semaphore (and stays bounded).
  static bool AcceptsKind(uint32_t k) { return k == kKind || k == 4; }
  // InvalidArgument for a negative value.
  static absl::StatusOr<Semaphore> Create(int64_t value = 1);
  Semaphore() = default;

  absl::Status Acquire();
  absl::Status Acquire(absl::Duration timeout);
  absl::Status TryAcquire() { return Acquire(absl::ZeroDuration()); }
  // Adds `n` (>= 1) and wakes as many waiters.
  absl::Status Release(int64_t n = 1);
  absl::StatusOr<int64_t> GetValue() const;

 protected:
  static absl::StatusOr<Semaphore> CreateKind(uint32_t kind, int64_t value,
                                              bool bounded);
  using SharedObject::SharedObject;
};

// A Semaphore whose value may never exceed its initial value: a Release
// beyond it is FailedPrecondition (Python's ValueError) and changes nothing.
class BoundedSemaphore : public Semaphore {
 public:
  static constexpr uint32_t kKind = 4;
  static bool AcceptsKind(uint32_t k) { return k == kKind; }
  static absl::StatusOr<BoundedSemaphore> Create(int64_t value = 1);
  BoundedSemaphore() = default;

 private:
  explicit BoundedSemaphore(Semaphore s) : Semaphore(std::move(s)) {}
};

// A flag processes can wait for.
class Event : public internal::SharedObject {
 public:
  static constexpr uint32_t kKind = 5;
  static absl::StatusOr<Event> Create();
  Event() = default;

  absl::Status Set();
  absl::Status Clear();
  absl::StatusOr<bool> IsSet() const;
  // OK once the flag is set; DeadlineExceeded after `timeout`.
  absl::Status Wait();
  absl::Status Wait(absl::Duration timeout);

 private:
  using SharedObject::SharedObject;
};

// A condition variable with its own (non-recursive) lock, as Python's
// Condition(Lock()). Acquire/Release as Lock, with OwnerDied. Wait and
// Notify need the lock held by this thread (FailedPrecondition otherwise).
class Condition : public internal::SharedObject {
 public:
  static constexpr uint32_t kKind = 6;
  static absl::StatusOr<Condition> Create();
  Condition() = default;

  absl::Status Acquire();
  absl::Status Acquire(absl::Duration timeout);
  absl::Status Release();

  // Releases the lock, waits for a notification (or a spurious wakeup, as
  // Python allows), and re-acquires it — also on DeadlineExceeded.
  absl::Status Wait();
  absl::Status Wait(absl::Duration timeout);
  // Waits until `predicate()` (evaluated with the lock held) is true: OK,
  // or DeadlineExceeded with the predicate still false.
  absl::Status WaitFor(const std::function<bool()>& predicate,
                       absl::Duration timeout = absl::InfiniteDuration());
  // Wakes up to `n` waiters / every waiter.
  absl::Status Notify(int n = 1);
  absl::Status NotifyAll();

 private:
  using SharedObject::SharedObject;
};

// `parties` processes meet: each Wait returns once all have arrived.
class Barrier : public internal::SharedObject {
 public:
  static constexpr uint32_t kKind = 7;
  // InvalidArgument unless parties >= 1.
  static absl::StatusOr<Barrier> Create(int parties);
  Barrier() = default;

  // The caller's arrival index (0 .. parties-1) once all have arrived.
  // Broken (mp/status.h) if the barrier is or becomes broken: Abort(),
  // Reset() while waiting, or any waiter's timeout (which breaks it for all,
  // as in Python).
  absl::StatusOr<int> Wait();
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // Breaks the barrier: current and future waiters get Broken.
  absl::Status Abort();
  // Back to empty and unbroken; current waiters get Broken.
  absl::Status Reset();
  absl::StatusOr<bool> Broken() const;
  absl::StatusOr<int> NWaiting() const;
  int Parties() const;

 private:
  using SharedObject::SharedObject;
};

// Holds a Lock, RLock or Condition for a scope: `with lock:`.
//   mp::Guard guard(lock);
//   if (!guard.ok()) ...   // guard.status(): OK, OwnerDied (held), error
template <typename L>
class Guard {
 public:
  explicit Guard(L& lock) : lock_(lock), status_(lock.Acquire()) {}
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  ~Guard() {
    if (held()) (void)lock_.Release();
  }
  // True when the lock is held (OK or OwnerDied).
  bool held() const { return status_.ok() || IsOwnerDied(status_); }
  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }

 private:
  L& lock_;
  absl::Status status_;
};

// Every shared synchronisation object travels as its handle.
template <typename T>
struct Codec<T,
             std::enable_if_t<std::is_base_of_v<internal::SharedObject, T>>> {
  // The stored kinds a T accepts: T::AcceptsKind where a type has one
  // (Semaphore takes BoundedSemaphores too), else exactly T::kKind.
  template <typename U, typename = void>
  struct HasAccepts : std::false_type {};
  template <typename U>
  struct HasAccepts<U, std::void_t<decltype(U::AcceptsKind(0u))>>
      : std::true_type {};
  static bool Accepts(uint32_t k) {
    if constexpr (HasAccepts<T>::value) {
      return T::AcceptsKind(k);
    } else {
      return k == T::kKind;
    }
  }

  static void Encode(Encoder& e, const T& v) {
    e.PutHandle(v.handle(), v.state_);
  }
  static absl::Status Decode(Decoder& d, T& v) {
    absl::StatusOr<intptr_t> h = d.TakeHandle();
    if (!h.ok()) return h.status();
    absl::StatusOr<std::shared_ptr<internal::SyncState>> s =
        internal::AdoptSyncState(*h, &Accepts);
    if (!s.ok()) return s.status();
    v.state_ = *std::move(s);
    return absl::OkStatus();
  }
};

}  // namespace mp

#endif  // MP_SYNC_H_
