// Copyright 2026 The mp Authors.

#include "tests/conformance/helpers.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "mp/internal/framing.h"
#include "mp/process.h"
#include "tests/conformance/backends.h"

#if MP_OS_WINDOWS
#include <windows.h>
#else
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace mp {
namespace conformance {

int JoinCode(Process& p, absl::Duration patience) {
  absl::Status s = p.Join(patience);
  EXPECT_TRUE(s.ok()) << s;
  return p.ExitCode().value_or(-1000);
}

bool PidAlive(int64_t pid) {
#if MP_OS_WINDOWS
  HANDLE h = OpenProcess(SYNCHRONIZE, FALSE, static_cast<DWORD>(pid));
  if (h == nullptr) return false;
  const bool alive = WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
  CloseHandle(h);
  return alive;
#else
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  // A zombie has ended: it only waits to be reaped.
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (std::getline(stat, line)) {
    const size_t paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size()) {
      return line[paren + 2] != 'Z';
    }
  }
  return true;
#endif
}

void KillPid(int64_t pid) {
#if MP_OS_WINDOWS
  HANDLE h = OpenProcess(PROCESS_TERMINATE, FALSE, static_cast<DWORD>(pid));
  if (h != nullptr) {
    TerminateProcess(h, 1);
    CloseHandle(h);
  }
#else
  ::kill(static_cast<pid_t>(pid), SIGKILL);
#endif
}

int64_t OpenHandleCount() {
#if MP_OS_WINDOWS
  DWORD n = 0;
  if (!GetProcessHandleCount(GetCurrentProcess(), &n)) return -1;
  return n;
#else
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int64_t n = 0;
  while (readdir(dir) != nullptr) ++n;
  closedir(dir);
  return n;
#endif
}

#if !MP_OS_WINDOWS
namespace {

// Each child of this process as /proc shows it: its pid and state letter.
std::vector<std::pair<int64_t, std::string>> ChildrenInProc() {
  std::vector<std::pair<int64_t, std::string>> children;
  const std::string me = std::to_string(getpid());
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return children;
  while (dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::ifstream stat(absl::StrCat("/proc/", entry->d_name, "/stat"));
    std::string line;
    if (!std::getline(stat, line)) continue;
    // "pid (comm) S ppid ...": comm may hold spaces and parentheses.
    const size_t paren = line.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(line.substr(paren + 1));
    std::string state, ppid;
    rest >> state >> ppid;
    if (ppid == me) children.emplace_back(std::atoll(entry->d_name), state);
  }
  closedir(proc);
  return children;
}

}  // namespace
#endif

int CountZombieChildren() {
#if MP_OS_WINDOWS
  return 0;  // no zombies: an ended process lives on only in open handles
#else
  int zombies = 0;
  for (const auto& [pid, state] : ChildrenInProc()) {
    if (state == "Z") ++zombies;
  }
  return zombies;
#endif
}

std::vector<int64_t> ChildPids() {
  std::vector<int64_t> pids;
#if !MP_OS_WINDOWS
  for (const auto& [pid, state] : ChildrenInProc()) pids.push_back(pid);
#endif
  return pids;
}

std::unique_ptr<DescriptorsExhausted> DescriptorsExhausted::Create(int spare) {
#if MP_OS_WINDOWS
  (void)spare;
  return nullptr;
#else
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return nullptr;
  std::unique_ptr<DescriptorsExhausted> d(new DescriptorsExhausted);
  d->old_soft_limit_ = limit.rlim_cur;
  // Close to what is open, so that filling it takes few descriptors.
  limit.rlim_cur = static_cast<rlim_t>(OpenHandleCount() + 64);
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return nullptr;
  for (;;) {
    const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    d->fillers_.push_back(fd);
  }
  for (int i = 0; i < spare && !d->fillers_.empty(); ++i) {
    close(d->fillers_.back());
    d->fillers_.pop_back();
  }
  return d;
#endif
}

DescriptorsExhausted::~DescriptorsExhausted() {
#if !MP_OS_WINDOWS
  for (int fd : fillers_) close(fd);
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = static_cast<rlim_t>(old_soft_limit_);
    setrlimit(RLIMIT_NOFILE, &limit);
  }
#endif
}

void StallNextMessageAfterFirstRecord(Semaphore stalled, Semaphore go) {
  internal::TestHooks().between_records = [stalled, go]() mutable {
    internal::TestHooks().between_records = nullptr;
    if (!stalled.Release().ok() || !go.Acquire(kPatience).ok()) Exit(93);
  };
}

std::string NumberedMessage(int32_t n, size_t size) {
  std::string m(size, static_cast<char>('a' + n % 26));
  std::memcpy(&m[0], &n, sizeof n);
  return m;
}

bool IsNumberedMessage(const std::string& m, int32_t n, size_t size) {
  return m == NumberedMessage(n, size);
}

void WaitForRelease(Event release) {
  // Exit code 92: never told to end.
  if (!release.Wait(kPatience).ok()) Exit(92);
}

std::string TempPath(const std::string& name) {
  static std::atomic<int> counter{0};
  const char* dir = std::getenv("TEST_TMPDIR");
#if MP_OS_WINDOWS
  const char* sep = "\\";
  char system_tmp[MAX_PATH + 1] = {};
  if (dir == nullptr && GetTempPathA(sizeof(system_tmp), system_tmp) > 0) {
    dir = system_tmp;
  }
#else
  const char* sep = "/";
  if (dir == nullptr) dir = std::getenv("TMPDIR");
  if (dir == nullptr) dir = "/tmp";
#endif
  std::string base = dir != nullptr ? dir : ".";
  if (!base.empty() && (base.back() == '/' || base.back() == '\\')) {
    base.pop_back();
  }
  return absl::StrCat(base, sep, name, "-", CurrentPid(), "-", ++counter);
}

bool WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.good()) return false;
  }
  std::remove(path.c_str());
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

std::optional<std::string> WaitForFile(const std::string& path,
                                       absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    std::ifstream in(path, std::ios::binary);
    if (in.good()) {
      std::stringstream ss;
      ss << in.rdbuf();
      return ss.str();
    }
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(2));
  }
}

bool WaitUntilAsleep(int64_t pid, absl::Duration timeout) {
#if MP_OS_WINDOWS
  // Win32 shows no thread state without the native API: give the child the
  // few instructions between its marker and its wait.
  (void)pid;
  absl::SleepFor(std::min(timeout, absl::Milliseconds(200)));
  return true;
#else
  const absl::Time deadline = absl::Now() + timeout;
  do {
    std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
    std::string line;
    if (std::getline(stat, line)) {
      const size_t paren = line.rfind(')');
      if (paren != std::string::npos && paren + 2 < line.size() &&
          line[paren + 2] == 'S') {
        return true;
      }
    }
    absl::SleepFor(absl::Milliseconds(1));
  } while (absl::Now() < deadline);
  return false;
#endif
}

bool WaitPidGone(int64_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (PidAlive(pid)) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

std::unique_ptr<SharedCounters> SharedCounters::Open(const std::string& path) {
  constexpr size_t kBytes = kCount * sizeof(int64_t);
  std::unique_ptr<SharedCounters> c(new SharedCounters);
#if MP_OS_WINDOWS
  HANDLE file = CreateFileA(path.c_str(), GENERIC_READ | GENERIC_WRITE,
                            FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                            OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) return nullptr;
  c->file_ = reinterpret_cast<intptr_t>(file);
  HANDLE mapping =
      CreateFileMappingA(file, nullptr, PAGE_READWRITE, 0, kBytes, nullptr);
  if (mapping == nullptr) return nullptr;
  c->mapping_ = reinterpret_cast<intptr_t>(mapping);
  void* p = MapViewOfFile(mapping, FILE_MAP_ALL_ACCESS, 0, 0, kBytes);
  if (p == nullptr) return nullptr;
#else
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return nullptr;
  c->file_ = fd;
  if (::ftruncate(fd, kBytes) != 0) return nullptr;
  void* p = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return nullptr;
#endif
  c->values_ = static_cast<volatile int64_t*>(p);
  return c;
}

SharedCounters::~SharedCounters() {
#if MP_OS_WINDOWS
  if (values_ != nullptr) UnmapViewOfFile(const_cast<int64_t*>(values_));
  if (mapping_ != -1) CloseHandle(reinterpret_cast<HANDLE>(mapping_));
  if (file_ != -1) CloseHandle(reinterpret_cast<HANDLE>(file_));
#else
  if (values_ != nullptr) {
    ::munmap(const_cast<int64_t*>(values_), kCount * sizeof(int64_t));
  }
  if (file_ != -1) ::close(static_cast<int>(file_));
#endif
}

}  // namespace conformance
}  // namespace mp
