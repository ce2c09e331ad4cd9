// Copyright 2026 The mp Authors.
//
// Standard streams on threads (mp/internal/os.h): a child is a thread, and
// shares its process's standard streams, environment and working
// directory, so it cannot be given its own. The common layer refuses a
// ChildIo before calling anything here (ChildrenShareAddressSpace()), and
// StartFork refuses one too; nothing below is reached from mp's own code.
// The mirror of posix/stdio.cc and win32/stdio.cc.

#include <string>

#include "mp/internal/deadline.h"
#include "mp/internal/os.h"

namespace mp {
namespace os {
namespace {

absl::Status NoStreams() {
  return absl::UnimplementedError(
      "mp: the threads backend cannot give a child its own standard "
      "streams: a child is a thread of this process");
}

}  // namespace

absl::StatusOr<OwnedHandle> OpenStreamFile(const std::string&, StreamFile) {
  return NoStreams();
}
absl::StatusOr<OwnedHandle> OpenNullDevice() { return NoStreams(); }
absl::StatusOr<StreamPipe> CreateStreamPipe(bool) { return NoStreams(); }
absl::StatusOr<size_t> ReadStream(intptr_t, char*, size_t, internal::Deadline) {
  return NoStreams();
}
absl::StatusOr<size_t> WriteStream(intptr_t, absl::string_view,
                                   internal::Deadline) {
  return NoStreams();
}
absl::StatusOr<WorkingDirectory> OpenWorkingDirectory(const std::string&) {
  return NoStreams();
}

}  // namespace os
}  // namespace mp
