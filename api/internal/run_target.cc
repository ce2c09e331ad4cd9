// Copyright 2026 The mp Authors.

#include <cstdio>
#include <exception>

#include "mp/internal/os.h"

namespace mp {
namespace os {

int RunTarget(internal::InvokerFn invoker, void (*target)(),
              absl::string_view args) {
  // As Python's Process._bootstrap: an exception that escapes the target is
  // reported and becomes exit code 1; it must not unwind into the parent's
  // copy of main() (fork) or into main() at all (spawn).
  try {
    absl::Status s = invoker(target, args);
    if (!s.ok()) {
      std::fprintf(stderr, "mp: child %lld: cannot decode the arguments: %s\n",
                   static_cast<long long>(CurrentPid()),
                   std::string(s.message()).c_str());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mp: child %lld: uncaught exception: %s\n",
                 static_cast<long long>(CurrentPid()), e.what());
  } catch (...) {
    std::fprintf(stderr, "mp: child %lld: uncaught exception\n",
                 static_cast<long long>(CurrentPid()));
  }
  return 1;
}

}  // namespace os
}  // namespace mp
