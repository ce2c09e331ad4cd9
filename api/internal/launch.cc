// Copyright 2026 The mp Authors.

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mp/codec.h"
#include "mp/internal/os.h"

namespace mp {
namespace os {

namespace {

std::atomic<int64_t> g_spawn_timeout_ns{int64_t{60} * 1000 * 1000 * 1000};

}  // namespace

absl::Duration SpawnTimeout() {
  return absl::Nanoseconds(g_spawn_timeout_ns.load(std::memory_order_relaxed));
}

void SetSpawnTimeoutForTesting(absl::Duration timeout) {
  g_spawn_timeout_ns.store(absl::ToInt64Nanoseconds(timeout),
                           std::memory_order_relaxed);
}

std::string EncodeLaunch(const Launch& launch) {
  Encoder e;
  Encode(e, launch.invoker);
  Encode(e, launch.function);
  Encode(e, launch.args);
  Encode(e, std::vector<int64_t>(launch.handles.begin(), launch.handles.end()));
  Encode(e, launch.options.daemon);
  Encode(e, launch.options.die_with_parent);
  Encode(e, static_cast<int32_t>(launch.start_method));
  return e.Release();
}

absl::StatusOr<Launch> DecodeLaunch(absl::string_view bytes) {
  Decoder d(bytes);
  Launch launch;
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

std::string EncodeAnswer(const absl::Status& status) {
  Encoder e;
  Encode(e, static_cast<int32_t>(status.code()));
  Encode(e, std::string(status.message()));
  return e.Release();
}

absl::Status DecodeAnswer(absl::string_view bytes) {
  Decoder d(bytes);
  int32_t code = 0;
  std::string message;
  absl::Status s = Decode(d, code);
  if (s.ok()) s = Decode(d, message);
  if (s.ok()) s = d.Finish();
  if (!s.ok() || code < 0 || code > 16) {
    return absl::InternalError("mp: malformed answer from a spawned child");
  }
  return absl::Status(static_cast<absl::StatusCode>(code), message);
}

std::string Frame(absl::string_view bytes) {
  std::string out(8, '\0');
  const uint64_t n = bytes.size();
  std::memcpy(&out[0], &n, 8);
  out.append(bytes.data(), bytes.size());
  return out;
}

absl::StatusOr<std::string> ReadFrame(
    const std::function<absl::Status(char* out, size_t size)>& read_exactly) {
  uint64_t n = 0;
  absl::Status s = read_exactly(reinterpret_cast<char*>(&n), 8);
  if (!s.ok()) return s;
  if (n > kMaxLaunchBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("mp: spawn channel frame of ", n, " bytes is corrupt"));
  }
  std::string bytes;
  while (bytes.size() < n) {
    const size_t chunk =
        static_cast<size_t>(std::min<uint64_t>(n - bytes.size(), 1 << 20));
    const size_t at = bytes.size();
    bytes.resize(at + chunk);
    s = read_exactly(&bytes[at], chunk);
    if (!s.ok()) return s;
  }
  return bytes;
}

}  // namespace os
}  // namespace mp

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

}  // namespace internal
}  // namespace mp
