// Copyright 2026 The mp Authors.

#include <cstdio>
#include <exception>

#include "mp/internal/children.h"
#include "mp/internal/os.h"

namespace mp {
namespace internal {
namespace {
thread_local bool t_in_target = false;
}  // namespace

bool InTarget() { return t_in_target; }

}  // namespace internal

namespace os {

int RunTarget(const Target& target) {
  internal::ResetInChild(target.options.daemon);
  // As Python's Process._bootstrap: an exception that escapes the target is
  // reported and becomes exit code 1; it must not unwind into the parent's
  // copy of main() (fork) or into main() at all (spawn).
  int code = 1;
  HandleTable handles(target.handles, DuplicateOsHandle, CloseOsHandle);
  internal::t_in_target = true;
  try {
    absl::Status s = target.invoker(target.function, target.args, &handles);
    if (s.ok()) {
      code = 0;
    } else {
      std::fprintf(stderr, "mp: child %lld: cannot decode the arguments: %s\n",
                   static_cast<long long>(CurrentPid()),
                   std::string(s.message()).c_str());
    }
  } catch (const internal::ExitRequest& e) {  // mp::Exit()
    code = e.code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mp: child %lld: uncaught exception: %s\n",
                 static_cast<long long>(CurrentPid()), e.what());
  } catch (...) {
    std::fprintf(stderr, "mp: child %lld: uncaught exception\n",
                 static_cast<long long>(CurrentPid()));
  }
  internal::t_in_target = false;
  // The child's own main code has ended: the same rule as for main().
  internal::FinishChildren();
  internal::EndInChild();
  return code;
}

}  // namespace os
}  // namespace mp
