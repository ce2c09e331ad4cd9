// Copyright 2026 The mp Authors.
//
// The state behind an mp::ByteStream (mp/stdio.h), and the calls that
// Process::Communicate() makes on it with one deadline for all of them.

#ifndef MP_INTERNAL_STREAM_H_
#define MP_INTERNAL_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"

namespace mp {
namespace internal {

struct StreamState {
  StreamState(os::OwnedHandle e, bool r) : end(std::move(e)), reads(r) {}
  // Whether `end` is open and this process's own. A state that a fork
  // child inherited from its parent is not: the child holds none of the
  // stream ends its parent made (they are recorded with the channel ends,
  // mp/internal/os.h), and their numbers may name other descriptors by
  // now. Such a state reads as closed and closes nothing.
  bool Holds() const {
    return end.valid() && generation == os::ChannelGeneration();
  }
  ~StreamState() {
    if (!Holds()) (void)end.release();
  }

  os::OwnedHandle end;
  // The os::ChannelGeneration() `end` was made in.
  const uint64_t generation = os::ChannelGeneration();
  const bool reads;
  // Received but not yet returned (a ReadAll that ran out of time).
  std::string pending;
  bool end_of_file = false;
};

// Reads until end of file or `deadline`: everything, pending bytes first;
// on DeadlineExceeded what arrived stays pending. `state` reads and is open.
absl::StatusOr<std::string> ReadAllBefore(StreamState& state,
                                          Deadline deadline);
// Writes `bytes` from `*written` on, advancing `*written`, until all are
// written or `deadline`. `state` writes and is open.
absl::Status WriteBefore(StreamState& state, absl::string_view bytes,
                         size_t* written, Deadline deadline);

}  // namespace internal
}  // namespace mp

#endif  // MP_INTERNAL_STREAM_H_
