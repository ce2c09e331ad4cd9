// Copyright 2026 The mp Authors.
//
// Linux-only: KernelThreadId and LockMutexBefore (posix/linux.h) on gettid(2)
// and glibc's pthread_mutex_clocklock. A port replaces them with its own
// thread id (FreeBSD: pthread_getthreadid_np; macOS: pthread_threadid_np) and
// monotonic timed lock (pthread_mutex_clocklock where the C library has it,
// else pthread_mutex_timedlock in short CLOCK_REALTIME slices, each checked
// against the monotonic deadline).

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

#include "posix/linux.h"

namespace mp {
namespace os {

uint32_t KernelThreadId() { return static_cast<uint32_t>(gettid()); }

int LockMutexBefore(pthread_mutex_t* mu, internal::Deadline deadline) {
  // A try first: uncontended, it is the whole acquire. It also keeps
  // ThreadSanitizer right about a holder of this process that ended holding
  // the mutex: its trylock interceptor forgets that holder on EOWNERDEAD,
  // which the annotations below cannot say (a holder that ends while a
  // thread of its process waits in clocklock is still reported as a double
  // lock).
  const int tried = pthread_mutex_trylock(mu);
  if (tried != EBUSY) return tried;
  // An absolute CLOCK_MONOTONIC time: no wall-clock step moves the wait's
  // end.
  const timespec ts = deadline.ToMonotonicTimespec();
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer's interceptors do not see pthread_mutex_clocklock; tell
  // it about the lock by hand.
  __tsan_mutex_pre_lock(mu, __tsan_mutex_try_lock);
  const int rc = pthread_mutex_clocklock(mu, CLOCK_MONOTONIC, &ts);
  __tsan_mutex_post_lock(
      mu,
      __tsan_mutex_try_lock |
          (rc == 0 || rc == EOWNERDEAD ? 0 : __tsan_mutex_try_lock_failed),
      0);
  return rc;
#else
  return pthread_mutex_clocklock(mu, CLOCK_MONOTONIC, &ts);
#endif
}

}  // namespace os
}  // namespace mp
