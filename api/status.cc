// Copyright 2026 The mp Authors.

#include "mp/status.h"

#include "absl/strings/cord.h"

namespace mp {
namespace {

constexpr char kPayloadUrl[] = "mp";

absl::Status Make(absl::StatusCode code, absl::string_view kind,
                  absl::string_view message) {
  absl::Status s(code, message);
  s.SetPayload(kPayloadUrl, absl::Cord(kind));
  return s;
}

bool Is(const absl::Status& s, absl::StatusCode code, absl::string_view kind) {
  if (s.code() != code) return false;
  absl::optional<absl::Cord> payload = s.GetPayload(kPayloadUrl);
  return payload.has_value() && *payload == kind;
}

}  // namespace

absl::Status EndOfFileError(absl::string_view m) {
  return Make(absl::StatusCode::kOutOfRange, "eof", m);
}
absl::Status OwnerDiedError(absl::string_view m) {
  return Make(absl::StatusCode::kDataLoss, "owner-died", m);
}
absl::Status EmptyError(absl::string_view m) {
  return Make(absl::StatusCode::kUnavailable, "empty", m);
}
absl::Status FullError(absl::string_view m) {
  return Make(absl::StatusCode::kResourceExhausted, "full", m);
}
absl::Status BrokenError(absl::string_view m) {
  return Make(absl::StatusCode::kAborted, "broken", m);
}

absl::Status WorkerDiedError(absl::string_view m) {
  return Make(absl::StatusCode::kAborted, "worker-died", m);
}

bool IsEndOfFile(const absl::Status& s) {
  return Is(s, absl::StatusCode::kOutOfRange, "eof");
}
bool IsOwnerDied(const absl::Status& s) {
  return Is(s, absl::StatusCode::kDataLoss, "owner-died");
}
bool IsEmpty(const absl::Status& s) {
  return Is(s, absl::StatusCode::kUnavailable, "empty");
}
bool IsFull(const absl::Status& s) {
  return Is(s, absl::StatusCode::kResourceExhausted, "full");
}
bool IsBroken(const absl::Status& s) {
  return Is(s, absl::StatusCode::kAborted, "broken");
}
bool IsWorkerDied(const absl::Status& s) {
  return Is(s, absl::StatusCode::kAborted, "worker-died");
}

}  // namespace mp
