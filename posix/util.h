// Copyright 2026 The mp Authors.
//
// Private to the POSIX backend: the helpers every file of it uses. The
// mirror of win32/util.h.

#ifndef MP_POSIX_UTIL_H_
#define MP_POSIX_UTIL_H_

#include <errno.h>

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mp {
namespace os {

// "what: strerror(err)" with the matching absl status code.
absl::Status OsError(absl::string_view what, int err = errno);

// Memory shared with children: a memfd (no name in /dev/shm, nothing left
// behind when a process dies) mapped MAP_SHARED. Monitors (sync.cc) and
// shared memory (memory.cc) are made of it. The memfd is sealed against
// shrinking and growing (F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_SEAL): a peer
// holding the descriptor cannot truncate the memory and turn every other
// holder's next access into a SIGBUS.
struct SharedMapping {
  int fd = -1;
  void* data = nullptr;
  size_t size = 0;
};
// `size` zero bytes in a new close-on-exec memfd, sealed; nothing is left
// open on error.
absl::StatusOr<SharedMapping> CreateSharedMapping(const char* name,
                                                  size_t size);
// Maps all of a memfd received from a parent; closes `fd` on error, and
// refuses (InvalidArgument) what is not a memfd sealed as above of at least
// `min_size` bytes.
absl::StatusOr<SharedMapping> MapReceived(int fd, size_t min_size);
void Unmap(const SharedMapping& mapping);  // and closes the fd

// What is left of `deadline` (MonotonicNow()'s scale) as poll()'s timeout: -1
// for no deadline, rounded up so that a wait never ends before the deadline.
int WaitMs(absl::Time deadline);

}  // namespace os
}  // namespace mp

#endif  // MP_POSIX_UTIL_H_
