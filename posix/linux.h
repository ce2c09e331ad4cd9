// Copyright 2026 The mp Authors.
//
// Linux-only: the Linux facilities that the generic POSIX files call,
// implemented in posix/linux_*.cc. A port to another POSIX system
// implements these declarations with what that system has (PORTING.md,
// "What is Linux-only").

#ifndef MP_POSIX_LINUX_H_
#define MP_POSIX_LINUX_H_

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mp/internal/deadline.h"
#include "posix/util.h"

namespace mp {
namespace os {

// --- linux_memfd.cc: memory shared with children ---------------------------
//
// Monitors (sync.cc) and shared memory (memory.cc) are made of it. No holder
// of the descriptor can change the memory's size, or every other holder's
// next access beyond the new end would be a SIGBUS; nothing is left behind
// in any namespace when the last holder closes it.

// `size` zero bytes behind a new close-on-exec descriptor that no holder can
// resize, mapped; nothing is left open on error.
absl::StatusOr<SharedMapping> CreateSharedMapping(const char* name,
                                                  size_t size);
// Maps all of a descriptor received from a parent; closes `fd` on error, and
// refuses (InvalidArgument) what is not memory made by CreateSharedMapping
// (one a holder could resize) or is smaller than `min_size` bytes.
absl::StatusOr<SharedMapping> MapReceived(int fd, size_t min_size);

// --- linux_futex.cc: waits on 32-bit words in shared memory ----------------
//
// Word waits (memory.cc) and the monitors' condition (sync.cc). A wait in
// one process is woken by a wake in another, whatever address each mapped
// the memory at. A waiter keeps no state anywhere but in the kernel, so one
// that is killed while it sleeps leaves nothing behind.

// Blocks while `*word == expected`, until a WakeSharedWord on the word or
// `deadline` (Deadline::Never(): none; a FUTEX_WAIT timeout from
// ToRelativeTimespec, made again after each interruption). OK when
// woken, when the word differs, or spuriously; DeadlineExceeded. Signals
// never interrupt it.
absl::Status WaitSharedWord(const std::atomic<uint32_t>* word,
                            uint32_t expected, internal::Deadline deadline);
// Wakes up to `n` threads of any process blocked in WaitSharedWord on `word`.
void WakeSharedWord(const std::atomic<uint32_t>* word, int n);

// --- linux_mutex.cc: the monitors' mutex ------------------------------------

// The calling thread's id: nonzero, and unique among the live threads of
// every process that can share a monitor with it (the kernel's thread id,
// which glibc's robust mutexes identify their owner by too). A system call;
// sync.cc caches it.
uint32_t KernelThreadId();

// pthread_mutex_timedlock with `deadline` as an absolute CLOCK_MONOTONIC time
// (ToMonotonicTimespec): no wall-clock step moves the end of the wait. Returns
// what pthread_mutex_timedlock returns (0, EOWNERDEAD, ETIMEDOUT, EDEADLK,
// ...).
int LockMutexBefore(pthread_mutex_t* mutex, internal::Deadline deadline);

// --- linux_pidfd.cc: process descriptors (Linux 5.4 or later) ------------
//
// The POSIX backend holds its children by pidfds (process.cc). A pidfd
// names one process for as long as it is open, even after that process
// ended and its pid was reused: it polls readable (POLLIN) once the process
// has ended, waitid(P_PIDFD) reaps exactly that process, and
// pidfd_send_signal signals exactly it. It is close-on-exec.

// OK when this kernel has every call below; Unimplemented, naming Linux
// 5.4, when it lacks one (ENOSYS, or an older waitid that refuses P_PIDFD),
// or the error that kept the check from running (ResourceExhausted with no
// descriptor to spare, PermissionDenied under a seccomp filter). Checked
// once per process; a failed check is repeated on the next call.
absl::Status CheckPidfdSupport();
// pidfd_open(pid, 0): a pidfd for `pid`, or -1 with errno (ESRCH: no such
// process; EINVAL: `pid` names a thread that does not lead its process).
int PidfdOpen(pid_t pid);
// pidfd_send_signal(pidfd, sig, NULL, 0): 0, or -1 with errno (ESRCH: the
// process has ended and been reaped).
int PidfdSendSignal(int pidfd, int sig);
// waitid(P_PIDFD, pidfd, info, options): 0, or -1 with errno (ECHILD: not a
// child of this process, or already reaped).
int PidfdWait(int pidfd, siginfo_t* info, int options);

// --- linux_process.cc: starting a child --------------------------------------

// In a fresh child (after fork, before exec or its target): asks the kernel
// to kill it with SIGKILL when its parent dies, and ends it at once if the
// parent (`parent`, its pid before fork) died before that took effect.
// Linux ties this to the *thread* that forked. Async-signal-safe.
void DieWithParent(pid_t parent);
// A path that executes exactly the running binary, even if the file it was
// started from was replaced or deleted since ("/proc/self/exe"), and the
// path that file had, for argv[0].
inline constexpr char kRunningBinary[] = "/proc/self/exe";
absl::StatusOr<std::string> RunningBinaryPath();
// In a fresh child (after fork, before exec): marks every descriptor from
// `first` up close-on-exec, however it was opened. One close_range(2) with
// CLOSE_RANGE_CLOEXEC (Linux 5.11); otherwise fcntl on each descriptor below
// `limit` (taken before fork). Async-signal-safe.
void MarkCloseOnExecFrom(int first, int limit);
// A close-on-exec descriptor for the directory `path`, which a child can
// fchdir() to even without read permission on it (O_PATH | O_DIRECTORY);
// -1 with errno (ENOTDIR for a path that is not a directory).
int OpenDirectoryToEnter(const char* path);
// In a fork child before its target: system calls made through
// syscall(2), not the C library's wrappers, each of which would be
// another page of code for the fresh child to fault in. Async-signal-safe.
// The calling thread's signal mask becomes `mask`.
void SetSignalMaskInChild(const sigset_t& mask);
void CloseInChild(int fd);
// Whether this process has only the calling thread: glibc's
// __libc_single_threaded, false from the first pthread_create() on (and
// in a fork child of a process that had other threads). Elsewhere false,
// which is always a safe answer.
bool SingleThreaded();
// In a fork child whose stdin was just replaced (dup2 onto 0): drops what
// the C library's `stdin` had buffered from the parent's stdin
// (__fpurge), so that its target reads the new stdin from its start. Takes
// no lock.
void DropBufferedStdin();
// Writes out what the C library's streams hold unwritten: every FILE of
// the process whose buffer holds output (__fpending), and std::cout and
// std::cerr when their put areas hold some (they have none while
// synchronised with stdio, the default). A stream with nothing to write is
// only read: no lock of its own is taken and nothing is written to it, so
// a fork child that printed nothing writes to none of the pages its
// parent's streams live on (each would cost it a copy-on-write fault).
// glibc: the list of streams is walked under its own lock (_IO_list_lock,
// as fflush(NULL) does; glibc's fork makes it fresh in the child), so
// other threads may open and close streams meanwhile; without the lock
// when SingleThreaded(), as there is no other thread. Elsewhere:
// fflush(NULL).
void FlushStdioHoldingData();
// Whether this process runs with privileges its caller may lack (setuid,
// setgid, file capabilities): getauxval(AT_SECURE).
bool RunsWithPrivileges();
// The number of CPUs this process may run on (sched_getaffinity), or 0 if
// unknown.
int AllowedCpuCount();
// A new close-on-exec descriptor that always polls readable (an eventfd
// whose count is never read), or -1 with errno.
int AlwaysReadable();
// The pid of the process that made the other end of the AF_UNIX socket
// `fd` (SO_PEERCRED: for a socketpair, the process that called it).
absl::StatusOr<pid_t> SocketPeerPid(int fd);
// A new close-on-exec descriptor for the working directory, which fchdir()
// in another process that receives it accepts, whatever access this process
// has to the directory and even if it was removed or renamed (O_PATH), or
// -1 with errno.
int OpenWorkingDirectory();

}  // namespace os
}  // namespace mp

#endif  // MP_POSIX_LINUX_H_
