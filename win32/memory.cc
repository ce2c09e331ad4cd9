// Copyright 2026 The mp Authors.
//
// Shared memory and word waits on Win32 (mp/internal/os.h). The mirror of
// posix/memory.cc. Win32 has no futex across processes (WaitOnAddress works
// within one process only), so the mapping starts with a header holding, per
// wait slot, a waiter count and the random name of a kernel semaphore; one
// handle, the mapping's, is all a child needs. A word's slot is its 64-byte
// line in the data, modulo kSlots, so words on different lines (the ring's
// producer, consumer and join words) never share a semaphore.
//
// A wait counts itself in its slot, re-checks the word (a waker changes the
// word first, then looks at the count), and sleeps on the slot's semaphore.
// A wake takes the slot's whole count and releases that many tokens. A
// waiter that stops without a token (its word had changed, or its slice
// ended) uncounts itself if the count still holds it; otherwise a token for
// it stays behind and later wakes a waiter spuriously, which callers
// tolerate by looping.
//
// The race a semaphore cannot close: a waiter that counted itself after a
// wake may take the token meant for one that counted itself before it and
// had not reached the semaphore yet (a futex checks the word inside the
// kernel, so it has no such window). The thief re-checks its own condition;
// the robbed waiter would sleep until the next wake. So every wait sleeps
// in slices of at most kSliceMs and then returns to its caller, which
// re-checks: a stolen wakeup costs at most one slice, never a hang. The
// conformance suite's killed-consumer case under load showed the race:
// 30-second stalls before the slots and slices.

// <windows.h> first: the other Win32 headers need it.
// clang-format off
#include <windows.h>
// clang-format on

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "win32/util.h"

namespace mp {
namespace os {

namespace {

constexpr uint32_t kMagic = 0x6d70536e;  // "mpSn"
constexpr size_t kNameChars = 48;
constexpr int kSlots = 4;
constexpr DWORD kSliceMs = 5;

struct Header {
  uint32_t magic;
  uint32_t reserved;
  uint64_t size;
  LONG waiters[kSlots];
  wchar_t semaphore_names[kSlots][kNameChars];
};

constexpr size_t kDataOffset = (sizeof(Header) + 63) / 64 * 64;

// Takes this waiter out of the count, unless a waker already took it.
void Uncount(LONG* waiters) {
  for (LONG w = *waiters; w > 0; w = *waiters) {
    if (InterlockedCompareExchange(waiters, w - 1, w) == w) return;
  }
}

}  // namespace

struct SharedMemory {
  SharedMapping mapping;
  Header* header = nullptr;
  // The size asked for, as validated against the view: the header's copy
  // is never read again (a peer could change it after the check).
  size_t size = 0;
  HANDLE semaphores[kSlots] = {};
};

namespace {

void Destroy(SharedMemory* m) {
  for (HANDLE s : m->semaphores) {
    if (s != nullptr) CloseHandle(s);
  }
  Unmap(m->mapping);
  delete m;
}

int SlotOf(const SharedMemory* m, const std::atomic<uint32_t>* word) {
  const uintptr_t offset = reinterpret_cast<uintptr_t>(word) -
                           reinterpret_cast<uintptr_t>(SharedMemoryData(m));
  return static_cast<int>(offset / 64 % kSlots);
}

}  // namespace

absl::StatusOr<SharedMemory*> CreateSharedMemory(size_t size) {
  absl::StatusOr<SharedMapping> mapping =
      CreateSharedMapping(kDataOffset + uint64_t{size});
  if (!mapping.ok()) return mapping.status();
  auto* m = new SharedMemory;
  m->mapping = *mapping;
  m->header = static_cast<Header*>(mapping->data);
  Header* h = m->header;
  for (int i = 0; i < kSlots; ++i) {
    const std::wstring name = RandomName(L"Local\\mp-", L"-w");
    m->semaphores[i] = CreateSemaphoreW(nullptr, 0, 0x7fffffff, name.c_str());
    if (m->semaphores[i] == nullptr || GetLastError() == ERROR_ALREADY_EXISTS) {
      absl::Status s = OsError("CreateSemaphoreW");
      Destroy(m);
      return s;
    }
    wcsncpy(h->semaphore_names[i], name.c_str(), kNameChars - 1);
  }
  h->size = size;
  h->magic = kMagic;
  m->size = size;
  return m;
}

absl::StatusOr<SharedMemory*> OpenSharedMemory(intptr_t handle) {
  absl::StatusOr<SharedMapping> mapping =
      MapReceived(reinterpret_cast<HANDLE>(handle), kDataOffset);
  if (!mapping.ok()) return mapping.status();
  auto* m = new SharedMemory;
  m->mapping = *mapping;
  m->header = static_cast<Header*>(mapping->data);
  // Each field once, into this process's memory, then validated.
  const uint32_t magic = ReadOnce(&m->header->magic);
  const uint64_t size = ReadOnce(&m->header->size);
  if (magic != kMagic || size > mapping->size - kDataOffset) {
    Destroy(m);
    return absl::InvalidArgumentError("mp: handle is not shared memory");
  }
  m->size = static_cast<size_t>(size);
  for (int i = 0; i < kSlots; ++i) {
    wchar_t name[kNameChars];
    CopyName(m->header->semaphore_names[i], name);
    m->semaphores[i] =
        OpenSemaphoreW(SYNCHRONIZE | SEMAPHORE_MODIFY_STATE, FALSE, name);
    if (m->semaphores[i] == nullptr) {
      absl::Status s = OsError("OpenSemaphoreW");
      Destroy(m);
      return s;
    }
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

size_t SharedMemorySize(const SharedMemory* m) { return m->size; }

absl::Status WaitWord(SharedMemory* m, const std::atomic<uint32_t>* word,
                      uint32_t expected, internal::Deadline deadline) {
  const int slot = SlotOf(m, word);
  LONG* waiters = &m->header->waiters[slot];
  InterlockedIncrement(waiters);
  if (word->load() != expected) {
    Uncount(waiters);
    return absl::OkStatus();
  }
  const DWORD r = WaitForSingleObject(
      m->semaphores[slot],
      std::min<DWORD>(deadline.ToWin32Milliseconds(), kSliceMs));
  if (r == WAIT_OBJECT_0) return absl::OkStatus();
  Uncount(waiters);
  if (r == WAIT_FAILED) return OsError("WaitForSingleObject");
  if (deadline.Expired()) {
    return absl::DeadlineExceededError("mp: timed out");
  }
  return absl::OkStatus();  // a slice ended: the caller re-checks
}

void WakeWord(SharedMemory* m, const std::atomic<uint32_t>* word) {
  const int slot = SlotOf(m, word);
  const LONG n = InterlockedExchange(&m->header->waiters[slot], 0);
  if (n > 0) ReleaseSemaphore(m->semaphores[slot], n, nullptr);
}

}  // namespace os
}  // namespace mp
