// Copyright 2026 The mp Authors.

#include "posix/util.h"

#include <sys/mman.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "mp/internal/deadline.h"

namespace mp {
namespace os {

absl::Status OsError(absl::string_view what, int err) {
  return absl::Status(absl::ErrnoToStatusCode(err),
                      absl::StrCat(what, ": ", std::strerror(err)));
}

absl::StatusOr<SharedMapping> MapShared(int fd, size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    close(fd);
    return OsError("mmap", err);
  }
  return SharedMapping{fd, p, size};
}

void Unmap(const SharedMapping& m) {
  munmap(m.data, m.size);
  close(m.fd);
}

int WaitMs(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  const absl::Duration left = deadline - internal::MonotonicNow();
  if (left <= absl::ZeroDuration()) return 0;
  const int64_t ms =
      absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace os
}  // namespace mp
