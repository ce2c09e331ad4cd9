// Copyright 2026 The mp Authors.

#include "tests/conformance/helpers.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "mp/process.h"

#if MP_OS_WINDOWS
#include <windows.h>
#else
#include <errno.h>
#include <signal.h>
#endif

namespace mp {
namespace conformance {

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

std::string TempPath(const std::string& name) {
  static std::atomic<int> counter{0};
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string base = dir != nullptr ? dir : ".";
#if MP_OS_WINDOWS
  const char* sep = "\\";
#else
  const char* sep = "/";
#endif
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

bool WaitPidGone(int64_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (PidAlive(pid)) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

}  // namespace conformance
}  // namespace mp
