// Copyright 2026 The mp Authors.
//
// Monitors on Win32 (mp/internal/os.h): a pagefile-backed file mapping holds
// the data and a header; the mutex is a kernel mutex and the condition a
// kernel semaphore, both named with random names kept in the header, so one
// handle — the mapping — is all a child needs. The mirror of posix/sync.cc.
//
// Kernel mutexes are recursive and report a dead owner as WAIT_ABANDONED,
// which becomes OwnerDied, as EOWNERDEAD does on POSIX. A non-recursive
// monitor keeps its owner (pid, thread id) and depth in the header and
// refuses a second lock by the same thread, as PTHREAD_MUTEX_ERRORCHECK does.
//
// The condition: `sequence` decides, the semaphore only wakes. Every
// notify advances the sequence (under the mutex); a waiter notes it before
// it lets go of the mutex and has been notified once it differs. A waiter
// counts itself in `waiters` while it waits, and a notify makes sure that
// min(n, waiters) semaphore tokens are out, to wake sleepers at once. A
// semaphore cannot give a token to a particular waiter: a later waiter may take
// one meant for an earlier one, and a waiter killed while it waits stays
// counted, so its token wakes someone else for nothing. Neither loses a
// notification: waiters sleep in slices of at most kSliceMs and look at the
// sequence after each, and a stray token is one spurious turn of that loop.
// A notified waiter may thus be woken a slice late, and Notify(n) may wake
// more than n (spurious wakeups, which callers tolerate by looping on their
// predicate).

// <windows.h> first: the other Win32 headers need it.
// clang-format off
#include <windows.h>
// clang-format on

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "mp/status.h"
#include "win32/util.h"

namespace mp {
namespace os {

namespace {

constexpr uint32_t kMagic = 0x6d704d6e;  // "mpMn"
constexpr size_t kNameChars = 48;
// The longest a waiter sleeps before it looks at the sequence again.
constexpr DWORD kSliceMs = 5;

struct Header {
  uint32_t magic;
  uint32_t kind;
  uint64_t data_size;
  uint32_t recursive;
  // Owner of a non-recursive monitor, for the errorcheck rule; the depth
  // is kept for recursive ones too (a condition wait releases every level).
  DWORD owner_pid;
  DWORD owner_tid;
  LONG depth;
  LONG waiters;
  LONG sequence;
  LONG tokens;  // handed out by notifies and not yet taken, as far as known
  wchar_t mutex_name[kNameChars];
  wchar_t semaphore_name[kNameChars];
};

constexpr size_t kDataOffset = (sizeof(Header) + 15) / 16 * 16;

bool OwnedByThisThread(const Header* h) {
  return h->depth > 0 && h->owner_pid == GetCurrentProcessId() &&
         h->owner_tid == GetCurrentThreadId();
}

void BecomeOwner(Header* h) {
  h->owner_pid = GetCurrentProcessId();
  h->owner_tid = GetCurrentThreadId();
}

}  // namespace

struct Monitor {
  SharedMapping mapping;
  Header* header = nullptr;
  HANDLE mutex = nullptr;
  HANDLE semaphore = nullptr;
};

namespace {

void Destroy(Monitor* m) {
  if (m->mutex != nullptr) CloseHandle(m->mutex);
  if (m->semaphore != nullptr) CloseHandle(m->semaphore);
  Unmap(m->mapping);
  delete m;
}

// Takes the kernel mutex once (it may already be ours: it is recursive).
absl::Status TakeMutex(Monitor* m, internal::Deadline deadline) {
  for (;;) {
    const DWORD r =
        WaitForSingleObject(m->mutex, deadline.ToWin32Milliseconds());
    if (r == WAIT_OBJECT_0) return absl::OkStatus();
    if (r == WAIT_ABANDONED) {
      m->header->depth = 0;  // the dead owner's levels died with it
      return OwnerDiedError(
          "mp: acquired, but the previous owner died holding it");
    }
    if (r == WAIT_FAILED) return OsError("WaitForSingleObject");
    if (deadline.Expired()) {
      return absl::DeadlineExceededError("mp: timed out");
    }
  }
}

}  // namespace

absl::StatusOr<Monitor*> CreateMonitor(uint32_t kind, size_t data_size,
                                       bool recursive) {
  absl::StatusOr<SharedMapping> mapping =
      CreateSharedMapping(kDataOffset + (data_size + 15) / 16 * 16);
  if (!mapping.ok()) return mapping.status();
  auto* m = new Monitor;
  m->mapping = *mapping;
  m->header = static_cast<Header*>(mapping->data);
  const std::wstring mutex_name = RandomName(L"Local\\mp-", L"-m");
  const std::wstring semaphore_name = RandomName(L"Local\\mp-", L"-s");
  m->mutex = CreateMutexW(nullptr, FALSE, mutex_name.c_str());
  if (m->mutex == nullptr || GetLastError() == ERROR_ALREADY_EXISTS) {
    absl::Status s = OsError("CreateMutexW");
    Destroy(m);
    return s;
  }
  m->semaphore =
      CreateSemaphoreW(nullptr, 0, 0x7fffffff, semaphore_name.c_str());
  if (m->semaphore == nullptr || GetLastError() == ERROR_ALREADY_EXISTS) {
    absl::Status s = OsError("CreateSemaphoreW");
    Destroy(m);
    return s;
  }
  Header* h = m->header;
  wcsncpy(h->mutex_name, mutex_name.c_str(), kNameChars - 1);
  wcsncpy(h->semaphore_name, semaphore_name.c_str(), kNameChars - 1);
  h->kind = kind;
  h->data_size = data_size;
  h->recursive = recursive ? 1 : 0;
  h->magic = kMagic;
  return m;
}

absl::StatusOr<Monitor*> OpenMonitor(intptr_t handle) {
  absl::StatusOr<SharedMapping> mapping =
      MapReceived(reinterpret_cast<HANDLE>(handle), kDataOffset);
  if (!mapping.ok()) return mapping.status();
  auto* m = new Monitor;
  m->mapping = *mapping;
  m->header = static_cast<Header*>(mapping->data);
  // Each field once, into this process's memory, then validated.
  const uint32_t magic = ReadOnce(&m->header->magic);
  const uint64_t data_size = ReadOnce(&m->header->data_size);
  if (magic != kMagic || data_size > mapping->size - kDataOffset) {
    Destroy(m);
    return absl::InvalidArgumentError("mp: handle is not a monitor");
  }
  wchar_t mutex_name[kNameChars];
  wchar_t semaphore_name[kNameChars];
  CopyName(m->header->mutex_name, mutex_name);
  CopyName(m->header->semaphore_name, semaphore_name);
  m->mutex = OpenMutexW(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, mutex_name);
  m->semaphore = OpenSemaphoreW(SYNCHRONIZE | SEMAPHORE_MODIFY_STATE, FALSE,
                                semaphore_name);
  if (m->mutex == nullptr || m->semaphore == nullptr) {
    absl::Status s = OsError("OpenMutexW/OpenSemaphoreW");
    Destroy(m);
    return s;
  }
  return m;
}

void CloseMonitor(Monitor* m) {
  if (m != nullptr) Destroy(m);
}

uint32_t MonitorKind(const Monitor* m) { return m->header->kind; }

intptr_t MonitorHandle(const Monitor* m) {
  return reinterpret_cast<intptr_t>(m->mapping.mapping);
}

void* MonitorData(const Monitor* m) {
  return reinterpret_cast<char*>(m->header) + kDataOffset;
}

absl::Status MonitorLock(Monitor* m, internal::Deadline deadline) {
  Header* h = m->header;
  absl::Status s = TakeMutex(m, deadline);
  if (!s.ok() && !IsOwnerDied(s)) return s;
  if (!h->recursive && OwnedByThisThread(h)) {
    ReleaseMutex(m->mutex);  // undo the recursive take
    return absl::FailedPreconditionError(
        "mp: this thread already holds it (not recursive)");
  }
  BecomeOwner(h);
  ++h->depth;
  return s;
}

absl::Status MonitorUnlock(Monitor* m) {
  Header* h = m->header;
  if (!OwnedByThisThread(h)) {
    return absl::FailedPreconditionError("mp: released by a non-owner");
  }
  if (--h->depth == 0) h->owner_pid = h->owner_tid = 0;
  if (!ReleaseMutex(m->mutex)) return OsError("ReleaseMutex");
  return absl::OkStatus();
}

absl::Status MonitorWait(Monitor* m, internal::Deadline deadline) {
  Header* h = m->header;
  if (!OwnedByThisThread(h)) {
    return absl::FailedPreconditionError("mp: wait without holding the lock");
  }
  const LONG depth = h->depth;
  const LONG seen = h->sequence;
  ++h->waiters;
  h->depth = 0;
  h->owner_pid = h->owner_tid = 0;
  for (LONG i = 0; i < depth; ++i) ReleaseMutex(m->mutex);
  DWORD r = WAIT_TIMEOUT;
  LONG taken = 0;
  while (InterlockedCompareExchange(&h->sequence, 0, 0) == seen) {
    const DWORD left = deadline.ToWin32Milliseconds();
    if (left == 0) break;
    r = WaitForSingleObject(m->semaphore, std::min(left, kSliceMs));
    if (r == WAIT_OBJECT_0) ++taken;
    if (r == WAIT_FAILED) break;
  }
  // Lock again, whatever happened, as pthread_cond_timedwait does.
  absl::Status relock = TakeMutex(m, internal::Deadline::Never());
  for (LONG i = 1; i < depth; ++i) WaitForSingleObject(m->mutex, INFINITE);
  BecomeOwner(h);
  h->depth = depth;
  const LONG waiters = ReadOnce(&h->waiters);
  if (waiters > 0) h->waiters = waiters - 1;
  const LONG tokens = std::max<LONG>(ReadOnce(&h->tokens), 0);
  h->tokens = tokens - std::min(taken, tokens);
  if (!relock.ok()) return relock;
  if (h->sequence != seen) return absl::OkStatus();
  if (r == WAIT_FAILED) return OsError("WaitForSingleObject");
  return absl::DeadlineExceededError("mp: timed out");
}

void MonitorNotify(Monitor* m, int n) {
  Header* h = m->header;
  InterlockedIncrement(&h->sequence);
  // Tokens not yet taken wake sleepers too; never more tokens than
  // waiters, so stray ones cannot pile up. Each count is read once.
  const LONG waiters = std::max<LONG>(ReadOnce(&h->waiters), 0);
  const LONG tokens = std::clamp<LONG>(ReadOnce(&h->tokens), 0, waiters);
  const LONG give = std::min<LONG>(n, waiters) - tokens;
  if (give > 0 && ReleaseSemaphore(m->semaphore, give, nullptr)) {
    h->tokens = tokens + give;
  }
}

void MonitorNotifyAll(Monitor* m) { MonitorNotify(m, 0x7fffffff); }

}  // namespace os
}  // namespace mp
