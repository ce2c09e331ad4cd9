// Copyright 2026 The mp Authors.

#include "posix/util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

namespace {

// The seals every mp memfd carries: its size can no longer change, and no
// seal can be added or removed.
constexpr int kSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

absl::StatusOr<SharedMapping> Map(int fd, size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    close(fd);
    return OsError("mmap", err);
  }
  return SharedMapping{fd, p, size};
}

}  // namespace

absl::StatusOr<SharedMapping> CreateSharedMapping(const char* name,
                                                  size_t size) {
  const int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return OsError("memfd_create", errno);
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    const int err = errno;
    close(fd);
    return OsError("ftruncate", err);
  }
  if (fcntl(fd, F_ADD_SEALS, kSeals) != 0) {
    const int err = errno;
    close(fd);
    return OsError("fcntl(F_ADD_SEALS)", err);
  }
  return Map(fd, size);
}

absl::StatusOr<SharedMapping> MapReceived(int fd, size_t min_size) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return OsError("fstat", err);
  }
  // Unsealed, a peer could shrink the memory under this mapping, and every
  // later access here would be a SIGBUS. Sealed, the size read here is the
  // size for good.
  const int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0 || (seals & kSeals) != kSeals || !S_ISREG(st.st_mode) ||
      st.st_size <= 0 || static_cast<size_t>(st.st_size) < min_size) {
    close(fd);
    return absl::InvalidArgumentError("mp: handle is not shared memory");
  }
  return Map(fd, static_cast<size_t>(st.st_size));
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
