// Copyright 2026 The mp Authors.
//
// Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition and Barrier
// conformance: the same cases on every backend, across real processes.

#include "mp/sync.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
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

REGISTER_TYPED_TEST_SUITE_P(
    SyncTest, LockMakesIncrementsExact, LockHolderKilledNextAcquireIsOwnerDied,
    LockAcquireTimeoutWaitsAtLeastThatLong, LockReleaseByNonOwnerFails,
    LockTwiceFromOneThreadFails, GuardHoldsForScope,
    RLockIsReentrantAndDetectsOwnerDeath, SemaphoreCountsAcrossProcesses,
    BoundedSemaphoreRefusesOverRelease, EventWakesWaitingChild,
    ConditionNotifyWakesPredicateWaiters,
    BarrierReleasesAllPartiesWithDistinctIndexes,
    BarrierAbortAndTimeoutBreakIt);

INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, SyncTest, Backends, BackendName);

}  // namespace
}  // namespace conformance
}  // namespace mp
