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
// Waiting: the handles are synchronous, and a read is started only once
// PeekNamedPipe shows a message, so deadlines and WaitReady poll the pipe
// with 1 ms naps. (Overlapped I/O would wake sooner; the conformance
// contract holds either way, and the benchmarks will say if it matters.)

// <windows.h> first: the other Win32 headers need it.
// clang-format off
#include <windows.h>
#include <sddl.h>
// clang-format on

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "mp/internal/os.h"
#include "mp/status.h"
#include "win32/util.h"

namespace mp {
namespace os {
namespace {

constexpr DWORD kPipeBuffer = 4 * kMaxRecordBytes;

bool IsGone(DWORD err) {
  return err == ERROR_BROKEN_PIPE || err == ERROR_NO_DATA ||
         err == ERROR_PIPE_NOT_CONNECTED;
}

// A security descriptor granting everything to the current user and
// nothing to anyone else. Freed with LocalFree.
absl::StatusOr<PSECURITY_DESCRIPTOR> CurrentUserOnly() {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
    return OsError("OpenProcessToken");
  }
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::vector<char> buffer(size);
  if (!GetTokenInformation(token, TokenUser, buffer.data(), size, &size)) {
    CloseHandle(token);
    return OsError("GetTokenInformation");
  }
  CloseHandle(token);
  wchar_t* sid = nullptr;
  if (!ConvertSidToStringSidW(
          reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &sid)) {
    return OsError("ConvertSidToStringSidW");
  }
  const std::wstring sddl = std::wstring(L"D:P(A;;GA;;;") + sid + L")";
  LocalFree(sid);
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
          sddl.c_str(), SDDL_REVISION_1, &sd, nullptr)) {
    return OsError("ConvertStringSecurityDescriptorToSecurityDescriptorW");
  }
  return sd;
}

DWORD NapMs(absl::Time deadline) {
  return absl::Now() + absl::Milliseconds(1) < deadline ? 1 : 0;
}

}  // namespace

absl::StatusOr<ChannelPair> CreateChannelPair(bool duplex) {
  absl::StatusOr<PSECURITY_DESCRIPTOR> sd = CurrentUserOnly();
  if (!sd.ok()) return sd.status();
  SECURITY_ATTRIBUTES sa = {sizeof sa, *sd, /*bInheritHandle=*/FALSE};
  const std::wstring name = RandomName(L"\\\\.\\pipe\\mp-", L"");
  HANDLE server =
      CreateNamedPipeW(name.c_str(),
                       (duplex ? PIPE_ACCESS_DUPLEX : PIPE_ACCESS_INBOUND) |
                           FILE_FLAG_FIRST_PIPE_INSTANCE,
                       PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT |
                           PIPE_REJECT_REMOTE_CLIENTS,
                       1, kPipeBuffer, kPipeBuffer, 0, &sa);
  if (server == INVALID_HANDLE_VALUE) {
    absl::Status s = OsError("CreateNamedPipeW");
    LocalFree(*sd);
    return s;
  }
  HANDLE client = CreateFileW(name.c_str(),
                              duplex ? GENERIC_READ | GENERIC_WRITE
                                     : GENERIC_WRITE | FILE_READ_ATTRIBUTES,
                              0, &sa, OPEN_EXISTING, 0, nullptr);
  LocalFree(*sd);
  if (client == INVALID_HANDLE_VALUE) {
    absl::Status s = OsError("CreateFileW (pipe client)");
    CloseHandle(server);
    return s;
  }
  DWORD mode = PIPE_READMODE_MESSAGE;
  if (duplex && !SetNamedPipeHandleState(client, &mode, nullptr, nullptr)) {
    absl::Status s = OsError("SetNamedPipeHandleState");
    CloseHandle(client);
    CloseHandle(server);
    return s;
  }
  if (!ConnectNamedPipe(server, nullptr) &&
      GetLastError() != ERROR_PIPE_CONNECTED) {
    absl::Status s = OsError("ConnectNamedPipe");
    CloseHandle(client);
    CloseHandle(server);
    return s;
  }
  return ChannelPair{reinterpret_cast<intptr_t>(server),
                     reinterpret_cast<intptr_t>(client)};
}

absl::Status SendRecord(intptr_t end,
                        std::initializer_list<absl::string_view> pieces) {
  // Message mode: the record must be one WriteFile.
  std::string record;
  for (absl::string_view p : pieces) record.append(p.data(), p.size());
  DWORD written = 0;
  if (!WriteFile(reinterpret_cast<HANDLE>(end), record.data(),
                 static_cast<DWORD>(record.size()), &written, nullptr)) {
    const DWORD err = GetLastError();
    if (IsGone(err)) {
      return EndOfFileError("mp: the other end of the pipe is closed");
    }
    return OsError("WriteFile", err);
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> RecvRecord(intptr_t end, char* buffer,
                                  absl::Time deadline) {
  HANDLE h = reinterpret_cast<HANDLE>(end);
  for (;;) {
    DWORD available = 0;
    if (!PeekNamedPipe(h, nullptr, 0, nullptr, &available, nullptr)) {
      const DWORD err = GetLastError();
      if (IsGone(err)) {
        return EndOfFileError("mp: end of file: every writer is gone");
      }
      return OsError("PeekNamedPipe", err);
    }
    if (available > 0) {
      DWORD n = 0;
      if (ReadFile(h, buffer, static_cast<DWORD>(kMaxRecordBytes), &n,
                   nullptr)) {
        return static_cast<size_t>(n);
      }
      const DWORD err = GetLastError();
      if (IsGone(err)) {
        return EndOfFileError("mp: end of file: every writer is gone");
      }
      if (err == ERROR_MORE_DATA) {
        return absl::DataLossError("mp: oversized record (not from mp?)");
      }
      return OsError("ReadFile", err);
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError("mp: receive timed out");
    }
    Sleep(NapMs(deadline));
  }
}

absl::StatusOr<std::vector<bool>> WaitReady(const std::vector<intptr_t>& ends,
                                            absl::Time deadline) {
  std::vector<bool> ready(ends.size());
  for (;;) {
    bool any = false;
    for (size_t i = 0; i < ends.size(); ++i) {
      HANDLE h = reinterpret_cast<HANDLE>(ends[i]);
      if (GetFileType(h) == FILE_TYPE_PIPE) {
        DWORD available = 0;
        ready[i] = !PeekNamedPipe(h, nullptr, 0, nullptr, &available, nullptr)
                       ? IsGone(GetLastError())
                       : available > 0;
      } else {  // a process sentinel
        ready[i] = WaitForSingleObject(h, 0) == WAIT_OBJECT_0;
      }
      any = any || ready[i];
    }
    if (any || absl::Now() >= deadline) return ready;
    Sleep(NapMs(deadline));
  }
}

void CloseChannel(intptr_t end) { CloseOsHandle(end); }

// Win32 has no fork, and every child gets an explicit handle list: a
// received channel end needs no tracking.
void AdoptChannel(intptr_t) {}

}  // namespace os
}  // namespace mp
