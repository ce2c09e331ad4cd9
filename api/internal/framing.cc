// Copyright 2026 The mp Authors.

#include "mp/internal/framing.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "mp/status.h"

namespace mp {
namespace internal {
namespace {

constexpr char kWhole = 'W';
constexpr char kFirst = 'F';
constexpr char kMiddle = 'M';
constexpr char kLast = 'L';
constexpr char kAbort = 'A';

constexpr size_t kChunk = os::kMaxRecordBytes - 16;

// How long a receiver inside a message waits for the next record before
// it asks whether the writer is still alive.
constexpr absl::Duration kWriterCheckInterval = absl::Milliseconds(100);

}  // namespace

absl::Status SendMessage(const RecordSink& sink, absl::string_view message) {
  if (message.size() <= kChunk) {
    const char kind = kWhole;
    return sink({absl::string_view(&kind, 1), message}, true);
  }
  char first[9];
  first[0] = kFirst;
  const uint64_t total = message.size();
  std::memcpy(first + 1, &total, 8);
  absl::Status s =
      sink({absl::string_view(first, 9), message.substr(0, kChunk)}, false);
  for (size_t at = kChunk; s.ok() && at < message.size(); at += kChunk) {
    if (TestHooks().between_records) {
      const std::function<void()> hook = TestHooks().between_records;
      hook();
    }
    const bool last = at + kChunk >= message.size();
    const char kind = last ? kLast : kMiddle;
    s = sink({absl::string_view(&kind, 1), message.substr(at, kChunk)}, last);
  }
  return s;
}

absl::Status SendAbort(const RecordSink& sink) {
  const char kind = kAbort;
  return sink({absl::string_view(&kind, 1)}, false);
}

namespace {

RecordSink ChannelSink(intptr_t end) {
  return [end](std::initializer_list<absl::string_view> pieces, bool) {
    return os::SendRecord(end, pieces);
  };
}

}  // namespace

absl::Status SendMessage(intptr_t end, absl::string_view message) {
  return SendMessage(ChannelSink(end), message);
}

FramingTestHooks& TestHooks() {
  static FramingTestHooks* hooks = new FramingTestHooks;
  return *hooks;
}

Receiver::Receiver() : buffer_(new char[os::kMaxRecordBytes]) {}

absl::Status Receiver::Recv(intptr_t end, Deadline deadline, uint64_t max_size,
                            const std::function<bool()>& writer_alive,
                            std::string* out) {
  return Recv(
      [end](char* buffer, Deadline until) {
        return os::RecvRecord(end, buffer, until);
      },
      deadline, max_size, writer_alive, out);
}

void Receiver::DropPartial() {
  in_message_ = false;
  oversized_ = false;
  total_ = 0;
  partial_.clear();
}

void Receiver::AppendChunk(absl::string_view chunk) {
  // Memory follows the bytes that arrived, never the announced total
  // alone: grow geometrically, but not past the total.
  const size_t need = partial_.size() + chunk.size();
  if (partial_.capacity() < need) {
    partial_.reserve(static_cast<size_t>(std::min<uint64_t>(
        std::max<uint64_t>(need, 2 * uint64_t{partial_.capacity()}),
        std::max<uint64_t>(need, total_))));
  }
  partial_.append(chunk.data(), chunk.size());
}

absl::Status Receiver::Recv(const RecordSource& source, Deadline deadline,
                            uint64_t max_size,
                            const std::function<bool()>& writer_alive,
                            std::string* out) {
  out->clear();
  absl::Status s = Receive(source, deadline, max_size, writer_alive, out);
  // Only a deadline keeps a message that has begun, for the next call.
  if (!s.ok() && !absl::IsDeadlineExceeded(s)) DropPartial();
  return s;
}

absl::Status Receiver::Receive(const RecordSource& source, Deadline deadline,
                               uint64_t max_size,
                               const std::function<bool()>& writer_alive,
                               std::string* out) {
  for (;;) {
    // Inside a message whose writer can be asked about, the rest is awaited
    // in slices past `deadline` for as long as the writer lives; otherwise
    // `deadline` applies, and a message that has begun is kept.
    const bool in_slices = in_message_ && writer_alive != nullptr;
    const Deadline wait_until =
        in_slices ? Deadline::After(kWriterCheckInterval) : deadline;
    absl::StatusOr<size_t> n = source(buffer_.get(), wait_until);
    if (in_slices && absl::IsDeadlineExceeded(n.status())) {
      if (TestHooks().before_writer_check) {
        const std::function<void()> hook = TestHooks().before_writer_check;
        hook();
      }
      if (writer_alive()) continue;
      // The writer is gone: it died, or it finished and let go after
      // publishing the rest, which is then readable at once. Only a
      // silence after its end means the message will never finish.
      n = source(buffer_.get(), Deadline::Passed());
      if (absl::IsDeadlineExceeded(n.status())) {
        DropPartial();
        continue;
      }
    }
    if (!n.ok()) return n.status();
    if (*n == 0) return absl::DataLossError("mp: empty record");
    const char kind = buffer_[0];
    const absl::string_view body(buffer_.get() + 1, *n - 1);
    if (resync_ && (kind == kMiddle || kind == kLast || kind == kAbort)) {
      continue;  // the tail of a message a dead reader began
    }
    resync_ = false;
    switch (kind) {
      case kWhole:
      case kFirst:
        // A new start while inside a message: the old one's writer died
        // and its successor did not announce it; drop it.
        DropPartial();
        if (kind == kWhole) {
          if (body.size() > max_size) {
            return absl::ResourceExhaustedError(
                absl::StrCat("mp: message of ", body.size(),
                             " bytes exceeds the maximum of ", max_size));
          }
          out->assign(body.data(), body.size());
          return absl::OkStatus();
        }
        if (body.size() < 8) return absl::DataLossError("mp: bad first record");
        std::memcpy(&total_, body.data(), 8);
        oversized_ = total_ > max_size;
        if (!oversized_) AppendChunk(body.substr(8));
        in_message_ = true;
        break;
      case kMiddle:
      case kLast:
        if (!in_message_) continue;  // stray tail: its start was dropped
        if (!oversized_) AppendChunk(body);
        if (!oversized_ && partial_.size() > total_) {
          return absl::DataLossError("mp: message longer than announced");
        }
        if (kind == kLast) {
          if (oversized_) {
            return absl::ResourceExhaustedError(
                absl::StrCat("mp: message of ", total_,
                             " bytes exceeds the maximum of ", max_size));
          }
          if (partial_.size() != total_) {
            return absl::DataLossError("mp: message shorter than announced");
          }
          out->swap(partial_);
          DropPartial();
          return absl::OkStatus();
        }
        break;
      case kAbort:
        DropPartial();
        break;
      default:
        return absl::DataLossError(
            absl::StrCat("mp: unknown record kind ", static_cast<int>(kind)));
    }
  }
}

}  // namespace internal
}  // namespace mp
