// Copyright 2026 The mp Authors.

#include "mp/init.h"

#include <atomic>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mp/internal/children.h"
#include "mp/internal/os.h"
#include "mp/process.h"

namespace mp {
namespace {
std::atomic<bool> g_initialized{false};

void FinishChildrenAtExit() { internal::FinishChildren(); }

// In a spawned child: makes the parent's process-wide start method this
// process's own. InvalidArgument for a value that is not a start method,
// or fork where this OS has none.
absl::Status AdoptStartMethod(StartMethod method) {
  switch (method) {
    case StartMethod::kDefault:
    case StartMethod::kFork:
    case StartMethod::kSpawn:
      return SetStartMethod(method);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "mp: malformed launch message: start method ", static_cast<int>(method)));
}
}  // namespace

bool Initialized() { return g_initialized.load(); }

MainScope::~MainScope() {
  if (active_) internal::FinishChildren();
}

MainScope Init(int argc, char** argv) {
  if (!g_initialized.exchange(true)) std::atexit(FinishChildrenAtExit);
  std::optional<os::Launch> launch = os::ReceiveLaunch(argc, argv);
  if (!launch.has_value()) {  // the parent: carry on with main()
    MainScope scope;
    scope.active_ = true;
    return scope;
  }

  // A spawned child: find both code addresses in this copy of the binary,
  // check that the invoker is one mp instantiated (the function is called
  // only through it, with the argument types it decodes), adopt the
  // parent's process-wide start method, tell the parent whether that
  // worked, then run and never return.
  absl::StatusOr<const void*> invoker = os::ResolveCodeRef(launch->invoker);
  absl::StatusOr<const void*> function = os::ResolveCodeRef(launch->function);
  absl::Status found = !invoker.ok() ? invoker.status() : function.status();
  if (found.ok() && !internal::IsInvoker(*invoker)) {
    found = absl::InvalidArgumentError(
        "mp: refused a launch whose invoker is not one of this program's "
        "Process invokers (a forged or corrupt launch); nothing was run");
  }
  if (found.ok()) found = AdoptStartMethod(launch->start_method);
  os::AnswerLaunch(found);
  if (!found.ok()) os::ExitNow(2);
  os::Target target;
  target.invoker =
      reinterpret_cast<internal::InvokerFn>(const_cast<void*>(*invoker));
  target.function = reinterpret_cast<void (*)()>(const_cast<void*>(*function));
  target.args = std::move(launch->args);
  target.handles = std::move(launch->handles);
  target.options = launch->options;
  os::ExitNow(os::RunTarget(target));
}

}  // namespace mp
