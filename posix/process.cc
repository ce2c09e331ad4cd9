// Copyright 2026 The mp Authors.
//
// The POSIX backend of mp/internal/os.h: fork, and spawn by fork + exec of
// the running binary. Function for function the mirror of win32/process.cc.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/eventfd.h>
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
#include "absl/time/clock.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "posix/channel.h"
#include "posix/linux_pidfd.h"
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

// The command-line flag that marks a spawned child; its value names the
// inherited descriptor of the spawn channel.
constexpr char kChildFlag[] = "--mp-spawn-child";

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

// The exit code of a child that waitid() found ended: N for exit(N), -N
// for death by signal N.
int ExitCodeOf(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return info.si_status;
  if (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) {
    return -info.si_status;
  }
  return 255;
}

// Reaps `child`, blocking, and returns its exit code (kExitCodeUnknown if
// other code reaped it first); used on error paths where the child is
// ending.
int ReapNow(const Child& child) {
  if (child.lost) return kExitCodeUnknown;
  for (;;) {
    siginfo_t info = {};
    if (PidfdWait(static_cast<int>(child.sentinel), &info, WEXITED) == 0) {
      return ExitCodeOf(info);
    }
    if (errno != EINTR) return kExitCodeUnknown;
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

// A descriptor that is always readable (an eventfd whose count is never
// read): the sentinel of a child that ended before its pidfd was opened.
// Made before fork(), so that nothing can fail once a child may be running
// its target; it also keeps a descriptor free for the pidfd.
int MakeSpare() { return ::eventfd(1, EFD_CLOEXEC); }

// Whether `pidfd` names a child of this process (ended or not) without
// reaping it: waitid() refuses any other process with ECHILD.
bool IsOurChild(int pidfd) {
  for (;;) {
    siginfo_t info = {};
    if (PidfdWait(pidfd, &info, WEXITED | WNOHANG | WNOWAIT) == 0) return true;
    if (errno != EINTR) return false;
  }
}

// In the parent, right after fork() returned `pid`: the Child, held by its
// pidfd. Takes `spare` (MakeSpare()): closed, or the sentinel of a child
// that is gone already. On error the child is killed and reaped.
absl::StatusOr<Child> HoldChild(pid_t pid, int spare) {
  int fd = PidfdOpen(pid);
  if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
    CloseFd(spare);  // it kept this descriptor free
    fd = PidfdOpen(pid);
  }
  if (fd >= 0 && !IsOurChild(fd)) {
    CloseFd(fd);
    errno = ESRCH;
  }
  if (fd >= 0) {
    CloseFd(spare);
    return Child{pid, fd};
  }
  if (errno == ESRCH || errno == EINVAL) {
    // RACE: the child ran, ended and was reaped between fork() and
    // pidfd_open(): by the kernel at once (SIGCHLD ignored, or
    // SA_NOCLDWAIT), or by other code's SIGCHLD handler. Its exit code is
    // gone; it reads as ended with kExitCodeUnknown (`lost`: WaitChild
    // reaps nothing, SignalChild signals nothing) and its sentinel is
    // always readable, so that Wait() and GetWhileAlive() see it ended.
    // Its pid may even name another process by now, once the kernel's pid
    // counter wrapped around (pid_max) in that moment: pidfd_open then
    // fails with EINVAL (a thread that does not lead its process) or opens
    // a stranger, which IsOurChild() refuses. Only a child that this
    // process started meanwhile on the recycled pid would pass for it.
    if (spare < 0) spare = MakeSpare();
    if (spare < 0) return OsError("eventfd");  // nothing left to reap
    Child gone{pid, spare};
    gone.lost = true;
    return gone;
  }
  // Not reaped by anyone (that would be ESRCH): the pid is still the
  // child's, and only this process may reap it.
  const int err = errno;
  CloseFd(spare);
  ::kill(pid, SIGKILL);
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return OsError("pidfd_open", err);
}

}  // namespace

bool HasFork() { return true; }

bool ChildrenShareAddressSpace() { return false; }

absl::StatusOr<Child> StartFork(const Target& target) {
  absl::Status supported = CheckPidfdSupport();
  if (!supported.ok()) return supported;
  int spare = MakeSpare();
  if (spare < 0) return OsError("eventfd");
  // Unflushed stdio buffers would be written twice, once by each process.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  // Channel ends that other threads make or close meanwhile wait for
  // fork() (channel.cc's atfork handlers), so that the child's record of
  // them, read by CloseChannelsExcept, names exactly the ends it holds.
  const pid_t pid = ForkWithSignalsBlocked();
  if (pid < 0) {
    const int err = errno;
    CloseFd(spare);
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
    ::close(spare);
    ExitNow(RunTarget(target));
  }
  return HoldChild(pid, spare);
}

absl::StatusOr<Child> StartSpawn(const Launch& launch) {
  absl::StatusOr<std::string> exe = SelfExe();
  if (!exe.ok()) return exe.status();
  // One socket pair carries the launch message down and the answer back.
  int channel[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0) {
    return OsError("socketpair");
  }
  absl::Status supported = CheckPidfdSupport();
  int spare = supported.ok() ? MakeSpare() : -1;
  if (spare < 0) {
    if (supported.ok()) supported = OsError("eventfd");
    CloseFd(channel[0]);
    CloseFd(channel[1]);
    return supported;
  }
  // Everything the child needs is built before fork(): between fork and
  // exec only async-signal-safe calls are allowed (no malloc, no locks —
  // another thread may have held the allocator's lock at fork time).
  const std::string flag_value = absl::StrCat(channel[1]);
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
    CloseFd(spare);
    return OsError("fork", err);
  }
  if (pid == 0) {
    // DANGER: async-signal-safe calls only until execv. exec would reset
    // the handlers but keep the mask and an ignored SIGTERM, so the signal
    // state is reset here (ResetSignals). The child gets the standard
    // streams, the descriptor of the handshake and the launch's
    // handles, nothing else: every descriptor from 3 up is marked
    // close-on-exec (also those this process opened without it), then the
    // given ones lose the mark. The death signal survives exec.
    ResetSignals();
    if (die_with_parent) DieWithParent(parent);
    MarkCloseOnExecFrom(3, descriptor_limit);
    ::fcntl(channel[1], F_SETFD, 0);
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
  absl::StatusOr<Child> child = HoldChild(pid, spare);
  if (!child.ok()) {
    CloseFd(channel[0]);
    return child.status();
  }

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
    (void)SignalChild(*child, Signal::kKill);
    s = absl::DeadlineExceededError(
        absl::StrCat("mp: spawned child ", pid,
                     " did not take its launch and answer within ",
                     absl::FormatDuration(SpawnTimeout()), "; killed"));
  } else {
    const int code = ReapNow(*child);
    ReleaseChild(*child);
    return absl::InternalError(absl::StrCat(
        "mp: spawned child ", pid, " ended (exit code ", code,
        ") before it started its target; did main() call mp::Init() first?"));
  }
  if (!s.ok()) {
    ReapNow(*child);
    ReleaseChild(*child);
    return s;
  }
  return child;
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
  if (child.lost) {  // reaped before its pidfd was opened (HoldChild)
    child.reaped = true;
    return std::optional<int>(kExitCodeUnknown);
  }
  // The pidfd turned readable: the child has ended. Reap it by its pidfd,
  // never by pid (which may be reused once other code reaped it) or with a
  // wildcard that could steal other code's children. Without a deadline,
  // block (it is exiting: no nap can be shorter); with one, poll briefly if
  // it is not a zombie yet.
  const int flags =
      WEXITED | (deadline == absl::InfiniteFuture() ? 0 : WNOHANG);
  for (absl::Duration nap = absl::Microseconds(50);;
       nap = std::min(nap * 2, absl::Milliseconds(10))) {
    siginfo_t info = {};
    const int r = PidfdWait(static_cast<int>(child.sentinel), &info, flags);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == ECHILD) {
      // Reaped by other code of this program (SIGCHLD ignored, or its own
      // handler): it has ended, and its exit code is lost.
      child.reaped = true;
      return std::optional<int>(kExitCodeUnknown);
    }
    if (r < 0) return OsError("waitid");
    if (info.si_pid != 0) {
      child.reaped = true;
      return std::optional<int>(ExitCodeOf(info));
    }
    if (internal::MonotonicNow() >= deadline) return std::optional<int>();
    absl::SleepFor(nap);
  }
}

absl::Status SignalChild(const Child& child, Signal signal) {
  if (child.reaped || child.lost || child.sentinel < 0) {
    return absl::OkStatus();  // ended
  }
  // By pidfd: it reaches this child or nothing, never a process that reused
  // its pid after other code reaped it (ESRCH: ended and reaped; OK).
  const int sig = signal == Signal::kKill ? SIGKILL : SIGTERM;
  if (PidfdSendSignal(static_cast<int>(child.sentinel), sig) != 0 &&
      errno != ESRCH) {
    return OsError("pidfd_send_signal");
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
  int channel = -1;
  if (!absl::SimpleAtoi(argv[2], &channel) || channel < 0 ||
      ::fcntl(channel, F_GETFD) < 0) {
    std::fprintf(stderr, "mp: %s %s: not a valid spawn channel\n", kChildFlag,
                 argv[2]);
    ExitNow(2);
  }
  // Ours alone: it must not leak into programs this child executes.
  ::fcntl(channel, F_SETFD, FD_CLOEXEC);
  g_channel = channel;
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
