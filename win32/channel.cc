// Copyright 2026 The mp Authors.
//
// Channels on Win32 (mp/internal/os.h): message-mode named pipes. The
// mirror of posix/channel.cc.
//
// A pair is one pipe instance: the server end created with
// CreateNamedPipeW under a random name, the client end opened with
// CreateFileW at once, so no other process can take the instance first
// (FILE_FLAG_FIRST_PIPE_INSTANCE, one instance, a security descriptor that
// grants access to the current user only, PIPE_REJECT_REMOTE_CLIENTS).
// Message mode keeps record boundaries: one WriteFile is one message, one
// ReadFile returns one message. Simplex pairs open the pipe one way only.
//
// Receiving: both ends are opened for overlapped I/O. A receive starts an
// overlapped ReadFile and waits on its event until the deadline, then
// cancels it (CancelIoEx); a read that completed in the meantime still
// delivers its record, so a timeout never loses one. A message is consumed
// only by a read that completes, so a cancelled read takes nothing. Sends
// wait for their write to complete, as a blocking send does. Overlapped
// handles also let one thread send while another is blocked receiving on
// the same end, as on POSIX.
//
// WaitReady with a deadline already passed (a poll) only looks:
// PeekNamedPipe says whether a message is queued (or, failing, that every
// writer is gone), WaitForSingleObject(h, 0) whether a process has ended.
//
// Otherwise it waits without polling. It starts an overlapped ReadFile of
// zero bytes on each channel end, with an OVERLAPPED and an event of its
// own. On a message-mode pipe such a read completes when a message is at
// the head of the queue, failing with ERROR_MORE_DATA
// (STATUS_BUFFER_OVERFLOW) and taking nothing: a read shorter than the
// message leaves the rest, here all of it, for the next read. It does so at
// once if a message is queued already. Pending reads are served in the
// order they were started, so a zero-byte read neither takes a message
// from a receive that was waiting first nor lets one jump ahead; a broken
// pipe completes it with ERROR_BROKEN_PIPE. That is Windows' pipe file
// system (NPFS), and Wine 8's wineserver does the same, empty messages
// included. Once one end is ready, the ends after it are only looked at.
// Otherwise the events and the process handles go into one
// WaitForMultipleObjects (WaitAny: helper threads beyond 64 handles). Then
// every read still pending is cancelled (CancelIoEx on its own OVERLAPPED,
// so other threads' reads on the same end go on) and waited for; a read
// that completed first keeps its result, so every end with a message by
// then is reported. The reads' outcomes and the process handles' states
// are the flags. Several threads may wait on one end: each has its own
// reads.
//
// An empty message (zero bytes; mp never sends one, every record carries
// its kind) is the one thing a zero-byte read consumes. The wait then
// remembers the end, and the next RecvRecord on it in this process returns
// that empty record before reading, as Python's PipeConnection does, so
// the wait takes nothing a receiver of this process could miss.

// <windows.h> first: the other Win32 headers need it.
// clang-format off
#include <windows.h>
// clang-format on

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "mp/status.h"
#include "win32/util.h"

namespace mp {
namespace os {
namespace {

constexpr DWORD kPipeBuffer = 4 * kMaxRecordBytes;

absl::Status ReadError(DWORD err) {
  if (IsGone(err))
    return EndOfFileError("mp: end of file: every writer is gone");
  if (err == ERROR_MORE_DATA) {
    return absl::DataLossError("mp: oversized record (not from mp?)");
  }
  return OsError("ReadFile", err);
}

// This thread's events: ThreadEvent()'s, and the manual-reset events of
// WaitReady's zero-byte reads, grown to the most channel ends one wait of
// this thread has read (an event made per call would cost a kernel call,
// each a wineserver round trip under Wine; a read resets its event when it
// starts). Made on first use, closed when the thread ends by the callback
// of an FLS slot. Not a thread_local object: mingw-w64's thread_locals live
// in emulated TLS, which winpthreads may free and reuse before their C++
// destructors run, so a destructor would close whatever handle values it
// then found there.
struct ThreadEvents {
  HANDLE io = nullptr;
  std::vector<HANDLE> reads;
};

void WINAPI FreeThreadEvents(void* data) {
  ThreadEvents* events = static_cast<ThreadEvents*>(data);
  if (events->io != nullptr) CloseHandle(events->io);
  for (HANDLE e : events->reads) CloseHandle(e);
  delete events;
}

// nullptr if the thread's slot cannot be had.
ThreadEvents* Mine() {
  static const DWORD slot = FlsAlloc(FreeThreadEvents);
  if (slot == FLS_OUT_OF_INDEXES) return nullptr;
  ThreadEvents* mine = static_cast<ThreadEvents*>(FlsGetValue(slot));
  if (mine == nullptr) {
    mine = new ThreadEvents;
    if (!FlsSetValue(slot, mine)) {
      delete mine;
      return nullptr;
    }
  }
  return mine;
}

// At least `n` of this thread's read events.
absl::StatusOr<const std::vector<HANDLE>*> ReadEvents(size_t n) {
  ThreadEvents* mine = Mine();
  if (mine == nullptr) {
    return absl::ResourceExhaustedError("mp: no FLS slot for this thread");
  }
  while (mine->reads.size() < n) {
    HANDLE e = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (e == nullptr) return OsError("CreateEventW");
    mine->reads.push_back(e);
  }
  return &mine->reads;
}

// The ends whose empty message a wait of this process took, one entry per
// message, in the order taken; RecvRecord returns them first. Guarded by
// g_empty_lock. g_empty_count is the number of entries, so that
// RecvRecord's check is one load while there are none, as always with mp
// peers.
SRWLOCK g_empty_lock = SRWLOCK_INIT;
std::atomic<size_t> g_empty_count{0};
std::vector<HANDLE>& EmptyTaken() {
  static std::vector<HANDLE>* taken = new std::vector<HANDLE>;
  return *taken;
}

void RememberEmpty(HANDLE end) {
  AcquireSRWLockExclusive(&g_empty_lock);
  EmptyTaken().push_back(end);
  g_empty_count.store(EmptyTaken().size(), std::memory_order_relaxed);
  ReleaseSRWLockExclusive(&g_empty_lock);
}

// Whether an empty message of `end` is remembered; kTake also removes the
// first one, kForget every one (the end is being closed).
enum class EmptyOp { kLook, kTake, kForget };
bool EmptyMessage(HANDLE end, EmptyOp op) {
  if (g_empty_count.load(std::memory_order_relaxed) == 0) return false;
  AcquireSRWLockExclusive(&g_empty_lock);
  std::vector<HANDLE>& taken = EmptyTaken();
  auto it = std::find(taken.begin(), taken.end(), end);
  const bool found = it != taken.end();
  if (found && op == EmptyOp::kTake) taken.erase(it);
  if (op == EmptyOp::kForget) {
    taken.erase(std::remove(taken.begin(), taken.end(), end), taken.end());
  }
  g_empty_count.store(taken.size(), std::memory_order_relaxed);
  ReleaseSRWLockExclusive(&g_empty_lock);
  return found;
}

}  // namespace

bool IsGone(DWORD err) {
  return err == ERROR_BROKEN_PIPE || err == ERROR_NO_DATA ||
         err == ERROR_PIPE_NOT_CONNECTED;
}

HANDLE ThreadEvent() {
  ThreadEvents* mine = Mine();
  if (mine == nullptr) return nullptr;
  if (mine->io == nullptr)
    mine->io = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  return mine->io;
}

namespace {

// CreateConnectedPipe and CreateStreamPipeEnds: the server end has
// `server_access` (PIPE_ACCESS_*), the client the matching access, opened
// overlapped if `client_overlapped`.
absl::StatusOr<PipeEnds> CreatePipeInstance(const wchar_t* prefix,
                                            DWORD server_access, bool messages,
                                            DWORD buffer,
                                            bool client_overlapped) {
  absl::StatusOr<PSECURITY_DESCRIPTOR> sd = CurrentUserOnly();
  if (!sd.ok()) return sd.status();
  SECURITY_ATTRIBUTES sa = {sizeof sa, *sd, /*bInheritHandle=*/FALSE};
  const std::wstring name = RandomName(prefix, L"");
  const DWORD mode = messages ? PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE
                              : PIPE_TYPE_BYTE | PIPE_READMODE_BYTE;
  HANDLE server = CreateNamedPipeW(
      name.c_str(),
      server_access | FILE_FLAG_FIRST_PIPE_INSTANCE | FILE_FLAG_OVERLAPPED,
      mode | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1, buffer, buffer, 0, &sa);
  if (server == INVALID_HANDLE_VALUE) {
    absl::Status s = OsError("CreateNamedPipeW");
    LocalFree(*sd);
    return s;
  }
  const DWORD client_access = server_access == PIPE_ACCESS_DUPLEX
                                  ? GENERIC_READ | GENERIC_WRITE
                              : server_access == PIPE_ACCESS_INBOUND
                                  ? GENERIC_WRITE | FILE_READ_ATTRIBUTES
                                  : GENERIC_READ | FILE_WRITE_ATTRIBUTES;
  HANDLE client = CreateFileW(
      name.c_str(), client_access, 0, &sa, OPEN_EXISTING,
      client_overlapped ? FILE_FLAG_OVERLAPPED : FILE_ATTRIBUTE_NORMAL,
      nullptr);
  LocalFree(*sd);
  if (client == INVALID_HANDLE_VALUE) {
    absl::Status s = OsError("CreateFileW (pipe client)");
    CloseHandle(server);
    return s;
  }
  DWORD read_mode = PIPE_READMODE_MESSAGE;
  if (server_access == PIPE_ACCESS_DUPLEX && messages &&
      !SetNamedPipeHandleState(client, &read_mode, nullptr, nullptr)) {
    absl::Status s = OsError("SetNamedPipeHandleState");
    CloseHandle(client);
    CloseHandle(server);
    return s;
  }
  // The client is already connected: an overlapped ConnectNamedPipe says so
  // at once with ERROR_PIPE_CONNECTED.
  OVERLAPPED ov{};
  ov.hEvent = ThreadEvent();
  if (!ConnectNamedPipe(server, &ov) &&
      GetLastError() != ERROR_PIPE_CONNECTED) {
    absl::Status s = OsError("ConnectNamedPipe");
    CloseHandle(client);
    CloseHandle(server);
    return s;
  }
  return PipeEnds{server, client};
}

}  // namespace

absl::StatusOr<PipeEnds> CreateConnectedPipe(const wchar_t* prefix, bool duplex,
                                             bool messages, DWORD buffer) {
  return CreatePipeInstance(prefix,
                            duplex ? PIPE_ACCESS_DUPLEX : PIPE_ACCESS_INBOUND,
                            messages, buffer, /*client_overlapped=*/true);
}

absl::StatusOr<PipeEnds> CreateStreamPipeEnds(const wchar_t* prefix,
                                              bool server_writes,
                                              DWORD buffer) {
  return CreatePipeInstance(
      prefix, server_writes ? PIPE_ACCESS_OUTBOUND : PIPE_ACCESS_INBOUND,
      /*messages=*/false, buffer, /*client_overlapped=*/false);
}

absl::StatusOr<DWORD> TransferBefore(HANDLE h, bool write, char* data,
                                     size_t size, internal::Deadline deadline,
                                     absl::string_view what) {
  const std::string call =
      absl::StrCat(write ? "WriteFile on " : "ReadFile on ", what);
  const DWORD chunk = static_cast<DWORD>(std::min<size_t>(size, 1 << 20));
  OVERLAPPED ov = {};
  ov.hEvent = ThreadEvent();
  const BOOL done = write ? WriteFile(h, data, chunk, nullptr, &ov)
                          : ReadFile(h, data, chunk, nullptr, &ov);
  if (!done) {
    const DWORD err = GetLastError();
    if (IsGone(err)) {
      return absl::OutOfRangeError(absl::StrCat("mp: ", what, " closed"));
    }
    if (err != ERROR_IO_PENDING) return OsError(call, err);
    for (;;) {
      const DWORD r =
          WaitForSingleObject(ov.hEvent, deadline.ToWin32Milliseconds());
      if (r == WAIT_OBJECT_0) break;
      if (r == WAIT_FAILED || deadline.Expired()) {
        CancelIoEx(h, &ov);
        break;
      }
    }
  }
  // After a cancel, this waits for the transfer to end either way; bytes
  // that moved in the meantime count.
  DWORD n = 0;
  if (GetOverlappedResult(h, &ov, &n, TRUE)) return n;
  const DWORD err = GetLastError();
  if (IsGone(err)) {
    return absl::OutOfRangeError(absl::StrCat("mp: ", what, " closed"));
  }
  if (err == ERROR_OPERATION_ABORTED) {
    if (n > 0) return n;
    return absl::DeadlineExceededError(
        absl::StrCat("mp: ", what, " timed out"));
  }
  return OsError(call, err);
}

absl::StatusOr<ChannelPair> CreateChannelPair(bool duplex) {
  absl::StatusOr<PipeEnds> pipe =
      CreateConnectedPipe(L"\\\\.\\pipe\\mp-", duplex,
                          /*messages=*/true, kPipeBuffer);
  if (!pipe.ok()) return pipe.status();
  return ChannelPair{OwnedHandle(reinterpret_cast<intptr_t>(pipe->server)),
                     OwnedHandle(reinterpret_cast<intptr_t>(pipe->client))};
}

absl::Status SendRecord(intptr_t end,
                        std::initializer_list<absl::string_view> pieces) {
  // Message mode: the record must be one WriteFile.
  std::string record;
  for (absl::string_view p : pieces) record.append(p.data(), p.size());
  HANDLE h = reinterpret_cast<HANDLE>(end);
  OVERLAPPED ov{};
  ov.hEvent = ThreadEvent();
  DWORD written = 0;
  if (!WriteFile(h, record.data(), static_cast<DWORD>(record.size()), nullptr,
                 &ov)) {
    DWORD err = GetLastError();
    if (err == ERROR_IO_PENDING) {  // the pipe is full: wait for the reader
      if (GetOverlappedResult(h, &ov, &written, TRUE)) return absl::OkStatus();
      err = GetLastError();
    }
    if (IsGone(err)) {
      return EndOfFileError("mp: the other end of the pipe is closed");
    }
    return OsError("WriteFile", err);
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> RecvRecord(intptr_t end, char* buffer,
                                  internal::Deadline deadline) {
  HANDLE h = reinterpret_cast<HANDLE>(end);
  if (EmptyMessage(h, EmptyOp::kTake)) return size_t{0};  // see WaitReady
  OVERLAPPED ov{};
  ov.hEvent = ThreadEvent();
  DWORD n = 0;
  if (ReadFile(h, buffer, static_cast<DWORD>(kMaxRecordBytes), nullptr, &ov)) {
    if (!GetOverlappedResult(h, &ov, &n, FALSE))
      return ReadError(GetLastError());
    return static_cast<size_t>(n);
  }
  DWORD err = GetLastError();
  if (err != ERROR_IO_PENDING) return ReadError(err);
  // Wait in slices of at most a day (WaitForSingleObject takes a DWORD).
  for (;;) {
    const DWORD ms = deadline.ToWin32Milliseconds();
    if (WaitForSingleObject(ov.hEvent, ms) == WAIT_OBJECT_0) break;
    if (deadline.Expired()) {
      CancelIoEx(h, &ov);
      break;  // GetOverlappedResult below says whether it completed anyway
    }
  }
  if (GetOverlappedResult(h, &ov, &n, TRUE)) return static_cast<size_t>(n);
  err = GetLastError();
  if (err == ERROR_OPERATION_ABORTED) {
    return absl::DeadlineExceededError("mp: receive timed out");
  }
  return ReadError(err);
}

namespace {

// --- WaitReady's parts -------------------------------------------------------

// Whether `w` is ready now, without waiting. A channel end is ready when a
// record is queued or when PeekNamedPipe fails: every writer is gone (end
// of file), or the end is broken in a way the next receive reports, as
// poll(2) reports POLLERR and POLLNVAL as ready.
bool ReadyNow(const Waitable& w) {
  HANDLE h = reinterpret_cast<HANDLE>(w.handle);
  if (w.kind == Waitable::Kind::kSentinel) {
    return WaitForSingleObject(h, 0) == WAIT_OBJECT_0;
  }
  if (EmptyMessage(h, EmptyOp::kLook)) return true;
  DWORD available = 0;
  return !PeekNamedPipe(h, nullptr, 0, nullptr, &available, nullptr) ||
         available > 0;
}

// Waits until one of `count` objects is signalled or `deadline` passes: OK
// either way, or the wait's error. With no objects it sleeps until the
// deadline (for ever without one), as poll(2) does with no descriptors.
absl::Status WaitChunk(const HANDLE* objects, DWORD count,
                       internal::Deadline deadline) {
  for (;;) {
    // In slices of at most a day (the call takes a DWORD of milliseconds).
    const DWORD ms = deadline.ToWin32Milliseconds();
    const DWORD r = count == 0
                        ? (Sleep(ms), WAIT_TIMEOUT)
                        : WaitForMultipleObjects(count, objects, FALSE, ms);
    if (r == WAIT_FAILED) return OsError("WaitForMultipleObjects");
    if (r != WAIT_TIMEOUT || deadline.Expired()) return absl::OkStatus();
  }
}

// A helper thread of WaitAny: waits on its share of the objects and on the
// stop event (last), and sets `fired` when one of its share is signalled or
// its wait fails.
struct Helper {
  HANDLE objects[MAXIMUM_WAIT_OBJECTS];
  DWORD count = 0;  // with the stop event
  HANDLE fired = nullptr;
  DWORD error = 0;  // of its wait, if that failed
  HANDLE thread = nullptr;
};

DWORD WINAPI RunHelper(void* arg) {
  Helper& h = *static_cast<Helper*>(arg);
  const DWORD r = WaitForMultipleObjects(h.count, h.objects, FALSE, INFINITE);
  if (r == WAIT_FAILED) h.error = GetLastError();
  if (r != WAIT_OBJECT_0 + h.count - 1) SetEvent(h.fired);
  return 0;
}

// WaitChunk for any number of objects. WaitForMultipleObjects takes at most
// MAXIMUM_WAIT_OBJECTS (64). Beyond that the calling thread waits on the
// first 63 objects and on an event `fired`; each helper thread waits on the
// next 63 and on an event `stop`, and sets `fired` when one of its own is
// signalled. When the caller's wait ends, for whatever reason, it sets
// `stop` and joins every helper before it returns, so no helper outlives
// the call or touches an object after it. The helpers cost a thread per 63
// objects beyond the first 63, for the length of the call only; a waiting
// wineserver call each under Wine.
absl::Status WaitAny(const std::vector<HANDLE>& objects,
                     internal::Deadline deadline) {
  if (objects.size() <= MAXIMUM_WAIT_OBJECTS) {
    return WaitChunk(objects.data(), static_cast<DWORD>(objects.size()),
                     deadline);
  }
  constexpr size_t kShare = MAXIMUM_WAIT_OBJECTS - 1;
  HANDLE stop = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  HANDLE fired = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  absl::Status status;
  if (stop == nullptr || fired == nullptr) status = OsError("CreateEventW");
  std::vector<Helper> helpers((objects.size() - 1) / kShare);
  size_t started = 0;
  for (; status.ok() && started < helpers.size(); ++started) {
    Helper& h = helpers[started];
    const size_t from = kShare * (started + 1);
    const size_t n = std::min(kShare, objects.size() - from);
    std::copy_n(objects.begin() + from, n, h.objects);
    h.objects[n] = stop;
    h.count = static_cast<DWORD>(n + 1);
    h.fired = fired;
    h.thread = CreateThread(nullptr, 64 * 1024, RunHelper, &h,
                            STACK_SIZE_PARAM_IS_A_RESERVATION, nullptr);
    if (h.thread == nullptr) status = OsError("CreateThread");
  }
  if (status.ok()) {
    HANDLE mine[MAXIMUM_WAIT_OBJECTS];
    std::copy_n(objects.begin(), kShare, mine);
    mine[kShare] = fired;
    status = WaitChunk(mine, MAXIMUM_WAIT_OBJECTS, deadline);
  }
  if (stop != nullptr) SetEvent(stop);
  for (Helper& h : helpers) {
    if (h.thread == nullptr) continue;
    WaitForSingleObject(h.thread, INFINITE);
    CloseHandle(h.thread);
    if (status.ok() && h.error != 0) {
      status = OsError("WaitForMultipleObjects", h.error);
    }
  }
  if (stop != nullptr) CloseHandle(stop);
  if (fired != nullptr) CloseHandle(fired);
  return status;
}

// A zero-byte read on one channel end, started by WaitReady.
struct ZeroRead {
  OVERLAPPED ov;
  HANDLE end;
  size_t index;  // in WaitReady's `waitables`
  bool pending;  // started, not yet finished
};

}  // namespace

absl::StatusOr<std::vector<bool>> WaitReady(
    const std::vector<Waitable>& waitables, internal::Deadline deadline) {
  std::vector<bool> ready(waitables.size());
  bool any = false;
  if (deadline.Expired()) {  // a poll: look only
    for (size_t i = 0; i < waitables.size(); ++i) {
      ready[i] = ReadyNow(waitables[i]);
    }
    return ready;
  }
  for (size_t i = 0; i < waitables.size(); ++i) {
    if (waitables[i].kind == Waitable::Kind::kChannel &&
        EmptyMessage(reinterpret_cast<HANDLE>(waitables[i].handle),
                     EmptyOp::kLook)) {
      ready[i] = any = true;
    }
  }

  size_t channels = 0;
  std::vector<HANDLE> sentinels;
  for (const Waitable& w : waitables) {
    if (w.kind == Waitable::Kind::kChannel) {
      ++channels;
    } else {
      sentinels.push_back(reinterpret_cast<HANDLE>(w.handle));
    }
  }
  // Each process once: WaitForMultipleObjects takes no handle twice.
  std::sort(sentinels.begin(), sentinels.end());
  sentinels.erase(std::unique(sentinels.begin(), sentinels.end()),
                  sentinels.end());
  absl::StatusOr<const std::vector<HANDLE>*> events = ReadEvents(channels);
  if (!events.ok()) return events.status();
  absl::Status s;
  std::vector<ZeroRead> reads(channels);
  std::vector<HANDLE> objects;
  for (;;) {
    // Start a zero-byte read on every channel end (see the top of the file),
    // each with its own OVERLAPPED and event.
    size_t started = 0;
    for (size_t i = 0; i < waitables.size(); ++i) {
      if (waitables[i].kind != Waitable::Kind::kChannel) continue;
      if (any) {  // no wait follows: a look is enough
        ready[i] = ReadyNow(waitables[i]);
        continue;
      }
      ZeroRead& r = reads[started++];
      r = ZeroRead{};
      r.ov.hEvent = (**events)[started - 1];
      r.end = reinterpret_cast<HANDLE>(waitables[i].handle);
      r.index = i;
      char unused;
      if (ReadFile(r.end, &unused, 0, nullptr, &r.ov)) {
        RememberEmpty(r.end);  // it took an empty message
        ready[i] = any = true;
      } else if (GetLastError() == ERROR_IO_PENDING) {
        r.pending = true;
      } else {  // ERROR_MORE_DATA: a record; else end of file or an error
        ready[i] = any = true;
      }
    }
    if (!any) {
      objects.clear();
      for (size_t k = 0; k < started; ++k) {
        if (reads[k].pending) objects.push_back(reads[k].ov.hEvent);
      }
      objects.insert(objects.end(), sentinels.begin(), sentinels.end());
      s = WaitAny(objects, deadline);
    }
    // Cancel every read still pending and wait for it to finish: one that
    // completed first keeps its result.
    for (size_t k = 0; k < started; ++k) {
      ZeroRead& r = reads[k];
      if (!r.pending) continue;
      if (!HasOverlappedIoCompleted(&r.ov)) CancelIoEx(r.end, &r.ov);
      DWORD n = 0;
      if (GetOverlappedResult(r.end, &r.ov, &n, TRUE)) {
        RememberEmpty(r.end);
        ready[r.index] = true;
      } else if (GetLastError() != ERROR_OPERATION_ABORTED) {
        ready[r.index] = true;
      }
    }
    for (size_t i = 0; i < waitables.size(); ++i) {
      if (waitables[i].kind == Waitable::Kind::kSentinel) {
        ready[i] =
            WaitForSingleObject(reinterpret_cast<HANDLE>(waitables[i].handle),
                                0) == WAIT_OBJECT_0;
      }
      any = any || ready[i];
    }
    if (!s.ok()) return s;
    if (any || deadline.Expired()) return ready;
  }
}

void CloseChannel(intptr_t end) {
  EmptyMessage(reinterpret_cast<HANDLE>(end), EmptyOp::kForget);
  CloseOsHandle(end);
}

// Win32 has no fork, and every child gets an explicit handle list: a
// received channel end needs no tracking.
void AdoptChannel(intptr_t) {}

// No fork: no process holds copies of objects without their handles.
uint64_t ChannelGeneration() { return 0; }

}  // namespace os
}  // namespace mp
