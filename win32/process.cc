// Copyright 2026 The mp Authors.
//
// The Win32 backend of mp/internal/os.h: spawn by CreateProcessW of the
// running binary. Function for function the mirror of posix/process.cc.

// <windows.h> first: the other Win32 headers need it.
// clang-format off
#include <windows.h>
#include <tlhelp32.h>
// clang-format on

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "win32/util.h"

namespace mp {
namespace os {
namespace {

// The command-line flag that marks a spawned child; its value names the two
// inherited pipe handles: "<launch read handle>,<answer write handle>".
constexpr char kChildFlag[] = "--mp-spawn-child";

// Terminate() and Kill() end a child with these exit codes, which read back
// through the API as -SIGTERM and -SIGKILL, as on POSIX and in Python.
constexpr UINT kTerminateCode = static_cast<UINT>(-15);
constexpr UINT kKillCode = static_cast<UINT>(-9);

// In a spawned child: the answer pipe to the parent, until AnswerLaunch().
HANDLE g_answer = nullptr;

// Exit codes of crashes, read back as the POSIX signal of the same meaning
// so that ExitCode() agrees across backends (Python reports the raw NTSTATUS).
struct CrashCode {
  DWORD status;
  int signal;
};
constexpr CrashCode kCrashCodes[] = {
    {0xC0000005, 11},  // STATUS_ACCESS_VIOLATION      -> SIGSEGV
    {0xC00000FD, 11},  // STATUS_STACK_OVERFLOW        -> SIGSEGV
    {0xC000001D, 4},   // STATUS_ILLEGAL_INSTRUCTION   -> SIGILL
    {0xC0000094, 8},   // STATUS_INTEGER_DIVIDE_BY_ZERO -> SIGFPE
    {0xC000008E, 8},   // STATUS_FLOAT_DIVIDE_BY_ZERO  -> SIGFPE
    {0xC000013A, 2},   // STATUS_CONTROL_C_EXIT        -> SIGINT
};

void CloseHandleOnce(HANDLE& h) {
  if (h != nullptr && h != INVALID_HANDLE_VALUE) CloseHandle(h);
  h = nullptr;
}

// Writes all of `bytes` to `h`, a handle without overlapped I/O (the
// child's answer: small, and read by a parent that waits for it).
absl::Status WriteAll(HANDLE h, absl::string_view bytes) {
  while (!bytes.empty()) {
    DWORD n = 0;
    const DWORD chunk =
        static_cast<DWORD>(std::min<size_t>(bytes.size(), 1 << 20));
    if (!WriteFile(h, bytes.data(), chunk, &n, nullptr)) {
      return OsError("WriteFile to spawned child");
    }
    bytes.remove_prefix(n);
  }
  return absl::OkStatus();
}

// Sends all of `bytes` on `h`, the parent's end of the launch pipe (opened
// for overlapped I/O), before `deadline`: each write is waited for until
// the deadline and then cancelled, so a child that never reads cannot hold
// the parent past it (DeadlineExceeded).
absl::Status SendAll(HANDLE h, absl::string_view bytes, absl::Time deadline) {
  OVERLAPPED ov = {};
  ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (ov.hEvent == nullptr) return OsError("CreateEventW");
  absl::Status s;
  while (s.ok() && !bytes.empty()) {
    const DWORD chunk =
        static_cast<DWORD>(std::min<size_t>(bytes.size(), 1 << 20));
    DWORD n = 0;
    if (!WriteFile(h, bytes.data(), chunk, nullptr, &ov)) {
      const DWORD err = GetLastError();
      if (err != ERROR_IO_PENDING) {
        s = OsError("WriteFile on spawn channel", err);
        break;
      }
      for (;;) {
        const DWORD r = WaitForSingleObject(ov.hEvent, WaitMs(deadline));
        if (r == WAIT_OBJECT_0) break;
        if (r == WAIT_FAILED) s = OsError("WaitForSingleObject");
        if (r == WAIT_FAILED || internal::MonotonicNow() >= deadline) {
          CancelIoEx(h, &ov);
          break;
        }
      }
    }
    // After a cancel, this waits for the write to end either way; one that
    // completed in the meantime counts.
    if (!GetOverlappedResult(h, &ov, &n, TRUE)) {
      const DWORD err = GetLastError();
      if (s.ok()) {
        s = err == ERROR_OPERATION_ABORTED
                ? absl::DeadlineExceededError("mp: spawn channel timed out")
                : OsError("WriteFile on spawn channel", err);
      }
      break;
    }
    bytes.remove_prefix(n);
  }
  CloseHandle(ov.hEvent);
  return s;
}

// The launch pipe: one instance of a byte-mode named pipe under a random
// name, for the current user only, made the way CreatePipe makes an
// anonymous pipe (the read end is the server, the write end the client,
// connected at once), except that the parent's write end is opened for
// overlapped I/O so that sending can time out (SendAll). The child's read
// end is a plain handle, read as an anonymous pipe. Both non-inheritable.
absl::Status CreateLaunchPipe(HANDLE* read, HANDLE* write) {
  absl::StatusOr<PSECURITY_DESCRIPTOR> sd = CurrentUserOnly();
  if (!sd.ok()) return sd.status();
  SECURITY_ATTRIBUTES sa = {sizeof sa, *sd, /*bInheritHandle=*/FALSE};
  const std::wstring name = RandomName(L"\\\\.\\pipe\\mp-launch-", L"");
  HANDLE server = CreateNamedPipeW(
      name.c_str(), PIPE_ACCESS_INBOUND | FILE_FLAG_FIRST_PIPE_INSTANCE,
      PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
          PIPE_REJECT_REMOTE_CLIENTS,
      1, 1 << 20, 1 << 20, 0, &sa);
  if (server == INVALID_HANDLE_VALUE) {
    absl::Status s = OsError("CreateNamedPipeW");
    LocalFree(*sd);
    return s;
  }
  HANDLE client =
      CreateFileW(name.c_str(), GENERIC_WRITE | FILE_READ_ATTRIBUTES, 0, &sa,
                  OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr);
  LocalFree(*sd);
  if (client == INVALID_HANDLE_VALUE) {
    absl::Status s = OsError("CreateFileW (launch pipe)");
    CloseHandle(server);
    return s;
  }
  // The client is connected already: ConnectNamedPipe says so at once.
  if (!ConnectNamedPipe(server, nullptr) &&
      GetLastError() != ERROR_PIPE_CONNECTED) {
    absl::Status s = OsError("ConnectNamedPipe (launch pipe)");
    CloseHandle(client);
    CloseHandle(server);
    return s;
  }
  *read = server;
  *write = client;
  return absl::OkStatus();
}

// Reads exactly `size` bytes before `deadline` from a pipe handle without
// overlapped I/O (the answer pipe, or the child's end of the launch pipe).
// Such a read cannot time out, so the pipe is peeked first; a writer that
// is gone ends the read with ERROR_BROKEN_PIPE (OutOfRange).
absl::Status ReadExactly(HANDLE h, char* out, size_t size,
                         absl::Time deadline) {
  while (size > 0) {
    DWORD available = 0;
    if (!PeekNamedPipe(h, nullptr, 0, nullptr, &available, nullptr)) {
      if (GetLastError() == ERROR_BROKEN_PIPE) {
        return absl::OutOfRangeError("mp: spawn channel closed");
      }
      return OsError("PeekNamedPipe");
    }
    if (available == 0) {
      if (internal::MonotonicNow() >= deadline) {
        return absl::DeadlineExceededError("mp: spawn channel timed out");
      }
      Sleep(1);
      continue;
    }
    DWORD n = 0;
    const DWORD want = static_cast<DWORD>(std::min<size_t>(size, available));
    if (!ReadFile(h, out, want, &n, nullptr)) {
      if (GetLastError() == ERROR_BROKEN_PIPE) {
        return absl::OutOfRangeError("mp: spawn channel closed");
      }
      return OsError("ReadFile spawn channel");
    }
    out += n;
    size -= n;
  }
  return absl::OkStatus();
}

// One frame from the spawn channel `h`, all of it before `deadline`.
absl::StatusOr<std::string> ReadFrameFrom(HANDLE h, absl::Time deadline) {
  return ReadFrame([h, deadline](char* out, size_t size) {
    return ReadExactly(h, out, size, deadline);
  });
}

int ExitCodeOf(DWORD code) {
  for (const CrashCode& c : kCrashCodes) {
    if (code == c.status) return -c.signal;
  }
  // kTerminateCode and kKillCode read back as -15 and -9 by themselves.
  return static_cast<int>(code);
}

// This process's Job object, created on first use: every child started with
// die_with_parent is assigned to it, and KILL_ON_JOB_CLOSE ends them all
// when the last handle to it closes — when this process dies, however it
// dies. The handle is never inherited. BREAKAWAY_OK lets a child start a
// grandchild that deliberately outlives it (die_with_parent = false).
absl::StatusOr<HANDLE> KillOnCloseJob() {
  static HANDLE job = [] {
    HANDLE h = CreateJobObjectW(nullptr, nullptr);
    if (h == nullptr) return h;
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION info = {};
    info.BasicLimitInformation.LimitFlags =
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_BREAKAWAY_OK;
    if (!SetInformationJobObject(h, JobObjectExtendedLimitInformation, &info,
                                 sizeof info)) {
      CloseHandle(h);
      return static_cast<HANDLE>(nullptr);
    }
    return h;
  }();
  if (job == nullptr) return OsError("CreateJobObjectW");
  return job;
}

// The binary to re-execute: the path of the running executable.
absl::StatusOr<std::wstring> SelfExe() {
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    const DWORD n =
        GetModuleFileNameW(nullptr, &path[0], static_cast<DWORD>(path.size()));
    if (n == 0) return OsError("GetModuleFileNameW");
    if (n < path.size()) {
      path.resize(n);
      return path;
    }
    path.resize(path.size() * 2);
  }
}

// Quotes one argument so that CommandLineToArgvW / the CRT parse it back
// unchanged (backslashes are literal except before a quote).
void AppendQuoted(std::wstring& cmd, const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    cmd += arg;
    return;
  }
  cmd += L'"';
  for (size_t i = 0;; ++i) {
    size_t backslashes = 0;
    while (i < arg.size() && arg[i] == L'\\') {
      ++i;
      ++backslashes;
    }
    if (i == arg.size()) {
      cmd.append(backslashes * 2, L'\\');
      break;
    }
    if (arg[i] == L'"') {
      cmd.append(backslashes * 2 + 1, L'\\');
    } else {
      cmd.append(backslashes, L'\\');
    }
    cmd += arg[i];
  }
  cmd += L'"';
}

// An inheritable duplicate of a standard handle, or null if there is none.
HANDLE InheritableStdHandle(DWORD which) {
  HANDLE h = GetStdHandle(which);
  if (h == nullptr || h == INVALID_HANDLE_VALUE) return nullptr;
  HANDLE dup = nullptr;
  if (!DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, 0,
                       TRUE, DUPLICATE_SAME_ACCESS)) {
    return nullptr;
  }
  return dup;
}

}  // namespace

bool HasFork() { return false; }

bool ChildrenShareAddressSpace() { return false; }

absl::StatusOr<Child> StartFork(const Target&) {
  return absl::InvalidArgumentError("mp: Windows has no fork start method");
}

absl::StatusOr<Child> StartSpawn(const Launch& launch) {
  absl::StatusOr<std::wstring> exe = SelfExe();
  if (!exe.ok()) return exe.status();
  HANDLE job = nullptr;
  if (launch.options.die_with_parent) {
    absl::StatusOr<HANDLE> j = KillOnCloseJob();
    if (!j.ok()) return j.status();
    job = *j;
  }
  // Two pipes: the launch message down (CreateLaunchPipe), the answer back
  // (anonymous). All four ends are created non-inheritable; only the
  // child's two ends are made inheritable, and the handle list below names
  // exactly those (plus the standard handles), so nothing else this process
  // owns leaks into it. Those inheritable handles are closed in this
  // process as soon as CreateProcessW returns (release_child_copies).
  HANDLE down_read = nullptr, down_write = nullptr;
  HANDLE up_read = nullptr, up_write = nullptr;
  HANDLE std_handles[3] = {nullptr, nullptr, nullptr};
  // Inheritable duplicates of the handles among the arguments; the child
  // sees these values, so the launch message carries them.
  std::vector<HANDLE> given;
  Launch sent = launch;
  LPPROC_THREAD_ATTRIBUTE_LIST attributes = nullptr;
  PROCESS_INFORMATION pi = {};
  // What was made for the child alone: its ends, the inheritable
  // duplicates, and the list naming them.
  auto release_child_copies = [&]() {
    CloseHandleOnce(down_read);
    CloseHandleOnce(up_write);
    for (HANDLE& h : std_handles) CloseHandleOnce(h);
    for (HANDLE& h : given) CloseHandleOnce(h);
    if (attributes != nullptr) {
      DeleteProcThreadAttributeList(attributes);
      HeapFree(GetProcessHeap(), 0, attributes);
      attributes = nullptr;
    }
  };
  auto cleanup = [&]() {
    release_child_copies();
    CloseHandleOnce(down_write);
    CloseHandleOnce(up_read);
  };
  if (absl::Status s = CreateLaunchPipe(&down_read, &down_write); !s.ok()) {
    cleanup();
    return s;
  }
  if (!CreatePipe(&up_read, &up_write, nullptr, 1 << 16)) {
    absl::Status s = OsError("CreatePipe");
    cleanup();
    return s;
  }
  if (!SetHandleInformation(down_read, HANDLE_FLAG_INHERIT,
                            HANDLE_FLAG_INHERIT) ||
      !SetHandleInformation(up_write, HANDLE_FLAG_INHERIT,
                            HANDLE_FLAG_INHERIT)) {
    absl::Status s = OsError("SetHandleInformation");
    cleanup();
    return s;
  }
  std_handles[0] = InheritableStdHandle(STD_INPUT_HANDLE);
  std_handles[1] = InheritableStdHandle(STD_OUTPUT_HANDLE);
  std_handles[2] = InheritableStdHandle(STD_ERROR_HANDLE);
  for (size_t i = 0; i < launch.handles.size(); ++i) {
    HANDLE dup = nullptr;
    if (!DuplicateHandle(
            GetCurrentProcess(), reinterpret_cast<HANDLE>(launch.handles[i]),
            GetCurrentProcess(), &dup, 0, TRUE, DUPLICATE_SAME_ACCESS)) {
      absl::Status s = OsError("DuplicateHandle");
      cleanup();
      return s;
    }
    given.push_back(dup);
    sent.handles[i] = reinterpret_cast<intptr_t>(dup);
  }
  std::vector<HANDLE> inherit = {down_read, up_write};
  inherit.insert(inherit.end(), given.begin(), given.end());
  for (HANDLE h : std_handles) {
    if (h != nullptr) inherit.push_back(h);
  }
  SIZE_T size = 0;
  InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
  attributes = static_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(
      HeapAlloc(GetProcessHeap(), 0, size));
  if (attributes == nullptr ||
      !InitializeProcThreadAttributeList(attributes, 1, 0, &size)) {
    absl::Status s = OsError("InitializeProcThreadAttributeList");
    if (attributes != nullptr) HeapFree(GetProcessHeap(), 0, attributes);
    attributes = nullptr;
    cleanup();
    return s;
  }
  if (!UpdateProcThreadAttribute(
          attributes, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherit.data(),
          inherit.size() * sizeof(HANDLE), nullptr, nullptr)) {
    absl::Status s = OsError("UpdateProcThreadAttribute");
    cleanup();
    return s;
  }
  STARTUPINFOEXW si = {};
  si.StartupInfo.cb = sizeof si;
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = std_handles[0];
  si.StartupInfo.hStdOutput = std_handles[1];
  si.StartupInfo.hStdError = std_handles[2];
  si.lpAttributeList = attributes;

  std::wstring cmd;
  AppendQuoted(cmd, *exe);
  cmd += L' ';
  AppendQuoted(cmd, Widen(kChildFlag));
  cmd += L' ';
  AppendQuoted(cmd,
               Widen(absl::StrCat(reinterpret_cast<uintptr_t>(down_read), ",",
                                  reinterpret_cast<uintptr_t>(up_write))));
  // Suspended until it is in the job, so it cannot start a grandchild that
  // escapes the job first.
  DWORD flags = EXTENDED_STARTUPINFO_PRESENT | CREATE_UNICODE_ENVIRONMENT |
                CREATE_SUSPENDED;
  if (!launch.options.die_with_parent) flags |= CREATE_BREAKAWAY_FROM_JOB;
  BOOL created = FALSE;
  // Wine (8.0) now and then fails CreateProcessW with ERROR_INTERNAL_ERROR
  // when processes start and die in quick succession: about once in 3 000
  // starts in the thousand-kill queue case. No process exists after such a
  // failure, so the start is simply tried again; a persistent failure is
  // still reported.
  for (int attempt = 0; attempt < 3; ++attempt) {
    created = CreateProcessW(exe->c_str(), &cmd[0], nullptr, nullptr,
                             /*bInheritHandles=*/TRUE, flags, nullptr, nullptr,
                             &si.StartupInfo, &pi);
    if (created || GetLastError() != ERROR_INTERNAL_ERROR) break;
  }
  if (!created && GetLastError() == ERROR_ACCESS_DENIED &&
      (flags & CREATE_BREAKAWAY_FROM_JOB) != 0) {
    // Our own job does not allow breakaway: the child stays in it.
    flags &= ~static_cast<DWORD>(CREATE_BREAKAWAY_FROM_JOB);
    created = CreateProcessW(exe->c_str(), &cmd[0], nullptr, nullptr, TRUE,
                             flags, nullptr, nullptr, &si.StartupInfo, &pi);
  }
  if (!created) {
    absl::Status s = OsError(absl::StrCat("CreateProcessW ", Narrow(*exe)));
    cleanup();
    return s;
  }
  // The child has its copies. This process's inheritable ones go now, not
  // once the child answers: until then any process started elsewhere in
  // this program with bInheritHandles and no handle list (another thread's
  // system()) would inherit them, and hold, say, the child's end of a pipe.
  release_child_copies();
  if (job != nullptr && !AssignProcessToJobObject(job, pi.hProcess)) {
    absl::Status s = OsError("AssignProcessToJobObject");
    TerminateProcess(pi.hProcess, kKillCode);
    WaitForSingleObject(pi.hProcess, INFINITE);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    cleanup();
    return s;
  }
  ResumeThread(pi.hThread);
  CloseHandle(pi.hThread);

  // One deadline for the whole handshake: the child must take all of the
  // launch frame (it may be large) and answer before it.
  const absl::Time deadline = internal::MonotonicNow() + SpawnTimeout();
  absl::Status s = SendAll(down_write, Frame(EncodeLaunch(sent)), deadline);
  CloseHandleOnce(down_write);
  absl::StatusOr<std::string> answer = absl::IsDeadlineExceeded(s)
                                           ? absl::StatusOr<std::string>(s)
                                           : ReadFrameFrom(up_read, deadline);
  Child child{static_cast<int64_t>(pi.dwProcessId),
              reinterpret_cast<intptr_t>(pi.hProcess)};
  if (answer.ok()) {
    s = DecodeAnswer(*answer);  // the child's own verdict wins over send errors
  } else if (absl::IsDeadlineExceeded(answer.status())) {
    TerminateProcess(pi.hProcess, kKillCode);
    s = absl::DeadlineExceededError(
        absl::StrCat("mp: spawned child ", pi.dwProcessId,
                     " did not take its launch and answer within ",
                     absl::FormatDuration(SpawnTimeout()), "; killed"));
  } else {
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 0;
    GetExitCodeProcess(pi.hProcess, &code);
    s = absl::InternalError(absl::StrCat(
        "mp: spawned child ", pi.dwProcessId, " ended (exit code ",
        ExitCodeOf(code),
        ") before it started its target; did main() call mp::Init() first?"));
  }
  cleanup();
  if (!s.ok()) {
    WaitForSingleObject(pi.hProcess, INFINITE);
    ReleaseChild(child);
    return s;
  }
  return child;
}

absl::StatusOr<std::optional<int>> WaitChild(Child& child,
                                             absl::Duration timeout) {
  if (child.reaped || child.sentinel == -1) {
    return absl::FailedPreconditionError("mp: child already reaped");
  }
  HANDLE process = reinterpret_cast<HANDLE>(child.sentinel);
  const absl::Time deadline = internal::DeadlineAfter(timeout);
  for (;;) {
    const DWORD r = WaitForSingleObject(process, WaitMs(deadline));
    if (r == WAIT_OBJECT_0) break;
    if (r == WAIT_FAILED) return OsError("WaitForSingleObject");
    if (internal::MonotonicNow() >= deadline) return std::optional<int>();
  }
  DWORD code = 0;
  if (!GetExitCodeProcess(process, &code)) {
    return OsError("GetExitCodeProcess");
  }
  child.reaped = true;
  return std::optional<int>(ExitCodeOf(code));
}

absl::Status SignalChild(const Child& child, Signal signal) {
  if (child.reaped) return absl::OkStatus();  // reaped already
  HANDLE process = reinterpret_cast<HANDLE>(child.sentinel);
  if (WaitForSingleObject(process, 0) == WAIT_OBJECT_0) return absl::OkStatus();
  if (!TerminateProcess(process,
                        signal == Signal::kKill ? kKillCode : kTerminateCode)) {
    const DWORD err = GetLastError();
    // It ended between the check and the call.
    if (err == ERROR_ACCESS_DENIED &&
        WaitForSingleObject(process, 0) == WAIT_OBJECT_0) {
      return absl::OkStatus();
    }
    return OsError("TerminateProcess", err);
  }
  return absl::OkStatus();
}

void ReleaseChild(Child& child) {
  if (child.sentinel == -1) return;
  CloseHandle(reinterpret_cast<HANDLE>(child.sentinel));
  child.sentinel = -1;
}

std::optional<Launch> ReceiveLaunch(int argc, char** argv) {
  if (argc < 3 || std::strcmp(argv[1], kChildFlag) != 0) return std::nullopt;
  std::vector<absl::string_view> values = absl::StrSplit(argv[2], ',');
  uintptr_t launch_value = 0, answer_value = 0;
  DWORD flags = 0;
  if (values.size() != 2 || !absl::SimpleAtoi(values[0], &launch_value) ||
      !absl::SimpleAtoi(values[1], &answer_value) ||
      !GetHandleInformation(reinterpret_cast<HANDLE>(launch_value), &flags) ||
      !GetHandleInformation(reinterpret_cast<HANDLE>(answer_value), &flags)) {
    std::fprintf(stderr, "mp: %s %s: not a valid spawn channel\n", kChildFlag,
                 argv[2]);
    ExitNow(2);
  }
  HANDLE launch_pipe = reinterpret_cast<HANDLE>(launch_value);
  g_answer = reinterpret_cast<HANDLE>(answer_value);
  // Ours alone: neither may leak into processes this child creates.
  SetHandleInformation(launch_pipe, HANDLE_FLAG_INHERIT, 0);
  SetHandleInformation(g_answer, HANDLE_FLAG_INHERIT, 0);
  absl::StatusOr<std::string> bytes =
      ReadFrameFrom(launch_pipe, internal::MonotonicNow() + SpawnTimeout());
  CloseHandleOnce(launch_pipe);
  absl::StatusOr<Launch> launch = bytes.ok()
                                      ? DecodeLaunch(*bytes)
                                      : absl::StatusOr<Launch>(bytes.status());
  if (!launch.ok()) {
    AnswerLaunch(launch.status());
    ExitNow(2);
  }
  // The handles among the arguments were inheritable only to reach this
  // child; they must not leak into processes it creates.
  for (intptr_t h : launch->handles) {
    SetHandleInformation(reinterpret_cast<HANDLE>(h), HANDLE_FLAG_INHERIT, 0);
  }
  return *std::move(launch);
}

void AnswerLaunch(const absl::Status& status) {
  if (g_answer == nullptr) return;
  (void)WriteAll(g_answer, Frame(EncodeAnswer(status)));
  CloseHandleOnce(g_answer);
}

absl::StatusOr<intptr_t> DuplicateOsHandle(intptr_t handle) {
  HANDLE dup = nullptr;
  if (!DuplicateHandle(GetCurrentProcess(), reinterpret_cast<HANDLE>(handle),
                       GetCurrentProcess(), &dup, 0, FALSE,
                       DUPLICATE_SAME_ACCESS)) {
    return OsError("DuplicateHandle");
  }
  return reinterpret_cast<intptr_t>(dup);
}

void CloseOsHandle(intptr_t handle) {
  HANDLE h = reinterpret_cast<HANDLE>(handle);
  CloseHandleOnce(h);
}

void ExitNow(int code) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  // ExitProcess runs no C++ destructors and no atexit handlers.
  ExitProcess(static_cast<UINT>(code));
}

int64_t CurrentPid() { return GetCurrentProcessId(); }

int64_t ParentPid() {
  const DWORD self = GetCurrentProcessId();
  HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snapshot == INVALID_HANDLE_VALUE) return -1;
  PROCESSENTRY32W entry = {};
  entry.dwSize = sizeof entry;
  int64_t parent = -1;
  for (BOOL ok = Process32FirstW(snapshot, &entry); ok;
       ok = Process32NextW(snapshot, &entry)) {
    if (entry.th32ProcessID == self) {
      parent = entry.th32ParentProcessID;
      break;
    }
  }
  CloseHandle(snapshot);
  return parent;
}

int CpuCount() {
  const DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace os
}  // namespace mp
