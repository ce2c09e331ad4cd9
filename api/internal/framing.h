// Copyright 2026 The mp Authors.
//
// Messages over records, shared by Connection (over mp/internal/os.h
// channels) and Queue (over mp/internal/ring.h). Each record starts with a
// kind byte:
//
//   'W' whole message      W payload                 (payload < one record)
//   'F' first of several   F u64-total-length chunk
//   'M' middle             M chunk
//   'L' last               L chunk
//   'A' abort              A                 (a writer died mid-message)
//
// Records are atomic, so a message can only ever be cut between records.
// A writer that finds the previous writer died holding the write lock sends
// 'A', and readers drop the partial message it announces. A reader that
// starts in the middle of a message (its predecessor died reading it) drops
// records until the next 'W' or 'F'. Either way, no torn or spliced message
// is ever delivered: it is delivered whole, or not at all.

#ifndef MP_INTERNAL_FRAMING_H_
#define MP_INTERNAL_FRAMING_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mp/internal/deadline.h"

namespace mp {
namespace internal {

absl::Status SendMessage(intptr_t end, absl::string_view message);

// Where records go: sends `pieces`, concatenated, as one record.
// `ends_message` marks the record that completes a message ('W' or 'L'):
// the Queue's ring (mp/internal/ring.h) counts items by it. The function
// above sends to a channel end; these to any sink.
using RecordSink = std::function<absl::Status(
    std::initializer_list<absl::string_view> pieces, bool ends_message)>;
absl::Status SendMessage(const RecordSink& sink, absl::string_view message);
absl::Status SendAbort(const RecordSink& sink);

// A receiving end's buffer and state.
class Receiver {
 public:
  Receiver();
  // Drop records until the next message start (see above).
  void Resync() { resync_ = true; }

  // Receives one message before `deadline`.
  //   Without `writer_alive` (a Connection): at the deadline, a message
  //   that has begun is kept, and the next call goes on with it; the call
  //   returns DeadlineExceeded.
  //   With `writer_alive` (the Queue, whose readers take turns): once a
  //   message has begun, the rest is awaited past the deadline for as long
  //   as `writer_alive()` (asked after every 100 ms of silence) says its
  //   writer may still finish it. When it says no, the records the writer
  //   published before it let go are read first; only what never came is
  //   dropped, so an item of a live writer is never lost.
  // Any other error drops a message that has begun. Messages over
  // `max_size` are dropped whole and reported as ResourceExhausted; the end
  // stays usable. Memory grows with the bytes received, not with the size
  // a first record announces.
  absl::Status Recv(intptr_t end, Deadline deadline, uint64_t max_size,
                    const std::function<bool()>& writer_alive,
                    std::string* out);

  // Where records come from: fills `buffer` (os::kMaxRecordBytes long)
  // with one record before `deadline` and returns its size, or fails as
  // os::RecvRecord does (EndOfFile, DeadlineExceeded). The Recv above reads
  // a channel end; the framing fuzzer (tests/fuzz/framing_fuzzer.cc) feeds
  // record streams from memory.
  using RecordSource =
      std::function<absl::StatusOr<size_t>(char* buffer, Deadline deadline)>;
  absl::Status Recv(const RecordSource& source, Deadline deadline,
                    uint64_t max_size,
                    const std::function<bool()>& writer_alive,
                    std::string* out);

 private:
  absl::Status Receive(const RecordSource& source, Deadline deadline,
                       uint64_t max_size,
                       const std::function<bool()>& writer_alive,
                       std::string* out);
  void DropPartial();
  void AppendChunk(absl::string_view chunk);

  std::unique_ptr<char[]> buffer_;
  bool resync_ = false;
  // The message that has begun, if any.
  bool in_message_ = false;
  bool oversized_ = false;  // over max_size: its bytes are not kept
  uint64_t total_ = 0;      // as its first record announced
  std::string partial_;
};

// Test seams, each called (when set) at one point where a test must hold a
// writer or a reader still to make a race happen every time. Set them
// before the framing is used, and clear them after; a hook is called on a
// copy, so it may clear or replace itself.
struct FramingTestHooks {
  // In SendMessage, between two records of one message.
  std::function<void()> between_records;
  // In Receiver::Recv, when a wait inside a message with `writer_alive`
  // timed out, before `writer_alive` is asked.
  std::function<void()> before_writer_check;
};
FramingTestHooks& TestHooks();

}  // namespace internal
}  // namespace mp

#endif  // MP_INTERNAL_FRAMING_H_
