// Copyright 2026 The mp Authors.
//
// The Win32 backend of mp/internal/os.h: the OS's part of spawn (a copy of
// the running binary by CreateProcessW, and its channel; the protocol is
// mp/internal/spawn.h). Function for function the mirror of
// posix/process.cc.

// <windows.h> first: the other Win32 headers need it.
// clang-format off
#include <windows.h>
#include <tlhelp32.h>
// clang-format on

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <cwchar>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "win32/util.h"

namespace mp {
namespace os {
namespace {

// Terminate() and Kill() end a child with these exit codes, which read back
// through the API as -SIGTERM and -SIGKILL, as on POSIX and in Python.
constexpr UINT kTerminateCode = static_cast<UINT>(-15);
constexpr UINT kKillCode = static_cast<UINT>(-9);

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
absl::StatusOr<std::wstring> RunningBinaryPath() {
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

// The command line of a copy: `exe`, then `arguments`, each quoted.
std::wstring CommandLine(const std::wstring& exe,
                         const std::vector<std::string>& arguments) {
  std::wstring cmd;
  AppendQuoted(cmd, exe);
  for (const std::string& a : arguments) {
    cmd += L' ';
    AppendQuoted(cmd, Widen(a));
  }
  return cmd;
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

// The inheritable handles made for one child, and the attribute list that
// names them (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), so that it inherits those
// and nothing else. Closed and freed when this goes: as soon as
// CreateProcessW has returned, since until then any process started by
// another thread of this program with bInheritHandles and no list of its
// own (system()) would inherit them too.
class InheritedHandles {
 public:
  InheritedHandles() = default;
  InheritedHandles(const InheritedHandles&) = delete;
  InheritedHandles& operator=(const InheritedHandles&) = delete;
  ~InheritedHandles() {
    for (HANDLE h : owned_) CloseHandle(h);
    if (attributes_ != nullptr) {
      DeleteProcThreadAttributeList(attributes_);
      HeapFree(GetProcessHeap(), 0, attributes_);
    }
  }

  // Names `h`, which the caller keeps and closes.
  void Name(HANDLE h) { listed_.push_back(h); }
  // An inheritable duplicate of `h`, named and closed here; its value is
  // the one the child sees.
  absl::StatusOr<HANDLE> Duplicate(HANDLE h) {
    HANDLE dup = nullptr;
    if (!DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, 0,
                         TRUE, DUPLICATE_SAME_ACCESS)) {
      return OsError("DuplicateHandle");
    }
    owned_.push_back(dup);
    listed_.push_back(dup);
    return dup;
  }
  // The standard handle `which` as an inheritable duplicate, or null.
  HANDLE Standard(DWORD which) {
    HANDLE h = InheritableStdHandle(which);
    if (h != nullptr) {
      owned_.push_back(h);
      listed_.push_back(h);
    }
    return h;
  }
  // The attribute list naming every handle above; call once, last.
  absl::StatusOr<LPPROC_THREAD_ATTRIBUTE_LIST> Attributes() {
    SIZE_T size = 0;
    InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
    auto* list = static_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(
        HeapAlloc(GetProcessHeap(), 0, size));
    if (list == nullptr ||
        !InitializeProcThreadAttributeList(list, 1, 0, &size)) {
      absl::Status s = OsError("InitializeProcThreadAttributeList");
      if (list != nullptr) HeapFree(GetProcessHeap(), 0, list);
      return s;
    }
    attributes_ = list;
    if (!UpdateProcThreadAttribute(
            list, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, listed_.data(),
            listed_.size() * sizeof(HANDLE), nullptr, nullptr)) {
      return OsError("UpdateProcThreadAttribute");
    }
    return list;
  }

 private:
  std::vector<HANDLE> owned_;
  std::vector<HANDLE> listed_;
  LPPROC_THREAD_ATTRIBUTE_LIST attributes_ = nullptr;
};

// The name of an environment entry "NAME=value" (one of the per-drive
// entries "=C:=C:\dir" starts with '=': its name is "=C:").
std::wstring EntryName(const std::wstring& entry) {
  return entry.substr(0, entry.find(L'=', 1));
}

// Whether two environment variable names are the same to Windows
// (case-insensitive, without regard to locale).
int CompareNames(const std::wstring& a, const std::wstring& b) {
  return CompareStringOrdinal(a.c_str(), static_cast<int>(a.size()), b.c_str(),
                              static_cast<int>(b.size()), TRUE);
}

// The child's environment block (ChildIo): "NAME=value" entries, each
// ended by a NUL, sorted by name as CreateProcessW requires
// (case-insensitively, in Unicode order), and a final NUL.
std::wstring EnvironmentBlock(const ChildIo& io) {
  std::vector<std::wstring> entries;
  if (io.environment_mode == ChildIo::Environment::kExtend) {
    wchar_t* strings = GetEnvironmentStringsW();
    for (const wchar_t* p = strings; p != nullptr && *p != L'\0';
         p += wcslen(p) + 1) {
      entries.emplace_back(p);
    }
    if (strings != nullptr) FreeEnvironmentStringsW(strings);
  }
  for (const auto& [name, value] : io.environment) {
    const std::wstring wide_name = Widen(name);
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [&](const std::wstring& e) {
                                   return CompareNames(EntryName(e),
                                                       wide_name) == CSTR_EQUAL;
                                 }),
                  entries.end());
    entries.push_back(wide_name + L"=" + Widen(value));
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const std::wstring& a, const std::wstring& b) {
                     return CompareNames(EntryName(a), EntryName(b)) ==
                            CSTR_LESS_THAN;
                   });
  std::wstring block;
  for (const std::wstring& e : entries) {
    block += e;
    block += L'\0';
  }
  if (entries.empty()) block += L'\0';
  block += L'\0';
  return block;
}

// CreateProcessW of `exe` with `cmd`, suspended. Wine (8.0) now and then
// fails it with ERROR_INTERNAL_ERROR when processes start and die in quick
// succession (about once in 3 000 starts in the thousand-kill queue case);
// no process exists after such a failure, so it is simply tried again. A
// child that asked to break away from this process's job stays in it if
// the job does not allow that.
absl::Status CreateSuspended(const std::wstring& exe, std::wstring& cmd,
                             DWORD flags, void* environment,
                             const wchar_t* directory, STARTUPINFOEXW& si,
                             PROCESS_INFORMATION& pi) {
  BOOL created = FALSE;
  for (int attempt = 0; attempt < 3; ++attempt) {
    created = CreateProcessW(exe.c_str(), &cmd[0], nullptr, nullptr,
                             /*bInheritHandles=*/TRUE, flags, environment,
                             directory, &si.StartupInfo, &pi);
    if (created || GetLastError() != ERROR_INTERNAL_ERROR) break;
  }
  if (!created && GetLastError() == ERROR_ACCESS_DENIED &&
      (flags & CREATE_BREAKAWAY_FROM_JOB) != 0) {
    flags &= ~static_cast<DWORD>(CREATE_BREAKAWAY_FROM_JOB);
    created =
        CreateProcessW(exe.c_str(), &cmd[0], nullptr, nullptr, TRUE, flags,
                       environment, directory, &si.StartupInfo, &pi);
  }
  if (!created) return OsError(absl::StrCat("CreateProcessW ", Narrow(exe)));
  return absl::OkStatus();
}

}  // namespace

bool HasFork() { return false; }

bool ChildrenShareAddressSpace() { return false; }

absl::StatusOr<Child> StartFork(const Target&) {
  return absl::InvalidArgumentError("mp: Windows has no fork start method");
}

absl::StatusOr<Child> StartForkserverChild(const Launch&, const ChildIo&) {
  return absl::InvalidArgumentError(
      "mp: Windows has no forkserver start method (it has no fork)");
}

absl::Status EnsureForkserver() {
  return absl::InvalidArgumentError(
      "mp: Windows has no forkserver start method (it has no fork)");
}

void StopForkserver() {}

absl::StatusOr<SpawnChannel> CreateSpawnChannel() {
  absl::StatusOr<PipeEnds> pipe =
      CreateConnectedPipe(L"\\\\.\\pipe\\mp-spawn-", /*duplex=*/true,
                          /*messages=*/false, 1 << 20);
  if (!pipe.ok()) return pipe.status();
  // The child takes the server end: it can ask who the client is
  // (AdoptSpawnChannel).
  return SpawnChannel{OwnedHandle(reinterpret_cast<intptr_t>(pipe->client)),
                      OwnedHandle(reinterpret_cast<intptr_t>(pipe->server))};
}

absl::Status WriteSpawnChannel(intptr_t end, absl::string_view bytes,
                               internal::Deadline deadline) {
  HANDLE h = reinterpret_cast<HANDLE>(end);
  while (!bytes.empty()) {
    absl::StatusOr<DWORD> n =
        TransferBefore(h, /*write=*/true, const_cast<char*>(bytes.data()),
                       bytes.size(), deadline, "spawn channel");
    if (!n.ok()) return n.status();
    bytes.remove_prefix(*n);
  }
  return absl::OkStatus();
}

absl::Status ReadSpawnChannel(intptr_t end, char* out, size_t size,
                              internal::Deadline deadline) {
  HANDLE h = reinterpret_cast<HANDLE>(end);
  while (size > 0) {
    absl::StatusOr<DWORD> n = TransferBefore(h, /*write=*/false, out, size,
                                             deadline, "spawn channel");
    if (!n.ok()) return n.status();
    out += *n;
    size -= *n;
  }
  return absl::OkStatus();
}

absl::StatusOr<StartedCopy> StartCopy(CopySpec spec) {
  absl::StatusOr<std::wstring> exe = RunningBinaryPath();
  if (!exe.ok()) return exe.status();
  HANDLE job = nullptr;
  if (spec.options.die_with_parent) {
    absl::StatusOr<HANDLE> j = KillOnCloseJob();
    if (!j.ok()) return j.status();
    job = *j;
  }
  // The channel end is this child's alone: it is inherited under its own
  // value (the command line names it) and closed here once the child has
  // its copy. The handles are shared objects: the child inherits
  // duplicates, whose values it is sent.
  HANDLE channel = reinterpret_cast<HANDLE>(spec.channel.get());
  if (!SetHandleInformation(channel, HANDLE_FLAG_INHERIT,
                            HANDLE_FLAG_INHERIT)) {
    return OsError("SetHandleInformation");
  }
  StartedCopy started;
  PROCESS_INFORMATION pi = {};
  {
    InheritedHandles inherited;
    inherited.Name(channel);
    for (intptr_t h : spec.handles) {
      absl::StatusOr<HANDLE> dup =
          inherited.Duplicate(reinterpret_cast<HANDLE>(h));
      if (!dup.ok()) return dup.status();
      started.handles.push_back(reinterpret_cast<intptr_t>(*dup));
    }
    // Each standard handle: this process's own, or the one `io` names.
    HANDLE standard[3];
    constexpr DWORD kWhich[3] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE,
                                 STD_ERROR_HANDLE};
    for (int stream = 0; stream < 3; ++stream) {
      if (spec.io.streams[stream] == -1) {
        standard[stream] = inherited.Standard(kWhich[stream]);
        continue;
      }
      absl::StatusOr<HANDLE> dup = inherited.Duplicate(
          reinterpret_cast<HANDLE>(spec.io.streams[stream]));
      if (!dup.ok()) return dup.status();
      standard[stream] = *dup;
    }
    STARTUPINFOEXW si = {};
    si.StartupInfo.cb = sizeof si;
    si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    si.StartupInfo.hStdInput = standard[0];
    si.StartupInfo.hStdOutput = standard[1];
    si.StartupInfo.hStdError = standard[2];
    absl::StatusOr<LPPROC_THREAD_ATTRIBUTE_LIST> attributes =
        inherited.Attributes();
    if (!attributes.ok()) return attributes.status();
    si.lpAttributeList = *attributes;
    std::wstring cmd = CommandLine(*exe, spec.arguments);
    std::wstring environment;
    if (spec.io.environment_mode != ChildIo::Environment::kInherit) {
      environment = EnvironmentBlock(spec.io);
    }
    const std::wstring directory = Widen(spec.io.working_directory_path);
    // Suspended until it is in the job, so it cannot start a grandchild
    // that escapes the job first.
    DWORD flags = EXTENDED_STARTUPINFO_PRESENT | CREATE_UNICODE_ENVIRONMENT |
                  CREATE_SUSPENDED;
    if (!spec.options.die_with_parent) flags |= CREATE_BREAKAWAY_FROM_JOB;
    absl::Status created = CreateSuspended(
        *exe, cmd, flags, environment.empty() ? nullptr : &environment[0],
        directory.empty() ? nullptr : directory.c_str(), si, pi);
    spec.channel.reset();
    if (!created.ok()) return created;
  }  // the inheritable copies are closed here
  started.child.pid = static_cast<int64_t>(pi.dwProcessId);
  started.child.sentinel.reset(reinterpret_cast<intptr_t>(pi.hProcess));
  if (job != nullptr && !AssignProcessToJobObject(job, pi.hProcess)) {
    absl::Status s = OsError("AssignProcessToJobObject");
    TerminateProcess(pi.hProcess, kKillCode);
    WaitForSingleObject(pi.hProcess, INFINITE);
    CloseHandle(pi.hThread);
    return s;
  }
  ResumeThread(pi.hThread);
  CloseHandle(pi.hThread);
  return started;
}

absl::StatusOr<OwnedHandle> AdoptSpawnChannel(intptr_t value) {
  HANDLE h = reinterpret_cast<HANDLE>(value);
  DWORD flags = 0;
  if (!GetHandleInformation(h, &flags)) {
    return absl::InvalidArgumentError(
        absl::StrCat(value, ": not an open spawn channel"));
  }
  ULONG client = 0;
  if (!GetNamedPipeClientProcessId(h, &client)) {
    return absl::InvalidArgumentError(absl::StrCat(
        value, ": not a spawn channel (error ", GetLastError(), ")"));
  }
  const int64_t parent = ParentPid();
  if (static_cast<int64_t>(client) != parent) {
    return absl::PermissionDeniedError(
        absl::StrCat("the spawn channel's other end was opened by process ",
                     client, ", not by this process's parent ", parent));
  }
  MakeHandlePrivate(value);
  return OwnedHandle(value);
}

void MakeHandlePrivate(intptr_t handle) {
  SetHandleInformation(reinterpret_cast<HANDLE>(handle), HANDLE_FLAG_INHERIT,
                       0);
}

bool IsPrivileged() { return false; }

absl::Status OsErrorStatus(absl::string_view call, int64_t code) {
  return OsError(call, static_cast<DWORD>(code));
}

absl::StatusOr<std::optional<int>> WaitChild(Child& child,
                                             internal::Deadline deadline) {
  if (child.reaped || !child.sentinel.valid()) {
    return absl::FailedPreconditionError("mp: child already reaped");
  }
  HANDLE process = reinterpret_cast<HANDLE>(child.sentinel.get());
  for (;;) {
    const DWORD r =
        WaitForSingleObject(process, deadline.ToWin32Milliseconds());
    if (r == WAIT_OBJECT_0) break;
    if (r == WAIT_FAILED) return OsError("WaitForSingleObject");
    if (deadline.Expired()) return std::optional<int>();
  }
  DWORD code = 0;
  if (!GetExitCodeProcess(process, &code)) {
    return OsError("GetExitCodeProcess");
  }
  child.reaped = true;
  return std::optional<int>(ExitCodeOf(code));
}

absl::Status SignalChild(const Child& child, Signal signal) {
  if (child.reaped || !child.sentinel.valid()) return absl::OkStatus();
  HANDLE process = reinterpret_cast<HANDLE>(child.sentinel.get());
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
