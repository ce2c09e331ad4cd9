// Copyright 2026 The mp Authors.
//
// A child holds exactly the handles it was given and the standard streams:
// not a descriptor this process opened without close-on-exec (a plain
// pipe()), and not a copy that Start() made for it and that another thread's
// process could inherit. And Start() gives a spawned child one deadline for
// the whole handshake, sending the launch included, as it gives a
// forkserver one for taking the request and answering.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "mp/internal/os.h"
#include "mp/internal/spawn.h"
#include "mp/pipe.h"
#include "mp/process.h"
#include "mp/status.h"
#include "mp/sync.h"
#include "tests/conformance/backends.h"
#include "tests/conformance/helpers.h"

#if MP_OS_WINDOWS
#include <windows.h>
#else
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;
#endif

namespace mp {
namespace conformance {
namespace {

// While this variable names a path, every process this binary starts by
// executing itself (a spawned child, or the bystander below) hangs in a
// static initialiser, as a program can, until that file exists: it writes
// its pid to "<path>.pid", then waits (at most twice kPatience, so that
// every wait of the parent's ends first). A "exit:" prefix
// makes it exit with code 0 right after.
constexpr char kHangVariable[] = "MP_STRAY_TEST_HANG_UNTIL";
constexpr char kExitPrefix[] = "exit:";

const bool g_hung_in_static_initialiser = [] {
  const char* value = std::getenv(kHangVariable);
  if (value == nullptr || *value == '\0') return false;
  std::string path = value;
  const bool exit_after = path.rfind(kExitPrefix, 0) == 0;
  if (exit_after) path.erase(0, sizeof kExitPrefix - 1);
  WriteFileAtomically(path + ".pid", std::to_string(CurrentPid()));
  (void)WaitForFile(path, 2 * kPatience);
  if (exit_after) std::_Exit(0);
  return true;
}();

void SetHangVariable(const std::string& value) {
#if MP_OS_WINDOWS
  SetEnvironmentVariableA(kHangVariable, value.c_str());
#else
  setenv(kHangVariable, value.c_str(), 1);
#endif
}

void ClearHangVariable() {
#if MP_OS_WINDOWS
  SetEnvironmentVariableA(kHangVariable, nullptr);
#else
  unsetenv(kHangVariable);
#endif
}

// The pid a hung process announced for `path`, or -1 after kPatience.
int64_t HungPid(const std::string& path) {
  int64_t pid = -1;
  std::optional<std::string> text = WaitForFile(path + ".pid", kPatience);
  if (!text.has_value() || !absl::SimpleAtoi(*text, &pid)) return -1;
  return pid;
}

// How a Start() that must give up by itself went.
struct WatchedStart {
  absl::Status status;
  absl::Duration took;
  bool watchdog_fired = false;
};

// Runs `child.Start()`. Should it block past kPatience, runs `unblock`,
// which must make it fail, so that the case reports instead of hanging.
WatchedStart StartWatched(Process& child,
                          const std::function<void()>& unblock) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::atomic<bool> fired{false};
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mu);
    if (cv.wait_for(lock, absl::ToChronoSeconds(kPatience),
                    [&] { return done; })) {
      return;
    }
    fired = true;
    unblock();
  });
  WatchedStart start;
  const absl::Time before = absl::Now();
  start.status = child.Start();
  start.took = absl::Now() - before;
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_all();
  watchdog.join();
  start.watchdog_fired = fired;
  return start;
}

// A pipe made the way a user makes one, without mp: POSIX pipe() (no
// O_CLOEXEC), Win32 CreatePipe with inheritable handles.
bool MakeUserPipe(intptr_t* read, intptr_t* write) {
#if MP_OS_WINDOWS
  SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, /*bInheritHandle=*/TRUE};
  HANDLE r = nullptr, w = nullptr;
  if (!CreatePipe(&r, &w, &sa, 0)) return false;
  *read = reinterpret_cast<intptr_t>(r);
  *write = reinterpret_cast<intptr_t>(w);
#else
  int fds[2];
  if (::pipe(fds) != 0) return false;
  *read = fds[0];
  *write = fds[1];
#endif
  return true;
}

void CloseUserHandle(intptr_t h) {
#if MP_OS_WINDOWS
  CloseHandle(reinterpret_cast<HANDLE>(h));
#else
  ::close(static_cast<int>(h));
#endif
}

// Whether the read end of a user pipe that carries no data reports end of
// file (every write end closed) within `timeout`.
bool SeesEndOfFile(intptr_t read, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
#if MP_OS_WINDOWS
  // An anonymous pipe cannot be waited on: peek until it breaks.
  for (;;) {
    DWORD available = 0;
    if (!PeekNamedPipe(reinterpret_cast<HANDLE>(read), nullptr, 0, nullptr,
                       &available, nullptr)) {
      return GetLastError() == ERROR_BROKEN_PIPE;
    }
    if (available > 0 || absl::Now() >= deadline) return false;
    Sleep(1);
  }
#else
  for (;;) {
    struct pollfd p = {static_cast<int>(read), POLLIN, 0};
    const absl::Duration left = deadline - absl::Now();
    const int ms = left <= absl::ZeroDuration()
                       ? 0
                       : static_cast<int>(absl::ToInt64Milliseconds(
                             absl::Ceil(left, absl::Milliseconds(1))));
    const int n = ::poll(&p, 1, ms);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    char byte;
    return ::read(static_cast<int>(read), &byte, 1) == 0;
  }
#endif
}

// Starts this binary again the way another thread's system() or
// CreateProcess would: inheriting every descriptor or handle this process
// lets a child inherit. Returns its pid and a handle to reap it by.
struct Bystander {
  int64_t pid = -1;
  intptr_t handle = -1;
};

std::optional<Bystander> StartBystander() {
#if MP_OS_WINDOWS
  char exe[MAX_PATH + 1] = {};
  if (GetModuleFileNameA(nullptr, exe, MAX_PATH) == 0) return std::nullopt;
  std::string cmd = std::string("\"") + exe + "\"";
  STARTUPINFOA si = {};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi = {};
  if (!CreateProcessA(exe, &cmd[0], nullptr, nullptr, /*bInheritHandles=*/TRUE,
                      0, nullptr, nullptr, &si, &pi)) {
    return std::nullopt;
  }
  CloseHandle(pi.hThread);
  return Bystander{pi.dwProcessId, reinterpret_cast<intptr_t>(pi.hProcess)};
#else
  char exe[] = "/proc/self/exe";
  char* const argv[] = {exe, nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, exe, nullptr, nullptr, argv, environ) != 0) {
    return std::nullopt;
  }
  return Bystander{pid, pid};
#endif
}

// Whether the bystander ended with exit code 0 within kPatience; it is
// reaped (and its handle closed) either way.
bool ReapBystander(const Bystander& b) {
#if MP_OS_WINDOWS
  HANDLE h = reinterpret_cast<HANDLE>(b.handle);
  DWORD code = 1;
  const bool ended =
      WaitForSingleObject(
          h, static_cast<DWORD>(absl::ToInt64Milliseconds(kPatience))) ==
          WAIT_OBJECT_0 &&
      GetExitCodeProcess(h, &code);
  if (!ended) TerminateProcess(h, 1);
  WaitForSingleObject(h, INFINITE);
  CloseHandle(h);
  return ended && code == 0;
#else
  const bool ended = WaitPidGone(b.pid, kPatience);
  if (!ended) KillPid(b.pid);
  int status = 0;
  while (::waitpid(static_cast<pid_t>(b.pid), &status, 0) < 0 &&
         errno == EINTR) {
  }
  return ended && WIFEXITED(status) && WEXITSTATUS(status) == 0;
#endif
}

// Waits for `release` longer than the parent waits for end of file, so
// that its end cannot be what the parent sees. Exit code 92: never told.
void OutwaitTheParent(Event release) {
  if (!release.Wait(2 * kPatience).ok()) Exit(92);
}

// Returns, dropping its end of the pipe.
void TakeConnectionAndReturn(Connection theirs) { (void)theirs; }

void ReturnAtOnce(std::string args) { (void)args; }

template <typename B>
class StrayTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(StrayTest);

// A spawned child is a fresh program: a descriptor or handle it was not
// given does not reach it, even one this process left inheritable. A fork
// child is a copy of this process, as under Python: it keeps every
// descriptor mp did not open (mp's own channel ends it was not given are
// closed in it), so the user's reader sees end of file only once it ends.
TYPED_TEST_P(StrayTest, SpawnedChildGetsNoStrayDescriptors) {
  MP_SKIP_ON_THREADS("a child thread shares every descriptor of its process");
  intptr_t read = -1, write = -1;
  ASSERT_TRUE(MakeUserPipe(&read, &write));
  absl::StatusOr<Event> release = Event::Create();
  ASSERT_TRUE(release.ok()) << release.status();
  Process child = MakeProcess<TypeParam>(OutwaitTheParent, *release);
  absl::Status started = child.Start();
  CloseUserHandle(write);
  ASSERT_TRUE(started.ok()) << started;
  if (TypeParam::kMethod == StartMethod::kFork) {
    EXPECT_FALSE(SeesEndOfFile(read, absl::ZeroDuration()))
        << "a fork child keeps the descriptors it inherited";
    ASSERT_TRUE(release->Set().ok());
    EXPECT_EQ(JoinCode(child), 0);
    EXPECT_TRUE(SeesEndOfFile(read, kPatience));
  } else {
    EXPECT_TRUE(SeesEndOfFile(read, kPatience))
        << "the spawned child holds a copy of the pipe's write end";
    EXPECT_TRUE(child.IsAlive());
    ASSERT_TRUE(release->Set().ok());
    EXPECT_EQ(JoinCode(child), 0);
  }
  CloseUserHandle(read);
}

// Another thread starts a process that inherits everything inheritable
// (system(), CreateProcess with bInheritHandles) while Start() waits for a
// spawned child hung in a static initialiser. Whatever Start() made
// inheritable for its child must be private again by then (Win32: the
// duplicates are closed as soon as CreateProcessW returns), or the
// bystander holds the child's end of a pipe and the parent's reader does
// not see end of file when the child ends.
TYPED_TEST_P(StrayTest, ProcessStartedDuringStartInheritsNothing) {
  MP_SKIP_ON_THREADS("a child thread has no handshake and no handles to pass");
  if (TypeParam::kMethod == StartMethod::kFork) {
    MP_DOCUMENTED_DIFFERENCE(
        "a fork child has no handshake: Start() returns when fork() does, "
        "and nothing is made inheritable for it");
  }
  if (TypeParam::kMethod == StartMethod::kForkserver) {
    MP_DOCUMENTED_DIFFERENCE(
        "a forkserver child runs no static initialiser to hang in (its "
        "server ran them once), and nothing is made inheritable for it: its "
        "descriptors reach the server by SCM_RIGHTS");
  }
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  auto& [mine, theirs] = *pipe;
  Process child = MakeProcess<TypeParam>(TakeConnectionAndReturn, theirs);
  child.CloseAfterStart(theirs);
  const std::string child_release = TempPath("child-init");
  const std::string bystander_release = TempPath("bystander-init");
  std::optional<Bystander> bystander;
  // Set before the other thread exists: the environment is not
  // thread-safe, and the thread changes it only after the child started.
  SetHangVariable(child_release);
  std::thread other([&] {
    // Once the child runs its static initialisers, Start() is waiting for
    // its answer.
    const int64_t pid = HungPid(child_release);
    SetHangVariable(kExitPrefix + bystander_release);
    if (pid > 0) bystander = StartBystander();
    ClearHangVariable();
    WriteFileAtomically(child_release, "go");
  });
  absl::Status started = child.Start();
  other.join();
  ClearHangVariable();
  ASSERT_TRUE(bystander.has_value());
  const int64_t bystander_pid = HungPid(bystander_release);
  EXPECT_GT(bystander_pid, 0);
  EXPECT_TRUE(started.ok()) << started;
  if (started.ok()) {
    EXPECT_EQ(JoinCode(child), 0);
    absl::StatusOr<std::string> eof = mine.RecvBytes(kPatience);
    EXPECT_TRUE(IsEndOfFile(eof.status()))
        << eof.status() << ": the bystander holds the child's end";
    EXPECT_TRUE(PidAlive(bystander_pid)) << "the bystander ended too early";
  }
  WriteFileAtomically(bystander_release, "go");
  EXPECT_TRUE(ReapBystander(*bystander));
}

// Sets SpawnTimeout() for one case.
class SpawnTimeoutForCase {
 public:
  explicit SpawnTimeoutForCase(absl::Duration timeout)
      : saved_(internal::SpawnTimeout()) {
    internal::SetSpawnTimeoutForTesting(timeout);
  }
  ~SpawnTimeoutForCase() { internal::SetSpawnTimeoutForTesting(saved_); }

 private:
  absl::Duration saved_;
};

// The pid of this process's forkserver, started now if need be: its one
// child that is not among ActiveChildren(); -1 if there is none.
[[maybe_unused]] int64_t ForkserverPid() {
  if (!StartForkserver().ok()) return -1;
  const std::vector<int64_t> active = ActiveChildren();
  int64_t server = -1;
  for (int64_t pid : ChildPids()) {
    if (std::find(active.begin(), active.end(), pid) != active.end()) continue;
    if (server != -1) return -1;  // more than one: the case cannot tell
    server = pid;
  }
  return server;
}

// LaunchSendHonoursTheDeadline under forkserver: the server, not the
// child, is what stops reading. Stopped (SIGSTOP) while 4 MiB of arguments
// are sent to it, it must be given up at the one deadline, killed, and
// replaced by a new one at the next Start().
template <typename B>
void ExpectStoppedForkserverMissesTheDeadline() {
#if MP_OS_WINDOWS
  FAIL() << "no forkserver on Windows";
#else
  constexpr absl::Duration kTimeout = absl::Seconds(2);
  SpawnTimeoutForCase timeout(kTimeout);
  const int64_t server = ForkserverPid();
  ASSERT_GT(server, 0) << "no forkserver found among this process's children";
  ASSERT_EQ(::kill(static_cast<pid_t>(server), SIGSTOP), 0);
  Process child = MakeProcess<B>(ReturnAtOnce, std::string(4 << 20, 'x'));
  // Should Start() block, killing the server makes the send fail.
  const WatchedStart start = StartWatched(child, [&] { KillPid(server); });
  EXPECT_FALSE(start.watchdog_fired) << "Start() blocked for " << start.took;
  EXPECT_TRUE(absl::IsDeadlineExceeded(start.status)) << start.status;
  EXPECT_GE(start.took, kTimeout);
  EXPECT_LT(start.took, kTimeout + absl::Seconds(10));
  EXPECT_TRUE(WaitPidGone(server, kPatience)) << "the server was not killed";
  // The next Start() is served by a new server.
  Process next = MakeProcess<B>(ReturnAtOnce, std::string("x"));
  ASSERT_TRUE(next.Start().ok());
  EXPECT_EQ(JoinCode(next), 0);
  EXPECT_NE(ForkserverPid(), server);
#endif
}

// A spawned child hung in a static initialiser never reads its launch; 4 MiB
// of arguments do not fit in the channel's buffer. Start() must still give
// up at its one deadline, kill the child and say so.
TYPED_TEST_P(StrayTest, LaunchSendHonoursTheDeadline) {
  MP_SKIP_ON_THREADS("a child thread has no handshake: nothing is sent");
  if (TypeParam::kMethod == StartMethod::kFork) {
    MP_DOCUMENTED_DIFFERENCE(
        "a fork child has no handshake: its arguments are in its memory");
  }
  if (TypeParam::kMethod == StartMethod::kForkserver) {
    ExpectStoppedForkserverMissesTheDeadline<TypeParam>();
    return;
  }
  constexpr absl::Duration kTimeout = absl::Seconds(2);
  SpawnTimeoutForCase timeout(kTimeout);
  const std::string release = TempPath("hung-init");
  Process child =
      MakeProcess<TypeParam>(ReturnAtOnce, std::string(4 << 20, 'x'));
  // Should Start() block, ending the child makes the send fail.
  SetHangVariable(release);
  const WatchedStart start = StartWatched(child, [&] {
    const int64_t pid = HungPid(release);
    if (pid > 0) KillPid(pid);
  });
  ClearHangVariable();
  EXPECT_FALSE(start.watchdog_fired) << "Start() blocked for " << start.took;
  EXPECT_TRUE(absl::IsDeadlineExceeded(start.status)) << start.status;
  EXPECT_GE(start.took, kTimeout);
  EXPECT_LT(start.took, kTimeout + absl::Seconds(10));
  const int64_t pid = HungPid(release);
  EXPECT_GT(pid, 0);
  if (pid > 0) {
    EXPECT_TRUE(WaitPidGone(pid, kPatience)) << "the child was not killed";
  }
  WriteFileAtomically(release, "go");
}

REGISTER_TYPED_TEST_SUITE_P(StrayTest, SpawnedChildGetsNoStrayDescriptors,
                            ProcessStartedDuringStartInheritsNothing,
                            LaunchSendHonoursTheDeadline);

INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, StrayTest, Backends, BackendName);

}  // namespace
}  // namespace conformance
}  // namespace mp
