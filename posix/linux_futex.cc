// Copyright 2026 The mp Authors.
//
// Linux-only: WaitSharedWord / WakeSharedWord (posix/linux.h) on futex(2).
// A port replaces it with its own address wait (FreeBSD: _umtx_op
// UMTX_OP_WAIT_UINT / UMTX_OP_WAKE; macOS: os_sync_wait_on_address with
// OS_SYNC_WAIT_ON_ADDRESS_SHARED, or __ulock_wait with
// UL_COMPARE_AND_WAIT_SHARED).
//
// The futexes are the shared kind (no FUTEX_PRIVATE_FLAG): the kernel keys
// them by the memory's page and offset, so a wait in one process is woken by
// a wake in another whatever address each mapped the memory at. FUTEX_WAIT's
// timeout is relative and measured on CLOCK_MONOTONIC; it is recomputed from
// the deadline after every interruption.

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mp/internal/deadline.h"
#include "posix/linux.h"
#include "posix/util.h"

namespace mp {
namespace os {

namespace {

long Futex(const std::atomic<uint32_t>* word, int op, uint32_t value,
           const timespec* timeout) {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  return syscall(SYS_futex, reinterpret_cast<const uint32_t*>(word), op, value,
                 timeout, nullptr, 0);
}

}  // namespace

absl::Status WaitSharedWord(const std::atomic<uint32_t>* word,
                            uint32_t expected, internal::Deadline deadline) {
  for (;;) {
    timespec ts;
    const timespec* timeout = nullptr;
    if (!deadline.IsNever()) {
      if (deadline.Expired()) {
        return absl::DeadlineExceededError("mp: timed out");
      }
      ts = deadline.ToRelativeTimespec();
      timeout = &ts;
    }
    if (Futex(word, FUTEX_WAIT, expected, timeout) == 0) {
      return absl::OkStatus();
    }
    switch (errno) {
      case EAGAIN:  // the word had already changed
        return absl::OkStatus();
      case EINTR:  // a signal: wait again for the time left
        continue;
      case ETIMEDOUT:
        return absl::DeadlineExceededError("mp: timed out");
      default:
        return OsError("futex(FUTEX_WAIT)", errno);
    }
  }
}

void WakeSharedWord(const std::atomic<uint32_t>* word, int n) {
  (void)Futex(word, FUTEX_WAKE, static_cast<uint32_t>(n), nullptr);
}

}  // namespace os
}  // namespace mp
