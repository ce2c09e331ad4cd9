// Copyright 2026 The mp Authors.
//
// Launch messages (mp/internal/spawn.h), their resolution into a Target,
// and the registry of the invokers this program instantiated
// (mp/internal/target.h).

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mp/codec.h"
#include "mp/internal/spawn.h"
#include "mp/internal/target.h"

namespace mp {
namespace internal {
namespace {

// Filled during static initialisation only (InvokerRegistration), read
// after it: no lock needed.
std::vector<const void*>& Invokers() {
  static auto* invokers = new std::vector<const void*>;
  return *invokers;
}

}  // namespace

void RegisterInvoker(InvokerFn invoker) {
  Invokers().push_back(reinterpret_cast<const void*>(invoker));
}

bool IsInvoker(const void* address) {
  const std::vector<const void*>& invokers = Invokers();
  return std::find(invokers.begin(), invokers.end(), address) != invokers.end();
}

std::string EncodeLaunch(const os::Launch& launch,
                         const std::vector<intptr_t>& handles) {
  Encoder e;
  Encode(e, launch.invoker);
  Encode(e, launch.function);
  Encode(e, launch.args);
  Encode(e, std::vector<int64_t>(handles.begin(), handles.end()));
  Encode(e, launch.options.daemon);
  Encode(e, launch.options.die_with_parent);
  Encode(e, static_cast<int32_t>(launch.start_method));
  return e.Release();
}

absl::StatusOr<os::Launch> DecodeLaunch(absl::string_view bytes) {
  Decoder d(bytes);
  os::Launch launch;
  absl::Status s = Decode(d, launch.invoker);
  if (s.ok()) s = Decode(d, launch.function);
  if (s.ok()) s = Decode(d, launch.args);
  std::vector<int64_t> handles;
  if (s.ok()) s = Decode(d, handles);
  launch.handles.assign(handles.begin(), handles.end());
  if (s.ok()) s = Decode(d, launch.options.daemon);
  if (s.ok()) s = Decode(d, launch.options.die_with_parent);
  // Any value: mp::Init() checks it is a start method this OS has.
  int32_t start_method = 0;
  if (s.ok()) s = Decode(d, start_method);
  launch.start_method = static_cast<StartMethod>(start_method);
  if (s.ok()) s = d.Finish();
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("mp: malformed launch message: ", s.message()));
  }
  return launch;
}

absl::StatusOr<os::Target> ResolveLaunch(const os::Launch& launch) {
  absl::StatusOr<const void*> invoker = os::ResolveCodeRef(launch.invoker);
  if (!invoker.ok()) return invoker.status();
  absl::StatusOr<const void*> function = os::ResolveCodeRef(launch.function);
  if (!function.ok()) return function.status();
  // The function is called only through the invoker, with the argument
  // types it decodes: an invoker mp did not instantiate could be any code.
  if (!IsInvoker(*invoker)) {
    return absl::InvalidArgumentError(
        "mp: refused a launch whose invoker is not one of this program's "
        "Process invokers (a forged or corrupt launch); nothing was run");
  }
  os::Target target;
  target.invoker = reinterpret_cast<InvokerFn>(const_cast<void*>(*invoker));
  target.function = reinterpret_cast<void (*)()>(const_cast<void*>(*function));
  target.args = launch.args;
  target.handles = launch.handles;
  target.options = launch.options;
  return target;
}

}  // namespace internal
}  // namespace mp
