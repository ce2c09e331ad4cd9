// Copyright 2026 The mp Authors.
//
// The POSIX backend of mp/internal/os.h: fork, and spawn by fork + exec of
// the running binary. Function for function the mirror of win32/process.cc.

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

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

namespace mp {
namespace os {
namespace {

// The command-line flag that marks a spawned child; its value names the two
// inherited descriptors: "<channel fd>,<sentinel fd>".
constexpr char kChildFlag[] = "--mp-spawn-child";

// In a child: the write end of its own sentinel pipe. A child that forks a
// child of its own closes it there, so only the child itself holds it and
// its parent sees EOF exactly when it ends.
int g_own_sentinel = -1;
// In a spawned child: the channel to the parent, until AnswerLaunch().
int g_channel = -1;

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

// One frame from the spawn channel `fd`, all of it before `deadline`.
absl::StatusOr<std::string> ReadFrameFrom(int fd, absl::Time deadline) {
  return ReadFrame([fd, deadline](char* out, size_t size) {
    return ReadExactly(fd, out, size, deadline);
  });
}

int64_t ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return 255;
}

// Reaps `pid`, blocking; used on error paths where the child is ending.
void ReapNow(pid_t pid) {
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
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

}  // namespace

bool HasFork() { return true; }

bool ChildrenShareAddressSpace() { return false; }

absl::StatusOr<Child> StartFork(const Target& target) {
  int sentinel[2];
  if (::pipe2(sentinel, O_CLOEXEC) != 0) return OsError("pipe2");
  // Unflushed stdio buffers would be written twice, once by each process.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ForkWithSignalsBlocked();
  if (pid < 0) {
    const int err = errno;
    CloseFd(sentinel[0]);
    CloseFd(sentinel[1]);
    return OsError("fork", err);
  }
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
    ::close(sentinel[0]);
    if (g_own_sentinel >= 0) ::close(g_own_sentinel);
    g_own_sentinel = sentinel[1];
    ExitNow(RunTarget(target));
  }
  CloseFd(sentinel[1]);
  return Child{pid, sentinel[0]};
}

absl::StatusOr<Child> StartSpawn(const Launch& launch) {
  absl::StatusOr<std::string> exe = SelfExe();
  if (!exe.ok()) return exe.status();
  // One socket pair carries the launch message down and the answer back.
  int channel[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0) {
    return OsError("socketpair");
  }
  int sentinel[2];
  if (::pipe2(sentinel, O_CLOEXEC) != 0) {
    const int err = errno;
    CloseFd(channel[0]);
    CloseFd(channel[1]);
    return OsError("pipe2", err);
  }
  // Everything the child needs is built before fork(): between fork and
  // exec only async-signal-safe calls are allowed (no malloc, no locks —
  // another thread may have held the allocator's lock at fork time).
  const std::string flag_value = absl::StrCat(channel[1], ",", sentinel[1]);
  const std::string flag = kChildFlag;
  // exec /proc/self/exe, not the path it names: if the binary was replaced
  // or deleted since this process started, the link still reaches the very
  // same file, and a spawned child must be the same binary (CodeRefs are
  // offsets into it). argv[0] keeps the readable path.
  const char* const exec_path = "/proc/self/exe";
  char* const argv[] = {const_cast<char*>(exe->c_str()),
                        const_cast<char*>(flag.c_str()),
                        const_cast<char*>(flag_value.c_str()), nullptr};
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const bool die_with_parent = launch.options.die_with_parent;
  const int descriptor_limit = DescriptorLimit();
  const pid_t parent = ::getpid();
  const pid_t pid = ForkWithSignalsBlocked();
  if (pid < 0) {
    const int err = errno;
    CloseFd(channel[0]);
    CloseFd(channel[1]);
    CloseFd(sentinel[0]);
    CloseFd(sentinel[1]);
    return OsError("fork", err);
  }
  if (pid == 0) {
    // DANGER: async-signal-safe calls only until execv. exec would reset
    // the handlers but keep the mask and an ignored SIGTERM, so the signal
    // state is reset here (ResetSignals). The child gets the standard
    // streams, the two descriptors of the handshake and the launch's
    // handles, nothing else: every descriptor from 3 up is marked
    // close-on-exec (also those this process opened without it), then the
    // given ones lose the mark. The death signal survives exec.
    ResetSignals();
    if (die_with_parent) DieWithParent(parent);
    MarkCloseOnExecFrom(3, descriptor_limit);
    ::fcntl(channel[1], F_SETFD, 0);
    ::fcntl(sentinel[1], F_SETFD, 0);
    for (intptr_t fd : launch.handles)
      ::fcntl(static_cast<int>(fd), F_SETFD, 0);
    ::execv(exec_path, argv);
    // exec failed: tell the parent why, framed as an answer is (an 8-byte
    // length, then the body) but with a 4-byte body, the raw errno. An
    // encoded answer (EncodeAnswer) is at least 5 bytes long, a 4-byte code
    // and the message's length, so the parent tells the two apart by size.
    const int32_t err = errno;
    char msg[8 + 4];
    const uint64_t n = 4;
    std::memcpy(msg, &n, 8);
    std::memcpy(msg + 8, &err, 4);
    (void)!::write(channel[1], msg, sizeof msg);
    ::_exit(127);
  }
  CloseFd(channel[1]);
  CloseFd(sentinel[1]);

  // One deadline for the whole handshake: the child must take all of the
  // launch frame (it may be large) and answer before it.
  const absl::Time deadline = internal::MonotonicNow() + SpawnTimeout();
  absl::Status s = SendAll(channel[0], Frame(EncodeLaunch(launch)), deadline);
  absl::StatusOr<std::string> answer =
      absl::IsDeadlineExceeded(s) ? absl::StatusOr<std::string>(s)
                                  : ReadFrameFrom(channel[0], deadline);
  CloseFd(channel[0]);
  if (answer.ok() && answer->size() == 4) {
    int32_t err;
    std::memcpy(&err, answer->data(), 4);
    s = OsError(absl::StrCat("exec ", *exe), err);
  } else if (answer.ok()) {
    s = DecodeAnswer(*answer);  // the child's own verdict wins over send errors
  } else if (absl::IsDeadlineExceeded(answer.status())) {
    ::kill(pid, SIGKILL);
    s = absl::DeadlineExceededError(
        absl::StrCat("mp: spawned child ", pid,
                     " did not take its launch and answer within ",
                     absl::FormatDuration(SpawnTimeout()), "; killed"));
  } else {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    CloseFd(sentinel[0]);
    return absl::InternalError(absl::StrCat(
        "mp: spawned child ", pid, " ended (exit code ", ExitCodeOf(status),
        ") before it started its target; did main() call mp::Init() first?"));
  }
  if (!s.ok()) {
    ReapNow(pid);
    CloseFd(sentinel[0]);
    return s;
  }
  return Child{pid, sentinel[0]};
}

absl::StatusOr<std::optional<int>> WaitChild(Child& child,
                                             absl::Duration timeout) {
  if (child.reaped || child.sentinel < 0) {
    return absl::FailedPreconditionError("mp: child already reaped");
  }
  const absl::Time deadline = internal::DeadlineAfter(timeout);
  absl::StatusOr<bool> ended = WaitReadable(child.sentinel, deadline);
  if (!ended.ok()) return ended.status();
  if (!*ended) return std::optional<int>();
  // The sentinel hung up: the child is ending (or closed it by hand). Reap
  // it by its own pid, never with a wildcard that could steal other code's
  // children. Without a deadline, block (it is exiting: no nap can be
  // shorter); with one, poll briefly if it is not a zombie yet.
  const int flags = deadline == absl::InfiniteFuture() ? 0 : WNOHANG;
  for (absl::Duration nap = absl::Microseconds(50);;
       nap = std::min(nap * 2, absl::Milliseconds(10))) {
    int status = 0;
    const pid_t r = ::waitpid(static_cast<pid_t>(child.pid), &status, flags);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == ECHILD) {
      // Reaped by other code of this program (SIGCHLD ignored, or its own
      // handler): it has ended, and its exit code is lost.
      child.reaped = true;
      return std::optional<int>(kExitCodeUnknown);
    }
    if (r < 0) return OsError("waitpid");
    if (r == child.pid) {
      child.reaped = true;
      return std::optional<int>(static_cast<int>(ExitCodeOf(status)));
    }
    if (internal::MonotonicNow() >= deadline) return std::optional<int>();
    absl::SleepFor(nap);
  }
}

absl::Status SignalChild(const Child& child, Signal signal) {
  if (child.reaped) return absl::OkStatus();  // its pid may be reused by now
  // Signal the pid only while the child runs: once the sentinel hangs up it
  // has ended, and other code of this program may have reaped it already
  // (SIGCHLD ignored, or a handler of its own) and its pid been reused.
  absl::StatusOr<bool> ended =
      WaitReadable(static_cast<int>(child.sentinel), absl::InfinitePast());
  if (!ended.ok()) return ended.status();
  if (*ended) return absl::OkStatus();
  const int sig = signal == Signal::kKill ? SIGKILL : SIGTERM;
  if (::kill(static_cast<pid_t>(child.pid), sig) != 0 && errno != ESRCH) {
    return OsError("kill");
  }
  return absl::OkStatus();
}

void ReleaseChild(Child& child) {
  int fd = static_cast<int>(child.sentinel);
  CloseFd(fd);
  child.sentinel = -1;
}

std::optional<Launch> ReceiveLaunch(int argc, char** argv) {
  if (argc < 3 || std::strcmp(argv[1], kChildFlag) != 0) return std::nullopt;
  // A setuid or setcap program must not take orders from whoever can run it
  // with this flag: the launch names code to call with arguments to decode.
  if (::getauxval(AT_SECURE) != 0) {
    std::fprintf(stderr,
                 "mp: %s refused: this process runs with privileges its "
                 "caller lacks (AT_SECURE)\n",
                 kChildFlag);
    ExitNow(2);
  }
  std::vector<absl::string_view> fds = absl::StrSplit(argv[2], ',');
  int channel = -1, sentinel = -1;
  if (fds.size() != 2 || !absl::SimpleAtoi(fds[0], &channel) ||
      !absl::SimpleAtoi(fds[1], &sentinel) || channel < 0 || sentinel < 0 ||
      ::fcntl(channel, F_GETFD) < 0 || ::fcntl(sentinel, F_GETFD) < 0) {
    std::fprintf(stderr, "mp: %s %s: not a valid spawn channel\n", kChildFlag,
                 argv[2]);
    ExitNow(2);
  }
  // Ours alone: neither may leak into programs this child executes.
  ::fcntl(channel, F_SETFD, FD_CLOEXEC);
  ::fcntl(sentinel, F_SETFD, FD_CLOEXEC);
  g_channel = channel;
  g_own_sentinel = sentinel;
  absl::StatusOr<std::string> bytes =
      ReadFrameFrom(channel, internal::MonotonicNow() + SpawnTimeout());
  absl::StatusOr<Launch> launch = bytes.ok()
                                      ? DecodeLaunch(*bytes)
                                      : absl::StatusOr<Launch>(bytes.status());
  if (!launch.ok()) {
    AnswerLaunch(launch.status());
    ExitNow(2);
  }
  // The handles among the arguments lost close-on-exec only to cross this
  // exec; they must not leak into programs this child runs.
  for (intptr_t fd : launch->handles) {
    ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  }
  return *std::move(launch);
}

void AnswerLaunch(const absl::Status& status) {
  if (g_channel < 0) return;
  (void)SendAll(g_channel, Frame(EncodeAnswer(status)), absl::InfiniteFuture());
  CloseFd(g_channel);
}

absl::StatusOr<intptr_t> DuplicateOsHandle(intptr_t handle) {
  const int fd = ::fcntl(static_cast<int>(handle), F_DUPFD_CLOEXEC, 3);
  if (fd < 0) return OsError("fcntl(F_DUPFD_CLOEXEC)");
  return fd;
}

void CloseOsHandle(intptr_t handle) {
  int fd = static_cast<int>(handle);
  CloseFd(fd);
}

void ExitNow(int code) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
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
