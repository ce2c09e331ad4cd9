// Copyright 2026 The mp Authors.
//
// Linux-only: process descriptors (see posix/linux.h). A port to another
// POSIX system would use kqueue EVFILT_PROC, or FreeBSD's pdfork().

#include <errno.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include "posix/linux.h"
#include "posix/util.h"

// The system call numbers and waitid's id type, for C libraries and kernel
// headers that predate them (the same on every architecture).
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace mp {
namespace os {

absl::Status CheckPidfdSupport() {
  // Set once the check passed. A plain atomic, not a function-local static:
  // a fork child must never wait for a guard another thread held at fork.
  static std::atomic<bool> supported{false};
  if (supported.load(std::memory_order_relaxed)) return absl::OkStatus();
  const int self = PidfdOpen(::getpid());
  if (self < 0) {
    if (errno == ENOSYS) {
      return absl::UnimplementedError(
          "mp: this kernel has no pidfd_open(2); mp needs Linux 5.4 or later");
    }
    return OsError("pidfd_open");
  }
  // This process is not its own child: ECHILD where waitid knows P_PIDFD
  // (5.4), EINVAL where it does not.
  siginfo_t info = {};
  const int r = PidfdWait(self, &info, WEXITED | WNOHANG);
  const int err = errno;
  ::close(self);
  if (r < 0 && err == EINVAL) {
    return absl::UnimplementedError(
        "mp: this kernel's waitid(2) has no P_PIDFD; mp needs Linux 5.4 or "
        "later");
  }
  supported.store(true, std::memory_order_relaxed);
  return absl::OkStatus();
}

int PidfdOpen(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U));
}

int PidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(
      ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0U));
}

int PidfdWait(int pidfd, siginfo_t* info, int options) {
  return ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd),
                  info, options);
}

}  // namespace os
}  // namespace mp
