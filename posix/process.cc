// Copyright 2026 The mp Authors.
//
// The POSIX backend of mp/internal/os.h: fork, and the OS's part of spawn
// (a copy of the running binary by fork + exec, and its channel; the
// protocol is mp/internal/spawn.h). Function for function the mirror of
// win32/process.cc.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "posix/channel.h"
#include "posix/util.h"

// close_range(2) (Linux 5.9; CLOSE_RANGE_CLOEXEC since 5.11), for C
// libraries and kernel headers that predate it.
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
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
namespace {

void CloseFd(int& fd) {
  if (fd >= 0) {
    // POSIX leaves the fd's state unspecified after EINTR; on Linux it is
    // closed, so close() is never retried.
    ::close(fd);
    fd = -1;
  }
}

// Waits until `fd` is readable (or hung up) or `deadline` passes; retries
// EINTR with the time left. Returns true when readable.
absl::StatusOr<bool> WaitReadable(int fd, absl::Time deadline) {
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    const int n = ::poll(&p, 1, WaitMs(deadline));
    if (n > 0) return true;
    if (n == 0) {
      if (internal::MonotonicNow() >= deadline) return false;
      continue;  // woke early (rounding): wait for the rest
    }
    if (errno != EINTR) return OsError("poll");
  }
}

// Sends all of `bytes` before `deadline` (absl::InfiniteFuture(): no
// limit): each send is non-blocking, and a full channel is waited on with
// poll() for the time left, so a peer that never reads cannot hold the
// sender past the deadline. DeadlineExceeded then.
absl::Status SendAll(int fd, absl::string_view bytes, absl::Time deadline) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a child that died must be an error, not SIGPIPE.
    const ssize_t n =
        ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return OsError("send on spawn channel");
    }
    struct pollfd p = {fd, POLLOUT, 0};
    const int r = ::poll(&p, 1, WaitMs(deadline));
    if (r < 0 && errno != EINTR) return OsError("poll");
    if (r == 0 && internal::MonotonicNow() >= deadline) {
      return absl::DeadlineExceededError("mp: spawn channel timed out");
    }
  }
  return absl::OkStatus();
}

// Reads exactly `size` bytes; a short read at EOF is OutOfRange.
absl::Status ReadExactly(int fd, char* out, size_t size, absl::Time deadline) {
  while (size > 0) {
    absl::StatusOr<bool> ready = WaitReadable(fd, deadline);
    if (!ready.ok()) return ready.status();
    if (!*ready)
      return absl::DeadlineExceededError("mp: spawn channel timed out");
    const ssize_t n = ::read(fd, out, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return OsError("read spawn channel");
    }
    if (n == 0) return absl::OutOfRangeError("mp: spawn channel closed");
    out += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// pidfds (Linux 5.3; waitid's P_PIDFD 5.4), for C libraries that predate
// their wrappers. A port to another POSIX system replaces them with its own
// process descriptors (FreeBSD's pdfork) or a kqueue EVFILT_PROC watch.
int PidfdOpen(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

// Whether this kernel has pidfds, asked once. A child is started only if it
// does: a fork child cannot be taken back.
absl::Status CheckPidfds() {
  static const int error = [] {
    const int fd = PidfdOpen(::getpid());
    if (fd >= 0) {
      ::close(fd);
      return 0;
    }
    return errno;
  }();
  if (error == 0) return absl::OkStatus();
  if (error == ENOSYS) {
    return absl::UnimplementedError(
        "mp: starting a child needs Linux 5.4 or later (pidfd_open, waitid "
        "P_PIDFD)");
  }
  return OsError("pidfd_open", error);
}

// The sentinel of the child `pid`, opened in the parent right after fork().
//
// Race: between fork() returning and pidfd_open, the child may already have
// exited and been reaped by other code of this program — the kernel itself
// when SIGCHLD is ignored, or a SIGCHLD handler of the program's own that
// calls waitpid(-1). pidfd_open then fails with ESRCH (its pid cannot have
// been reused so soon: the kernel hands out pids in order, wrapping only at
// pid_max). Such a child has ended with its exit code lost; its sentinel is
// then the read end of a pipe with no writer, which polls ready at once and
// which waitid(P_PIDFD) and pidfd_send_signal refuse with EBADF: WaitChild
// and SignalChild read that as "ended, code unknown".
absl::StatusOr<OwnedHandle> OpenSentinel(pid_t pid) {
  const int pidfd = PidfdOpen(pid);
  if (pidfd >= 0) return OwnedHandle(pidfd);
  if (errno != ESRCH) return OsError("pidfd_open");
  int ended[2];
  if (::pipe2(ended, O_CLOEXEC) != 0) return OsError("pipe2");
  ::close(ended[1]);
  return OwnedHandle(ended[0]);
}

// The binary to re-execute: the kernel's link to the running executable.
absl::StatusOr<std::string> SelfExe() {
  std::string path(PATH_MAX, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", &path[0], path.size());
  if (n < 0) return OsError("readlink /proc/self/exe");
  if (static_cast<size_t>(n) >= path.size()) {
    return absl::FailedPreconditionError("mp: executable path too long");
  }
  path.resize(static_cast<size_t>(n));
  return path;
}

// In a fresh child (after fork, before exec): ask the kernel to kill it when
// the parent dies, and catch a parent that died before that took effect.
// Async-signal-safe: prctl and getppid are plain system calls.
void DieWithParent(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(128 + SIGKILL);
}

// fork(), with every signal blocked in the calling thread across it: the
// child then runs none of the parent's handlers before ResetSignals() (a
// Ctrl-C to the process group in that moment would otherwise run the
// parent's SIGINT handler in the child). Returns in the parent with its
// mask restored, and in the child with every signal still blocked.
pid_t ForkWithSignalsBlocked() {
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = ::fork();
  if (pid != 0) {
    const int err = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = err;
  }
  return pid;
}

// In a fresh child from ForkWithSignalsBlocked(), before exec or its
// target: the signal state that mp/process.h promises. Every handler
// becomes SIG_DFL (it was installed for the parent, whose code is not
// running here), and so does an ignored SIGTERM (Terminate() must end the
// child); other ignored signals stay ignored, as they do across exec (a
// server's SIGPIPE, nohup's SIGHUP). Then no signal is blocked: the mask
// is the starting thread's, which may block signals only because another
// thread of the parent waits for them. Handlers first, so that no signal
// reaches a parent's handler once unblocked. Async-signal-safe: sigaction,
// sigemptyset and sigprocmask.
void ResetSignals() {
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction old;
    // Fails for the C library's reserved signals, which are left alone.
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    if (old.sa_handler == SIG_DFL) continue;
    if (old.sa_handler == SIG_IGN && sig != SIGTERM) continue;
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// One past the highest descriptor this process may hold: the soft
// RLIMIT_NOFILE (or sysconf's guess). Computed before fork(), for
// MarkCloseOnExecFrom's fallback.
int DescriptorLimit() {
  struct rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur <= INT_MAX) {
    return static_cast<int>(limit.rlim_cur);
  }
  const long n = ::sysconf(_SC_OPEN_MAX);
  return n > 0 && n <= INT_MAX ? static_cast<int>(n) : 1 << 20;
}

// In a fresh child (after fork, before exec): marks every descriptor from
// `first` up close-on-exec, whoever opened it and however (a plain pipe()
// too), so that exec passes on only what is cleared afterwards. One
// close_range(2) call where the kernel has CLOSE_RANGE_CLOEXEC (Linux 5.11);
// otherwise each descriptor below `limit` (DescriptorLimit(), taken before
// fork) with fcntl. Async-signal-safe: system calls only.
void MarkCloseOnExecFrom(int first, int limit) {
  if (::syscall(SYS_close_range, static_cast<unsigned>(first), ~0U,
                CLOSE_RANGE_CLOEXEC) == 0) {
    return;
  }
  for (int fd = first; fd < limit; ++fd) {
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
      ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
  }
}

// Everything StartCopy's child needs between fork and exec, built before
// fork(): after it only async-signal-safe calls are allowed (no malloc, no
// locks — another thread may have held the allocator's lock at fork time).
struct ExecPlan {
  std::string exe;  // argv[0]: the path /proc/self/exe names
  std::vector<std::string> arguments;
  std::vector<char*> argv;
  char exec_failure[kExecFailureFrameSize];
  int descriptor_limit = 0;
};

// Fills `plan` in place: argv points into its own strings.
absl::Status PlanExec(const CopySpec& spec, ExecPlan& plan) {
  absl::StatusOr<std::string> exe = SelfExe();
  if (!exe.ok()) return exe.status();
  plan.exe = *std::move(exe);
  plan.arguments = spec.arguments;
  plan.argv.push_back(&plan.exe[0]);
  for (std::string& a : plan.arguments) plan.argv.push_back(&a[0]);
  plan.argv.push_back(nullptr);
  plan.descriptor_limit = DescriptorLimit();
  return absl::OkStatus();
}

// In StartCopy's child, after fork: becomes the copy, or tells the parent
// why it could not. DANGER: async-signal-safe calls only. exec would reset
// the handlers but keep the mask and an ignored SIGTERM, so the signal
// state is reset here (ResetSignals). Every descriptor from 3 up is marked
// close-on-exec (also those this process opened without it), then the
// channel and the handles lose the mark. The death signal survives exec.
// exec /proc/self/exe, not the path it names: if the binary was replaced or
// deleted since this process started, the link still reaches the very same
// file, and a copy must be the same binary (CodeRefs are offsets into it).
[[noreturn]] void BecomeCopy(ExecPlan& plan, const CopySpec& spec,
                             pid_t parent) {
  ResetSignals();
  if (spec.options.die_with_parent) DieWithParent(parent);
  MarkCloseOnExecFrom(3, plan.descriptor_limit);
  const int channel = static_cast<int>(spec.channel.get());
  ::fcntl(channel, F_SETFD, 0);
  for (intptr_t fd : spec.handles) ::fcntl(static_cast<int>(fd), F_SETFD, 0);
  ::execv("/proc/self/exe", plan.argv.data());
  FillExecFailureFrame(plan.exec_failure, errno);
  (void)!::write(channel, plan.exec_failure, sizeof plan.exec_failure);
  ::_exit(127);
}

void FlushStdio() {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
}

}  // namespace

bool HasFork() { return true; }

bool ChildrenShareAddressSpace() { return false; }

absl::StatusOr<Child> StartFork(const Target& target) {
  if (absl::Status s = CheckPidfds(); !s.ok()) return s;
  // Unflushed stdio buffers would be written twice, once by each process.
  FlushStdio();
  const pid_t parent = ::getpid();
  const pid_t pid = ForkWithSignalsBlocked();
  if (pid < 0) return OsError("fork");
  if (pid == 0) {
    // The child: a copy of the parent (only this thread). Like Python's fork
    // start method it runs the target right here, with the same memory, but
    // with the signal state a spawned child has (ResetSignals). DANGER: the
    // parent's other threads do not exist here, and a lock one of them held
    // at fork stays held for ever; the target runs regardless, as under
    // Python's fork method, but what mp does before it takes no lock.
    ResetSignals();
    if (target.options.die_with_parent) DieWithParent(parent);
    // Hold exactly the channel ends a spawned child would hold.
    CloseChannelsExcept(target.handles);
    ExitNow(RunTarget(target));
  }
  absl::StatusOr<OwnedHandle> sentinel = OpenSentinel(pid);
  if (!sentinel.ok()) {
    ::kill(pid, SIGKILL);
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return sentinel.status();
  }
  return Child{pid, *std::move(sentinel)};
}

absl::StatusOr<SpawnChannel> CreateSpawnChannel() {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    return OsError("socketpair");
  }
  return SpawnChannel{OwnedHandle(ends[0]), OwnedHandle(ends[1])};
}

absl::Status WriteSpawnChannel(intptr_t end, absl::string_view bytes,
                               absl::Time deadline) {
  return SendAll(static_cast<int>(end), bytes, deadline);
}

absl::Status ReadSpawnChannel(intptr_t end, char* out, size_t size,
                              absl::Time deadline) {
  return ReadExactly(static_cast<int>(end), out, size, deadline);
}

absl::StatusOr<StartedCopy> StartCopy(CopySpec spec) {
  if (absl::Status s = CheckPidfds(); !s.ok()) return s;
  ExecPlan plan;
  if (absl::Status s = PlanExec(spec, plan); !s.ok()) return s;
  FlushStdio();
  const pid_t parent = ::getpid();
  const pid_t pid = ForkWithSignalsBlocked();
  if (pid < 0) return OsError("fork");
  if (pid == 0) BecomeCopy(plan, spec, parent);
  spec.channel.reset();
  absl::StatusOr<OwnedHandle> sentinel = OpenSentinel(pid);
  if (!sentinel.ok()) {
    ::kill(pid, SIGKILL);
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return sentinel.status();
  }
  // Descriptors keep their values across exec.
  return StartedCopy{Child{pid, *std::move(sentinel)}, spec.handles};
}

absl::StatusOr<OwnedHandle> AdoptSpawnChannel(intptr_t value) {
  const int fd = static_cast<int>(value);
  if (value != fd || ::fcntl(fd, F_GETFD) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(value, ": not an open spawn channel"));
  }
  struct ucred peer = {};
  socklen_t size = sizeof peer;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        value, ": not a spawn channel (", std::strerror(errno), ")"));
  }
  if (peer.pid != ::getppid()) {
    return absl::PermissionDeniedError(
        absl::StrCat("the spawn channel's other end was made by process ",
                     peer.pid, ", not by this process's parent ", ::getppid()));
  }
  MakeHandlePrivate(value);
  return OwnedHandle(value);
}

void MakeHandlePrivate(intptr_t handle) {
  ::fcntl(static_cast<int>(handle), F_SETFD, FD_CLOEXEC);
}

bool IsPrivileged() { return ::getauxval(AT_SECURE) != 0; }

absl::Status OsErrorStatus(absl::string_view call, int64_t code) {
  return OsError(call, static_cast<int>(code));
}

absl::StatusOr<std::optional<int>> WaitChild(Child& child,
                                             absl::Duration timeout) {
  if (child.reaped || !child.sentinel.valid()) {
    return absl::FailedPreconditionError("mp: child already reaped");
  }
  const int sentinel = static_cast<int>(child.sentinel.get());
  const absl::Time deadline = internal::DeadlineAfter(timeout);
  absl::StatusOr<bool> ended = WaitReadable(sentinel, deadline);
  if (!ended.ok()) return ended.status();
  if (!*ended) return std::optional<int>();
  // The pidfd is readable: the child has exited. Reap exactly it, through
  // the pidfd (never by pid, which may name another process by now).
  for (;;) {
    siginfo_t info = {};
    if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(sentinel),
                 &info, WEXITED) == 0) {
      child.reaped = true;
      if (info.si_code == CLD_EXITED) return std::optional<int>(info.si_status);
      return std::optional<int>(-info.si_status);  // killed or dumped core
    }
    if (errno == EINTR) continue;
    if (errno == ECHILD || errno == EBADF) {
      // Reaped by other code of this program (SIGCHLD ignored, or its own
      // handler), before or after its pidfd was opened (see OpenSentinel):
      // it has ended, and its exit code is lost.
      child.reaped = true;
      return std::optional<int>(kExitCodeUnknown);
    }
    return OsError("waitid");
  }
}

absl::Status SignalChild(const Child& child, Signal signal) {
  if (child.reaped || !child.sentinel.valid()) return absl::OkStatus();
  const int sig = signal == Signal::kKill ? SIGKILL : SIGTERM;
  // Through the pidfd: a child that has ended (ESRCH), or whose sentinel
  // stands for a child gone before it was opened (EBADF, see OpenSentinel),
  // is left alone, and a process that reused its pid is never reached.
  if (::syscall(SYS_pidfd_send_signal, static_cast<int>(child.sentinel.get()),
                sig, nullptr, 0) != 0 &&
      errno != ESRCH && errno != EBADF) {
    return OsError("pidfd_send_signal");
  }
  return absl::OkStatus();
}

absl::StatusOr<intptr_t> DuplicateOsHandle(intptr_t handle) {
  const int fd = ::fcntl(static_cast<int>(handle), F_DUPFD_CLOEXEC, 3);
  if (fd < 0) return OsError("fcntl(F_DUPFD_CLOEXEC)");
  return fd;
}

void CloseOsHandle(intptr_t handle) {
  if (handle < 0) return;
  ForgetChannel(handle);
  int fd = static_cast<int>(handle);
  CloseFd(fd);
}

void ExitNow(int code) {
  FlushStdio();
  ::_exit(code & 0xff);
}

int64_t CurrentPid() { return ::getpid(); }
int64_t ParentPid() { return ::getppid(); }

int CpuCount() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace os
}  // namespace mp
