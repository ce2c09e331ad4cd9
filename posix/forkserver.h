// Copyright 2026 The mp Authors.
//
// Private to the POSIX backend: what process.cc and forkserver.cc share.

#ifndef MP_POSIX_FORKSERVER_H_
#define MP_POSIX_FORKSERVER_H_

#include <signal.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"

namespace mp {
namespace os {

// --- process.cc
// ---------------------------------------------------------------

// Waits until `fd` is readable (or hung up) or `deadline` passes; retries
// EINTR with the time left. True when readable.
absl::StatusOr<bool> WaitReadable(int fd, internal::Deadline deadline);
// Sends all of `bytes` on a socket before `deadline`, however little the
// peer reads (non-blocking sends, poll for room): DeadlineExceeded then.
// Never raises SIGPIPE: a vanished peer is the OS's error (EPIPE). `what`
// names the socket in errors ("spawn channel").
absl::Status SendAll(int fd, absl::string_view bytes,
                     internal::Deadline deadline, absl::string_view what);
// Reads exactly `size` bytes before `deadline`, never more: OutOfRange if
// the peer's end closed first, DeadlineExceeded. `what` as for SendAll.
absl::Status ReadExactly(int fd, char* out, size_t size,
                         internal::Deadline deadline, absl::string_view what);
// The exit code of a child that waitid() found ended: N for exit(N), -N
// for death by signal N.
int ExitCodeOf(const siginfo_t& info);

// --- forkserver.cc
// ------------------------------------------------------------

// WaitChild for a forkserver child (Child::process is valid): reads the
// status its server reports on the sentinel; if the server ended first,
// makes the sentinel the child's pidfd (see Child in mp/internal/os.h) and
// returns nullopt with `child.process` released, for the caller to wait on
// it as on any other child.
absl::StatusOr<std::optional<int>> WaitForkserverChild(
    Child& child, internal::Deadline deadline);

// ParentPid() given the OS's parent pid `os_parent` (getppid()): in a
// forkserver child whose server still runs (its parent is the server), the
// pid of the process that started it; otherwise `os_parent`.
pid_t ForkserverParentPid(pid_t os_parent);

}  // namespace os
}  // namespace mp

#endif  // MP_POSIX_FORKSERVER_H_
