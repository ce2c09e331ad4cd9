// Copyright 2026 The mp Authors.

#include "posix/util.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

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

}  // namespace os
}  // namespace mp
