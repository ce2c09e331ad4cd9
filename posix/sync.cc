// Copyright 2026 The mp Authors.
//
// Monitors on POSIX (mp/internal/os.h): a memfd mapping with a robust,
// process-shared pthread mutex and a condition word in its header. The
// mirror of win32/sync.cc.
//
// Why memfd and not shm_open: a memfd has no name, so nothing can leak in
// /dev/shm when a process dies, and no other process can open it; children
// get it as an inherited descriptor (fork: the same mapping; spawn: the fd,
// mapped again). Robust mutexes make a holder's death visible to the next
// locker (EOWNERDEAD), which marks the mutex consistent and reports
// OwnerDied instead of deadlocking as Python does.
//
// Why not a process-shared pthread_cond_t: glibc's condvar counts each
// blocked waiter inside the shared object and uncounts it on wake-up. A
// waiter killed while asleep never uncounts, and a later signal or
// broadcast then waits for it for ever, holding the mutex: every process
// using the object hangs. The condition here is a sequence word that every
// notify advances and waiters sleep on with futex(2) (posix/futex.h): a
// sleeping waiter exists only in the kernel, so its death strands nothing.
// `waiters` counts the waiters (under the mutex) so that a notify with
// nobody waiting makes no system call; a waiter killed between counting
// and uncounting leaves it too high, which costs later notifies one
// harmless wake each and nothing else.

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "mp/status.h"
#include "posix/futex.h"
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
  // The condition (see above). Both change under the mutex only; the
  // sequence is atomic because futex(2) reads it without the mutex.
  std::atomic<uint32_t> sequence;
  uint32_t waiters;
};

constexpr size_t kDataOffset = (sizeof(Header) + 15) / 16 * 16;

// `deadline` (on MonotonicNow()'s scale: UnixEpoch() + the time since
// CLOCK_MONOTONIC's origin, which is steady_clock's on Linux) as the
// absolute CLOCK_MONOTONIC time pthread_mutex_clocklock takes: a direct
// conversion, no clock read, so no wall-clock step moves the wait's end.
timespec MonotonicDeadline(absl::Time deadline) {
  return absl::ToTimespec(
      std::max(deadline - absl::UnixEpoch(), absl::ZeroDuration()));
}

// pthread_mutex_clocklock (the monotonic-clock timed lock) is not seen by
// ThreadSanitizer's interceptors; tell it about the lock by hand.
int TimedLock(pthread_mutex_t* mu, const timespec* ts) {
#if defined(__SANITIZE_THREAD__)
  __tsan_mutex_pre_lock(mu, __tsan_mutex_try_lock);
  const int rc = pthread_mutex_clocklock(mu, CLOCK_MONOTONIC, ts);
  __tsan_mutex_post_lock(
      mu,
      __tsan_mutex_try_lock |
          (rc == 0 || rc == EOWNERDEAD ? 0 : __tsan_mutex_try_lock_failed),
      0);
  return rc;
#else
  return pthread_mutex_clocklock(mu, CLOCK_MONOTONIC, ts);
#endif
}

// The calling thread's kernel id, cached: gettid() is a system call, and
// an unlock must not cost one. A fork child's only thread inherits its
// parent's cache, so the fork handler below clears it.
thread_local pid_t t_tid = 0;

void ForgetTidInForkChild() { t_tid = 0; }

pid_t ThisThreadId() {
  if (t_tid == 0) t_tid = gettid();
  return t_tid;
}

const int g_fork_handler =
    pthread_atfork(nullptr, nullptr, ForgetTidInForkChild);

// Whether the calling thread holds `mu`. glibc keeps the owner's thread id
// in every robust or error-checking mutex; checking it first keeps a
// non-owner's Release from ever reaching pthread_mutex_unlock.
bool HeldByThisThread(const pthread_mutex_t* mu) {
  return mu->__data.__owner == ThisThreadId();
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

absl::Status MonitorLock(Monitor* m, absl::Time deadline) {
  pthread_mutex_t* mu = &m->header->mutex;
  if (deadline == absl::InfiniteFuture()) {
    return LockResult(pthread_mutex_lock(mu), mu);
  }
  const timespec ts = MonotonicDeadline(deadline);
  return LockResult(TimedLock(mu, &ts), mu);
}

absl::Status MonitorUnlock(Monitor* m) {
  if (!HeldByThisThread(&m->header->mutex)) {
    return absl::FailedPreconditionError("mp: released by a non-owner");
  }
  const int rc = pthread_mutex_unlock(&m->header->mutex);
  if (rc == EPERM) {
    return absl::FailedPreconditionError("mp: released by a non-owner");
  }
  return rc == 0 ? absl::OkStatus() : OsError("pthread_mutex_unlock", rc);
}

absl::Status MonitorWait(Monitor* m, absl::Time deadline) {
  Header* h = m->header;
  pthread_mutex_t* mu = &h->mutex;
  if (!HeldByThisThread(mu)) {
    return absl::FailedPreconditionError("mp: wait without holding the lock");
  }
  const uint32_t seen = h->sequence.load(std::memory_order_relaxed);
  ++h->waiters;
  int rc = pthread_mutex_unlock(mu);
  if (rc != 0) {
    --h->waiters;
    return OsError("pthread_mutex_unlock", rc);
  }
  const absl::Status waited = FutexWait(&h->sequence, seen, deadline);
  // Lock again, whatever happened, as pthread_cond_timedwait does.
  absl::Status relocked = LockResult(pthread_mutex_lock(mu), mu);
  if (!relocked.ok() && !IsOwnerDied(relocked)) return relocked;
  if (h->waiters > 0) --h->waiters;
  return relocked.ok() ? waited : relocked;
}

namespace {

// Advances the sequence, so that no waiter that read the old value can
// fall asleep after this, and wakes up to `n` sleepers. Called with the
// mutex held.
void Wake(Header* h, int n) {
  h->sequence.fetch_add(1, std::memory_order_relaxed);
  if (h->waiters > 0) FutexWake(&h->sequence, n);
}

}  // namespace

void MonitorNotify(Monitor* m, int n) {
  if (n > 0) Wake(m->header, n);
}

void MonitorNotifyAll(Monitor* m) { Wake(m->header, INT_MAX); }

}  // namespace os
}  // namespace mp
