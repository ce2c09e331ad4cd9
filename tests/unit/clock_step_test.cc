// Copyright 2026 The mp Authors.
//
// Timeouts are measured on a monotonic clock: the wall clock stepped back
// or forward one hour during a blocking call moves neither end of its wait.
//
// The test interposes clock_gettime (and gettimeofday and time, which some
// code reads the wall clock through) with versions that add `g_offset` to
// CLOCK_REALTIME only and read the kernel's clocks with syscall(2), so that
// absl::Now() jumps while CLOCK_MONOTONIC does not; the first case checks
// that the interposition took. A thread steps the wall clock ~100 ms into
// each call, and the call must end with its timeout result within its
// timeout + 1 s, and not before its timeout, measured on steady_clock.
//
// Linux only: the executable's definitions of these functions take the
// place of glibc's. On Windows a program cannot interpose the system clock
// (GetSystemTimePreciseAsFileTime is reached through kernel32, not through
// a symbol the executable can define), so win32's waits (through
// Deadline::ToWin32Milliseconds, on the same monotonic clock) are covered by
// review only. The binary is linked once with each Linux backend: //:mp
// (posix fork and spawn) and //:mp_threads.

#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "mp/pipe.h"
#include "mp/process.h"
#include "mp/queue.h"
#include "mp/sync.h"

namespace {

// Added to CLOCK_REALTIME, in nanoseconds.
std::atomic<int64_t> g_offset_ns{0};

void AddOffset(timespec* ts) {
  const int64_t off = g_offset_ns.load(std::memory_order_relaxed);
  if (off == 0) return;
  int64_t ns = int64_t{ts->tv_sec} * 1000000000 + ts->tv_nsec + off;
  ts->tv_sec = static_cast<time_t>(ns / 1000000000);
  ts->tv_nsec = static_cast<long>(ns % 1000000000);  // NOLINT(runtime/int)
  if (ts->tv_nsec < 0) {
    ts->tv_nsec += 1000000000;
    --ts->tv_sec;
  }
}

}  // namespace

extern "C" int clock_gettime(clockid_t id, struct timespec* ts) {
  const int rc = static_cast<int>(syscall(SYS_clock_gettime, id, ts));
  if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
    AddOffset(ts);
  }
  return rc;
}

extern "C" int gettimeofday(struct timeval* tv, void* /*tz*/) {
  timespec ts;
  const int rc = clock_gettime(CLOCK_REALTIME, &ts);
  if (rc == 0) {
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  return rc;
}

extern "C" time_t time(time_t* out) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (out != nullptr) *out = ts.tv_sec;
  return ts.tv_sec;
}

namespace mp {
namespace {

using Clock = std::chrono::steady_clock;

constexpr absl::Duration kTimeout = absl::Seconds(2);
constexpr absl::Duration kSlack = absl::Seconds(1);
// A forward step must not end a wait early; a wait may end this much before
// its timeout only through rounding.
constexpr absl::Duration kEarly = absl::Milliseconds(20);

class ClockStepTest : public ::testing::TestWithParam<int> {
 protected:
  void TearDown() override { g_offset_ns.store(0); }

  // Runs `call` while a thread steps the wall clock by GetParam() hours
  // ~100 ms in; returns how long the call took on the monotonic clock.
  absl::Duration StepDuring(const std::function<void()>& call) {
    g_offset_ns.store(0);
    const int64_t step = absl::ToInt64Nanoseconds(absl::Hours(GetParam()));
    std::thread stepper([step] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      g_offset_ns.store(step);
    });
    const Clock::time_point start = Clock::now();
    call();
    const absl::Duration took = absl::FromChrono(Clock::now() - start);
    stepper.join();
    g_offset_ns.store(0);
    return took;
  }

  void ExpectInTime(absl::Duration took) {
    EXPECT_GE(took, kTimeout - kEarly);
    EXPECT_LE(took, kTimeout + kSlack);
  }
};

TEST_P(ClockStepTest, InterpositionMovesWallClockOnly) {
  const absl::Time wall = absl::Now();
  const Clock::time_point mono = Clock::now();
  g_offset_ns.store(absl::ToInt64Nanoseconds(absl::Hours(GetParam())));
  // absl::Now() may extrapolate from the cycle counter between readings of
  // the kernel clock; give it time to read it again.
  absl::Duration jump;
  for (int i = 0; i < 40; ++i) {
    jump = absl::Now() - wall;
    if (absl::AbsDuration(jump) > absl::Minutes(30)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(absl::AbsDuration(jump), absl::Minutes(50)) << jump;
  EXPECT_LT(absl::FromChrono(Clock::now() - mono), absl::Seconds(5));
  g_offset_ns.store(0);
}

void WaitForRelease(Event e) { (void)e.Wait(absl::Seconds(20)); }

TEST_P(ClockStepTest, Join) {
  std::vector<StartMethod> methods = {StartMethod::kFork};
#if !MP_BACKEND_THREADS
  methods.push_back(StartMethod::kSpawn);
#endif
  for (StartMethod method : methods) {
    SCOPED_TRACE(StartMethodName(method));
    absl::StatusOr<Event> release = Event::Create();
    ASSERT_TRUE(release.ok());
    Process p(WaitForRelease, *release);
    ASSERT_TRUE(p.SetStartMethod(method).ok());
    ASSERT_TRUE(p.Start().ok());
    const absl::Duration took = StepDuring([&] {
      EXPECT_TRUE(p.Join(kTimeout).ok());
      EXPECT_FALSE(p.ExitCode().has_value());
    });
    ExpectInTime(took);
    ASSERT_TRUE(release->Set().ok());
    EXPECT_TRUE(p.Join(absl::Seconds(30)).ok());
    EXPECT_TRUE(p.ExitCode().has_value());
  }
}

TEST_P(ClockStepTest, LockAcquire) {
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(lock.ok());
  std::atomic<bool> held{false}, done{false};
  std::thread holder([&] {
    ASSERT_TRUE(lock->Acquire().ok());
    held = true;
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(lock->Release().ok());
  });
  while (!held) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ExpectInTime(StepDuring([&] {
    absl::Status s = lock->Acquire(kTimeout);
    EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  }));
  done = true;
  holder.join();
}

TEST_P(ClockStepTest, RecvBytes) {
  auto pipe = Pipe();
  ASSERT_TRUE(pipe.ok());
  ExpectInTime(StepDuring([&] {
    absl::StatusOr<std::string> got = pipe->first.RecvBytes(kTimeout);
    EXPECT_TRUE(absl::IsDeadlineExceeded(got.status())) << got.status();
  }));
}

TEST_P(ClockStepTest, QueueGetBytes) {
  absl::StatusOr<Queue> q = Queue::Create();
  ASSERT_TRUE(q.ok());
  ExpectInTime(StepDuring([&] {
    absl::StatusOr<std::string> got = q->GetBytes(kTimeout);
    EXPECT_FALSE(got.ok());
  }));
}

TEST_P(ClockStepTest, QueuePutBytes) {
  absl::StatusOr<Queue> q = Queue::Create(1);
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(q->PutBytes("x").ok());
  ExpectInTime(StepDuring([&] {
    absl::Status s = q->PutBytes("y", kTimeout);
    EXPECT_FALSE(s.ok());
  }));
}

TEST_P(ClockStepTest, EventWait) {
  absl::StatusOr<Event> e = Event::Create();
  ASSERT_TRUE(e.ok());
  ExpectInTime(StepDuring([&] {
    absl::Status s = e->Wait(kTimeout);
    EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  }));
}

TEST_P(ClockStepTest, SemaphoreAcquire) {
  absl::StatusOr<Semaphore> sem = Semaphore::Create(0);
  ASSERT_TRUE(sem.ok());
  ExpectInTime(StepDuring([&] {
    absl::Status s = sem->Acquire(kTimeout);
    EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  }));
}

TEST_P(ClockStepTest, ConditionWait) {
  absl::StatusOr<Condition> c = Condition::Create();
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->Acquire().ok());
  ExpectInTime(StepDuring([&] {
    absl::Status s = c->Wait(kTimeout);
    EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  }));
  EXPECT_TRUE(c->Release().ok());
}

TEST_P(ClockStepTest, BarrierWait) {
  absl::StatusOr<Barrier> b = Barrier::Create(2);
  ASSERT_TRUE(b.ok());
  ExpectInTime(StepDuring([&] {
    absl::StatusOr<int> s = b->Wait(kTimeout);
    EXPECT_FALSE(s.ok());
  }));
}

INSTANTIATE_TEST_SUITE_P(Step, ClockStepTest, ::testing::Values(-1, 1),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param < 0 ? std::string("Back")
                                                 : std::string("Forward");
                         });

}  // namespace
}  // namespace mp
