// Copyright 2026 The mp Authors.
//
// The one clock that mp's deadlines are on. A caller's timeout becomes a
// deadline once, at the API boundary (DeadlineAfter); every layer below
// measures the time left against MonotonicNow(), never against absl::Now(),
// so that stepping the wall clock (an administrator, NTP, a suspended VM
// resuming) moves neither end of a wait.

#ifndef MP_INTERNAL_DEADLINE_H_
#define MP_INTERNAL_DEADLINE_H_

#include "absl/time/time.h"

namespace mp {
namespace internal {

// Now on the monotonic clock, as an absl::Time: absl::UnixEpoch() plus the
// time since std::chrono::steady_clock's origin (CLOCK_MONOTONIC's on Linux,
// QueryPerformanceCounter's on Windows). Only differences between such
// times, and comparisons, mean anything; it is never a calendar time. The
// scale is shared by every process on the machine (same clock, same origin),
// so a deadline may be handed to another process.
absl::Time MonotonicNow();

// The deadline `timeout` from now on MonotonicNow()'s scale (a zero or
// negative timeout: now; an infinite one: absl::InfiniteFuture()).
absl::Time DeadlineAfter(absl::Duration timeout);

// The time left until `deadline` (MonotonicNow()'s scale), never negative;
// absl::InfiniteDuration() for absl::InfiniteFuture().
absl::Duration TimeLeft(absl::Time deadline);

}  // namespace internal
}  // namespace mp

#endif  // MP_INTERNAL_DEADLINE_H_
