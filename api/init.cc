// Copyright 2026 The mp Authors.

#include "mp/init.h"

#include <atomic>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mp/internal/children.h"
#include "mp/internal/hooks.h"
#include "mp/internal/os.h"
#include "mp/internal/spawn.h"
#include "mp/process.h"

namespace mp {
namespace {
std::atomic<bool> g_initialized{false};
// Set during static initialisation (SetInitHook), read after it.
internal::InitHook g_init_hook = nullptr;

void FinishChildrenAtExit() { internal::FinishChildren(); }

// In a spawned child: makes the parent's process-wide start method this
// process's own. InvalidArgument for a value that is not a start method,
// or one this OS does not have.
absl::Status AdoptStartMethod(StartMethod method) {
  absl::Status s = internal::SetProcessWideStartMethod(method);
  if (s.ok()) return s;
  return absl::InvalidArgumentError(
      absl::StrCat("mp: malformed launch message: ", s.message()));
}
}  // namespace

bool internal::SetInitHook(InitHook hook) {
  if (g_init_hook != nullptr) return false;
  g_init_hook = hook;
  return true;
}

bool Initialized() { return g_initialized.load(); }

MainScope::~MainScope() {
  if (active_) internal::FinishChildren();
}

MainScope Init(int argc, char** argv) {
  if (!g_initialized.exchange(true)) std::atexit(FinishChildrenAtExit);
  std::optional<internal::ReceivedLaunch> received =
      internal::ReceiveLaunch(argc, argv);
  if (!received.has_value()) {  // the parent: carry on with main()
    if (g_init_hook != nullptr) g_init_hook(argc, argv);
    MainScope scope;
    scope.active_ = true;
    return scope;
  }

  // A spawned child: find its target in this copy of the binary, adopt the
  // parent's process-wide start method, tell the parent whether that
  // worked, then run and never return.
  absl::StatusOr<os::Target> target = internal::ResolveLaunch(received->launch);
  absl::Status found = target.status();
  if (found.ok()) found = AdoptStartMethod(received->launch.start_method);
  internal::AnswerLaunch(*received, found);
  if (!found.ok()) os::ExitNow(2);
  os::ExitNow(os::RunTarget(*target));
}

}  // namespace mp
