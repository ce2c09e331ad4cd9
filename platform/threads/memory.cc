// Copyright 2026 The mp Authors.
//
// Shared memory and word waits on threads (mp/internal/os.h). The mirror of
// posix/memory.cc and win32/memory.cc: every "process" is a thread of this
// program, so the memory is ordinary memory, and a wait is a condition
// variable. A waker changes the word before it calls WakeWord, which takes
// the mutex that a waiter holds from its check of the word to its wait, so
// no wakeup is lost.

#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"
#include "mp/internal/os.h"
#include "platform/threads/objects.h"

namespace mp {
namespace os {

struct SharedMemory : threads::Object {
  explicit SharedMemory(size_t n)
      : size(n), data(new (std::align_val_t{64}) char[n]) {
    std::memset(data, 0, n);
  }
  ~SharedMemory() override { operator delete[](data, std::align_val_t{64}); }

  const size_t size;
  char* const data;
  std::mutex mu;
  std::condition_variable woken;
};

absl::StatusOr<SharedMemory*> CreateSharedMemory(size_t size) {
  auto* m = new SharedMemory(size);
  threads::Register(m);
  return m;
}

absl::StatusOr<SharedMemory*> OpenSharedMemory(intptr_t handle) {
  SharedMemory* m;
  {
    std::lock_guard<std::mutex> lock(threads::Mutex());
    m = threads::FindAs<SharedMemory>(handle);
  }
  if (m == nullptr) {
    threads::Release(handle);
    return absl::InvalidArgumentError(
        absl::StrCat("mp: handle ", handle, " is not shared memory"));
  }
  return m;
}

void CloseSharedMemory(SharedMemory* m) {
  if (m != nullptr) threads::Release(threads::HandleOf(m));
}

intptr_t SharedMemoryHandle(const SharedMemory* m) {
  return threads::HandleOf(m);
}

void* SharedMemoryData(const SharedMemory* m) { return m->data; }

size_t SharedMemorySize(const SharedMemory* m) { return m->size; }

absl::Status WaitWord(SharedMemory* m, const std::atomic<uint32_t>* word,
                      uint32_t expected, internal::Deadline deadline) {
  std::unique_lock<std::mutex> lock(m->mu);
  if (word->load() != expected) return absl::OkStatus();
  if (!threads::WaitUntil(lock, m->woken, deadline)) {
    return absl::DeadlineExceededError("mp: timed out");
  }
  return absl::OkStatus();
}

void WakeWord(SharedMemory* m, const std::atomic<uint32_t>*) {
  std::lock_guard<std::mutex> lock(m->mu);
  m->woken.notify_all();
}

}  // namespace os
}  // namespace mp
