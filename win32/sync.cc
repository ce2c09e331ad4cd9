// Copyright 2026 The mp Authors.
//
// Monitors on Win32 (mp/internal/os.h): a pagefile-backed file mapping holds
// a header and the data. The lock is an owner word in the header, taken and
// given back by compare-and-swap in user space; a kernel auto-reset event is
// what contended lockers sleep on, and a kernel semaphore what condition
// waiters sleep on. Both have random names kept in the header, so one handle
// — the mapping — is all a child needs. The mirror of posix/sync.cc.
//
// The owner word (Header::owner) is 0 while the monitor is free, else the
// holder's identity, plus kContended (below). An identity is a thread id
// (low 32 bits) and a 31-bit stamp hashed from that thread's creation time
// and its process id (ThreadStamp). Windows reuses thread ids, from the same
// pool as process ids, once a thread has ended; the stamp tells the thread
// that took the lock from a later one that got its id. A thread
// works out its own identity once (GetThreadTimes) and keeps it in a TLS
// slot, so an uncontended Lock and Unlock are one compare-and-swap each and
// make no system call. A non-recursive monitor refuses a second lock by its
// holder, as PTHREAD_MUTEX_ERRORCHECK does; a recursive one counts the
// levels in Header::depth, written by the holder only.
//
// Owner death, as a kernel mutex's WAIT_ABANDONED and a robust mutex's
// EOWNERDEAD report it: the owner is a thread, and it is dead once that
// thread has ended, whether alone or with its process (TerminateProcess,
// Kill()). A locker that finds the word held opens the holder's thread by
// id (OpenThread) and compares the stamp of the thread it got with the
// word's. No such thread, or one with another stamp (the id was reused): the
// holder has ended, and the locker takes the word over by one
// compare-and-swap from the dead holder's value, so that exactly one locker
// does, which returns OwnerDied. A matching thread is the holder: the locker
// sleeps on the event and on that thread's handle together, and so wakes the
// moment the holder ends, with no polling. A thread this process may not
// open also counts as ended: mp hands its objects only to its own children,
// which run with this process's token and can open one another's threads,
// so such a thread belongs to another user and got a dead holder's id. A
// later thread shares a dead holder's stamp only by a hash collision (odds
// of 2^-31 per reuse) or if it is of the same process and was created
// within the same tick of the clock that stamps creation times; the lock
// would then wait for that thread as for its holder. The stamp works only
// because a thread and the processes watching it are told the same
// creation time: Windows reads it from the thread object for every caller,
// and so does Wine (from wineserver, not from the calling process), which
// LockAcquireTimeoutWaitsAtLeastThatLong checks (a mismatch would read a
// live holder as dead and take its lock).
//
// Sleeping: the three-state lock of Drepper's "Futexes Are Tricky" (mutex2),
// with an auto-reset event in place of the futex. A locker sets kContended
// in the word before it sleeps; an unlock that clears a word with the bit
// set sets the event, which wakes one sleeper; a locker that has slept takes
// the word with the bit set, for the sleepers that may be left. The bit
// changes only by compare-and-swap, so either the unlock sees it or the
// locker sees the word change and does not sleep. An auto-reset event stays
// set until a sleeper takes it: a wake-up that comes before its sleeper
// sleeps is not lost, and unused ones do not pile up (at most one spurious
// wake-up). What it cannot do: a locker killed after it took a wake-up and
// before it took the word takes the wake-up with it, and a peer may clear
// the bit. So sleeps last at most kLockSliceMs, after which the locker
// looks at the word again: either costs a slice, never a hang.
//
// Shared memory is hostile (mp/sync.h, "Trust"): every field is read once
// into a local and validated, the word only ever changes by compare-and-swap
// from a value just read, and a word that names no live thread is a dead
// holder's, taken over with OwnerDied. A peer can make the lock look free or
// held, which the trust rules allow; it cannot make a locker wait past its
// deadline or crash it.
//
// The condition: `sequence` decides, the semaphore only wakes. Every
// notify advances the sequence (under the lock); a waiter notes it before
// it lets go of the lock and has been notified once it differs. A waiter
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
#include <winternl.h>
// clang-format on

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <new>
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
// The longest a condition waiter sleeps before it looks at the sequence
// again.
constexpr DWORD kSliceMs = 5;
// The longest a locker sleeps before it looks at the owner word again (see
// "Sleeping" above).
constexpr DWORD kLockSliceMs = 10;
// Looks at a held word before sleeping: a holder on another core often lets
// go within a few hundred cycles, far less than one sleep costs (a system
// call on Windows, a round trip to wineserver under Wine).
constexpr int kSpins = 100;

// In the owner word: some locker sleeps, or may, so an unlock sets the event.
constexpr uint64_t kContended = uint64_t{1} << 63;

struct Header {
  uint32_t magic;
  uint32_t kind;
  uint64_t data_size;
  uint32_t recursive;
  uint32_t reserved;
  // 0, or the holder's identity, perhaps with kContended.
  std::atomic<uint64_t> owner;
  // Recursive monitors: the levels the holder holds, 1 or more; written by
  // the holder only.
  std::atomic<uint32_t> depth;
  // The condition's counts; changed under the lock.
  LONG waiters;
  LONG sequence;
  LONG tokens;  // handed out by notifies and not yet taken, as far as known
  wchar_t event_name[kNameChars];
  wchar_t semaphore_name[kNameChars];
};
static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "the owner word is shared between processes");
static_assert(std::atomic<uint32_t>::is_always_lock_free,
              "the depth is shared between processes");

constexpr size_t kDataOffset = (sizeof(Header) + 15) / 16 * 16;

void CpuRelax() { YieldProcessor(); }

// A thread's stamp: its creation time and its process id, mixed (the
// splitmix64 finaliser) so that any change in either changes the stamp.
uint64_t ThreadStamp(DWORD pid, const FILETIME& created) {
  uint64_t x =
      (uint64_t{created.dwHighDateTime} << 32 | created.dwLowDateTime) ^
      (uint64_t{pid} * 0x9e3779b97f4a7c15u);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
  x ^= x >> 31;
  return x & 0x7fffffff;
}

uint64_t Identity(DWORD tid, uint64_t stamp) { return stamp << 32 | tid; }
DWORD IdentityThread(uint64_t identity) { return static_cast<DWORD>(identity); }

// The calling thread's identity, worked out: 0 if the system would not
// tell the thread's creation time. Kept in `slot` when there is one.
__attribute__((noinline)) uint64_t NewIdentity(DWORD slot) {
  FILETIME created, exited, kernel, user;
  if (!GetThreadTimes(GetCurrentThread(), &created, &exited, &kernel, &user)) {
    return 0;
  }
  const uint64_t me = Identity(GetCurrentThreadId(),
                               ThreadStamp(GetCurrentProcessId(), created));
  if (slot != TLS_OUT_OF_INDEXES) {
    TlsSetValue(slot, reinterpret_cast<void*>(static_cast<uintptr_t>(me)));
  }
  return me;
}

// The identity of the calling thread, or 0 (see NewIdentity). Worked out
// once per thread and kept in a TLS slot: a thread_local would be mingw-w64's
// emulated TLS, a locked lookup per use. The first 64 slots are read from
// the TEB, as TlsGetValue does, without the call.
inline uint64_t ThisThread() {
  static const DWORD slot = TlsAlloc();
  uintptr_t kept = 0;
  if (slot < 64) {
    kept = reinterpret_cast<uintptr_t>(NtCurrentTeb()->TlsSlots[slot]);
  } else if (slot != TLS_OUT_OF_INDEXES) {
    kept = reinterpret_cast<uintptr_t>(TlsGetValue(slot));
  }
  return kept != 0 ? kept : NewIdentity(slot);
}

absl::Status NotHeld(const char* what) {
  return absl::FailedPreconditionError(what);
}

absl::Status NoIdentity() {
  return OsError("GetThreadTimes (the calling thread's identity)");
}

// What a locker knows of the thread an owner word names.
enum class Holder { kRunning, kEnded, kUnknown };

// The holder a locker watches: the thread named by `identity`, opened once
// for as long as the word names it, its handle closed when the watch moves
// on or goes.
class HolderWatch {
 public:
  HolderWatch() = default;
  HolderWatch(const HolderWatch&) = delete;
  HolderWatch& operator=(const HolderWatch&) = delete;
  ~HolderWatch() { Forget(); }

  // Whether the thread that `identity` names is still running. An unknown
  // answer is asked again at the next look.
  Holder Look(uint64_t identity) {
    if (identity != identity_ || state_ == Holder::kUnknown) {
      Forget();
      identity_ = identity;
      state_ = Open(identity);
    }
    return state_;
  }
  // The holder's thread handle, signalled when it ends; null if unknown.
  HANDLE thread() const { return thread_; }
  // The handle was signalled: the holder has ended.
  void Ended() {
    Forget();
    state_ = Holder::kEnded;
  }

 private:
  void Forget() {
    if (thread_ != nullptr) CloseHandle(thread_);
    thread_ = nullptr;
  }

  Holder Open(uint64_t identity) {
    const DWORD tid = IdentityThread(identity);
    if (tid == 0) return Holder::kEnded;  // names no thread: a peer wrote it
    HANDLE t =
        OpenThread(SYNCHRONIZE | THREAD_QUERY_LIMITED_INFORMATION, FALSE, tid);
    if (t == nullptr) {
      // No such thread (ERROR_INVALID_PARAMETER, Windows and Wine alike), or
      // another user's (see "Owner death" above). Anything else (out of
      // handles, say) says nothing: sleep in slices and look again.
      const DWORD err = GetLastError();
      return err == ERROR_INVALID_PARAMETER || err == ERROR_ACCESS_DENIED
                 ? Holder::kEnded
                 : Holder::kUnknown;
    }
    FILETIME created, exited, kernel, user;
    const DWORD pid = GetProcessIdOfThread(t);
    if (pid == 0 || !GetThreadTimes(t, &created, &exited, &kernel, &user)) {
      CloseHandle(t);
      return Holder::kUnknown;
    }
    // The id is the holder's only if the stamp is; an ended thread whose
    // object lives on (someone holds a handle to it) is signalled.
    if (Identity(tid, ThreadStamp(pid, created)) != identity ||
        WaitForSingleObject(t, 0) == WAIT_OBJECT_0) {
      CloseHandle(t);
      return Holder::kEnded;
    }
    thread_ = t;
    return Holder::kRunning;
  }

  uint64_t identity_ = 0;
  Holder state_ = Holder::kUnknown;
  HANDLE thread_ = nullptr;
};

}  // namespace

struct Monitor {
  SharedMapping mapping;
  Header* header = nullptr;
  // Read once from the header when created or opened.
  bool recursive = false;
  HANDLE event = nullptr;
  HANDLE semaphore = nullptr;
};

namespace {

void Destroy(Monitor* m) {
  if (m->event != nullptr) CloseHandle(m->event);
  if (m->semaphore != nullptr) CloseHandle(m->semaphore);
  Unmap(m->mapping);
  delete m;
}

// Now held, with `status` (OK or OwnerDied): a recursive monitor at depth 1.
inline absl::Status Acquired(Monitor* m, absl::Status status) {
  if (m->recursive) m->header->depth.store(1, std::memory_order_relaxed);
  return status;
}

// The owner word goes from `owner` (this thread's, `me`, perhaps with
// kContended) to free, and a sleeper is woken if the word said there may be
// one. FailedPrecondition if the word stops being this thread's meanwhile
// (only a peer rewriting it does that).
absl::Status Release(Monitor* m, uint64_t owner, uint64_t me) {
  std::atomic<uint64_t>& word = m->header->owner;
  while (!word.compare_exchange_weak(owner, 0, std::memory_order_release,
                                     std::memory_order_relaxed)) {
    if ((owner & ~kContended) != me) {
      return NotHeld("mp: released by a non-owner");
    }
  }
  if ((owner & kContended) != 0) SetEvent(m->event);
  return absl::OkStatus();
}

// A locker that took a wake-up from the event and leaves without the lock
// hands it on: to the next unlock (the bit set in a held word), or to the
// next sleeper (the event set, the word being free).
void PassWakeUpOn(Monitor* m) {
  std::atomic<uint64_t>& word = m->header->owner;
  uint64_t owner = word.load(std::memory_order_relaxed);
  while (owner != 0 && (owner & kContended) == 0) {
    if (word.compare_exchange_weak(owner, owner | kContended,
                                   std::memory_order_relaxed)) {
      return;
    }
  }
  if (owner == 0) SetEvent(m->event);
}

// MonitorLock once the fast path found the word `owner` (not 0), or had no
// identity (`me` 0).
__attribute__((noinline)) absl::Status LockSlow(Monitor* m, uint64_t me,
                                                uint64_t owner,
                                                internal::Deadline deadline) {
  if (me == 0) return NoIdentity();
  Header* h = m->header;
  std::atomic<uint64_t>& word = h->owner;
  if ((owner & ~kContended) == me) {
    if (!m->recursive) {
      return absl::FailedPreconditionError(
          "mp: this thread already holds it (not recursive)");
    }
    const uint32_t depth = std::max<uint32_t>(
        h->depth.load(std::memory_order_relaxed), 1);  // a peer may write 0
    if (depth == UINT32_MAX) {
      return absl::ResourceExhaustedError("mp: recursive lock held too often");
    }
    h->depth.store(depth + 1, std::memory_order_relaxed);
    return absl::OkStatus();
  }
  for (int i = 0; i < kSpins; ++i) {
    CpuRelax();
    owner = word.load(std::memory_order_relaxed);
    if (owner == 0 &&
        word.compare_exchange_strong(owner, me, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      return Acquired(m, absl::OkStatus());
    }
  }
  HolderWatch watch;
  bool woken = false;  // took a wake-up from the event
  for (;;) {
    owner = word.load(std::memory_order_relaxed);
    if (owner == 0) {
      if (word.compare_exchange_strong(owner, me | kContended,
                                       std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return Acquired(m, absl::OkStatus());
      }
      continue;
    }
    const uint64_t holder = owner & ~kContended;
    // This thread's own identity in a word it does not hold: a peer wrote
    // it, as good as a dead holder's.
    if (holder == me || watch.Look(holder) == Holder::kEnded) {
      if (word.compare_exchange_strong(owner, me | kContended,
                                       std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return Acquired(m, OwnerDiedError("mp: acquired, but the previous "
                                          "owner died holding it"));
      }
      continue;
    }
    if (deadline.Expired()) {
      if (woken) PassWakeUpOn(m);
      return absl::DeadlineExceededError("mp: timed out");
    }
    if ((owner & kContended) == 0 &&
        !word.compare_exchange_strong(owner, owner | kContended,
                                      std::memory_order_relaxed)) {
      continue;
    }
    // The holder's thread first: when both are signalled, the wake-up is
    // left for another sleeper.
    HANDLE handles[2];
    DWORD n = 0;
    if (watch.thread() != nullptr) handles[n++] = watch.thread();
    const DWORD event_index = n;
    handles[n++] = m->event;
    const DWORD r = WaitForMultipleObjects(
        n, handles, FALSE,
        std::min<DWORD>(deadline.ToWin32Milliseconds(), kLockSliceMs));
    if (r == WAIT_OBJECT_0 + event_index) {
      woken = true;
    } else if (r == WAIT_OBJECT_0 && event_index == 1) {
      watch.Ended();
    } else if (r == WAIT_FAILED) {
      absl::Status s = OsError("WaitForMultipleObjects");
      if (woken) PassWakeUpOn(m);
      return s;
    }
  }
}

inline absl::Status Lock(Monitor* m, uint64_t me, internal::Deadline deadline) {
  uint64_t owner = 0;
  if (me != 0 &&
      m->header->owner.compare_exchange_strong(
          owner, me, std::memory_order_acquire, std::memory_order_relaxed)) {
    return Acquired(m, absl::OkStatus());
  }
  return LockSlow(m, me, owner, deadline);
}

}  // namespace

absl::StatusOr<Monitor*> CreateMonitor(uint32_t kind, size_t data_size,
                                       bool recursive) {
  absl::StatusOr<SharedMapping> mapping =
      CreateSharedMapping(kDataOffset + (data_size + 15) / 16 * 16);
  if (!mapping.ok()) return mapping.status();
  auto* m = new Monitor;
  m->mapping = *mapping;
  m->header = new (mapping->data) Header;
  m->recursive = recursive;
  const std::wstring event_name = RandomName(L"Local\\mp-", L"-l");
  const std::wstring semaphore_name = RandomName(L"Local\\mp-", L"-s");
  // Auto-reset: a set wakes one sleeper, and stays set until one takes it.
  m->event = CreateEventW(nullptr, FALSE, FALSE, event_name.c_str());
  if (m->event == nullptr || GetLastError() == ERROR_ALREADY_EXISTS) {
    absl::Status s = OsError("CreateEventW");
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
  wcsncpy(h->event_name, event_name.c_str(), kNameChars - 1);
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
  m->recursive = ReadOnce(&m->header->recursive) != 0;
  if (magic != kMagic || data_size > mapping->size - kDataOffset) {
    Destroy(m);
    return absl::InvalidArgumentError("mp: handle is not a monitor");
  }
  wchar_t event_name[kNameChars];
  wchar_t semaphore_name[kNameChars];
  CopyName(m->header->event_name, event_name);
  CopyName(m->header->semaphore_name, semaphore_name);
  m->event = OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, event_name);
  m->semaphore = OpenSemaphoreW(SYNCHRONIZE | SEMAPHORE_MODIFY_STATE, FALSE,
                                semaphore_name);
  if (m->event == nullptr || m->semaphore == nullptr) {
    absl::Status s = OsError("OpenEventW/OpenSemaphoreW");
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
  return Lock(m, ThisThread(), deadline);
}

absl::Status MonitorUnlock(Monitor* m) {
  Header* h = m->header;
  const uint64_t me = ThisThread();
  const uint64_t owner = h->owner.load(std::memory_order_relaxed);
  if (me == 0 || (owner & ~kContended) != me) {
    return NotHeld("mp: released by a non-owner");
  }
  if (m->recursive) {
    const uint32_t depth = h->depth.load(std::memory_order_relaxed);
    if (depth > 1) {
      h->depth.store(depth - 1, std::memory_order_relaxed);
      return absl::OkStatus();
    }
  }
  return Release(m, owner, me);
}

absl::Status MonitorWait(Monitor* m, internal::Deadline deadline) {
  Header* h = m->header;
  const uint64_t me = ThisThread();
  const uint64_t owner = h->owner.load(std::memory_order_relaxed);
  if (me == 0 || (owner & ~kContended) != me) {
    return NotHeld("mp: wait without holding the lock");
  }
  // Every level is let go, and taken again after the wait.
  const uint32_t depth =
      m->recursive
          ? std::max<uint32_t>(h->depth.load(std::memory_order_relaxed), 1)
          : 1;
  const LONG seen = ReadOnce(&h->sequence);
  ++h->waiters;
  absl::Status released = Release(m, owner, me);
  if (!released.ok()) {
    InterlockedDecrement(&h->waiters);
    return released;
  }
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
  absl::Status relock = Lock(m, me, internal::Deadline::Never());
  if (!relock.ok() && !IsOwnerDied(relock)) return relock;
  if (m->recursive) h->depth.store(depth, std::memory_order_relaxed);
  const LONG waiters = ReadOnce(&h->waiters);
  if (waiters > 0) h->waiters = waiters - 1;
  const LONG tokens = std::max<LONG>(ReadOnce(&h->tokens), 0);
  h->tokens = tokens - std::min(taken, tokens);
  if (!relock.ok()) return relock;
  if (ReadOnce(&h->sequence) != seen) return absl::OkStatus();
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
