// Copyright 2026 The mp Authors.
//
// mp::internal::Deadline: made from a Duration only, ordered, and converted
// for each kind of kernel API with the time left rounded up.
//
// A Deadline cannot be made from an absl::Time (nor from any other point in
// time): its only constructor is private, so
//   Deadline d(absl::Now());  // does not compile
// and the only ways in are Deadline::After(absl::Duration), Never() and
// Passed(). That is a compile-time property; this comment states it.

#include "mp/internal/deadline.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <type_traits>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace mp {
namespace internal {
namespace {

// Not constructible from a point in time; copyable as a small value.
static_assert(!std::is_constructible_v<Deadline, absl::Time>);
static_assert(!std::is_convertible_v<absl::Time, Deadline>);
static_assert(!std::is_constructible_v<Deadline, absl::Duration>);
static_assert(!std::is_default_constructible_v<Deadline>);
static_assert(std::is_trivially_copyable_v<Deadline>);

absl::Duration Of(const timespec& ts) { return absl::DurationFromTimespec(ts); }

TEST(DeadlineTest, NeverNeverExpires) {
  const Deadline never = Deadline::Never();
  EXPECT_TRUE(never.IsNever());
  EXPECT_FALSE(never.Expired());
  EXPECT_EQ(never.Left(), absl::InfiniteDuration());
  EXPECT_EQ(never.ToPollMilliseconds(), -1);
  EXPECT_EQ(never.ToWin32Milliseconds(), 0xFFFFFFFFu);  // INFINITE
  EXPECT_EQ(Deadline::After(absl::InfiniteDuration()), never);
}

TEST(DeadlineTest, PassedHasExpired) {
  for (const Deadline d :
       {Deadline::Passed(), Deadline::After(absl::ZeroDuration()),
        Deadline::After(absl::Seconds(-5)),
        Deadline::After(-absl::InfiniteDuration())}) {
    EXPECT_FALSE(d.IsNever());
    EXPECT_TRUE(d.Expired());
    EXPECT_EQ(d.Left(), absl::ZeroDuration());
    EXPECT_EQ(d.ToPollMilliseconds(), 0);
    EXPECT_EQ(d.ToWin32Milliseconds(), 0u);
    EXPECT_EQ(Of(d.ToRelativeTimespec()), absl::ZeroDuration());
    EXPECT_LE(d.ToSteadyTimePoint(), std::chrono::steady_clock::now());
  }
}

TEST(DeadlineTest, AfterLeavesAtMostItsTimeout) {
  const Deadline d = Deadline::After(absl::Seconds(10));
  EXPECT_FALSE(d.IsNever());
  EXPECT_FALSE(d.Expired());
  EXPECT_LE(d.Left(), absl::Seconds(10));
  EXPECT_GT(d.Left(), absl::Seconds(9));
}

TEST(DeadlineTest, MillisecondsAreRoundedUp) {
  // Less than a millisecond left is one millisecond, never zero: a wait
  // must not end before its deadline.
  const Deadline d = Deadline::After(absl::Microseconds(300));
  const int poll_ms = d.ToPollMilliseconds();
  const uint32_t win32_ms = d.ToWin32Milliseconds();
  EXPECT_TRUE(poll_ms == 1 || (poll_ms == 0 && d.Expired())) << poll_ms;
  EXPECT_TRUE(win32_ms == 1 || (win32_ms == 0 && d.Expired())) << win32_ms;
  const Deadline later = Deadline::After(absl::Milliseconds(1500));
  EXPECT_GE(later.ToPollMilliseconds(), 1);
  EXPECT_LE(later.ToPollMilliseconds(), 1500);
  // The milliseconds cover the time left.
  const absl::Duration left = later.Left();
  EXPECT_GE(absl::Milliseconds(later.ToPollMilliseconds()), left);
}

TEST(DeadlineTest, MillisecondsAreClamped) {
  const Deadline far = Deadline::After(absl::Hours(24 * 365 * 100));
  EXPECT_FALSE(far.IsNever());
  EXPECT_EQ(far.ToPollMilliseconds(), INT_MAX);
  EXPECT_EQ(far.ToWin32Milliseconds(), 0xFFFFFFFEu);  // INFINITE - 1
}

TEST(DeadlineTest, OrderAndMin) {
  const Deadline soon = Deadline::After(absl::Seconds(1));
  const Deadline later = Deadline::After(absl::Seconds(100));
  EXPECT_LT(Deadline::Passed(), soon);
  EXPECT_LT(soon, later);
  EXPECT_LT(later, Deadline::Never());
  EXPECT_EQ(std::min(later, soon), soon);
  EXPECT_EQ(std::min(Deadline::Never(), soon), soon);
  EXPECT_EQ(std::max(Deadline::Never(), soon), Deadline::Never());
  EXPECT_EQ(std::min(Deadline::Passed(), soon), Deadline::Passed());
  EXPECT_NE(soon, later);
  EXPECT_LE(soon, soon);
  EXPECT_GE(later, soon);
  EXPECT_GT(Deadline::Never(), later);
}

TEST(DeadlineTest, RelativeTimespecIsTheTimeLeft) {
  const Deadline d = Deadline::After(absl::Seconds(3));
  const absl::Duration rel = Of(d.ToRelativeTimespec());
  EXPECT_LE(rel, absl::Seconds(3));
  EXPECT_GT(rel, absl::Seconds(2));
}

TEST(DeadlineTest, AbsoluteConversionsAreOnTheMonotonicClock) {
  const Deadline d = Deadline::After(absl::Seconds(5));
  const auto point = d.ToSteadyTimePoint();
  const auto now = std::chrono::steady_clock::now();
  EXPECT_GT(point, now + std::chrono::seconds(4));
  EXPECT_LE(point, now + std::chrono::seconds(5));
  // The absolute timespec names the same instant as the time point.
  EXPECT_EQ(Of(d.ToMonotonicTimespec()),
            absl::FromChrono(point.time_since_epoch()));
#if defined(__linux__)
  // steady_clock is CLOCK_MONOTONIC: the timespec is about 5 s ahead of it.
  timespec mono;
  ASSERT_EQ(clock_gettime(CLOCK_MONOTONIC, &mono), 0);
  const absl::Duration ahead = Of(d.ToMonotonicTimespec()) - Of(mono);
  EXPECT_GT(ahead, absl::Seconds(4));
  EXPECT_LE(ahead, absl::Seconds(5));
#endif
}

}  // namespace
}  // namespace internal
}  // namespace mp
