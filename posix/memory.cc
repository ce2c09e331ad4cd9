// Copyright 2026 The mp Authors.
//
// Shared memory and word waits on POSIX (mp/internal/os.h): a shared
// mapping no holder can resize, and waits on words inside it (both from
// posix/linux.h: a sealed memfd and futex(2)). The mirror of
// win32/memory.cc.

#include <climits>

#include "mp/internal/os.h"
#include "posix/linux.h"
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
                      uint32_t expected, internal::Deadline deadline) {
  return WaitSharedWord(word, expected, deadline);
}

void WakeWord(SharedMemory*, const std::atomic<uint32_t>* word) {
  WakeSharedWord(word, INT_MAX);
}

}  // namespace os
}  // namespace mp
