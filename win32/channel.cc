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
// Waiting: both ends are opened for overlapped I/O. A receive starts an
// overlapped ReadFile and waits on its event until the deadline, then
// cancels it (CancelIoEx); a read that completed in the meantime still
// delivers its record, so a timeout never loses one. A message is consumed
// only by a read that completes, so a cancelled read takes nothing. Sends
// wait for their write to complete, as a blocking send does. Overlapped
// handles also let one thread send while another is blocked receiving on
// the same end, as on POSIX. WaitReady still polls PeekNamedPipe with 1 ms
// naps (pipes and process handles have no common wait short of a thread
// per pipe).

// <windows.h> first: the other Win32 headers need it.
// clang-format off
#include <windows.h>
// clang-format on

#include <algorithm>
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

DWORD NapMs(internal::Deadline deadline) {
  return deadline.Left() > absl::Milliseconds(1) ? 1 : 0;
}

absl::Status ReadError(DWORD err) {
  if (IsGone(err))
    return EndOfFileError("mp: end of file: every writer is gone");
  if (err == ERROR_MORE_DATA) {
    return absl::DataLossError("mp: oversized record (not from mp?)");
  }
  return OsError("ReadFile", err);
}

}  // namespace

bool IsGone(DWORD err) {
  return err == ERROR_BROKEN_PIPE || err == ERROR_NO_DATA ||
         err == ERROR_PIPE_NOT_CONNECTED;
}

HANDLE ThreadEvent() {
  struct Event {
    HANDLE h = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    ~Event() {
      if (h != nullptr) CloseHandle(h);
    }
  };
  thread_local Event event;
  return event.h;
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

absl::StatusOr<std::vector<bool>> WaitReady(
    const std::vector<Waitable>& waitables, internal::Deadline deadline) {
  std::vector<bool> ready(waitables.size());
  for (;;) {
    bool any = false;
    for (size_t i = 0; i < waitables.size(); ++i) {
      HANDLE h = reinterpret_cast<HANDLE>(waitables[i].handle);
      if (waitables[i].kind == Waitable::Kind::kChannel) {
        DWORD available = 0;
        ready[i] = !PeekNamedPipe(h, nullptr, 0, nullptr, &available, nullptr)
                       ? IsGone(GetLastError())
                       : available > 0;
      } else {  // a process handle: signalled once the process has ended
        ready[i] = WaitForSingleObject(h, 0) == WAIT_OBJECT_0;
      }
      any = any || ready[i];
    }
    if (any || deadline.Expired()) return ready;
    Sleep(NapMs(deadline));
  }
}

void CloseChannel(intptr_t end) { CloseOsHandle(end); }

// Win32 has no fork, and every child gets an explicit handle list: a
// received channel end needs no tracking.
void AdoptChannel(intptr_t) {}

// No fork: no process holds copies of objects without their handles.
uint64_t ChannelGeneration() { return 0; }

}  // namespace os
}  // namespace mp
