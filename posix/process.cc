// Copyright 2026 The mp Authors.
//
// The POSIX backend of mp/internal/os.h: fork, and the OS's part of spawn
// (a copy of the running binary by fork + exec, and its channel; the
// protocol is mp/internal/spawn.h). Function for function the mirror of
// win32/process.cc.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "posix/channel.h"
#include "posix/forkserver.h"
#include "posix/linux.h"
#include "posix/util.h"

namespace mp {
namespace os {
namespace {

// Which signals a fresh child sets back to SIG_DFL (ResetSignals): one
// bit per signal number, 1 to 64 (bit sig - 1), if `known`.
//
// RACE: another thread may change a disposition at any moment, so in
// general only the child can read the ones it got, after fork(); in a
// fresh child each of those ~62 sigaction() calls costs about twice what
// it costs the parent, whose caches are warm. When the parent is the only
// thread (SingleThreaded()) and has every signal blocked, nothing can
// change a disposition between its reading them and fork(), so it reads
// them for the child.
struct SignalPlan {
  bool known = false;
  uint64_t reset = 0;
};

// Made before main(), so that a fresh child calls nothing to make them:
// the empty signal set, and the action SIG_DFL.
const sigset_t kNoSignals = [] {
  sigset_t none;
  sigemptyset(&none);
  return none;
}();
const struct sigaction kDefaultAction = [] {
  struct sigaction action = {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  return action;
}();

// Whether `sig` must become SIG_DFL in a fresh child: it has a handler
// (installed for the parent, whose code is not running there), or it is
// SIGTERM and ignored (Terminate() must end the child). Other ignored
// signals stay ignored, as they do across exec (a server's SIGPIPE,
// nohup's SIGHUP). The C library's reserved signals, which sigaction()
// refuses, are left alone. Async-signal-safe.
bool NeedsReset(int sig) {
  if (sig == SIGKILL || sig == SIGSTOP) return false;
  struct sigaction old;
  if (::sigaction(sig, nullptr, &old) != 0) return false;
  if (old.sa_handler == SIG_DFL) return false;
  return old.sa_handler != SIG_IGN || sig == SIGTERM;
}

// fork(), with every signal blocked in the calling thread across it: the
// child then runs none of the parent's handlers before ResetSignals() (a
// Ctrl-C to the process group in that moment would otherwise run the
// parent's SIGINT handler in the child). Returns in the parent with its
// mask restored, and in the child with every signal still blocked. Fills
// in `signals` before fork() where SignalPlan says it can. errno is
// written only when fork() failed (pthread_sigmask reports by its
// result): after a fork, each page the parent writes costs it a
// copy-on-write fault, errno's among them.
pid_t ForkWithSignalsBlocked(SignalPlan& signals) {
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  if (NSIG - 1 <= 64 && SingleThreaded()) {
    signals.known = true;
    signals.reset = 0;
    for (int sig = 1; sig < NSIG; ++sig) {
      if (NeedsReset(sig)) signals.reset |= uint64_t{1} << (sig - 1);
    }
  }
  const pid_t pid = ::fork();
  if (pid > 0) {
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  } else if (pid < 0) {
    const int err = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = err;
  }
  return pid;
}

// In a fresh child from ForkWithSignalsBlocked(), before exec or its
// target: the signal state that mp/process.h promises. Every signal that
// NeedsReset() becomes SIG_DFL: those `signals` names if it is known, else
// each one is asked. Then no signal is blocked: the mask is the starting
// thread's, which may block signals only because another thread of the
// parent waits for them. Handlers first, so that no signal reaches a
// parent's handler once unblocked. Async-signal-safe.
void ResetSignals(const SignalPlan& signals) {
  for (int sig = 1; sig < NSIG; ++sig) {
    const bool reset =
        signals.known ? (signals.reset >> (sig - 1) & 1) != 0 : NeedsReset(sig);
    if (reset) ::sigaction(sig, &kDefaultAction, nullptr);
  }
  SetSignalMaskInChild(kNoSignals);
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

// A descriptor that keeps one free for the child's pidfd (HoldChild).
// Made before fork(), so that nothing can fail once a child may be running
// its target: a close-on-exec copy of a standard stream where one is open
// (a copy costs a quarter of a new eventfd to make and to close), else
// AlwaysReadable(). -1 with errno set if none can be made.
int MakeSpare() {
  for (int stream = 2; stream >= 0; --stream) {
    const int spare = ::fcntl(stream, F_DUPFD_CLOEXEC, 3);
    if (spare >= 0 || errno != EBADF) return spare;
  }
  return AlwaysReadable();
}

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
// pidfd. Takes `spare` (MakeSpare()) and closes it; a child that is gone
// already gets an AlwaysReadable() sentinel in its place. On error the
// child is killed and reaped.
absl::StatusOr<Child> HoldChild(pid_t pid, OwnedHandle spare) {
  int fd = PidfdOpen(pid);
  if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
    spare.reset();  // it kept this descriptor free
    fd = PidfdOpen(pid);
  }
  if (fd >= 0 && !IsOurChild(fd)) {
    ::close(fd);
    fd = -1;
    errno = ESRCH;
  }
  if (fd >= 0) return Child{pid, OwnedHandle(fd)};
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
    spare.reset();  // keeps a descriptor free for this one
    OwnedHandle sentinel(AlwaysReadable());
    if (!sentinel.valid()) return OsError("eventfd");  // nothing to reap
    Child gone{pid, std::move(sentinel)};
    gone.lost = true;
    return gone;
  }
  // Not reaped by anyone (that would be ESRCH): the pid is still the
  // child's, and only this process may reap it.
  const int err = errno;
  ::kill(pid, SIGKILL);
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return OsError("pidfd_open", err);
}

// What every start needs before fork(): pidfds, and the spare descriptor.
absl::StatusOr<OwnedHandle> PrepareToHold() {
  if (absl::Status s = CheckPidfdSupport(); !s.ok()) return s;
  const int spare = MakeSpare();
  if (spare < 0) return OsError("spare descriptor");
  return OwnedHandle(spare);
}

// Everything StartCopy's child needs between fork and exec, built before
// fork(): after it only async-signal-safe calls are allowed (no malloc, no
// locks — another thread may have held the allocator's lock at fork time).
struct ExecPlan {
  std::string exe;  // argv[0]: the path /proc/self/exe names
  std::vector<std::string> arguments;
  std::vector<char*> argv;
  EnvironmentPlan environment;
  char failure[kCopyFailureFrameSize];
  int descriptor_limit = 0;
};

// Fills `plan` in place: argv points into its own strings.
absl::Status PlanExec(const CopySpec& spec, ExecPlan& plan) {
  absl::StatusOr<std::string> exe = RunningBinaryPath();
  if (!exe.ok()) return exe.status();
  plan.exe = *std::move(exe);
  plan.arguments = spec.arguments;
  plan.argv.push_back(&plan.exe[0]);
  for (std::string& a : plan.arguments) plan.argv.push_back(&a[0]);
  plan.argv.push_back(nullptr);
  PlanEnvironment(spec.io, plan.environment);
  plan.descriptor_limit = DescriptorLimit();
  return absl::OkStatus();
}

// In StartCopy's child, after a step failed with errno `error`: tells the
// parent which, and ends. Async-signal-safe.
[[noreturn]] void CopyFailed(ExecPlan& plan, int channel, CopyStep step,
                             int error) {
  FillCopyFailureFrame(plan.failure, step, error);
  (void)!::write(channel, plan.failure, sizeof plan.failure);
  ::_exit(127);
}

// In StartCopy's child, after fork: becomes the copy, or tells the parent
// why it could not. DANGER: async-signal-safe calls only. exec would reset
// the handlers but keep the mask and an ignored SIGTERM, so the signal
// state is reset here (ResetSignals). Every descriptor from 3 up is marked
// close-on-exec (also those this process opened without it), then the
// channel and the handles lose the mark; the streams are placed on 0, 1
// and 2 (their sources, 3 or above, close at exec). The death signal
// survives exec. exec /proc/self/exe, not the path it names: if the binary
// was replaced or deleted since this process started, the link still
// reaches the very same file, and a copy must be the same binary (CodeRefs
// are offsets into it).
[[noreturn]] void BecomeCopy(ExecPlan& plan, const SignalPlan& signals,
                             const CopySpec& spec, pid_t parent) {
  ResetSignals(signals);
  if (spec.options.die_with_parent) DieWithParent(parent);
  MarkCloseOnExecFrom(3, plan.descriptor_limit);
  const int channel = static_cast<int>(spec.channel.get());
  ::fcntl(channel, F_SETFD, 0);
  for (intptr_t fd : spec.handles) ::fcntl(static_cast<int>(fd), F_SETFD, 0);
  CopyStep failed;
  if (!ApplyStreamsAndDirectory(spec.io, &failed)) {
    CopyFailed(plan, channel, failed, errno);
  }
  ::execve(
      kRunningBinary, plan.argv.data(),
      plan.environment.inherit ? environ : plan.environment.pointers.data());
  CopyFailed(plan, channel, CopyStep::kExec, errno);
}

}  // namespace

void PlanEnvironment(const ChildIo& io, EnvironmentPlan& plan) {
  if (io.environment_mode == ChildIo::Environment::kInherit) return;
  plan.inherit = false;
  if (io.environment_mode == ChildIo::Environment::kExtend) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      const absl::string_view entry(*e);
      const absl::string_view name = entry.substr(0, entry.find('='));
      bool replaced = false;
      for (const auto& [set, value] : io.environment) {
        if (set == name) replaced = true;
      }
      if (!replaced) plan.entries.emplace_back(entry);
    }
  }
  for (const auto& [name, value] : io.environment) {
    plan.entries.push_back(absl::StrCat(name, "=", value));
  }
  for (std::string& entry : plan.entries) plan.pointers.push_back(&entry[0]);
  plan.pointers.push_back(nullptr);
}

bool ApplyStreamsAndDirectory(const ChildIo& io, CopyStep* failed) {
  for (int stream = 0; stream < 3; ++stream) {
    const int from = static_cast<int>(io.streams[stream]);
    if (from < 0) continue;
    int r;
    while ((r = ::dup2(from, stream)) < 0 && errno == EINTR) {
    }
    if (r < 0) {
      *failed = CopyStep::kStandardStreams;
      return false;
    }
  }
  if (io.working_directory >= 0 &&
      ::fchdir(static_cast<int>(io.working_directory)) != 0) {
    *failed = CopyStep::kWorkingDirectory;
    return false;
  }
  return true;
}

[[noreturn]] void ForkChildSetupFailed(CopyStep step, int error) {
  const char* what = step == CopyStep::kWorkingDirectory
                         ? "mp: fork child: fchdir to its working directory "
                           "failed, errno "
                         : "mp: fork child: dup2 of its standard streams "
                           "failed, errno ";
  char digits[12];
  int n = 0;
  unsigned e = static_cast<unsigned>(error);
  do {
    digits[n++] = static_cast<char>('0' + e % 10);
    e /= 10;
  } while (e != 0 && n < 11);
  char line[160];
  size_t at = 0;
  for (const char* p = what; *p != '\0' && at < sizeof line - 14; ++p) {
    line[at++] = *p;
  }
  while (n > 0) line[at++] = digits[--n];
  line[at++] = '\n';
  (void)!::write(2, line, at);
  ::_exit(127);
}

absl::StatusOr<bool> WaitReadable(int fd, internal::Deadline deadline) {
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    const int n = ::poll(&p, 1, deadline.ToPollMilliseconds());
    if (n > 0) return true;
    if (n == 0) {
      if (deadline.Expired()) return false;
      continue;  // woke early (rounding): wait for the rest
    }
    if (errno != EINTR) return OsError("poll");
  }
}

// Each send is non-blocking, and a full socket is waited on with poll() for
// the time left, so a peer that never reads cannot hold the sender past the
// deadline.
absl::Status SendAll(int fd, absl::string_view bytes,
                     internal::Deadline deadline, absl::string_view what) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a peer that died must be an error, not SIGPIPE.
    const ssize_t n =
        ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return OsError(absl::StrCat("send on ", what));
    }
    struct pollfd p = {fd, POLLOUT, 0};
    const int r = ::poll(&p, 1, deadline.ToPollMilliseconds());
    if (r < 0 && errno != EINTR) return OsError("poll");
    if (r == 0 && deadline.Expired()) {
      return absl::DeadlineExceededError(
          absl::StrCat("mp: ", what, " timed out"));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadExactly(int fd, char* out, size_t size,
                         internal::Deadline deadline, absl::string_view what) {
  while (size > 0) {
    absl::StatusOr<bool> ready = WaitReadable(fd, deadline);
    if (!ready.ok()) return ready.status();
    if (!*ready) {
      return absl::DeadlineExceededError(
          absl::StrCat("mp: ", what, " timed out"));
    }
    const ssize_t n = ::read(fd, out, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return OsError(absl::StrCat("read ", what));
    }
    if (n == 0)
      return absl::OutOfRangeError(absl::StrCat("mp: ", what, " closed"));
    out += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

int ExitCodeOf(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return info.si_status;
  if (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) {
    return -info.si_status;
  }
  return 255;
}

bool HasFork() { return true; }

bool ChildrenShareAddressSpace() { return false; }

absl::StatusOr<Child> StartFork(const Target& target) {
  absl::StatusOr<OwnedHandle> spare = PrepareToHold();
  if (!spare.ok()) return spare.status();
  EnvironmentPlan environment;
  PlanEnvironment(target.io, environment);
  // The channel ends the child keeps: its arguments' and, should the
  // parent's own 0, 1 or 2 be a recorded end, the streams placed there.
  std::vector<intptr_t> keep = target.handles;
  for (int stream = 0; stream < 3; ++stream) {
    if (target.io.streams[stream] >= 0) keep.push_back(stream);
  }
  // Unflushed stdio buffers would be written twice, once by each process.
  FlushStdioHoldingData();
  const pid_t parent = static_cast<pid_t>(CurrentPid());
  // Channel ends that other threads make or close meanwhile wait for
  // fork() (channel.cc's atfork handlers), so that the child's record of
  // them, read by CloseChannelsExcept, names exactly the ends it holds.
  SignalPlan signals;
  const pid_t pid = ForkWithSignalsBlocked(signals);
  if (pid < 0) return OsError("fork");
  if (pid == 0) {
    // The child: a copy of the parent (only this thread). Like Python's fork
    // start method it runs the target right here, with the same memory, but
    // with the signal state a spawned child has (ResetSignals). DANGER: the
    // parent's other threads do not exist here, and a lock one of them held
    // at fork stays held for ever; the target runs regardless, as under
    // Python's fork method, but what mp does before it takes no lock.
    ResetSignals(signals);
    if (target.options.die_with_parent) DieWithParent(parent);
    CopyStep failed;
    if (!ApplyStreamsAndDirectory(target.io, &failed)) {
      ForkChildSetupFailed(failed, errno);
    }
    if (!environment.inherit) environ = environment.pointers.data();
    // Hold exactly the channel ends a spawned child would hold: that also
    // closes the sources of the streams just placed, and every parent's end
    // of a stream pipe.
    CloseChannelsExcept(keep);
    CloseInChild(static_cast<int>(spare->release()));
    if (target.io.streams[0] >= 0) DropBufferedStdin();
    ExitNow(RunTarget(target));
  }
  return HoldChild(pid, *std::move(spare));
}

absl::StatusOr<SpawnChannel> CreateSpawnChannel() {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    return OsError("socketpair");
  }
  return SpawnChannel{OwnedHandle(ends[0]), OwnedHandle(ends[1])};
}

absl::Status WriteSpawnChannel(intptr_t end, absl::string_view bytes,
                               internal::Deadline deadline) {
  return SendAll(static_cast<int>(end), bytes, deadline, "spawn channel");
}

absl::Status ReadSpawnChannel(intptr_t end, char* out, size_t size,
                              internal::Deadline deadline) {
  return ReadExactly(static_cast<int>(end), out, size, deadline,
                     "spawn channel");
}

absl::StatusOr<StartedCopy> StartCopy(CopySpec spec) {
  absl::StatusOr<OwnedHandle> spare = PrepareToHold();
  if (!spare.ok()) return spare.status();
  ExecPlan plan;
  if (absl::Status s = PlanExec(spec, plan); !s.ok()) return s;
  FlushStdioHoldingData();
  const pid_t parent = static_cast<pid_t>(CurrentPid());
  SignalPlan signals;
  const pid_t pid = ForkWithSignalsBlocked(signals);
  if (pid < 0) return OsError("fork");
  if (pid == 0) BecomeCopy(plan, signals, spec, parent);
  spec.channel.reset();
  absl::StatusOr<Child> child = HoldChild(pid, *std::move(spare));
  if (!child.ok()) return child.status();
  // Descriptors keep their values across exec.
  return StartedCopy{*std::move(child), spec.handles};
}

absl::StatusOr<OwnedHandle> AdoptSpawnChannel(intptr_t value) {
  const int fd = static_cast<int>(value);
  if (value != fd || ::fcntl(fd, F_GETFD) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(value, ": not an open spawn channel"));
  }
  absl::StatusOr<pid_t> peer = SocketPeerPid(fd);
  if (!peer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        value, ": not a spawn channel (", peer.status().message(), ")"));
  }
  if (*peer != ::getppid()) {
    return absl::PermissionDeniedError(
        absl::StrCat("the spawn channel's other end was made by process ",
                     *peer, ", not by this process's parent ", ::getppid()));
  }
  MakeHandlePrivate(value);
  return OwnedHandle(value);
}

void MakeHandlePrivate(intptr_t handle) {
  ::fcntl(static_cast<int>(handle), F_SETFD, FD_CLOEXEC);
}

bool IsPrivileged() { return RunsWithPrivileges(); }

absl::Status OsErrorStatus(absl::string_view call, int64_t code) {
  return OsError(call, static_cast<int>(code));
}

absl::StatusOr<std::optional<int>> WaitChild(Child& child,
                                             internal::Deadline deadline) {
  if (child.reaped || !child.sentinel.valid()) {
    return absl::FailedPreconditionError("mp: child already reaped");
  }
  if (child.process.valid()) {
    absl::StatusOr<std::optional<int>> code =
        WaitForkserverChild(child, deadline);
    // Still held by its server, or an error: done. Otherwise its server
    // ended first, and the sentinel is its pidfd now: wait for it below.
    if (!code.ok() || code->has_value() || child.process.valid()) return code;
  }
  const int sentinel = static_cast<int>(child.sentinel.get());
  if (child.lost) {
    // Its sentinel is always readable.
    child.reaped = true;
    return std::optional<int>(kExitCodeUnknown);
  }
  // Without a deadline, waitid() itself waits (one system call, not poll()
  // and then waitid()); with one, it is called once the pidfd is readable,
  // i.e. the child has exited. Either way it reaps exactly that child,
  // through the pidfd (never by pid, which may name another process by
  // now).
  if (!deadline.IsNever()) {
    absl::StatusOr<bool> ended = WaitReadable(sentinel, deadline);
    if (!ended.ok()) return ended.status();
    if (!*ended) return std::optional<int>();
  }
  for (;;) {
    siginfo_t info = {};
    if (PidfdWait(sentinel, &info, WEXITED) == 0) {
      child.reaped = true;
      return std::optional<int>(ExitCodeOf(info));
    }
    if (errno == EINTR) continue;
    if (errno == ECHILD) {
      // Reaped by other code of this program (SIGCHLD ignored, or its own
      // handler): it has ended, and its exit code is lost.
      child.reaped = true;
      return std::optional<int>(kExitCodeUnknown);
    }
    return OsError("waitid");
  }
}

absl::Status SignalChild(const Child& child, Signal signal) {
  if (child.reaped || child.lost || !child.sentinel.valid()) {
    return absl::OkStatus();
  }
  const int sig = signal == Signal::kKill ? SIGKILL : SIGTERM;
  // Through the pidfd: a child that has ended and been reaped (ESRCH) is
  // left alone, and a process that reused its pid is never reached.
  const intptr_t pidfd =
      child.process.valid() ? child.process.get() : child.sentinel.get();
  if (PidfdSendSignal(static_cast<int>(pidfd), sig) != 0 && errno != ESRCH) {
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
  if (handle >= 0) CloseDescriptor(static_cast<int>(handle));
}

void ExitNow(int code) {
  FlushStdioHoldingData();
  ::_exit(code & 0xff);
}

namespace {

// getpid() is a system call (the C library no longer caches it), and a
// Pool asks for it on every Submit. The cache is cleared in every fork
// child by a pthread_atfork handler. DANGER: a child made with a raw
// clone() system call, which runs no fork handler, would keep its parent's
// pid here; mp makes none, and a vfork or posix_spawn child execs at once.
std::atomic<int64_t> g_pid{0};

void ForgetPidInForkChild() { g_pid.store(0, std::memory_order_relaxed); }

const int g_pid_fork_handler =
    pthread_atfork(nullptr, nullptr, ForgetPidInForkChild);

}  // namespace

int64_t CurrentPid() {
  int64_t pid = g_pid.load(std::memory_order_relaxed);
  if (pid == 0) {
    pid = ::getpid();
    g_pid.store(pid, std::memory_order_relaxed);
  }
  return pid;
}
int64_t ParentPid() { return ForkserverParentPid(::getppid()); }

int CpuCount() {
  if (const int n = AllowedCpuCount(); n > 0) return n;
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace os
}  // namespace mp
