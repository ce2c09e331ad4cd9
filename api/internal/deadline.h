// Copyright 2026 The mp Authors.
//
// The one deadline type. A caller's absl::Duration becomes a Deadline once,
// at the API boundary (Deadline::After); every layer below passes that
// Deadline on and never makes another from the caller's timeout. A
// Deadline is a point on the monotonic clock (std::chrono::steady_clock:
// CLOCK_MONOTONIC on Linux, QueryPerformanceCounter on Windows), so that
// stepping the wall clock (an administrator, NTP, a suspended VM resuming)
// moves neither end of a wait. It cannot be made from an absl::Time or any
// other point in time, so no wall-clock time can become one. A kernel call
// takes a Deadline through exactly one of the To* conversions below, one
// per kind of kernel API, made right before the call (again after a retry);
// nothing else converts deadlines. (Abseil's
// absl/synchronization/internal/kernel_timeout.h is the model.)

#ifndef MP_INTERNAL_DEADLINE_H_
#define MP_INTERNAL_DEADLINE_H_

#include <time.h>

#include <chrono>
#include <cstdint>

#include "absl/time/time.h"

namespace mp {
namespace internal {

class Deadline {
 public:
  // `timeout` from now: a zero or negative timeout has expired already (a
  // wait then only looks); absl::InfiniteDuration() is Never().
  static Deadline After(absl::Duration timeout);
  // No deadline: a wait ends only when what it waits for happens.
  static constexpr Deadline Never() { return Deadline(absl::InfiniteFuture()); }
  // A deadline that has passed: a wait only looks, without blocking.
  static constexpr Deadline Passed() { return Deadline(absl::InfinitePast()); }

  bool IsNever() const { return at_ == absl::InfiniteFuture(); }
  // Whether the deadline has passed (never for Never()). Reads the clock.
  bool Expired() const;
  // The time left, never negative; absl::InfiniteDuration() for Never().
  // Reads the clock.
  absl::Duration Left() const;

  // Earlier deadlines compare less; Never() is the latest, Passed() the
  // earliest. std::min and std::max give the earlier and the later one.
  friend bool operator==(Deadline a, Deadline b) { return a.at_ == b.at_; }
  friend bool operator!=(Deadline a, Deadline b) { return a.at_ != b.at_; }
  friend bool operator<(Deadline a, Deadline b) { return a.at_ < b.at_; }
  friend bool operator<=(Deadline a, Deadline b) { return a.at_ <= b.at_; }
  friend bool operator>(Deadline a, Deadline b) { return a.at_ > b.at_; }
  friend bool operator>=(Deadline a, Deadline b) { return a.at_ >= b.at_; }

  // The conversions, one per kind of kernel API. Each that measures the
  // time left rounds it up, so that a wait never ends before the deadline.

  // poll(2) and other int-millisecond timeouts: the time left in whole
  // milliseconds, at most INT_MAX (callers wait again); -1 for Never(), 0
  // once expired.
  int ToPollMilliseconds() const;
  // Win32 waits (WaitForSingleObject, ...), a DWORD: the time left in whole
  // milliseconds, at most 0xFFFFFFFE (callers wait again); INFINITE
  // (0xFFFFFFFF) for Never(), 0 once expired.
  uint32_t ToWin32Milliseconds() const;
  // futex(2) FUTEX_WAIT, a relative timeout: the time left, zero once
  // expired. Not for Never(): pass no timeout instead.
  timespec ToRelativeTimespec() const;
  // pthread_mutex_clocklock(CLOCK_MONOTONIC), an absolute time on
  // CLOCK_MONOTONIC (steady_clock's clock on Linux); reads no clock, so it
  // is exact. Not for Never(): lock without a deadline instead.
  timespec ToMonotonicTimespec() const;
  // std::condition_variable::wait_until: the steady_clock time point. Not
  // for Never(): wait without a deadline instead.
  std::chrono::steady_clock::time_point ToSteadyTimePoint() const;

 private:
  // `at` on the monotonic scale: absl::UnixEpoch() + steady_clock's time
  // since its origin. Private, and only ever given such a time.
  explicit constexpr Deadline(absl::Time at) : at_(at) {}

  absl::Time at_;
};

}  // namespace internal
}  // namespace mp

#endif  // MP_INTERNAL_DEADLINE_H_
