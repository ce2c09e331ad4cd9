// Copyright 2026 The mp Authors.

#include "mp/internal/deadline.h"

#include <algorithm>
#include <chrono>

namespace mp {
namespace internal {

absl::Time MonotonicNow() {
  return absl::UnixEpoch() +
         absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

absl::Time DeadlineAfter(absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration()) return absl::InfiniteFuture();
  return MonotonicNow() + std::max(timeout, absl::ZeroDuration());
}

absl::Duration TimeLeft(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return absl::InfiniteDuration();
  return std::max(deadline - MonotonicNow(), absl::ZeroDuration());
}

}  // namespace internal
}  // namespace mp
