// Copyright 2026 The mp Authors.
//
// Process descriptors (pidfds), which the POSIX backend holds its children
// by. Linux-only (Linux >= 5.4: pidfd_open 5.3, waitid P_PIDFD 5.4); a port
// to another POSIX system would use kqueue's EVFILT_PROC, or FreeBSD's
// pdfork().
//
// A pidfd names one process for as long as it is open, even after that
// process ended and its pid was reused: it polls readable (POLLIN) once the
// process has ended, waitid(P_PIDFD) reaps exactly that process, and
// pidfd_send_signal signals exactly it. It is close-on-exec.

#ifndef MP_POSIX_LINUX_PIDFD_H_
#define MP_POSIX_LINUX_PIDFD_H_

#include <signal.h>
#include <sys/types.h>

#include "absl/status/status.h"

namespace mp {
namespace os {

// OK when this kernel has every call below; Unimplemented, naming Linux
// 5.4, when it lacks one (ENOSYS, or an older waitid that refuses P_PIDFD),
// or the error that kept the check from running (ResourceExhausted with no
// descriptor to spare, PermissionDenied under a seccomp filter). Checked
// once per process; a failed check is repeated on the next call.
absl::Status CheckPidfdSupport();

// pidfd_open(pid, 0): a close-on-exec pidfd for `pid`, or -1 with errno
// (ESRCH: no such process; EINVAL: `pid` names a thread that does not lead
// its process).
int PidfdOpen(pid_t pid);

// pidfd_send_signal(pidfd, sig, NULL, 0): 0, or -1 with errno (ESRCH: the
// process has ended and been reaped).
int PidfdSendSignal(int pidfd, int sig);

// waitid(P_PIDFD, pidfd, info, options): 0, or -1 with errno (ECHILD: not a
// child of this process, or already reaped).
int PidfdWait(int pidfd, siginfo_t* info, int options);

}  // namespace os
}  // namespace mp

#endif  // MP_POSIX_LINUX_PIDFD_H_
