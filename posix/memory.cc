// Copyright 2026 The mp Authors.
//
// Shared memory and word waits on POSIX (mp/internal/os.h): a memfd
// mapping, and futex(2) on words inside it (posix/futex.h). The mirror of
// win32/memory.cc.

#include <climits>

#include "mp/internal/os.h"
#include "posix/futex.h"
#include "posix/util.h"

namespace mp {
namespace os {

struct SharedMemory {
  SharedMapping mapping;
};

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
  return FutexWait(word, expected, deadline);
}

void WakeWord(SharedMemory*, const std::atomic<uint32_t>* word) {
  FutexWake(word, INT_MAX);
}

}  // namespace os
}  // namespace mp
