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

// Memory shared with children, mapped MAP_SHARED: made by
// CreateSharedMapping or MapReceived (posix/linux.h).
struct SharedMapping {
  int fd = -1;
  void* data = nullptr;
  size_t size = 0;
};
// Maps `size` bytes of `fd` MAP_SHARED, read and write; closes `fd` on error.
absl::StatusOr<SharedMapping> MapShared(int fd, size_t size);
void Unmap(const SharedMapping& mapping);  // and closes the fd

}  // namespace os
}  // namespace mp

#endif  // MP_POSIX_UTIL_H_
