// Copyright 2026 The mp Authors.
//
// Private to the POSIX backend: what process.cc and forkserver.cc share.

#ifndef MP_POSIX_FORKSERVER_H_
#define MP_POSIX_FORKSERVER_H_

#include <signal.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

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

// A child's environment (ChildIo), built before fork(): `pointers` is
// what `environ` becomes in a fork child and what execve() is given.
// `inherit`: the child keeps this process's environment as it is.
struct EnvironmentPlan {
  bool inherit = true;
  std::vector<std::string> entries;
  std::vector<char*> pointers;
};

// Fills `plan` in place: the pointers point into its own strings. Reads
// `environ` as it is now, as Python's os.environ copy would.
void PlanEnvironment(const ChildIo& io, EnvironmentPlan& plan);
// In a fresh child, after fork: places `io`'s streams on 0, 1 and 2 and
// enters its working directory. True, or false with the step that failed
// and errno. The streams' descriptors are 3 or above, so no dup2() here
// replaces another's source. Async-signal-safe: dup2 and fchdir.
bool ApplyStreamsAndDirectory(const ChildIo& io, CopyStep* failed);
// In a fork child whose ApplyStreamsAndDirectory failed with `error`: says
// so on its stderr (whatever that is by now) and ends with 127.
// Async-signal-safe: write and _exit.
[[noreturn]] void ForkChildSetupFailed(CopyStep step, int error);

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
