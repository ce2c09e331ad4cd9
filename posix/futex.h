// Copyright 2026 The mp Authors.
//
// Private to the POSIX backend: futex(2) waits and wakes on 32-bit words in
// shared memory, for word waits (memory.cc) and the monitors' condition
// (sync.cc). The futexes are the shared kind (no FUTEX_PRIVATE_FLAG): the
// kernel keys them by the memfd's page and offset, so a wait in one process
// is woken by a wake in another whatever address each mapped the memory
// at. A waiter keeps no state anywhere but in the kernel, so one that is
// killed while it sleeps leaves nothing behind.
//
// Linux only; another POSIX system would use what it has (umtx on FreeBSD,
// __ulock on macOS).

#ifndef MP_POSIX_FUTEX_H_
#define MP_POSIX_FUTEX_H_

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace mp {
namespace os {

// Blocks while `*word == expected`, until a FutexWake on the word or
// `deadline` (MonotonicNow()'s scale; absl::InfiniteFuture(): none). OK when
// woken, when the word differs, or spuriously; DeadlineExceeded. Signals never
// interrupt it.
absl::Status FutexWait(const std::atomic<uint32_t>* word, uint32_t expected,
                       absl::Time deadline);
// Wakes up to `n` threads of any process blocked in FutexWait on `word`.
void FutexWake(const std::atomic<uint32_t>* word, int n);

}  // namespace os
}  // namespace mp

#endif  // MP_POSIX_FUTEX_H_
