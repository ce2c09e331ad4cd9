// Copyright 2026 The mp Authors.

#include "mp/stdio.h"

#include <algorithm>

#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "mp/internal/stream.h"
#include "mp/status.h"

namespace mp {
namespace internal {
namespace {

constexpr size_t kChunk = 64 * 1024;

absl::Status EndOfStream() {
  return EndOfFileError("mp: end of file: the child's end is closed");
}

}  // namespace

absl::StatusOr<std::string> ReadAllBefore(StreamState& state,
                                          Deadline deadline) {
  while (!state.end_of_file) {
    const size_t at = state.pending.size();
    state.pending.resize(at + kChunk);
    absl::StatusOr<size_t> n =
        os::ReadStream(state.end.get(), &state.pending[at], kChunk, deadline);
    state.pending.resize(at + (n.ok() ? *n : 0));
    if (!n.ok()) return n.status();
    if (*n == 0) state.end_of_file = true;
  }
  std::string all;
  all.swap(state.pending);
  return all;
}

absl::Status WriteBefore(StreamState& state, absl::string_view bytes,
                         size_t* written, Deadline deadline) {
  while (*written < bytes.size()) {
    absl::StatusOr<size_t> n =
        os::WriteStream(state.end.get(), bytes.substr(*written), deadline);
    if (!n.ok()) return n.status();
    *written += *n;
  }
  return absl::OkStatus();
}

}  // namespace internal

using internal::Deadline;

absl::Status ByteStream::CheckOpen(bool for_writing) const {
  if (state_ == nullptr || !state_->Holds()) {
    return absl::FailedPreconditionError("mp: byte stream is closed");
  }
  if (for_writing && state_->reads) {
    return absl::FailedPreconditionError(
        "mp: this byte stream only reads (a child's stdout or stderr)");
  }
  if (!for_writing && !state_->reads) {
    return absl::FailedPreconditionError(
        "mp: this byte stream only writes (a child's stdin)");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ByteStream::Read(size_t max_bytes,
                                             absl::Duration timeout) {
  if (absl::Status s = CheckOpen(/*for_writing=*/false); !s.ok()) return s;
  if (max_bytes == 0) {
    return absl::InvalidArgumentError("mp: Read of zero bytes");
  }
  std::string& pending = state_->pending;
  if (!pending.empty()) {
    const size_t n = std::min(max_bytes, pending.size());
    std::string out = pending.substr(0, n);
    pending.erase(0, n);
    return out;
  }
  if (state_->end_of_file) return internal::EndOfStream();
  std::string out(std::min(max_bytes, internal::kChunk), '\0');
  absl::StatusOr<size_t> n = os::ReadStream(
      state_->end.get(), &out[0], out.size(), Deadline::After(timeout));
  if (!n.ok()) return n.status();
  if (*n == 0) {
    state_->end_of_file = true;
    return internal::EndOfStream();
  }
  out.resize(*n);
  return out;
}

absl::StatusOr<std::string> ByteStream::ReadAll(absl::Duration timeout) {
  if (absl::Status s = CheckOpen(/*for_writing=*/false); !s.ok()) return s;
  return internal::ReadAllBefore(*state_, Deadline::After(timeout));
}

absl::Status ByteStream::Write(absl::string_view bytes,
                               absl::Duration timeout) {
  if (absl::Status s = CheckOpen(/*for_writing=*/true); !s.ok()) return s;
  size_t written = 0;
  return internal::WriteBefore(*state_, bytes, &written,
                               Deadline::After(timeout));
}

absl::Status ByteStream::Close() {
  if (state_ != nullptr && state_->Holds()) state_->end.reset();
  return absl::OkStatus();
}

bool ByteStream::closed() const {
  return state_ == nullptr || !state_->Holds();
}

bool ByteStream::readable() const { return !closed() && state_->reads; }

bool ByteStream::writable() const { return !closed() && !state_->reads; }

}  // namespace mp
