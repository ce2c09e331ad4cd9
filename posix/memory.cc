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
#include <sys/mman.h>
#include <sys/stat.h>
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
  int fd = -1;
  size_t size = 0;
  void* data = nullptr;
};

namespace {

long Futex(const std::atomic<uint32_t>* word, int op, uint32_t value,
           const timespec* timeout) {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  return syscall(SYS_futex, reinterpret_cast<const uint32_t*>(word), op, value,
                 timeout, nullptr, 0);
}

absl::StatusOr<SharedMemory*> Map(int fd, size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    close(fd);
    return OsError("mmap", err);
  }
  return new SharedMemory{fd, size, p};
}

}  // namespace

absl::StatusOr<SharedMemory*> CreateSharedMemory(size_t size) {
  const int fd = memfd_create("mp-shared", MFD_CLOEXEC);
  if (fd < 0) return OsError("memfd_create", errno);
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    const int err = errno;
    close(fd);
    return OsError("ftruncate", err);
  }
  return Map(fd, size);
}

absl::StatusOr<SharedMemory*> OpenSharedMemory(intptr_t handle) {
  const int fd = static_cast<int>(handle);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return OsError("fstat", err);
  }
  if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
    close(fd);
    return absl::InvalidArgumentError("mp: handle is not shared memory");
  }
  return Map(fd, static_cast<size_t>(st.st_size));
}

void CloseSharedMemory(SharedMemory* m) {
  if (m == nullptr) return;
  munmap(m->data, m->size);
  close(m->fd);
  delete m;
}

intptr_t SharedMemoryHandle(const SharedMemory* m) { return m->fd; }

void* SharedMemoryData(const SharedMemory* m) { return m->data; }

size_t SharedMemorySize(const SharedMemory* m) { return m->size; }

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
