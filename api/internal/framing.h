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
//   'A' abort              A                         (a writer died
//   mid-message)
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
#include "absl/time/time.h"

namespace mp {
namespace internal {

absl::Status SendMessage(intptr_t end, absl::string_view message);
absl::Status SendAbort(intptr_t end);

// Where records go: sends `pieces`, concatenated, as one record.
// `ends_message` marks the record that completes a message ('W' or 'L'):
// the Queue's ring (mp/internal/ring.h) counts items by it. The two
// functions above send to a channel end; these to any sink.
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

  // Receives one message. `deadline` bounds the wait for a message to
  // *start*; once one has started, the rest is awaited past it, while
  // `writer_alive()` (if given, asked every 100 ms of silence) says the
  // writer may still finish it. Messages over `max_size` are dropped whole
  // and reported as ResourceExhausted; the end stays usable.
  absl::Status Recv(intptr_t end, absl::Time deadline, uint64_t max_size,
                    const std::function<bool()>& writer_alive,
                    std::string* out);

  // Where records come from: fills `buffer` (os::kMaxRecordBytes long)
  // with one record before `deadline` and returns its size, or fails as
  // os::RecvRecord does (EndOfFile, DeadlineExceeded). The Recv above reads
  // a channel end; the framing fuzzer (tests/fuzz/framing_fuzzer.cc) feeds
  // record streams from memory.
  using RecordSource =
      std::function<absl::StatusOr<size_t>(char* buffer, absl::Time deadline)>;
  absl::Status Recv(const RecordSource& source, absl::Time deadline,
                    uint64_t max_size,
                    const std::function<bool()>& writer_alive,
                    std::string* out);

 private:
  std::unique_ptr<char[]> buffer_;
  bool resync_ = false;
};

}  // namespace internal
}  // namespace mp

#endif  // MP_INTERNAL_FRAMING_H_
