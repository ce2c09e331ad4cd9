// Copyright 2026 The mp Authors.

#include "absl/strings/str_cat.h"
#include "mp/codec.h"
#include "mp/internal/os.h"

namespace mp {
namespace os {

std::string EncodeLaunch(const Launch& launch) {
  Encoder e;
  Encode(e, launch.invoker);
  Encode(e, launch.target);
  Encode(e, launch.args);
  return e.Release();
}

absl::StatusOr<Launch> DecodeLaunch(absl::string_view bytes) {
  Decoder d(bytes);
  Launch launch;
  absl::Status s = Decode(d, launch.invoker);
  if (s.ok()) s = Decode(d, launch.target);
  if (s.ok()) s = Decode(d, launch.args);
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

}  // namespace os
}  // namespace mp
