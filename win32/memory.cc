// Copyright 2026 The mp Authors.
//
// Shared memory and word waits on Win32 (mp/internal/os.h). The mirror of
// posix/memory.cc. Win32 has no futex across processes (WaitOnAddress works
// within one process only), so the mapping starts with a header that holds
// a waiter count and the random name of a kernel semaphore; one handle, the
// mapping's, is all a child needs.
//
// A wait counts itself in `waiters`, re-checks the word (a waker changes the
// word first, then looks at the count), and sleeps on the semaphore. A wake
// takes the whole count and releases that many tokens. A waiter that stops
// without a token (its word had changed, or it timed out) uncounts itself if
// the count still holds it; if a waker already took the count, a token for
// it stays behind and later wakes some waiter spuriously, which callers
// tolerate by looping. Every counted waiter thus gets a token or uncounts
// itself: no wakeup is lost.

// <windows.h> first: the other Win32 headers need it.
// clang-format off
#include <windows.h>
// clang-format on

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/time/clock.h"
#include "mp/internal/os.h"
#include "win32/util.h"

namespace mp {
namespace os {

namespace {

constexpr uint32_t kMagic = 0x6d70536d;  // "mpSm"
constexpr size_t kNameChars = 48;

struct Header {
  uint32_t magic;
  uint32_t reserved;
  uint64_t size;
  LONG waiters;
  wchar_t semaphore_name[kNameChars];
};

constexpr size_t kDataOffset = (sizeof(Header) + 63) / 64 * 64;

// Takes this waiter out of the count, unless a waker already took it.
void Uncount(Header* h) {
  for (LONG w = h->waiters; w > 0; w = h->waiters) {
    if (InterlockedCompareExchange(&h->waiters, w - 1, w) == w) return;
  }
}

}  // namespace

struct SharedMemory {
  SharedMapping mapping;
  Header* header = nullptr;
  HANDLE semaphore = nullptr;
};

namespace {

void Destroy(SharedMemory* m) {
  if (m->semaphore != nullptr) CloseHandle(m->semaphore);
  Unmap(m->mapping);
  delete m;
}

}  // namespace

absl::StatusOr<SharedMemory*> CreateSharedMemory(size_t size) {
  absl::StatusOr<SharedMapping> mapping =
      CreateSharedMapping(kDataOffset + uint64_t{size});
  if (!mapping.ok()) return mapping.status();
  auto* m = new SharedMemory;
  m->mapping = *mapping;
  m->header = static_cast<Header*>(mapping->data);
  const std::wstring name = RandomName(L"Local\\mp-", L"-w");
  m->semaphore = CreateSemaphoreW(nullptr, 0, 0x7fffffff, name.c_str());
  if (m->semaphore == nullptr || GetLastError() == ERROR_ALREADY_EXISTS) {
    absl::Status s = OsError("CreateSemaphoreW");
    Destroy(m);
    return s;
  }
  Header* h = m->header;
  wcsncpy(h->semaphore_name, name.c_str(), kNameChars - 1);
  h->size = size;
  h->magic = kMagic;
  return m;
}

absl::StatusOr<SharedMemory*> OpenSharedMemory(intptr_t handle) {
  absl::StatusOr<SharedMapping> mapping =
      MapReceived(reinterpret_cast<HANDLE>(handle), kDataOffset);
  if (!mapping.ok()) return mapping.status();
  auto* m = new SharedMemory;
  m->mapping = *mapping;
  m->header = static_cast<Header*>(mapping->data);
  if (m->header->magic != kMagic ||
      m->header->size > mapping->size - kDataOffset) {
    Destroy(m);
    return absl::InvalidArgumentError("mp: handle is not shared memory");
  }
  m->header->semaphore_name[kNameChars - 1] = L'\0';
  m->semaphore = OpenSemaphoreW(SYNCHRONIZE | SEMAPHORE_MODIFY_STATE, FALSE,
                                m->header->semaphore_name);
  if (m->semaphore == nullptr) {
    absl::Status s = OsError("OpenSemaphoreW");
    Destroy(m);
    return s;
  }
  return m;
}

void CloseSharedMemory(SharedMemory* m) {
  if (m != nullptr) Destroy(m);
}

intptr_t SharedMemoryHandle(const SharedMemory* m) {
  return reinterpret_cast<intptr_t>(m->mapping.mapping);
}

void* SharedMemoryData(const SharedMemory* m) {
  return reinterpret_cast<char*>(m->header) + kDataOffset;
}

size_t SharedMemorySize(const SharedMemory* m) {
  return static_cast<size_t>(m->header->size);
}

absl::Status WaitWord(SharedMemory* m, const std::atomic<uint32_t>* word,
                      uint32_t expected, absl::Time deadline) {
  Header* h = m->header;
  InterlockedIncrement(&h->waiters);
  if (word->load() != expected) {
    Uncount(h);
    return absl::OkStatus();
  }
  const DWORD r = WaitForSingleObject(m->semaphore, WaitMs(deadline));
  if (r == WAIT_OBJECT_0) return absl::OkStatus();
  Uncount(h);
  if (r == WAIT_FAILED) return OsError("WaitForSingleObject");
  return absl::DeadlineExceededError("mp: timed out");
}

void WakeWord(SharedMemory* m, const std::atomic<uint32_t>*) {
  const LONG n = InterlockedExchange(&m->header->waiters, 0);
  if (n > 0) ReleaseSemaphore(m->semaphore, n, nullptr);
}

}  // namespace os
}  // namespace mp
