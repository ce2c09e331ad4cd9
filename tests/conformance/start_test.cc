// Copyright 2026 The mp Authors.
//
// What a child starts with, whatever the parent's state when it called
// Start(): the signal state mp/process.h promises (Terminate() works even
// when the parent blocks or ignores SIGTERM), and the process-wide start
// method, which a spawned child reads as its parent set it.
//
// Documented differences: Win32 has no signals (Terminate() is
// TerminateProcess, which nothing in the child can block), and a thread
// cannot be terminated.

#if !MP_OS_WINDOWS
#include <pthread.h>
#include <signal.h>
#endif

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "mp/internal/os.h"
#include "mp/internal/spawn.h"
#include "mp/process.h"
#include "mp/sync.h"
#include "tests/conformance/backends.h"
#include "tests/conformance/helpers.h"

namespace mp {
namespace conformance {
namespace {

constexpr char kNoSignals[] =
    "Windows has no signals: Terminate() is TerminateProcess, which the "
    "child cannot block or ignore";
constexpr char kNoTerminate[] = "a thread cannot be terminated";

// Exits with 10 + the start method this process reads as its default.
void ExitWithStartMethod() { Exit(10 + static_cast<int>(GetStartMethod())); }

// Sets the process-wide start method for its lifetime.
class ProcessWideStartMethod {
 public:
  ProcessWideStartMethod() : before_(GetStartMethod()) {}
  ~ProcessWideStartMethod() { EXPECT_TRUE(SetStartMethod(before_).ok()); }
  absl::Status Set(StartMethod method) { return SetStartMethod(method); }

 private:
  const StartMethod before_;
};

#if !MP_OS_WINDOWS
void DoNothing(int) {}

// For its lifetime: `blocked` blocked in the calling thread, and each
// signal's disposition in `dispositions` installed process-wide.
class SignalState {
 public:
  SignalState(std::vector<int> blocked,
              std::vector<std::pair<int, void (*)(int)>> dispositions) {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : blocked) sigaddset(&set, sig);
    EXPECT_EQ(pthread_sigmask(SIG_BLOCK, &set, &old_mask_), 0);
    for (const auto& [sig, handler] : dispositions) {
      struct sigaction sa = {};
      sa.sa_handler = handler;
      sigemptyset(&sa.sa_mask);
      struct sigaction old;
      EXPECT_EQ(sigaction(sig, &sa, &old), 0);
      old_.emplace_back(sig, old);
    }
  }
  ~SignalState() {
    for (const auto& [sig, old] : old_) sigaction(sig, &old, nullptr);
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }

 private:
  sigset_t old_mask_;
  std::vector<std::pair<int, struct sigaction>> old_;
};

// Exits 0 when this process started with the signal state Start()
// documents for a parent with SignalState({SIGTERM, SIGINT, SIGUSR2},
// {{SIGUSR1, DoNothing}, {SIGHUP, SIG_IGN}}); otherwise 40 plus a bit per
// difference.
void CheckSignalState() {
  int wrong = 0;
  struct sigaction sa;
  if (sigaction(SIGUSR1, nullptr, &sa) != 0 || sa.sa_handler != SIG_DFL) {
    wrong |= 1;  // the parent's handler
  }
  if (sigaction(SIGHUP, nullptr, &sa) != 0 || sa.sa_handler != SIG_IGN) {
    wrong |= 2;  // ignored in the parent: stays ignored
  }
  sigset_t mask;
  if (pthread_sigmask(SIG_SETMASK, nullptr, &mask) != 0) {
    wrong |= 4;
  } else {
    for (int sig = 1; sig < 32; ++sig) {
      if (sigismember(&mask, sig) == 1) wrong |= 4;  // the parent's mask
    }
  }
  Exit(wrong == 0 ? 0 : 40 + wrong);
}
#endif

template <typename B>
class StartTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(StartTest);

// Starts a child that waits, terminates it, and expects it ended by SIGTERM
// within a second.
template <typename B>
void ExpectTerminateEndsChild() {
  absl::StatusOr<Event> release = Event::Create();
  ASSERT_TRUE(release.ok());
  Process p = MakeProcess<B>(WaitForRelease, *release);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_TRUE(p.Terminate().ok());
  EXPECT_TRUE(p.Join(absl::Seconds(1)).ok());
  EXPECT_FALSE(p.IsAlive()) << "Terminate() did not end the child";
  if (p.IsAlive()) {  // clean up: SIGKILL can be neither blocked nor ignored
    (void)p.Kill();
    (void)p.Join(kPatience);
  }
  EXPECT_EQ(p.ExitCode(), -15);
}

TYPED_TEST_P(StartTest, TerminateEndsChildStartedWithSignalsBlocked) {
#if MP_OS_WINDOWS
  MP_DOCUMENTED_DIFFERENCE(kNoSignals);
#else
  MP_SKIP_ON_THREADS(kNoTerminate);
  // The common design: every thread blocks them, one thread sigwait()s.
  SignalState state({SIGTERM, SIGINT}, {});
  ExpectTerminateEndsChild<TypeParam>();
#endif
}

TYPED_TEST_P(StartTest, TerminateEndsChildStartedWithSigtermIgnored) {
#if MP_OS_WINDOWS
  MP_DOCUMENTED_DIFFERENCE(kNoSignals);
#else
  MP_SKIP_ON_THREADS(kNoTerminate);
  // An ignored disposition survives fork and exec alike.
  SignalState state({}, {{SIGTERM, SIG_IGN}});
  ExpectTerminateEndsChild<TypeParam>();
#endif
}

TYPED_TEST_P(StartTest, ChildStartsWithDefaultHandlersAndEmptyMask) {
#if MP_OS_WINDOWS
  MP_DOCUMENTED_DIFFERENCE(kNoSignals);
#else
  MP_SKIP_ON_THREADS(
      "signal handlers belong to the whole program: they cannot be reset "
      "for one thread");
  SignalState state({SIGTERM, SIGINT, SIGUSR2},
                    {{SIGUSR1, DoNothing}, {SIGHUP, SIG_IGN}});
  Process p = MakeProcess<TypeParam>(CheckSignalState);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0) << "41: the parent's handler; 42: an ignored "
                               "signal not ignored; 44: the parent's mask";
#endif
}

TYPED_TEST_P(StartTest, ChildReadsTheProcessWideStartMethod) {
  ProcessWideStartMethod process_wide;
  for (StartMethod method : {StartMethod::kFork, StartMethod::kSpawn}) {
    absl::Status s = process_wide.Set(method);
    if (!s.ok()) {  // Win32: no fork
      EXPECT_EQ(method, StartMethod::kFork) << s;
      EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
      continue;
    }
    // Started with the backend's method, whatever the process-wide one.
    Process p = MakeProcess<TypeParam>(ExitWithStartMethod);
    ASSERT_TRUE(p.Start().ok());
    EXPECT_EQ(JoinCode(p), 10 + static_cast<int>(method))
        << "process-wide " << StartMethodName(method) << "; 11: fork, "
        << "12: spawn";
  }
}

void ExitSeven() { Exit(7); }

TYPED_TEST_P(StartTest, ChildReapedBySomeoneElseReadsAsEnded) {
#if MP_OS_WINDOWS
  MP_DOCUMENTED_DIFFERENCE(
      "no SIGCHLD: a child's exit code stays with its process handle, which "
      "nothing else can reap");
#else
  MP_SKIP_ON_THREADS("a thread is not reaped: there is no SIGCHLD");
  {
    // Children that end are reaped by the kernel at once, as in a program
    // that ignores SIGCHLD or reaps with a handler of its own.
    SignalState state({}, {{SIGCHLD, SIG_IGN}});
    Process p = MakeProcess<TypeParam>(ExitSeven);
    ASSERT_TRUE(p.Start().ok());
    absl::Status joined = p.Join(kPatience);
    EXPECT_TRUE(joined.ok()) << joined;
    EXPECT_FALSE(p.IsAlive());
    EXPECT_EQ(p.ExitCode(), Process::kExitCodeUnknown);
    // Ended: never signalled again (its pid may be someone else's by now).
    EXPECT_TRUE(p.Terminate().ok());
    EXPECT_TRUE(p.Kill().ok());
  }
  // With SIGCHLD back to its default, codes are known again.
  Process q = MakeProcess<TypeParam>(ExitSeven);
  ASSERT_TRUE(q.Start().ok());
  EXPECT_EQ(JoinCode(q), 7);
#endif
}

// Code a forged launch names as its invoker. It must never run.
absl::Status NotAnInvoker(void (*)(), absl::string_view, HandleTable*) {
  Exit(77);
}

TYPED_TEST_P(StartTest, ForgedLaunchIsRefused) {
  MP_SKIP_ON_THREADS("a child thread takes no launch");
  if (TypeParam::kMethod == StartMethod::kFork) {
    MP_DOCUMENTED_DIFFERENCE("a fork child takes no launch: it is a copy");
  }
  // A launch mp did not make: its invoker is ordinary code of this binary
  // (it could as well be libc's system()).
  absl::StatusOr<internal::CodeRef> invoker =
      os::MakeCodeRef(reinterpret_cast<const void*>(&NotAnInvoker));
  absl::StatusOr<internal::CodeRef> function =
      os::MakeCodeRef(reinterpret_cast<const void*>(&ExitSeven));
  ASSERT_TRUE(invoker.ok() && function.ok());
  os::Launch launch;
  launch.invoker = *invoker;
  launch.function = *function;
  launch.start_method = GetStartMethod();
  absl::StatusOr<os::Child> child = internal::Spawn(launch);
  if (child.ok()) {  // accepted: reap it, then fail
    absl::StatusOr<std::optional<int>> code = os::WaitChild(*child, kPatience);
    FAIL() << "a forged launch was accepted; the child exited with "
           << (code.ok() && code->has_value() ? **code : -1);
  }
  EXPECT_TRUE(absl::IsInvalidArgument(child.status())) << child.status();
  EXPECT_NE(child.status().message().find("not one of this program's"),
            absl::string_view::npos)
      << child.status();
}

REGISTER_TYPED_TEST_SUITE_P(StartTest,
                            TerminateEndsChildStartedWithSignalsBlocked,
                            TerminateEndsChildStartedWithSigtermIgnored,
                            ChildStartsWithDefaultHandlersAndEmptyMask,
                            ChildReadsTheProcessWideStartMethod,
                            ChildReapedBySomeoneElseReadsAsEnded,
                            ForgedLaunchIsRefused);

INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, StartTest, Backends, BackendName);

}  // namespace
}  // namespace conformance
}  // namespace mp
