// Copyright 2026 The mp Authors.

#include "mp/internal/deadline.h"

#include <algorithm>
#include <climits>

namespace mp {
namespace internal {
namespace {

// Now on the deadlines' scale: absl::UnixEpoch() plus the time since
// steady_clock's origin. Only differences and comparisons mean anything;
// it is never a calendar time.
absl::Time MonotonicNow() {
  return absl::UnixEpoch() +
         absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

// The time left in whole milliseconds, rounded up; `left` is finite and
// positive.
int64_t CeilMilliseconds(absl::Duration left) {
  return absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
}

}  // namespace

Deadline Deadline::After(absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration()) return Never();
  return Deadline(MonotonicNow() + std::max(timeout, absl::ZeroDuration()));
}

bool Deadline::Expired() const { return !IsNever() && MonotonicNow() >= at_; }

absl::Duration Deadline::Left() const {
  if (IsNever()) return absl::InfiniteDuration();
  return std::max(at_ - MonotonicNow(), absl::ZeroDuration());
}

int Deadline::ToPollMilliseconds() const {
  if (IsNever()) return -1;
  const absl::Duration left = Left();
  if (left <= absl::ZeroDuration()) return 0;
  const int64_t ms = CeilMilliseconds(left);
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

uint32_t Deadline::ToWin32Milliseconds() const {
  constexpr uint32_t kInfinite = 0xFFFFFFFF;  // INFINITE
  if (IsNever()) return kInfinite;
  const absl::Duration left = Left();
  if (left <= absl::ZeroDuration()) return 0;
  const int64_t ms = CeilMilliseconds(left);
  return ms >= kInfinite ? kInfinite - 1 : static_cast<uint32_t>(ms);
}

timespec Deadline::ToRelativeTimespec() const {
  return absl::ToTimespec(Left());
}

timespec Deadline::ToMonotonicTimespec() const {
  return absl::ToTimespec(
      std::max(at_ - absl::UnixEpoch(), absl::ZeroDuration()));
}

std::chrono::steady_clock::time_point Deadline::ToSteadyTimePoint() const {
  const absl::Duration since_origin =
      std::max(at_ - absl::UnixEpoch(), absl::ZeroDuration());
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          absl::ToChronoNanoseconds(since_origin)));
}

}  // namespace internal
}  // namespace mp
