// Copyright 2026 The mp Authors.
//
// Code references on threads (mp/internal/os.h). The mirror of
// posix/module.cc and win32/module.cc. There is one copy of the program, so
// a CodeRef is the address itself, tagged with a module name that no real
// module has, and resolving it gives the address back.

#include <cstdint>

#include "mp/internal/os.h"

namespace mp {
namespace os {
namespace {
constexpr char kThisProgram[] = "(threads backend: this program)";
}  // namespace

absl::StatusOr<internal::CodeRef> MakeCodeRef(const void* address) {
  if (address == nullptr) {
    return absl::InvalidArgumentError("mp: a null code address");
  }
  internal::CodeRef ref;
  ref.module = kThisProgram;
  ref.offset = reinterpret_cast<uintptr_t>(address);
  return ref;
}

absl::StatusOr<const void*> ResolveCodeRef(const internal::CodeRef& ref) {
  if (ref.module != kThisProgram || ref.offset == 0) {
    return absl::NotFoundError(
        "mp: a code reference that the threads backend did not make");
  }
  return reinterpret_cast<const void*>(static_cast<uintptr_t>(ref.offset));
}

}  // namespace os
}  // namespace mp
