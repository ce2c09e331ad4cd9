// Copyright 2026 The mp Authors.
//
// Shared memory and word waits on POSIX (mp/internal/os.h): a memfd
// mapping, and futex(2) on words inside it. The mirror of win32/memory.cc.
//
// The futexes are the shared kind (no FUTEX_PRIVATE_FLAG): the kernel keys
// them by the memfd's page and offset, so a wait in one process is woken by
// a wake in another whatever address each mapped the memory at. Linux
// only; another POSIX system would wait here with what it has (umtx on
// FreeBSD, __ulock on macOS, or a process-shared condvar in the region).

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <climits>

#include "absl/time/clock.h"
#include "mp/internal/os.h"
#include "posix/util.h"

namespace mp {
namespace os {

struct SharedMemory {
  SharedMapping mapping;
};

namespace {

long Futex(const std::atomic<uint32_t>* word, int op, uint32_t value,
           const timespec* timeout) {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  return syscall(SYS_futex, reinterpret_cast<const uint32_t*>(word), op, value,
                 timeout, nullptr, 0);
}

}  // namespace

absl::StatusOr<SharedMemory*> CreateSharedMemory(size_t size) {
  absl::StatusOr<SharedMapping> mapping =
      CreateSharedMapping("mp-shared", size);
  if (!mapping.ok()) return mapping.status();
  return new SharedMemory{*mapping};
}

absl::StatusOr<SharedMemory*> OpenSharedMemory(intptr_t handle) {
  absl::StatusOr<SharedMapping> mapping =
      MapReceived(static_cast<int>(handle), 1);
  if (!mapping.ok()) return mapping.status();
  return new SharedMemory{*mapping};
}

void CloseSharedMemory(SharedMemory* m) {
  if (m == nullptr) return;
  Unmap(m->mapping);
  delete m;
}

intptr_t SharedMemoryHandle(const SharedMemory* m) { return m->mapping.fd; }

void* SharedMemoryData(const SharedMemory* m) { return m->mapping.data; }

size_t SharedMemorySize(const SharedMemory* m) { return m->mapping.size; }

absl::Status WaitWord(SharedMemory*, const std::atomic<uint32_t>* word,
                      uint32_t expected, absl::Time deadline) {
  for (;;) {
    timespec ts;
    const timespec* timeout = nullptr;
    if (deadline != absl::InfiniteFuture()) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError("mp: timed out");
      }
      ts = absl::ToTimespec(left);
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

void WakeWord(SharedMemory*, const std::atomic<uint32_t>* word) {
  (void)Futex(word, FUTEX_WAKE, INT_MAX, nullptr);
}

}  // namespace os
}  // namespace mp
