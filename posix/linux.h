// Copyright 2026 The mp Authors.
//
// Linux-only: the Linux facilities that the generic POSIX files call,
// implemented in posix/linux_*.cc. A port to another POSIX system
// implements these declarations with what that system has (PORTING.md,
// "What is Linux-only").

#ifndef MP_POSIX_LINUX_H_
#define MP_POSIX_LINUX_H_

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "posix/util.h"

namespace mp {
namespace os {

// --- linux_memfd.cc: memory shared with children ---------------------------
//
// Monitors (sync.cc) and shared memory (memory.cc) are made of it. No holder
// of the descriptor can change the memory's size, or every other holder's
// next access beyond the new end would be a SIGBUS; nothing is left behind
// in any namespace when the last holder closes it.

// `size` zero bytes behind a new close-on-exec descriptor that no holder can
// resize, mapped; nothing is left open on error.
absl::StatusOr<SharedMapping> CreateSharedMapping(const char* name,
                                                  size_t size);
// Maps all of a descriptor received from a parent; closes `fd` on error, and
// refuses (InvalidArgument) what is not memory made by CreateSharedMapping
// (one a holder could resize) or is smaller than `min_size` bytes.
absl::StatusOr<SharedMapping> MapReceived(int fd, size_t min_size);

// --- linux_futex.cc: waits on 32-bit words in shared memory ----------------
//
// Word waits (memory.cc) and the monitors' condition (sync.cc). A wait in
// one process is woken by a wake in another, whatever address each mapped
// the memory at. A waiter keeps no state anywhere but in the kernel, so one
// that is killed while it sleeps leaves nothing behind.

// Blocks while `*word == expected`, until a WakeSharedWord on the word or
// `deadline` (MonotonicNow()'s scale; absl::InfiniteFuture(): none). OK when
// woken, when the word differs, or spuriously; DeadlineExceeded. Signals
// never interrupt it.
absl::Status WaitSharedWord(const std::atomic<uint32_t>* word,
                            uint32_t expected, absl::Time deadline);
// Wakes up to `n` threads of any process blocked in WaitSharedWord on `word`.
void WakeSharedWord(const std::atomic<uint32_t>* word, int n);

// --- linux_mutex.cc: the monitors' mutex ------------------------------------

// The calling thread's id: nonzero, and unique among the live threads of
// every process that can share a monitor with it (the kernel's thread id,
// which glibc's robust mutexes identify their owner by too). A system call;
// sync.cc caches it.
uint32_t KernelThreadId();

// pthread_mutex_timedlock with `deadline` on MonotonicNow()'s scale: no
// wall-clock step moves the end of the wait. Returns what
// pthread_mutex_timedlock returns (0, EOWNERDEAD, ETIMEDOUT, EDEADLK, ...).
int LockMutexBefore(pthread_mutex_t* mutex, absl::Time deadline);

}  // namespace os
}  // namespace mp

#endif  // MP_POSIX_LINUX_H_
