// Copyright 2026 The mp Authors.
//
// The forkserver start method (POSIX) where it differs in kind from fork
// and spawn, which the conformance suite's forkserver column cannot show:
// its server is a process of its own that may end before its children, and
// its children get the starter's standard streams, environment, working
// directory and handles across a process boundary, not by inheritance.

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "mp/pipe.h"
#include "mp/process.h"
#include "mp/sync.h"

namespace mp {
namespace {

constexpr absl::Duration kPatience = absl::Seconds(30);

// The pid of this process's forkserver (started now if need be): its one
// child, as /proc shows them, that is not among ActiveChildren(); -1 if
// there is none.
int64_t ForkserverPid() {
  if (!StartForkserver().ok()) return -1;
  const std::vector<int64_t> active = ActiveChildren();
  const std::string me = std::to_string(::getpid());
  int64_t server = -1;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return -1;
  while (dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::ifstream stat(absl::StrCat("/proc/", entry->d_name, "/stat"));
    std::string line;
    if (!std::getline(stat, line)) continue;
    const size_t paren = line.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(line.substr(paren + 1));
    std::string state, ppid;
    rest >> state >> ppid;
    const int64_t pid = std::atoll(entry->d_name);
    if (ppid != me || state == "Z" ||
        std::find(active.begin(), active.end(), pid) != active.end()) {
      continue;
    }
    server = server == -1 ? pid : -2;  // -2: more than one
  }
  ::closedir(proc);
  return server < 0 ? -1 : server;
}

Process Forkserver(Process p, bool die_with_parent = true) {
  EXPECT_TRUE(p.SetStartMethod(StartMethod::kForkserver).ok());
  EXPECT_TRUE(p.SetDieWithParent(die_with_parent).ok());
  return p;
}

void WaitForEvent(Event e) { Exit(e.Wait(kPatience).ok() ? 0 : 3); }

// A child that opted out of dying with its parent outlives its server,
// killed outright: it still reads as alive, its sentinel turns ready only
// when it ends, Terminate() still reaches it, and its exit code, which no
// one reported, is kExitCodeUnknown. The next Start() gets a new server.
TEST(ForkserverTest, ChildOutlivesItsKilledServer) {
  absl::StatusOr<Event> never = Event::Create();
  ASSERT_TRUE(never.ok());
  Process p = Forkserver(Process(WaitForEvent, *never), false);
  ASSERT_TRUE(p.Start().ok());
  const int64_t server = ForkserverPid();
  ASSERT_GT(server, 0);
  ASSERT_EQ(::kill(static_cast<pid_t>(server), SIGKILL), 0);
  // The server's end of the status pipe closes as it dies; the child runs.
  ASSERT_TRUE(p.Join(absl::Milliseconds(300)).ok());
  EXPECT_TRUE(p.IsAlive());
  absl::StatusOr<std::vector<size_t>> ready =
      Wait({}, {&p}, absl::Milliseconds(100));
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_TRUE(ready->empty()) << "the sentinel is ready, the child is not";
  ASSERT_TRUE(p.Terminate().ok());
  ASSERT_TRUE(p.Join(kPatience).ok());
  EXPECT_FALSE(p.IsAlive());
  EXPECT_EQ(p.ExitCode(), Process::kExitCodeUnknown);

  Process next = Forkserver(Process(Exit, 5));
  ASSERT_TRUE(next.Start().ok());
  ASSERT_TRUE(next.Join(kPatience).ok());
  EXPECT_EQ(next.ExitCode(), 5);
  EXPECT_NE(ForkserverPid(), server);
}

// A child that dies with its parent dies with its server too (the death
// signal is the server's), and reads as ended with kExitCodeUnknown.
TEST(ForkserverTest, ChildDiesWithItsKilledServer) {
  absl::StatusOr<Event> never = Event::Create();
  ASSERT_TRUE(never.ok());
  Process p = Forkserver(Process(WaitForEvent, *never));
  ASSERT_TRUE(p.Start().ok());
  const int64_t server = ForkserverPid();
  ASSERT_GT(server, 0);
  ASSERT_EQ(::kill(static_cast<pid_t>(server), SIGKILL), 0);
  ASSERT_TRUE(p.Join(kPatience).ok());
  EXPECT_FALSE(p.IsAlive());
  EXPECT_EQ(p.ExitCode(), Process::kExitCodeUnknown);
}

// Exits 0 when it holds `n` locks and each is the one it was given (the
// parent holds the odd ones).
void CheckLocks(std::vector<Lock> locks) {
  int wrong = 0;
  for (size_t i = 0; i < locks.size(); ++i) {
    const bool free = locks[i].Acquire(absl::ZeroDuration()).ok();
    if (free != (i % 2 == 0)) ++wrong;
    if (free) (void)locks[i].Release();
  }
  Exit(wrong == 0 ? 0 : 10);
}

// More handles than one message carries (the request sends them in
// batches of 200).
TEST(ForkserverTest, FiveHundredHandlesArrive) {
  std::vector<Lock> locks;
  for (int i = 0; i < 500; ++i) {
    absl::StatusOr<Lock> lock = Lock::Create();
    ASSERT_TRUE(lock.ok()) << i << ": " << lock.status();
    if (i % 2 == 1) {
      ASSERT_TRUE(lock->Acquire().ok());
    }
    locks.push_back(*lock);
  }
  Process p = Forkserver(Process(CheckLocks, locks));
  ASSERT_TRUE(p.Start().ok());
  ASSERT_TRUE(p.Join(kPatience).ok());
  EXPECT_EQ(p.ExitCode(), 0);
  for (size_t i = 1; i < locks.size(); i += 2) {
    ASSERT_TRUE(locks[i].Release().ok());
  }
}

// Exits 0 when its working directory is `dir`.
void CheckWorkingDirectory(std::string dir) {
  char here[4096];
  Exit(::getcwd(here, sizeof here) != nullptr && dir == here ? 0 : 20);
}

void WriteToStdout(std::string text) {
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

// Exits 0 when the variable `name` is `value`, 21 when it is unset.
void CheckVariable(std::string name, std::string value) {
  const char* got = std::getenv(name.c_str());
  Exit(got == nullptr ? 21 : value == got ? 0 : 22);
}

// The child starts in the starter's working directory, with its
// environment and its standard streams as they are at Start(), not as
// they were when the server started.
TEST(ForkserverTest,
     ChildGetsTheStartersDirectoryEnvironmentAndStreamsAtStart) {
  ASSERT_TRUE(StartForkserver().ok());
  ASSERT_EQ(::setenv("MP_FORKSERVER_LATE", "set after the server", 1), 0);
  Process v =
      Forkserver(Process(CheckVariable, std::string("MP_FORKSERVER_LATE"),
                         std::string("set after the server")));
  const absl::Status with_variable = v.Start();
  ASSERT_EQ(::unsetenv("MP_FORKSERVER_LATE"), 0);
  ASSERT_TRUE(with_variable.ok()) << with_variable;
  ASSERT_TRUE(v.Join(kPatience).ok());
  EXPECT_EQ(v.ExitCode(), 0);

  char before[4096];
  ASSERT_NE(::getcwd(before, sizeof before), nullptr);
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp != nullptr ? tmp : "/tmp";
  ASSERT_EQ(::chdir(dir.c_str()), 0);
  char resolved[4096];
  ASSERT_NE(::getcwd(resolved, sizeof resolved), nullptr);
  Process p = Forkserver(Process(CheckWorkingDirectory, std::string(resolved)));
  const absl::Status started = p.Start();
  ASSERT_EQ(::chdir(before), 0);
  ASSERT_TRUE(started.ok()) << started;
  ASSERT_TRUE(p.Join(kPatience).ok());
  EXPECT_EQ(p.ExitCode(), 0);

  // Standard output redirected to a pipe after the server started.
  std::fflush(stdout);
  int ends[2];
  ASSERT_EQ(::pipe(ends), 0);
  const int saved = ::dup(1);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(::dup2(ends[1], 1), 1);
  ::close(ends[1]);
  Process w = Forkserver(Process(WriteToStdout, std::string("to the pipe")));
  const absl::Status written = w.Start();
  ::dup2(saved, 1);
  ::close(saved);
  ASSERT_TRUE(written.ok()) << written;
  ASSERT_TRUE(w.Join(kPatience).ok());
  EXPECT_EQ(w.ExitCode(), 0);
  std::string got;
  char buffer[64];
  for (ssize_t n; (n = ::read(ends[0], buffer, sizeof buffer)) > 0;) {
    got.append(buffer, static_cast<size_t>(n));
  }
  ::close(ends[0]);
  EXPECT_EQ(got, "to the pipe");
}

// Exits 0 when its parent is `parent`, whatever the OS says (its OS parent
// is the server).
void CheckParent(int64_t parent) { Exit(ParentPid() == parent ? 0 : 4); }

// Several threads start children at once: one server, and each child's
// ParentPid() is the starter.
TEST(ForkserverTest, ConcurrentStartsFromEightThreads) {
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 25; ++i) {
        Process p = Forkserver(Process(CheckParent, CurrentPid()));
        if (!p.Start().ok() || !p.Join(kPatience).ok() || p.ExitCode() != 0) {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace mp
