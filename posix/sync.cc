// Copyright 2026 The mp Authors.
//
// Monitors on POSIX (mp/internal/os.h): a shared mapping no holder can
// resize (posix/linux.h) with a robust, process-shared pthread mutex, an
// owner word and a condition word in its header. The mirror of
// win32/sync.cc.
//
// Robust mutexes make a holder's death visible to the next locker
// (EOWNERDEAD), which marks the mutex consistent and reports OwnerDied
// instead of deadlocking as Python does.
//
// The owner word says which thread holds the mutex (and a depth word how
// many times), so that a thread can tell whether it holds the monitor
// without asking the mutex: an unlock or wait by a thread that does not hold it
// is refused before it reaches pthread_mutex_unlock (ThreadSanitizer reports
// such an unlock as a bug in the program, though POSIX makes it fail with EPERM
// for a robust mutex). See Header::owner.
//
// Why not a process-shared pthread_cond_t: glibc's condvar counts each
// blocked waiter inside the shared object and uncounts it on wake-up. A
// waiter killed while asleep never uncounts, and a later signal or
// broadcast then waits for it for ever, holding the mutex: every process
// using the object hangs. The condition here is a sequence word that every
// notify advances and waiters sleep on (WaitSharedWord, posix/linux.h): a
// sleeping waiter exists only in the kernel, so its death strands nothing.
// `waiters` counts the waiters (under the mutex) so that a notify with
// nobody waiting makes no system call; a waiter killed between counting
// and uncounting leaves it too high, which costs later notifies one
// harmless wake each and nothing else.

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <new>

#include "absl/strings/str_cat.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "mp/status.h"
#include "posix/linux.h"
#include "posix/util.h"

namespace mp {
namespace os {

namespace {

constexpr uint32_t kMagic = 0x6d704d6e;  // "mpMn"

struct Header {
  uint32_t magic;
  uint32_t kind;
  uint64_t data_size;
  pthread_mutex_t mutex;
  // Who holds the mutex: the holder's ThisThreadToken(), 0 when nobody
  // does. Written only by the holder: right after it acquires the mutex
  // (over whatever a dead holder left) and right before it releases it.
  // Any thread reads it to learn whether it holds the mutex itself: only
  // the holder can have written its own token there. A holder that died
  // leaves its token until the next locker's EOWNERDEAD overwrites it, and
  // a later thread that reuses the dead one's thread id has drawn another
  // token, so it is not misled: the holder clears the word with a plain
  // store, which no other thread's write can race.
  std::atomic<uint64_t> owner;
  // How many times the holder holds it (a recursive mutex); read and
  // written only by the thread whose token is in `owner`.
  std::atomic<uint32_t> depth;
  // The condition (see above). The sequence is atomic because the kernel
  // reads it without the mutex; both change under the mutex (`waiters` is
  // atomic too, as every word another process may write).
  std::atomic<uint32_t> sequence;
  std::atomic<uint32_t> waiters;
};
static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "the owner word is shared between processes");
static_assert(std::atomic<uint32_t>::is_always_lock_free,
              "the condition words are shared between processes");

constexpr size_t kDataOffset = (sizeof(Header) + 15) / 16 * 16;

// The calling thread's owner token, cached: its kernel thread id
// (KernelThreadId(), never 0, unique among live threads) in the low half,
// and in the high half a number drawn when the thread first needs it, so
// that a thread reusing a dead thread's id does not take the dead one's
// owner word for its own (the odds are 1 in 2^32). An unlock must not cost
// a system call. A fork child's only thread inherits its parent's cache,
// so the fork handler below clears it.
thread_local uint64_t t_token = 0;

void ForgetTokenInForkChild() { t_token = 0; }

uint64_t ThisThreadToken() {
  if (t_token == 0) {
    const uint32_t id = KernelThreadId();
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    // splitmix64 of what tells this thread from an earlier one of that id.
    uint64_t x = (uint64_t{static_cast<uint32_t>(getpid())} << 32 | id) ^
                 (static_cast<uint64_t>(now.tv_sec) * 1000000000u +
                  static_cast<uint64_t>(now.tv_nsec));
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    x ^= x >> 31;
    t_token = (x & 0xffffffff00000000u) | id;
  }
  return t_token;
}

const int g_fork_handler =
    pthread_atfork(nullptr, nullptr, ForgetTokenInForkChild);

// Records in the owner and depth words that this thread has just acquired
// the mutex: once more if `again` (pthread_mutex_lock returned 0 on a
// RECURSIVE mutex this thread may hold already), else for the first time
// (EOWNERDEAD, or a relock after a wait). Called with the mutex held: no
// other thread writes the words meanwhile.
void RecordAcquired(Header* h, bool again) {
  const uint64_t me = ThisThreadToken();
  if (again && h->owner.load(std::memory_order_relaxed) == me) {
    const uint32_t depth = h->depth.load(std::memory_order_relaxed);
    if (depth >= 1 && depth < UINT32_MAX) {
      h->depth.store(depth + 1, std::memory_order_relaxed);
      return;
    }
  }
  h->depth.store(1, std::memory_order_relaxed);
  h->owner.store(me, std::memory_order_relaxed);
}

absl::Status NotHeld(const char* what) {
  return absl::FailedPreconditionError(what);
}

void Uncount(Header* h) {
  uint32_t n = h->waiters.load(std::memory_order_relaxed);
  while (n > 0 && !h->waiters.compare_exchange_weak(
                      n, n - 1, std::memory_order_relaxed)) {
  }
}

absl::Status LockResult(int rc, pthread_mutex_t* mutex) {
  switch (rc) {
    case 0:
      return absl::OkStatus();
    case EOWNERDEAD:
      pthread_mutex_consistent(mutex);
      return OwnerDiedError(
          "mp: acquired, but the previous owner died holding it");
    case ETIMEDOUT:
      return absl::DeadlineExceededError("mp: timed out");
    case EDEADLK:
      return absl::FailedPreconditionError(
          "mp: this thread already holds it (not recursive)");
    default:
      return OsError("pthread_mutex_lock", rc);
  }
}

}  // namespace

struct Monitor {
  SharedMapping mapping;
  Header* header = nullptr;
};

absl::StatusOr<Monitor*> CreateMonitor(uint32_t kind, size_t data_size,
                                       bool recursive) {
  absl::StatusOr<SharedMapping> mapping = CreateSharedMapping(
      "mp-monitor", kDataOffset + (data_size + 15) / 16 * 16);
  if (!mapping.ok()) return mapping.status();
  Header* h = new (mapping->data) Header;
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
  pthread_mutexattr_settype(
      &ma, recursive ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_ERRORCHECK);
  const int rc = pthread_mutex_init(&h->mutex, &ma);
  pthread_mutexattr_destroy(&ma);
  if (rc != 0) {
    Unmap(*mapping);
    return OsError("pthread_mutex_init", rc);
  }
  h->kind = kind;
  h->data_size = data_size;
  h->magic = kMagic;
  return new Monitor{*mapping, h};
}

absl::StatusOr<Monitor*> OpenMonitor(intptr_t handle) {
  absl::StatusOr<SharedMapping> mapping =
      MapReceived(static_cast<int>(handle), kDataOffset);
  if (!mapping.ok()) return mapping.status();
  Header* h = static_cast<Header*>(mapping->data);
  if (h->magic != kMagic || kDataOffset + h->data_size > mapping->size) {
    Unmap(*mapping);
    return absl::InvalidArgumentError("mp: handle is not a monitor");
  }
  return new Monitor{*mapping, h};
}

void CloseMonitor(Monitor* m) {
  if (m == nullptr) return;
  Unmap(m->mapping);
  delete m;
}

uint32_t MonitorKind(const Monitor* m) { return m->header->kind; }

intptr_t MonitorHandle(const Monitor* m) { return m->mapping.fd; }

void* MonitorData(const Monitor* m) {
  return reinterpret_cast<char*>(m->header) + kDataOffset;
}

absl::Status MonitorLock(Monitor* m, internal::Deadline deadline) {
  Header* h = m->header;
  const int rc = deadline.IsNever() ? pthread_mutex_lock(&h->mutex)
                                    : LockMutexBefore(&h->mutex, deadline);
  if (rc == 0 || rc == EOWNERDEAD) RecordAcquired(h, rc == 0);
  return LockResult(rc, &h->mutex);
}

absl::Status MonitorUnlock(Monitor* m) {
  Header* h = m->header;
  if (h->owner.load(std::memory_order_relaxed) != ThisThreadToken()) {
    return NotHeld("mp: released by a non-owner");
  }
  const uint32_t depth = h->depth.load(std::memory_order_relaxed);
  if (depth > 1) {
    h->depth.store(depth - 1, std::memory_order_relaxed);
  } else {
    // Cleared before the mutex is released: once it is, the next holder
    // writes its own token. The unlock orders this write before that one.
    h->owner.store(0, std::memory_order_relaxed);
  }
  const int rc = pthread_mutex_unlock(&h->mutex);
  if (rc == EPERM) return NotHeld("mp: released by a non-owner");
  return rc == 0 ? absl::OkStatus() : OsError("pthread_mutex_unlock", rc);
}

absl::Status MonitorWait(Monitor* m, internal::Deadline deadline) {
  Header* h = m->header;
  pthread_mutex_t* mu = &h->mutex;
  if (h->owner.load(std::memory_order_relaxed) != ThisThreadToken()) {
    return NotHeld("mp: wait without holding the lock");
  }
  if (h->depth.load(std::memory_order_relaxed) > 1) {
    return NotHeld("mp: wait on a recursive lock held more than once");
  }
  h->owner.store(0, std::memory_order_relaxed);
  const uint32_t seen = h->sequence.load(std::memory_order_relaxed);
  h->waiters.fetch_add(1, std::memory_order_relaxed);
  const int rc = pthread_mutex_unlock(mu);
  if (rc != 0) {
    Uncount(h);
    if (rc == EPERM) return NotHeld("mp: wait without holding the lock");
    return OsError("pthread_mutex_unlock", rc);
  }
  const absl::Status waited = WaitSharedWord(&h->sequence, seen, deadline);
  // Lock again, whatever happened, as pthread_cond_timedwait does.
  const int relock_rc = pthread_mutex_lock(mu);
  if (relock_rc == 0 || relock_rc == EOWNERDEAD) RecordAcquired(h, false);
  absl::Status relocked = LockResult(relock_rc, mu);
  if (!relocked.ok() && !IsOwnerDied(relocked)) return relocked;
  Uncount(h);
  return relocked.ok() ? waited : relocked;
}

namespace {

// Advances the sequence, so that no waiter that read the old value can
// fall asleep after this, and wakes up to `n` sleepers. Called with the
// mutex held.
void Wake(Header* h, int n) {
  h->sequence.fetch_add(1, std::memory_order_relaxed);
  if (h->waiters.load(std::memory_order_relaxed) > 0) {
    WakeSharedWord(&h->sequence, n);
  }
}

}  // namespace

void MonitorNotify(Monitor* m, int n) {
  if (n > 0) Wake(m->header, n);
}

void MonitorNotifyAll(Monitor* m) { Wake(m->header, INT_MAX); }

}  // namespace os
}  // namespace mp
