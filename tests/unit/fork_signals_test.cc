// Copyright 2026 The mp Authors.
//
// A child's signal state and its unflushed streams, started by a parent
// with one thread and then by the same parent with several. With one
// thread the parent reads the signal dispositions for the child before
// fork() and the child walks the C library's streams without their list's
// lock; with several the child reads its own and takes the lock. Either
// way the child must start as mp/process.h promises and must write out
// what its streams hold when it ends.
//
// Its own main() with no thread (mp_test_main.cc starts a watchdog thread,
// so the conformance suite only ever sees a parent with several).

#include <pthread.h>
#include <signal.h>
#include <sys/single_threaded.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "mp/init.h"
#include "mp/process.h"

namespace mp {
namespace {

void DoNothing(int) {}
void DoNothingWithInfo(int, siginfo_t*, void*) {}

// Exits 0 when this process started with the signal state Start()
// promises to the child of a ParentSignals() parent, else 40 plus a bit
// per difference. Leaves "flushed" in a stream it neither flushes nor
// closes: ending must write it to `path`.
void CheckChild(std::string path) {
  int wrong = 0;
  struct sigaction sa;
  const auto is = [&sa](int sig, void (*handler)(int)) {
    return sigaction(sig, nullptr, &sa) == 0 && sa.sa_handler == handler;
  };
  if (!is(SIGUSR1, SIG_DFL)) wrong |= 1;        // the parent's handler
  if (!is(SIGRTMAX, SIG_DFL)) wrong |= 2;       // the same, signal 64
  if (!is(SIGTERM, SIG_DFL)) wrong |= 4;        // ignored SIGTERM
  if (!is(SIGPIPE, SIG_IGN)) wrong |= 8;        // ignored: stays ignored
  if (!is(SIGRTMIN + 3, SIG_IGN)) wrong |= 16;  // the same, realtime
  sigset_t mask;
  if (pthread_sigmask(SIG_SETMASK, nullptr, &mask) != 0) wrong |= 32;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&mask, sig) == 1) wrong |= 32;  // the parent's mask
  }
  FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr || std::fputs("flushed", out) < 0) wrong |= 64;
  Exit(wrong == 0 ? 0 : 40 + wrong);
}

// For its lifetime: handlers on SIGUSR1 and SIGRTMAX (with SA_SIGINFO),
// SIGTERM, SIGPIPE and SIGRTMIN + 3 ignored, SIGINT and SIGUSR2 blocked in
// the calling thread.
class ParentSignals {
 public:
  ParentSignals() {
    Set(SIGUSR1, DoNothing);
    struct sigaction info = {};
    info.sa_sigaction = DoNothingWithInfo;
    info.sa_flags = SA_SIGINFO;
    sigemptyset(&info.sa_mask);
    Install(SIGRTMAX, info);
    Set(SIGTERM, SIG_IGN);
    Set(SIGPIPE, SIG_IGN);
    Set(SIGRTMIN + 3, SIG_IGN);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGUSR2);
    EXPECT_EQ(pthread_sigmask(SIG_BLOCK, &block, &old_mask_), 0);
  }
  ~ParentSignals() {
    for (const auto& [sig, old] : old_) sigaction(sig, &old, nullptr);
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }

 private:
  void Set(int sig, void (*handler)(int)) {
    struct sigaction sa = {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    Install(sig, sa);
  }
  void Install(int sig, const struct sigaction& sa) {
    struct sigaction old;
    EXPECT_EQ(sigaction(sig, &sa, &old), 0) << sig;
    old_.emplace_back(sig, old);
  }

  sigset_t old_mask_;
  std::vector<std::pair<int, struct sigaction>> old_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Starts CheckChild with `method` under ParentSignals and expects it to
// end with 0, having written its stream.
void ExpectChildStartsAsPromised(StartMethod method, const std::string& tag) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/fork_signals_", tag);
  std::remove(path.c_str());
  {
    ParentSignals signals;
    Process p(CheckChild, path);
    ASSERT_TRUE(p.SetStartMethod(method).ok());
    ASSERT_TRUE(p.Start().ok()) << tag;
    ASSERT_TRUE(p.Join(absl::Seconds(60)).ok()) << tag;
    EXPECT_EQ(p.ExitCode(), 0)
        << tag << ": 41: SIGUSR1's handler; 42: SIGRTMAX's handler; 44: "
        << "SIGTERM still ignored; 48, 56: an ignored signal not ignored; "
        << "72: the parent's mask; 104: no file";
  }
  EXPECT_EQ(ReadFile(path), "flushed") << tag
                                       << ": the stream was not "
                                          "written out when the child ended";
  std::remove(path.c_str());
}

TEST(ForkSignalsTest, ChildOfOneThreadAndOfSeveralStartsAsPromised) {
  // Before any other thread exists: the parent reads the dispositions.
  ASSERT_TRUE(__libc_single_threaded)
      << "this case needs a process that never had a second thread";
  ExpectChildStartsAsPromised(StartMethod::kFork, "fork_one_thread");
  ExpectChildStartsAsPromised(StartMethod::kSpawn, "spawn_one_thread");
  ASSERT_TRUE(__libc_single_threaded);

  // From the first other thread on: each child reads its own.
  std::thread([] {}).join();
  ASSERT_FALSE(__libc_single_threaded);
  ExpectChildStartsAsPromised(StartMethod::kFork, "fork_several_threads");
  ExpectChildStartsAsPromised(StartMethod::kSpawn, "spawn_several_threads");
}

}  // namespace
}  // namespace mp

int main(int argc, char** argv) {
  mp::MainScope scope = mp::Init(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
