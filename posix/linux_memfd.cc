// Copyright 2026 The mp Authors.
//
// Linux-only: CreateSharedMapping / MapReceived (posix/linux.h) on a sealed
// memfd. A port replaces it with shm_open(SHM_ANON) or memfd_create with the
// same seals (FreeBSD), or shm_open + shm_unlink, unsealed (macOS).
//
// Why memfd and not shm_open: a memfd has no name, so nothing can leak in
// /dev/shm when a process dies, and no other process can open it; children
// get it as an inherited descriptor (fork: the same mapping; spawn: the fd,
// mapped again). It is sealed against shrinking and growing (F_SEAL_SHRINK,
// F_SEAL_GROW, F_SEAL_SEAL): a peer holding the descriptor cannot truncate
// the memory and turn every other holder's next access into a SIGBUS.

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix/linux.h"
#include "posix/util.h"

namespace mp {
namespace os {

namespace {

// The seals every mp memfd carries: its size can no longer change, and no
// seal can be added or removed.
constexpr int kSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

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
  return MapShared(fd, size);
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
  return MapShared(fd, static_cast<size_t>(st.st_size));
}

}  // namespace os
}  // namespace mp
