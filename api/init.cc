// Copyright 2026 The mp Authors.

#include "mp/init.h"

#include <atomic>

#include "mp/internal/os.h"

namespace mp {
namespace {
std::atomic<bool> g_initialized{false};
}  // namespace

bool Initialized() { return g_initialized.load(); }

void Init(int argc, char** argv) {
  g_initialized.store(true);
  std::optional<os::Launch> launch = os::ReceiveLaunch(argc, argv);
  if (!launch.has_value()) return;  // the parent: carry on with main()

  // A spawned child: find both code addresses in this copy of the binary,
  // tell the parent whether that worked, then run and never return.
  absl::StatusOr<const void*> invoker = os::ResolveCodeRef(launch->invoker);
  absl::StatusOr<const void*> target = os::ResolveCodeRef(launch->target);
  absl::Status found = !invoker.ok() ? invoker.status() : target.status();
  os::AnswerLaunch(found);
  if (!found.ok()) os::ExitNow(2);
  os::ExitNow(os::RunTarget(
      reinterpret_cast<internal::InvokerFn>(const_cast<void*>(*invoker)),
      reinterpret_cast<void (*)()>(const_cast<void*>(*target)), launch->args));
}

}  // namespace mp
