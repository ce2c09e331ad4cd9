// Copyright 2026 The mp Authors.
//
// Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition and Barrier
// conformance: the same cases on every backend, across real processes.

#include "mp/sync.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "mp/process.h"
#include "mp/status.h"
#include "tests/conformance/backends.h"
#include "tests/conformance/helpers.h"

namespace mp {
namespace conformance {
namespace {

// Exit codes that say what went wrong in a child.
constexpr int kSetupFailed = 90;
constexpr int kWrongResult = 91;

std::unique_ptr<SharedCounters> OpenCounters(const std::string& path) {
  std::unique_ptr<SharedCounters> c = SharedCounters::Open(path);
  if (c == nullptr) Exit(kSetupFailed);
  return c;
}

// 10 000 non-atomic increments of counter 0, each under the lock.
void IncrementUnderLock(Lock lock, std::string path) {
  std::unique_ptr<SharedCounters> c = OpenCounters(path);
  for (int i = 0; i < 10000; ++i) {
    if (!lock.Acquire().ok()) Exit(kWrongResult);
    (*c)[0] = (*c)[0] + 1;
    if (!lock.Release().ok()) Exit(kWrongResult);
  }
}

// Takes the lock, says so in `marker`, and never lets go.
template <typename L>
void HoldForever(L lock, std::string marker) {
  if (!lock.Acquire().ok()) Exit(kSetupFailed);
  WriteFileAtomically(marker, "held");
  absl::SleepFor(absl::Hours(1));
}

// Exits 0 when releasing a lock this process does not hold is refused.
void ReleaseNotHeld(Lock lock) {
  Exit(lock.Release().code() == absl::StatusCode::kFailedPrecondition
           ? 0
           : kWrongResult);
}

// Exits 0 when Acquire(timeout) on a held lock gives up no sooner than the
// timeout, with DeadlineExceeded.
void AcquireTimesOut(Lock lock) {
  const absl::Time before = absl::Now();
  absl::Status s = lock.Acquire(absl::Milliseconds(150));
  const bool waited = absl::Now() - before >= absl::Milliseconds(150);
  Exit(absl::IsDeadlineExceeded(s) && waited ? 0 : kWrongResult);
}

void ReleaseSemaphore(Semaphore s) {
  Exit(s.Release().ok() ? 0 : kWrongResult);
}

void WaitForEvent(Event e) { Exit(e.Wait(kPatience).ok() ? 0 : kWrongResult); }

// Waits on the condition until counter 0 reaches `target`, then sets
// counter 1 to say it saw it.
void WaitUntilCounter(Condition c, std::string path, int64_t target) {
  std::unique_ptr<SharedCounters> counters = OpenCounters(path);
  if (!c.Acquire().ok()) Exit(kSetupFailed);
  (*counters)[2] = (*counters)[2] + 1;  // "I am waiting" (under the lock)
  absl::Status s =
      c.WaitFor([&] { return (*counters)[0] >= target; }, kPatience);
  (*counters)[1] = s.ok() ? 1 : -1;
  (void)c.Release();
  Exit(s.ok() ? 0 : kWrongResult);
}

// Waits at the barrier and exits with 10 + its arrival index.
void WaitAtBarrier(Barrier b) {
  absl::StatusOr<int> index = b.Wait(kPatience);
  Exit(index.ok() ? 10 + *index : kWrongResult);
}

// Exits 0 when the barrier wait ends Broken.
void WaitAtBarrierExpectBroken(Barrier b) {
  absl::StatusOr<int> index = b.Wait(kPatience);
  Exit(IsBroken(index.status()) ? 0 : kWrongResult);
}

// --- Waiters that are killed, and the notifiers that must outlive them ---
//
// Each waiter writes `marker` just before it blocks, so the parent can kill
// it while it waits (not while it holds the object's lock). Each notifier
// exits 0 when its notification returned within a second.

constexpr absl::Duration kPromptly = absl::Seconds(1);

void WaitForEventMarked(Event e, std::string marker) {
  WriteFileAtomically(marker, "waiting");
  Exit(e.Wait(kPatience).ok() ? 0 : kWrongResult);
}

void AcquireSemaphoreMarked(Semaphore s, std::string marker) {
  WriteFileAtomically(marker, "waiting");
  Exit(s.Acquire(kPatience).ok() ? 0 : kWrongResult);
}

// Waits for one notification (the marker is written under the lock, so a
// notifier that takes the lock after seeing it finds this waiter waiting).
void WaitOnConditionMarked(Condition c, std::string marker) {
  if (!c.Acquire().ok()) Exit(kSetupFailed);
  WriteFileAtomically(marker, "waiting");
  absl::Status s = c.Wait(kPatience);
  (void)c.Release();
  Exit(s.ok() ? 0 : kWrongResult);
}

void WaitAtBarrierMarked(Barrier b, std::string marker) {
  WriteFileAtomically(marker, "waiting");
  Exit(b.Wait(kPatience).ok() ? 0 : kWrongResult);
}

// Blocks in Lock::Acquire (after `marker`), holds the lock for a moment
// so that other waiters queue behind it, and exits with kGotOwnerDied if
// the acquire said the previous owner died, 0 if it was an ordinary one.
constexpr int kGotOwnerDied = 1;
void AcquireLockMarked(Lock lock, std::string marker) {
  WriteFileAtomically(marker, "waiting");
  const absl::Status s = lock.Acquire(kPatience);
  if (!s.ok() && !IsOwnerDied(s)) Exit(kWrongResult);
  absl::SleepFor(absl::Milliseconds(5));
  if (!lock.Release().ok()) Exit(kWrongResult);
  Exit(IsOwnerDied(s) ? kGotOwnerDied : 0);
}

// Waits on the condition (after `marker`, written under its lock) and exits
// with kGotOwnerDied if the wait ended with the lock taken back from a
// holder that died, 0 if it ended normally.
void WaitOnConditionReportingOwnerDeath(Condition c, std::string marker) {
  if (!c.Acquire().ok()) Exit(kSetupFailed);
  WriteFileAtomically(marker, "waiting");
  const absl::Status s = c.Wait(kPatience);
  if (!s.ok() && !IsOwnerDied(s)) Exit(kWrongResult);
  if (!c.Release().ok()) Exit(kWrongResult);
  Exit(IsOwnerDied(s) ? kGotOwnerDied : 0);
}

// Takes the condition's lock, notifies every waiter, says so in `marker`,
// and never lets go: its waiters can only take the lock back once it dies.
void NotifyAndHoldForever(Condition c, std::string marker) {
  if (!c.Acquire().ok() || !c.NotifyAll().ok()) Exit(kSetupFailed);
  WriteFileAtomically(marker, "held");
  absl::SleepFor(absl::Hours(1));
}

// Exits 0 when `notify` returned OK within kPromptly.
void ExitPromptly(const std::function<absl::Status()>& notify) {
  const absl::Time before = absl::Now();
  absl::Status s = notify();
  Exit(s.ok() && absl::Now() - before < kPromptly ? 0 : kWrongResult);
}

void SetEvent(Event e) {
  ExitPromptly([&] { return e.Set(); });
}

void ReleaseSemaphorePromptly(Semaphore s) {
  ExitPromptly([&] { return s.Release(); });
}

void NotifyCondition(Condition c) {
  ExitPromptly([&] {
    absl::Status s = c.Acquire(kPromptly);
    if (!s.ok()) return s;
    s = c.NotifyAll();
    absl::Status r = c.Release();
    return s.ok() ? r : s;
  });
}

void WaitAtBarrierPromptly(Barrier b) {
  ExitPromptly([&] { return b.Wait(kPromptly).status(); });
}

// Starts `waiter` on backend B, waits until it is blocked, kills it, and
// joins it: what a Kill(), Terminate() or the OOM killer does to a process
// in the middle of a wait.
template <typename B, typename F, typename O>
void KillWhileWaiting(F waiter, const O& object) {
  const std::string marker = TempPath("waiting");
  Process p = MakeProcess<B>(waiter, object, marker);
  ASSERT_TRUE(p.Start().ok());
  ASSERT_TRUE(WaitForFile(marker, kPatience).has_value());
  ASSERT_TRUE(WaitUntilAsleep(*p.Pid(), kPatience));
  ASSERT_TRUE(p.Kill().ok());
  EXPECT_EQ(JoinCode(p), -9);
}

// A fresh waiter that must be woken by `notifier`, run in a process of its
// own so that a notification that never returns fails the case instead of
// hanging it.
template <typename B, typename F, typename N, typename O>
void FreshWaiterIsWoken(F waiter, N notifier, const O& object) {
  const std::string marker = TempPath("waiting");
  Process w = MakeProcess<B>(waiter, object, marker);
  ASSERT_TRUE(w.Start().ok());
  ASSERT_TRUE(WaitForFile(marker, kPatience).has_value());
  ASSERT_TRUE(WaitUntilAsleep(*w.Pid(), kPatience));
  Process n = MakeProcess<B>(notifier, object);
  ASSERT_TRUE(n.Start().ok());
  EXPECT_EQ(JoinCode(n, absl::Seconds(10)), 0) << "the notification hung";
  EXPECT_EQ(JoinCode(w, absl::Seconds(10)), 0) << "the waiter was not woken";
  if (n.IsAlive()) (void)n.Kill();
  if (w.IsAlive()) (void)w.Kill();
}

constexpr int kGenerations = 30;

// Passes the barrier kGenerations times, pausing `pause_ms` before each:
// parties of uneven speeds, so that a fast one enters the next generation
// while a slow one is still leaving the last. Exits 0 when every wait
// returned an index within the parties.
void PassBarrierRepeatedly(Barrier b, int pause_ms) {
  for (int g = 0; g < kGenerations; ++g) {
    absl::SleepFor(absl::Milliseconds(pause_ms * (g % 3)));
    absl::StatusOr<int> index = b.Wait(kPatience);
    if (!index.ok() || *index < 0 || *index >= b.Parties()) Exit(kWrongResult);
  }
  Exit(0);
}

// IncrementUnderLock with reference parameters, as most people write it.
void IncrementUnderLockByReference(Lock& lock, const std::string& path) {
  IncrementUnderLock(lock, path);
}

template <typename B>
class SyncTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(SyncTest);

TYPED_TEST_P(SyncTest, LockMakesIncrementsExact) {
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(lock.ok()) << lock.status();
  const std::string path = TempPath("counter");
  std::unique_ptr<SharedCounters> counters = SharedCounters::Open(path);
  ASSERT_NE(counters, nullptr);
  std::vector<Process> workers;
  for (int i = 0; i < 4; ++i) {
    workers.push_back(MakeProcess<TypeParam>(IncrementUnderLock, *lock, path));
    ASSERT_TRUE(workers.back().Start().ok());
  }
  for (Process& w : workers) EXPECT_EQ(JoinCode(w), 0);
  EXPECT_EQ((*counters)[0], 40000);
}

TYPED_TEST_P(SyncTest, LockHolderKilledNextAcquireIsOwnerDied) {
  MP_SKIP_ON_THREADS("a thread cannot be killed, so a holder never dies alone");
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(lock.ok());
  const std::string marker = TempPath("held");
  Process holder = MakeProcess<TypeParam>(HoldForever<Lock>, *lock, marker);
  ASSERT_TRUE(holder.Start().ok());
  ASSERT_TRUE(WaitForFile(marker, kPatience).has_value());
  EXPECT_TRUE(absl::IsDeadlineExceeded(lock->TryAcquire()));
  ASSERT_TRUE(holder.Kill().ok());
  EXPECT_EQ(JoinCode(holder), -9);
  const absl::Time before = absl::Now();
  absl::Status s = lock->Acquire(kPatience);
  EXPECT_TRUE(IsOwnerDied(s)) << s;
  EXPECT_LT(absl::Now() - before, absl::Milliseconds(100));
  ASSERT_TRUE(lock->Release().ok());
  // Recovered: the next owner sees an ordinary lock.
  EXPECT_TRUE(lock->Acquire().ok());
  EXPECT_TRUE(lock->Release().ok());
}

// The holder dies while several processes wait for the lock: exactly one
// of them gets it with OwnerDied, the others after it as an ordinary lock.
TYPED_TEST_P(SyncTest, LockHolderKilledWithWaitersExactlyOneIsOwnerDied) {
  MP_SKIP_ON_THREADS("a thread cannot be killed, so a holder never dies alone");
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(lock.ok());
  const std::string held = TempPath("held");
  Process holder = MakeProcess<TypeParam>(HoldForever<Lock>, *lock, held);
  ASSERT_TRUE(holder.Start().ok());
  ASSERT_TRUE(WaitForFile(held, kPatience).has_value());
  std::vector<Process> waiters;
  for (int i = 0; i < 4; ++i) {
    const std::string marker = TempPath("waiting");
    waiters.push_back(MakeProcess<TypeParam>(AcquireLockMarked, *lock, marker));
    ASSERT_TRUE(waiters.back().Start().ok());
    ASSERT_TRUE(WaitForFile(marker, kPatience).has_value());
    ASSERT_TRUE(WaitUntilAsleep(*waiters.back().Pid(), kPatience));
  }
  ASSERT_TRUE(holder.Kill().ok());
  EXPECT_EQ(JoinCode(holder), -9);
  int owner_died = 0;
  for (Process& w : waiters) {
    const int code = JoinCode(w);
    EXPECT_TRUE(code == 0 || code == kGotOwnerDied) << code;
    if (code == kGotOwnerDied) ++owner_died;
  }
  EXPECT_EQ(owner_died, 1);
  EXPECT_TRUE(lock->Acquire(kPromptly).ok());  // an ordinary lock again
  EXPECT_TRUE(lock->Release().ok());
}

// The owner is a thread: one that ends holding the lock, its process
// living on, has died holding it, as one killed with its process has.
TYPED_TEST_P(SyncTest, LockHolderThreadEndedNextAcquireIsOwnerDied) {
  MP_SKIP_ON_THREADS(
      "the lock is a std::mutex: a thread that ends holding it leaves it "
      "held, and no owner death is ever reported");
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(lock.ok());
  std::thread holder([&] { EXPECT_TRUE(lock->Acquire().ok()); });
  holder.join();
  const absl::Status s = lock->Acquire(kPatience);
  EXPECT_TRUE(IsOwnerDied(s)) << s;
  ASSERT_TRUE(lock->Release().ok());
  EXPECT_TRUE(lock->Acquire(kPromptly).ok());  // an ordinary lock again
  EXPECT_TRUE(lock->Release().ok());
}

// A process killed while it waits for the lock leaves it working: the
// holder's release still wakes the next waiter at once.
TYPED_TEST_P(SyncTest, LockSurvivesKilledWaiter) {
  MP_SKIP_ON_THREADS("a thread cannot be killed, so a waiter never dies alone");
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(lock.ok());
  ASSERT_TRUE(lock->Acquire().ok());
  KillWhileWaiting<TypeParam>(AcquireLockMarked, *lock);
  ASSERT_TRUE(lock->Release().ok());
  EXPECT_TRUE(lock->Acquire(kPromptly).ok());  // not OwnerDied: not a holder
  const std::string marker = TempPath("waiting");
  Process w = MakeProcess<TypeParam>(AcquireLockMarked, *lock, marker);
  ASSERT_TRUE(w.Start().ok());
  ASSERT_TRUE(WaitForFile(marker, kPatience).has_value());
  ASSERT_TRUE(WaitUntilAsleep(*w.Pid(), kPatience));
  const absl::Time released = absl::Now();
  ASSERT_TRUE(lock->Release().ok());
  EXPECT_EQ(JoinCode(w, absl::Seconds(10)), 0) << "the waiter was not woken";
  EXPECT_LT(absl::Now() - released, absl::Seconds(5));
}

TYPED_TEST_P(SyncTest, LockAcquireTimeoutWaitsAtLeastThatLong) {
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(lock.ok());
  ASSERT_TRUE(lock->Acquire().ok());
  Process p = MakeProcess<TypeParam>(AcquireTimesOut, *lock);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0);
  EXPECT_TRUE(lock->Release().ok());
}

TYPED_TEST_P(SyncTest, LockReleaseByNonOwnerFails) {
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(lock.ok());
  EXPECT_EQ(lock->Release().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(lock->Acquire().ok());
  Process p = MakeProcess<TypeParam>(ReleaseNotHeld, *lock);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0);
  EXPECT_TRUE(lock->Release().ok());
}

TYPED_TEST_P(SyncTest, LockTwiceFromOneThreadFails) {
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(lock.ok());
  ASSERT_TRUE(lock->Acquire().ok());
  EXPECT_EQ(lock->Acquire(absl::Seconds(1)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(lock->Release().ok());
  EXPECT_EQ(Lock().Acquire().code(), absl::StatusCode::kFailedPrecondition);
}

TYPED_TEST_P(SyncTest, GuardHoldsForScope) {
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(lock.ok());
  {
    Guard guard(*lock);
    ASSERT_TRUE(guard.ok()) << guard.status();
    Process p = MakeProcess<TypeParam>(AcquireTimesOut, *lock);
    ASSERT_TRUE(p.Start().ok());
    EXPECT_EQ(JoinCode(p), 0);
  }
  EXPECT_TRUE(lock->TryAcquire().ok());
  EXPECT_TRUE(lock->Release().ok());
}

TYPED_TEST_P(SyncTest, RLockIsReentrantAndDetectsOwnerDeath) {
  MP_SKIP_ON_THREADS("a thread cannot be killed, so a holder never dies alone");
  absl::StatusOr<RLock> rlock = RLock::Create();
  ASSERT_TRUE(rlock.ok());
  ASSERT_TRUE(rlock->Acquire().ok());
  ASSERT_TRUE(rlock->Acquire().ok());
  ASSERT_TRUE(rlock->Release().ok());
  ASSERT_TRUE(rlock->Release().ok());
  EXPECT_EQ(rlock->Release().code(), absl::StatusCode::kFailedPrecondition);
  const std::string marker = TempPath("held");
  Process holder = MakeProcess<TypeParam>(HoldForever<RLock>, *rlock, marker);
  ASSERT_TRUE(holder.Start().ok());
  ASSERT_TRUE(WaitForFile(marker, kPatience).has_value());
  ASSERT_TRUE(holder.Kill().ok());
  EXPECT_EQ(JoinCode(holder), -9);
  EXPECT_TRUE(IsOwnerDied(rlock->Acquire(kPatience)));
  EXPECT_TRUE(rlock->Release().ok());
}

TYPED_TEST_P(SyncTest, SemaphoreCountsAcrossProcesses) {
  absl::StatusOr<Semaphore> sem = Semaphore::Create(0);
  ASSERT_TRUE(sem.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(sem->TryAcquire()));
  const absl::Time before = absl::Now();
  EXPECT_TRUE(absl::IsDeadlineExceeded(sem->Acquire(absl::Milliseconds(100))));
  EXPECT_GE(absl::Now() - before, absl::Milliseconds(100));
  std::vector<Process> releasers;
  for (int i = 0; i < 3; ++i) {
    releasers.push_back(MakeProcess<TypeParam>(ReleaseSemaphore, *sem));
    ASSERT_TRUE(releasers.back().Start().ok());
  }
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(sem->Acquire(kPatience).ok());
  for (Process& p : releasers) EXPECT_EQ(JoinCode(p), 0);
  EXPECT_EQ(sem->GetValue().value_or(-1), 0);
  EXPECT_EQ(Semaphore::Create(-1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TYPED_TEST_P(SyncTest, BoundedSemaphoreRefusesOverRelease) {
  absl::StatusOr<BoundedSemaphore> sem = BoundedSemaphore::Create(2);
  ASSERT_TRUE(sem.ok());
  EXPECT_EQ(sem->Release().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(sem->Acquire().ok());
  Process p = MakeProcess<TypeParam>(ReleaseSemaphore, Semaphore(*sem));
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0);
  EXPECT_EQ(sem->GetValue().value_or(-1), 2);
  EXPECT_EQ(sem->Release().code(), absl::StatusCode::kFailedPrecondition);
}

TYPED_TEST_P(SyncTest, EventWakesWaitingChild) {
  absl::StatusOr<Event> event = Event::Create();
  ASSERT_TRUE(event.ok());
  EXPECT_FALSE(event->IsSet().value_or(true));
  EXPECT_TRUE(absl::IsDeadlineExceeded(event->Wait(absl::Milliseconds(50))));
  Process p = MakeProcess<TypeParam>(WaitForEvent, *event);
  ASSERT_TRUE(p.Start().ok());
  ASSERT_TRUE(event->Set().ok());
  EXPECT_EQ(JoinCode(p), 0);
  EXPECT_TRUE(event->IsSet().value_or(false));
  ASSERT_TRUE(event->Clear().ok());
  EXPECT_FALSE(event->IsSet().value_or(true));
}

TYPED_TEST_P(SyncTest, ConditionNotifyWakesPredicateWaiters) {
  absl::StatusOr<Condition> cond = Condition::Create();
  ASSERT_TRUE(cond.ok());
  EXPECT_EQ(cond->Notify().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(cond->Wait(absl::Milliseconds(1)).code(),
            absl::StatusCode::kFailedPrecondition);
  const std::string path = TempPath("cond");
  std::unique_ptr<SharedCounters> counters = SharedCounters::Open(path);
  ASSERT_NE(counters, nullptr);
  std::vector<Process> waiters;
  for (int i = 0; i < 2; ++i) {
    waiters.push_back(
        MakeProcess<TypeParam>(WaitUntilCounter, *cond, path, int64_t{3}));
    ASSERT_TRUE(waiters.back().Start().ok());
  }
  // Raise the counter one step at a time, notifying each time.
  for (int step = 1; step <= 3; ++step) {
    ASSERT_TRUE(cond->Acquire().ok());
    (*counters)[0] = step;
    ASSERT_TRUE(cond->NotifyAll().ok());
    ASSERT_TRUE(cond->Release().ok());
  }
  for (Process& w : waiters) EXPECT_EQ(JoinCode(w), 0);
  EXPECT_EQ((*counters)[1], 1);
  // WaitFor with a false predicate times out, holding the lock again.
  ASSERT_TRUE(cond->Acquire().ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      cond->WaitFor([] { return false; }, absl::Milliseconds(50))));
  EXPECT_TRUE(cond->Release().ok());
}

TYPED_TEST_P(SyncTest, BarrierReleasesAllPartiesWithDistinctIndexes) {
  absl::StatusOr<Barrier> barrier = Barrier::Create(4);
  ASSERT_TRUE(barrier.ok());
  EXPECT_EQ(barrier->Parties(), 4);
  std::vector<Process> parties;
  for (int i = 0; i < 3; ++i) {
    parties.push_back(MakeProcess<TypeParam>(WaitAtBarrier, *barrier));
    ASSERT_TRUE(parties.back().Start().ok());
  }
  absl::StatusOr<int> mine = barrier->Wait(kPatience);
  ASSERT_TRUE(mine.ok()) << mine.status();
  std::vector<int> indexes = {*mine};
  for (Process& p : parties) indexes.push_back(JoinCode(p) - 10);
  std::sort(indexes.begin(), indexes.end());
  EXPECT_EQ(indexes, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(Barrier::Create(0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TYPED_TEST_P(SyncTest, BarrierAbortAndTimeoutBreakIt) {
  absl::StatusOr<Barrier> barrier = Barrier::Create(3);
  ASSERT_TRUE(barrier.ok());
  Process waiter = MakeProcess<TypeParam>(WaitAtBarrierExpectBroken, *barrier);
  ASSERT_TRUE(waiter.Start().ok());
  // Abort once the child is waiting.
  const absl::Time deadline = absl::Now() + kPatience;
  while (barrier->NWaiting().value_or(0) < 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_TRUE(barrier->Abort().ok());
  EXPECT_EQ(JoinCode(waiter), 0);
  EXPECT_TRUE(barrier->Broken().value_or(false));
  EXPECT_TRUE(IsBroken(barrier->Wait(absl::Milliseconds(10)).status()));
  ASSERT_TRUE(barrier->Reset().ok());
  EXPECT_FALSE(barrier->Broken().value_or(true));
  // A timeout breaks it for everyone.
  EXPECT_TRUE(IsBroken(barrier->Wait(absl::Milliseconds(50)).status()));
  EXPECT_TRUE(barrier->Broken().value_or(false));
}

TYPED_TEST_P(SyncTest, EventSurvivesKilledWaiter) {
  MP_SKIP_ON_THREADS("a thread cannot be killed, so a waiter never dies alone");
  absl::StatusOr<Event> event = Event::Create();
  ASSERT_TRUE(event.ok());
  KillWhileWaiting<TypeParam>(WaitForEventMarked, *event);
  ASSERT_TRUE(event->Set().ok());  // a normal cycle with nobody waiting
  ASSERT_TRUE(event->Clear().ok());
  FreshWaiterIsWoken<TypeParam>(WaitForEventMarked, SetEvent, *event);
  EXPECT_TRUE(event->IsSet().value_or(false));
}

TYPED_TEST_P(SyncTest, SemaphoreSurvivesKilledWaiter) {
  MP_SKIP_ON_THREADS("a thread cannot be killed, so a waiter never dies alone");
  absl::StatusOr<Semaphore> sem = Semaphore::Create(0);
  ASSERT_TRUE(sem.ok());
  KillWhileWaiting<TypeParam>(AcquireSemaphoreMarked, *sem);
  ASSERT_TRUE(sem->Release().ok());
  ASSERT_TRUE(sem->Acquire(kPromptly).ok());
  FreshWaiterIsWoken<TypeParam>(AcquireSemaphoreMarked,
                                ReleaseSemaphorePromptly, *sem);
  EXPECT_EQ(sem->GetValue().value_or(-1), 0);
}

TYPED_TEST_P(SyncTest, SemaphoreSurvivesHundredKilledWaiters) {
  MP_SKIP_ON_THREADS("a thread cannot be killed, so a waiter never dies alone");
  absl::StatusOr<Semaphore> sem = Semaphore::Create(0);
  ASSERT_TRUE(sem.ok());
  for (int round = 0; round < 100; ++round) {
    KillWhileWaiting<TypeParam>(AcquireSemaphoreMarked, *sem);
    if (::testing::Test::HasFatalFailure()) return;
    // A normal cycle, the release in a process of its own: a release that
    // hangs fails the case instead of hanging it.
    Process releaser = MakeProcess<TypeParam>(ReleaseSemaphorePromptly, *sem);
    ASSERT_TRUE(releaser.Start().ok());
    ASSERT_EQ(JoinCode(releaser, absl::Seconds(10)), 0) << "round " << round;
    ASSERT_TRUE(sem->Acquire(kPromptly).ok()) << "round " << round;
  }
  FreshWaiterIsWoken<TypeParam>(AcquireSemaphoreMarked,
                                ReleaseSemaphorePromptly, *sem);
  EXPECT_EQ(sem->GetValue().value_or(-1), 0);
}

TYPED_TEST_P(SyncTest, ConditionSurvivesKilledWaiter) {
  MP_SKIP_ON_THREADS("a thread cannot be killed, so a waiter never dies alone");
  absl::StatusOr<Condition> cond = Condition::Create();
  ASSERT_TRUE(cond.ok());
  KillWhileWaiting<TypeParam>(WaitOnConditionMarked, *cond);
  ASSERT_TRUE(cond->Acquire(kPromptly).ok());
  ASSERT_TRUE(cond->NotifyAll().ok());
  ASSERT_TRUE(cond->Notify().ok());
  ASSERT_TRUE(cond->Release().ok());
  FreshWaiterIsWoken<TypeParam>(WaitOnConditionMarked, NotifyCondition, *cond);
}

// A condition waiter that was notified takes the lock back from the
// notifier; the notifier dies holding it: the wait ends with OwnerDied.
TYPED_TEST_P(SyncTest, ConditionWaitRelocksWithOwnerDiedAfterKilledNotifier) {
  MP_SKIP_ON_THREADS("a thread cannot be killed, so a holder never dies alone");
  absl::StatusOr<Condition> cond = Condition::Create();
  ASSERT_TRUE(cond.ok());
  const std::string waiting = TempPath("waiting");
  Process w = MakeProcess<TypeParam>(WaitOnConditionReportingOwnerDeath, *cond,
                                     waiting);
  ASSERT_TRUE(w.Start().ok());
  ASSERT_TRUE(WaitForFile(waiting, kPatience).has_value());
  const std::string held = TempPath("held");
  Process notifier = MakeProcess<TypeParam>(NotifyAndHoldForever, *cond, held);
  ASSERT_TRUE(notifier.Start().ok());
  ASSERT_TRUE(WaitForFile(held, kPatience).has_value());
  ASSERT_TRUE(notifier.Kill().ok());
  EXPECT_EQ(JoinCode(notifier), -9);
  EXPECT_EQ(JoinCode(w), kGotOwnerDied);
  EXPECT_TRUE(cond->Acquire(kPromptly).ok());  // an ordinary lock again
  EXPECT_TRUE(cond->Release().ok());
}

TYPED_TEST_P(SyncTest, BarrierSurvivesKilledWaiter) {
  MP_SKIP_ON_THREADS("a thread cannot be killed, so a waiter never dies alone");
  absl::StatusOr<Barrier> barrier = Barrier::Create(2);
  ASSERT_TRUE(barrier.ok());
  KillWhileWaiting<TypeParam>(WaitAtBarrierMarked, *barrier);
  // The dead party still counts as arrived: Reset() sends it away, as
  // Python's Barrier.reset() does for parties that will never come.
  ASSERT_TRUE(barrier->Reset().ok());
  EXPECT_EQ(barrier->NWaiting().value_or(-1), 0);
  FreshWaiterIsWoken<TypeParam>(WaitAtBarrierMarked, WaitAtBarrierPromptly,
                                *barrier);
  EXPECT_FALSE(barrier->Broken().value_or(true));
}

TYPED_TEST_P(SyncTest, BarrierSurvivesManyGenerationsAtUnevenSpeeds) {
  absl::StatusOr<Barrier> barrier = Barrier::Create(3);
  ASSERT_TRUE(barrier.ok());
  std::vector<Process> parties;
  for (int pause_ms : {0, 3}) {
    parties.push_back(
        MakeProcess<TypeParam>(PassBarrierRepeatedly, *barrier, pause_ms));
    ASSERT_TRUE(parties.back().Start().ok());
  }
  for (int g = 0; g < kGenerations; ++g) {
    absl::StatusOr<int> index = barrier->Wait(kPatience);
    ASSERT_TRUE(index.ok()) << "generation " << g << ": " << index.status();
  }
  for (Process& p : parties) EXPECT_EQ(JoinCode(p), 0);
  EXPECT_FALSE(barrier->Broken().value_or(true));
  EXPECT_EQ(barrier->NWaiting().value_or(-1), 0);
}

TYPED_TEST_P(SyncTest, TargetTakesReferenceParameters) {
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(lock.ok());
  const std::string path = TempPath("counter");
  std::unique_ptr<SharedCounters> counters = SharedCounters::Open(path);
  ASSERT_NE(counters, nullptr);
  std::vector<Process> workers;
  for (int i = 0; i < 2; ++i) {
    workers.push_back(
        MakeProcess<TypeParam>(IncrementUnderLockByReference, *lock, path));
    ASSERT_TRUE(workers.back().Start().ok());
  }
  for (Process& w : workers) EXPECT_EQ(JoinCode(w), 0);
  EXPECT_EQ((*counters)[0], 20000);
}

REGISTER_TYPED_TEST_SUITE_P(
    SyncTest, LockMakesIncrementsExact, LockHolderKilledNextAcquireIsOwnerDied,
    LockHolderKilledWithWaitersExactlyOneIsOwnerDied,
    LockHolderThreadEndedNextAcquireIsOwnerDied, LockSurvivesKilledWaiter,
    LockAcquireTimeoutWaitsAtLeastThatLong, LockReleaseByNonOwnerFails,
    LockTwiceFromOneThreadFails, GuardHoldsForScope,
    RLockIsReentrantAndDetectsOwnerDeath, SemaphoreCountsAcrossProcesses,
    BoundedSemaphoreRefusesOverRelease, EventWakesWaitingChild,
    ConditionNotifyWakesPredicateWaiters,
    BarrierReleasesAllPartiesWithDistinctIndexes, BarrierAbortAndTimeoutBreakIt,
    EventSurvivesKilledWaiter, SemaphoreSurvivesKilledWaiter,
    SemaphoreSurvivesHundredKilledWaiters, ConditionSurvivesKilledWaiter,
    ConditionWaitRelocksWithOwnerDiedAfterKilledNotifier,
    BarrierSurvivesKilledWaiter, BarrierSurvivesManyGenerationsAtUnevenSpeeds,
    TargetTakesReferenceParameters);

INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, SyncTest, Backends, BackendName);

}  // namespace
}  // namespace conformance
}  // namespace mp
