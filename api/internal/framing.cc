// Copyright 2026 The mp Authors.

#include "mp/internal/framing.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

absl::Status SendAbort(intptr_t end) { return SendAbort(ChannelSink(end)); }

Receiver::Receiver() : buffer_(new char[os::kMaxRecordBytes]) {}

absl::Status Receiver::Recv(intptr_t end, absl::Time deadline,
                            uint64_t max_size,
                            const std::function<bool()>& writer_alive,
                            std::string* out) {
  return Recv(
      [end](char* buffer, absl::Time until) {
        return os::RecvRecord(end, buffer, until);
      },
      deadline, max_size, writer_alive, out);
}

absl::Status Receiver::Recv(const RecordSource& source, absl::Time deadline,
                            uint64_t max_size,
                            const std::function<bool()>& writer_alive,
                            std::string* out) {
  bool in_message = false;
  bool oversized = false;
  uint64_t total = 0;
  out->clear();
  for (;;) {
    // Before a message starts, `deadline` applies; inside one, the rest is
    // on its way unless its writer died.
    const absl::Time wait_until =
        in_message ? absl::Now() + absl::Milliseconds(100) : deadline;
    absl::StatusOr<size_t> n = source(buffer_.get(), wait_until);
    if (!n.ok()) {
      if (in_message && absl::IsDeadlineExceeded(n.status())) {
        if (!writer_alive || writer_alive()) continue;
        out->clear();  // its writer died: the message will never finish
        in_message = false;
        continue;
      }
      if (IsEndOfFile(n.status())) out->clear();
      return n.status();
    }
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
        in_message = false;
        out->clear();
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
        std::memcpy(&total, body.data(), 8);
        oversized = total > max_size;
        if (!oversized) {
          out->reserve(total);
          out->append(body.data() + 8, body.size() - 8);
        }
        in_message = true;
        break;
      case kMiddle:
      case kLast:
        if (!in_message) continue;  // stray tail: its start was dropped
        if (!oversized) out->append(body.data(), body.size());
        if (!oversized && out->size() > total) {
          return absl::DataLossError("mp: message longer than announced");
        }
        if (kind == kLast) {
          if (oversized) {
            return absl::ResourceExhaustedError(
                absl::StrCat("mp: message of ", total,
                             " bytes exceeds the maximum of ", max_size));
          }
          if (out->size() != total) {
            return absl::DataLossError("mp: message shorter than announced");
          }
          return absl::OkStatus();
        }
        break;
      case kAbort:
        in_message = false;
        out->clear();
        break;
      default:
        return absl::DataLossError(
            absl::StrCat("mp: unknown record kind ", static_cast<int>(kind)));
    }
  }
}

}  // namespace internal
}  // namespace mp
