// Copyright 2026 The mp Authors.
//
// Process conformance: the same cases on every backend.

#include "mp/process.h"

#include <array>
#include <csignal>
#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "mp/sync.h"
#include "tests/conformance/backends.h"
#include "tests/conformance/helpers.h"

namespace mp {
namespace conformance {
namespace {

void ReturnNormally() {}

void ExitWith(int code) { Exit(code); }

// Ends the process the OS way, not through mp::Exit.
void ExitProcessWith(int code) { std::_Exit(code); }

// Writes `path` when it goes out of scope.
struct WriteOnDestruction {
  std::string path;
  ~WriteOnDestruction() { WriteFileAtomically(path, "unwound"); }
};

void ExitFromDeepInside(std::string marker) {
  WriteOnDestruction w{marker};
  Exit(9);
}

void Throw() { throw std::runtime_error("raised in the child"); }

void SleepLong() { absl::SleepFor(absl::Hours(1)); }

// Exits 0 when the arguments arrived as sent, 3 otherwise.
void CheckArgs(int i, std::string s, std::vector<double> v, bool b) {
  const bool same = i == -42 && s == std::string("h\0llo", 5) &&
                    v == std::vector<double>{1.5, -0.0, 1e300} && b;
  Exit(same ? 0 : 3);
}

// Exits 0 when this child's parent is `parent`.
void CheckParent(int64_t parent) { Exit(ParentPid() == parent ? 0 : 4); }

// Set by module initialisation (a dynamic initialiser), which a spawned
// child runs again and a fork child inherits.
int ComputedAtInit() { return 33; }
const int g_set_by_module_init = ComputedAtInit();
// Changed by a test in main's thread before Start(): a fork child sees the
// change, a spawned child sees the value module initialisation gave it.
int g_changed_in_main = 1;

void ExitWithInitGlobal() { Exit(g_set_by_module_init); }
void ExitWithChangedGlobal() { Exit(g_changed_in_main); }

enum class Fruit : int16_t { kApple = -3, kPear = 7 };

struct Record {
  int64_t id = 0;
  std::string name;
  std::map<std::string, std::vector<int>> tags;
  MP_FIELDS(id, name, tags);
  bool operator==(const Record& o) const {
    return id == o.id && name == o.name && tags == o.tags;
  }
};

Record SampleRecord() {
  return Record{-9, "rec", {{"a", {1, 2, 3}}, {"", {}}}};
}

// Exits 0 when every codec type arrived equal, 3 otherwise.
void CheckEveryType(uint8_t u8, float f, Fruit fruit, std::array<int, 3> arr,
                    std::pair<std::string, double> pair,
                    std::tuple<bool, int, std::string> tuple,
                    std::optional<std::string> some, std::optional<int> none,
                    std::unordered_map<int, std::string> umap, Record record,
                    std::vector<std::optional<Record>> records) {
  const bool same =
      u8 == 255 && f == 2.5f && fruit == Fruit::kPear &&
      arr == std::array<int, 3>{7, 8, 9} &&
      pair == std::make_pair(std::string("pi"), 3.14159) &&
      tuple == std::make_tuple(true, -1, std::string("t")) &&
      some == std::optional<std::string>("x") && !none.has_value() &&
      umap == std::unordered_map<int, std::string>{{1, "one"}, {2, "two"}} &&
      record == SampleRecord() && records.size() == 2 && !records[0] &&
      records[1] == SampleRecord();
  Exit(same ? 0 : 3);
}

// Faults on a bad address (not null, so no sanitizer claims it first).
void Segfault() {
  std::signal(SIGSEGV, SIG_DFL);
  *reinterpret_cast<volatile int*>(uintptr_t{16}) = 1;
}

// Starts a grandchild with `method` that checks its parent is this child;
// exits 21 when the grandchild exited 0.
void StartGrandchild(StartMethod method) {
  Process g(CheckParent, CurrentPid());
  if (!g.SetStartMethod(method).ok() || !g.Start().ok() ||
      !g.Join(kPatience).ok()) {
    Exit(30);
  }
  Exit(g.ExitCode() == 0 ? 21 : 22);
}

// A daemon child: exits 0 when starting a child of its own is refused.
void DaemonTriesToStartChild(StartMethod method) {
  Process g(ReturnNormally);
  (void)g.SetStartMethod(method);
  absl::Status s = g.Start();
  Exit(s.code() == absl::StatusCode::kFailedPrecondition ? 0 : 5);
}

// Writes a file after a short while (a non-daemon grandchild's last act).
void WriteMarkerLater(std::string path) {
  absl::SleepFor(absl::Milliseconds(200));
  WriteFileAtomically(path, "done");
}

// Starts a daemon grandchild that sleeps forever and a non-daemon one that
// writes `marker` late, reports both pids in `pids_file`, and returns: the
// end of this child's code must terminate the first and join the second.
void StartDaemonAndWorker(StartMethod method, std::string pids_file,
                          std::string marker) {
  Process daemon(SleepLong);
  Process worker(WriteMarkerLater, marker);
  (void)daemon.SetStartMethod(method);
  (void)worker.SetStartMethod(method);
  (void)daemon.SetDaemon(true);
  if (!daemon.Start().ok() || !worker.Start().ok()) Exit(40);
  WriteFileAtomically(pids_file,
                      absl::StrCat(*daemon.Pid(), " ", *worker.Pid()));
}

// Starts two grandchildren that sleep forever, a daemon and a non-daemon
// one (dying with this child unless `keep` says otherwise), reports their
// pids, then sleeps forever itself.
void StartSleepersAndWait(StartMethod method, bool keep, std::string pid_file) {
  Process worker(SleepLong);
  Process daemon(SleepLong);
  (void)daemon.SetDaemon(true);
  for (Process* g : {&worker, &daemon}) {
    (void)g->SetStartMethod(method);
    (void)g->SetDieWithParent(!keep);
    if (!g->Start().ok()) Exit(40);
  }
  WriteFileAtomically(pid_file,
                      absl::StrCat(*worker.Pid(), " ", *daemon.Pid()));
  SleepLong();
}

class Server : public Process {
 public:
  Server(int a, std::string b)
      : Process(RunsAs<Server>(), a, b), a_(a), b_(b) {}
  void Run() override { Exit(a_ + static_cast<int>(b_.size())); }

 private:
  int a_;
  std::string b_;
};

template <typename B>
class ProcessTest : public ::testing::Test {};

TYPED_TEST_SUITE_P(ProcessTest);

TYPED_TEST_P(ProcessTest, NormalReturnExitsZero) {
  Process p = MakeProcess<TypeParam>(ReturnNormally);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0);
  EXPECT_FALSE(p.IsAlive());
  if (!TypeParam::kThreads) {
    EXPECT_FALSE(PidAlive(*p.Pid())) << "joined child left a zombie";
  }
}

// A Process object dropped while its child runs: the child is not killed,
// and once it ends it is reaped (no zombie), here by ActiveChildren().
TYPED_TEST_P(ProcessTest, DroppedProcessIsReapedLater) {
  const std::string marker = TempPath("dropped");
  int64_t pid = 0;
  {
    Process p = MakeProcess<TypeParam>(WriteMarkerLater, marker);
    ASSERT_TRUE(p.Start().ok());
    pid = *p.Pid();
  }
  ASSERT_TRUE(WaitForFile(marker, kPatience).has_value())
      << "the child was killed with its Process object";
  const absl::Time deadline = absl::Now() + kPatience;
  for (;;) {
    std::vector<int64_t> active = ActiveChildren();
    if (std::find(active.begin(), active.end(), pid) == active.end()) break;
    ASSERT_LT(absl::Now(), deadline) << "never reaped";
    absl::SleepFor(absl::Milliseconds(2));
  }
  if (!TypeParam::kThreads) {
    EXPECT_FALSE(PidAlive(pid)) << "dropped child left a zombie";
  }
}

TYPED_TEST_P(ProcessTest, ExitCodeOfExit) {
  MP_SKIP_ON_THREADS("std::_Exit() in a child ends the whole program");
  Process p = MakeProcess<TypeParam>(ExitProcessWith, 7);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 7);
}

// mp::Exit, Python's sys.exit: the child's stack unwinds, its code is kept.
TYPED_TEST_P(ProcessTest, MpExitUnwindsAndSetsTheCode) {
  const std::string marker = TempPath("unwound");
  Process p = MakeProcess<TypeParam>(ExitFromDeepInside, marker);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 9);
  EXPECT_TRUE(WaitForFile(marker, absl::ZeroDuration()).has_value())
      << "mp::Exit did not run the target's destructors";
}

TYPED_TEST_P(ProcessTest, UncaughtExceptionExitsOne) {
  Process p = MakeProcess<TypeParam>(Throw);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 1);
}

TYPED_TEST_P(ProcessTest, ArgumentsArrive) {
  Process p =
      MakeProcess<TypeParam>(CheckArgs, -42, std::string("h\0llo", 5),
                             std::vector<double>{1.5, -0.0, 1e300}, true);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0);
}

TYPED_TEST_P(ProcessTest, CapturelessLambdaTarget) {
  Process p = MakeProcess<TypeParam>([](int a, int b) { Exit(a + b); }, 20, 22);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 42);
}

TYPED_TEST_P(ProcessTest, ChildsParentIsTheParent) {
  Process p = MakeProcess<TypeParam>(CheckParent, CurrentPid());
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0);
  ASSERT_TRUE(p.Pid().has_value());
  EXPECT_NE(*p.Pid(), CurrentPid());
}

TYPED_TEST_P(ProcessTest, StartTwiceFails) {
  Process p = MakeProcess<TypeParam>(ReturnNormally);
  ASSERT_TRUE(p.Start().ok());
  absl::Status again = p.Start();
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition) << again;
  EXPECT_EQ(JoinCode(p), 0);
}

TYPED_TEST_P(ProcessTest, JoinTimeoutThenKill) {
  MP_SKIP_ON_THREADS("a thread cannot be killed");
  Process p = MakeProcess<TypeParam>(SleepLong);
  EXPECT_FALSE(p.ExitCode().has_value());
  ASSERT_TRUE(p.Start().ok());
  EXPECT_TRUE(p.IsAlive());
  const absl::Time before = absl::Now();
  ASSERT_TRUE(p.Join(absl::Milliseconds(100)).ok());
  EXPECT_GE(absl::Now() - before, absl::Milliseconds(100));
  EXPECT_FALSE(p.ExitCode().has_value());  // still running
  ASSERT_TRUE(p.Kill().ok());
  EXPECT_EQ(JoinCode(p), -9);
  EXPECT_FALSE(p.IsAlive());
}

TYPED_TEST_P(ProcessTest, TerminateReadsAsMinusSigterm) {
  MP_SKIP_ON_THREADS("a thread cannot be terminated");
  Process p = MakeProcess<TypeParam>(SleepLong);
  ASSERT_TRUE(p.Start().ok());
  ASSERT_TRUE(p.Terminate().ok());
  EXPECT_EQ(JoinCode(p), -15);
}

TYPED_TEST_P(ProcessTest, OperationsBeforeStartFail) {
  Process p = MakeProcess<TypeParam>(ReturnNormally);
  EXPECT_FALSE(p.IsAlive());
  EXPECT_FALSE(p.Pid().has_value());
  EXPECT_EQ(p.Join().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.Terminate().code(), absl::StatusCode::kFailedPrecondition);
}

TYPED_TEST_P(ProcessTest, GlobalSetByModuleInitIsSeen) {
  Process p = MakeProcess<TypeParam>(ExitWithInitGlobal);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 33);
}

// The seed's Windows-vs-Linux difference, as a tested difference: a fork
// child has the parent's memory; a spawned child re-ran module init only.
TYPED_TEST_P(ProcessTest, GlobalChangedInMainSeenByForkOnly) {
  g_changed_in_main = 2;
  Process p = MakeProcess<TypeParam>(ExitWithChangedGlobal);
  ASSERT_TRUE(p.Start().ok());
  const int code = JoinCode(p);
  g_changed_in_main = 1;
  EXPECT_EQ(code, TypeParam::kMethod == StartMethod::kFork ? 2 : 1);
}

TYPED_TEST_P(ProcessTest, HundredChildrenStartedThenJoined) {
  std::vector<Process> children;
  for (int i = 0; i < 100; ++i) {
    children.push_back(MakeProcess<TypeParam>(ExitWith, i));
    ASSERT_TRUE(children.back().Start().ok()) << i;
  }
  for (int i = 0; i < 100; ++i) EXPECT_EQ(JoinCode(children[i]), i);
}

TYPED_TEST_P(ProcessTest, FiftyTerminatedAllReadMinusSigterm) {
  MP_SKIP_ON_THREADS("a thread cannot be terminated");
  std::vector<Process> children;
  for (int i = 0; i < 50; ++i) {
    children.push_back(MakeProcess<TypeParam>(SleepLong));
    ASSERT_TRUE(children.back().Start().ok()) << i;
  }
  for (Process& p : children) ASSERT_TRUE(p.Terminate().ok());
  for (Process& p : children) EXPECT_EQ(JoinCode(p), -15);
}

TYPED_TEST_P(ProcessTest, Grandchild) {
  Process p = MakeProcess<TypeParam>(StartGrandchild, TypeParam::kMethod);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 21);
}

TYPED_TEST_P(ProcessTest, SegfaultReadsAsMinusSigsegv) {
  MP_SKIP_ON_THREADS("a crash in a child ends the whole program");
  Process p = MakeProcess<TypeParam>(Segfault);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), -11);
}

TYPED_TEST_P(ProcessTest, ArgumentsOfEveryCodecTypeArrive) {
  Process p = MakeProcess<TypeParam>(
      CheckEveryType, uint8_t{255}, 2.5f, Fruit::kPear,
      std::array<int, 3>{7, 8, 9}, std::make_pair(std::string("pi"), 3.14159),
      std::make_tuple(true, -1, std::string("t")),
      std::optional<std::string>("x"), std::optional<int>(),
      std::unordered_map<int, std::string>{{1, "one"}, {2, "two"}},
      SampleRecord(),
      std::vector<std::optional<Record>>{std::nullopt, SampleRecord()});
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0);
}

TYPED_TEST_P(ProcessTest, ClassStyleConstructorArgumentsReachChild) {
  Server s(40, "ab");
  ASSERT_TRUE(s.SetStartMethod(TypeParam::kMethod).ok());
  ASSERT_TRUE(s.Start().ok());
  EXPECT_EQ(JoinCode(s), 42);
}

TYPED_TEST_P(ProcessTest, DaemonMayNotStartChildren) {
  Process p =
      MakeProcess<TypeParam>(DaemonTriesToStartChild, TypeParam::kMethod);
  ASSERT_TRUE(p.SetDaemon(true).ok());
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0);
}

TYPED_TEST_P(ProcessTest, FlagsAfterStartFail) {
  Process p = MakeProcess<TypeParam>(ReturnNormally);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(p.SetDaemon(true).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.SetStartMethod(StartMethod::kSpawn).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.SetDieWithParent(false).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(JoinCode(p), 0);
}

TYPED_TEST_P(ProcessTest, JoinZeroOnLiveChildReturnsAtOnce) {
  absl::StatusOr<Event> release = Event::Create();
  ASSERT_TRUE(release.ok());
  Process p = MakeProcess<TypeParam>(WaitForRelease, *release);
  ASSERT_TRUE(p.Start().ok());
  const absl::Time before = absl::Now();
  EXPECT_TRUE(p.Join(absl::ZeroDuration()).ok());
  EXPECT_LT(absl::Now() - before, absl::Seconds(1));
  EXPECT_FALSE(p.ExitCode().has_value());
  EXPECT_TRUE(p.IsAlive());
  ASSERT_TRUE(release->Set().ok());
  EXPECT_EQ(JoinCode(p), 0);
}

TYPED_TEST_P(ProcessTest, CloseRefusedWhileRunningThenIdempotent) {
  absl::StatusOr<Event> release = Event::Create();
  ASSERT_TRUE(release.ok());
  Process p = MakeProcess<TypeParam>(WaitForRelease, *release);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(p.Close().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(p.Sentinel().ok());
  ASSERT_TRUE(release->Set().ok());
  EXPECT_EQ(JoinCode(p), 0);
  absl::Status closed = p.Close();
  EXPECT_TRUE(closed.ok()) << closed;
  EXPECT_TRUE(p.Close().ok());
  EXPECT_EQ(p.Join().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.Start().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(p.Sentinel().ok());
  EXPECT_EQ(p.ExitCode(), 0);
}

TYPED_TEST_P(ProcessTest, ActiveChildrenListsRunningChildren) {
  absl::StatusOr<Event> release = Event::Create();
  ASSERT_TRUE(release.ok());
  Process p = MakeProcess<TypeParam>(WaitForRelease, *release);
  ASSERT_TRUE(p.Start().ok());
  std::vector<int64_t> active = ActiveChildren();
  EXPECT_NE(std::find(active.begin(), active.end(), *p.Pid()), active.end());
  ASSERT_TRUE(release->Set().ok());
  EXPECT_EQ(JoinCode(p), 0);
  active = ActiveChildren();
  EXPECT_EQ(std::find(active.begin(), active.end(), *p.Pid()), active.end());
}

// Hygiene: start/join cycles leave no descriptor or handle open and no
// zombie behind (10 000 cycles; 1 000 under Wine, see backends.h).
TYPED_TEST_P(ProcessTest, TenThousandStartJoinsLeakNothing) {
  {  // the first Start creates what lives as long as the program
    Process warm = MakeProcess<TypeParam>(ReturnNormally);
    ASSERT_TRUE(warm.Start().ok());
    ASSERT_EQ(JoinCode(warm), 0);
  }
  const int64_t before = OpenHandleCount();
  ASSERT_GE(before, 0);
  for (int i = 0; i < TypeParam::kStartJoinCycles; ++i) {
    Process p = MakeProcess<TypeParam>(ReturnNormally);
    ASSERT_TRUE(p.Start().ok()) << "cycle " << i;
    ASSERT_EQ(JoinCode(p), 0) << "cycle " << i;
  }
  EXPECT_EQ(OpenHandleCount(), before)
      << "descriptors or handles leaked over " << TypeParam::kStartJoinCycles
      << " cycles";
  EXPECT_EQ(CountZombieChildren(), 0);
  EXPECT_TRUE(ActiveChildren().empty());
}

// Start() with the descriptor limit reached, at every step of starting a
// child (0, 1, 2, ... descriptors to spare): a clear ResourceExhausted
// error or a working child, and never a leaked descriptor.
TYPED_TEST_P(ProcessTest, StartWithDescriptorsExhaustedFailsCleanly) {
  MP_SKIP_ON_THREADS("starting a thread takes no descriptor");
  if (std::unique_ptr<DescriptorsExhausted> probe =
          DescriptorsExhausted::Create(0);
      probe == nullptr) {
    MP_DOCUMENTED_DIFFERENCE(
        "Windows has no per-process handle limit a test can lower");
  }
  {  // the first Start creates what lives as long as the program
    Process warm = MakeProcess<TypeParam>(ReturnNormally);
    ASSERT_TRUE(warm.Start().ok());
    ASSERT_EQ(JoinCode(warm), 0);
  }
  const int64_t before = OpenHandleCount();
  bool failed_cleanly = false;
  for (int spare = 0; spare <= 8; ++spare) {
    absl::Status started;
    {
      std::unique_ptr<DescriptorsExhausted> full =
          DescriptorsExhausted::Create(spare);
      ASSERT_NE(full, nullptr);
      Process p = MakeProcess<TypeParam>(ReturnNormally);
      started = p.Start();
      if (started.ok()) {
        EXPECT_EQ(JoinCode(p), 0) << spare << " spare";
      } else {
        failed_cleanly = true;
        EXPECT_EQ(started.code(), absl::StatusCode::kResourceExhausted)
            << spare << " spare: " << started;
      }
    }
    EXPECT_EQ(OpenHandleCount(), before)
        << "leaked with " << spare << " spare: " << started;
  }
  EXPECT_TRUE(failed_cleanly) << "Start() never ran out of descriptors";
  Process after = MakeProcess<TypeParam>(ReturnNormally);
  ASSERT_TRUE(after.Start().ok());
  EXPECT_EQ(JoinCode(after), 0);
}

// Seed §4/§7 for a child's own children: when its code ends, the daemon is
// terminated and the other child is joined (its late marker exists).
TYPED_TEST_P(ProcessTest, EndOfCodeTerminatesDaemonsAndJoinsOthers) {
  MP_SKIP_ON_THREADS(
      "a daemon thread cannot be terminated; it is left running, as "
      "Python leaves daemon threads");
  const std::string pids_file = TempPath("pids");
  const std::string marker = TempPath("marker");
  Process p = MakeProcess<TypeParam>(StartDaemonAndWorker, TypeParam::kMethod,
                                     pids_file, marker);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0);
  std::optional<std::string> pids =
      WaitForFile(pids_file, absl::ZeroDuration());
  ASSERT_TRUE(pids.has_value());
  std::vector<std::string> parts = absl::StrSplit(*pids, ' ');
  ASSERT_EQ(parts.size(), 2u);
  int64_t daemon_pid = 0, worker_pid = 0;
  ASSERT_TRUE(absl::SimpleAtoi(parts[0], &daemon_pid));
  ASSERT_TRUE(absl::SimpleAtoi(parts[1], &worker_pid));
  EXPECT_TRUE(WaitForFile(marker, absl::ZeroDuration()).has_value())
      << "the non-daemon grandchild was not joined";
  EXPECT_TRUE(WaitPidGone(daemon_pid, kPatience));
  EXPECT_TRUE(WaitPidGone(worker_pid, kPatience));
}

// Starts a child that starts two sleeping grandchildren, a daemon and a
// non-daemon one (dying with it unless `keep`), kills the child with
// SIGKILL / TerminateProcess, and returns the grandchildren's pids (empty if
// the case failed on the way).
template <typename B>
std::vector<int64_t> KillParentOfSleepers(bool keep) {
  const std::string pid_file = TempPath("grandchildren");
  Process p = MakeProcess<B>(StartSleepersAndWait, B::kMethod, keep, pid_file);
  EXPECT_TRUE(p.Start().ok());
  std::optional<std::string> text = WaitForFile(pid_file, kPatience);
  std::vector<int64_t> pids;
  if (text.has_value()) {
    for (absl::string_view part : absl::StrSplit(*text, ' ')) {
      int64_t pid = 0;
      if (absl::SimpleAtoi(part, &pid)) pids.push_back(pid);
    }
  }
  EXPECT_EQ(pids.size(), 2u);
  EXPECT_TRUE(p.Kill().ok());
  EXPECT_EQ(JoinCode(p), -9);
  return pids;
}

// No orphans: grandchildren, daemon or not, die with their parent, even
// one killed by SIGKILL, unless they opted out.
TYPED_TEST_P(ProcessTest, ChildDiesWithKilledParent) {
  MP_SKIP_ON_THREADS("a parent thread cannot be killed alone");
  const std::vector<int64_t> grandchildren =
      KillParentOfSleepers<TypeParam>(/*keep=*/false);
  ASSERT_EQ(grandchildren.size(), 2u);
  const absl::Time killed = absl::Now();
  for (int64_t pid : grandchildren) {
    EXPECT_TRUE(WaitPidGone(pid, absl::Seconds(1) - (absl::Now() - killed)))
        << "grandchild " << pid << " outlived its killed parent by 1 s";
  }
  for (int64_t pid : grandchildren) KillPid(pid);
}

TYPED_TEST_P(ProcessTest, OptedOutChildOutlivesKilledParent) {
  MP_SKIP_ON_THREADS("a parent thread cannot be killed alone");
  const std::vector<int64_t> grandchildren =
      KillParentOfSleepers<TypeParam>(/*keep=*/true);
  ASSERT_EQ(grandchildren.size(), 2u);
  // Give a death signal, had there been one, ample time to land.
  for (int64_t pid : grandchildren) {
    EXPECT_FALSE(WaitPidGone(pid, absl::Milliseconds(300))) << pid;
  }
  for (int64_t pid : grandchildren) {
    KillPid(pid);
    EXPECT_TRUE(WaitPidGone(pid, kPatience));
  }
}

REGISTER_TYPED_TEST_SUITE_P(
    ProcessTest, NormalReturnExitsZero, ExitCodeOfExit,
    MpExitUnwindsAndSetsTheCode, UncaughtExceptionExitsOne, ArgumentsArrive,
    CapturelessLambdaTarget, ChildsParentIsTheParent, StartTwiceFails,
    JoinTimeoutThenKill, TerminateReadsAsMinusSigterm,
    OperationsBeforeStartFail, DroppedProcessIsReapedLater,
    GlobalSetByModuleInitIsSeen, GlobalChangedInMainSeenByForkOnly,
    HundredChildrenStartedThenJoined, TenThousandStartJoinsLeakNothing,
    StartWithDescriptorsExhaustedFailsCleanly,
    FiftyTerminatedAllReadMinusSigterm, Grandchild, SegfaultReadsAsMinusSigsegv,
    ArgumentsOfEveryCodecTypeArrive, ClassStyleConstructorArgumentsReachChild,
    DaemonMayNotStartChildren, FlagsAfterStartFail,
    JoinZeroOnLiveChildReturnsAtOnce, CloseRefusedWhileRunningThenIdempotent,
    ActiveChildrenListsRunningChildren,
    EndOfCodeTerminatesDaemonsAndJoinsOthers, ChildDiesWithKilledParent,
    OptedOutChildOutlivesKilledParent);

INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, ProcessTest, Backends, BackendName);

}  // namespace

}  // namespace conformance
}  // namespace mp
