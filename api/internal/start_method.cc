// Copyright 2026 The mp Authors.

#include "mp/internal/start_method.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "mp/internal/os.h"

namespace mp {
namespace internal {
namespace {

std::atomic<StartMethod> g_process_wide{StartMethod::kDefault};

}  // namespace

absl::Status CheckStartMethod(StartMethod method) {
  switch (method) {
    case StartMethod::kDefault:
    case StartMethod::kSpawn:
      return absl::OkStatus();
    case StartMethod::kFork:
      if (os::HasFork()) return absl::OkStatus();
      return absl::InvalidArgumentError("mp: this OS has no fork start method");
    case StartMethod::kForkserver:
      if (os::HasFork()) return absl::OkStatus();
      return absl::InvalidArgumentError(
          "mp: this OS has no forkserver start method (it has no fork)");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("mp: ", static_cast<int>(method), " is not a start method"));
}

StartMethod ProcessWideStartMethod() { return g_process_wide.load(); }

absl::Status SetProcessWideStartMethod(StartMethod method) {
  absl::Status s = CheckStartMethod(method);
  if (s.ok()) g_process_wide.store(method);
  return s;
}

}  // namespace internal
}  // namespace mp
