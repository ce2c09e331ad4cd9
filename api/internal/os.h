// Copyright 2026 The mp Authors.
//
// The backend contract: what one OS must provide for mp's Process, Lock,
// Pipe and Queue. Each backend (posix/, win32/, and platform/threads, the
// threads backend) implements every function below, in files named as
// here; nothing else in mp calls the OS. Both platforms' behaviour is
// stated here, so a porter reads one header; PORTING.md lists the functions
// per primitive with the conformance cases that exercise them.
//
// Conventions for every function:
//   * errors are absl::Status with the OS's message and the call that failed;
//   * every descriptor or handle created is close-on-exec / non-inheritable,
//     except what is handed to a child explicitly, and is released on every
//     path, including errors;
//   * calls interrupted by a signal (EINTR) are retried with the time left;
//   * every wait takes an internal::Deadline (mp/internal/deadline.h),
//     made once from the caller's timeout at the API boundary, on the
//     monotonic clock; Deadline::Never() means none. A backend hands it to
//     each kernel call through the Deadline's one conversion for that kind
//     of call (ToPollMilliseconds, ToWin32Milliseconds, ToRelativeTimespec,
//     ToMonotonicTimespec, ToSteadyTimePoint), made right before the call,
//     and converts it no other way, so a wall-clock step moves no wait.

#ifndef MP_INTERNAL_OS_H_
#define MP_INTERNAL_OS_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "mp/internal/deadline.h"
#include "mp/internal/start_method.h"
#include "mp/internal/target.h"

namespace mp {
namespace os {

// --- Handles -----------------------------------------------------------------
//
// Handles of objects that cross process boundaries: descriptors on POSIX,
// HANDLEs on Win32, object ids on threads. -1 is no handle on every backend.

// A non-inheritable duplicate of `handle`.
absl::StatusOr<intptr_t> DuplicateOsHandle(intptr_t handle);
// Closes `handle`; -1 is ignored.
void CloseOsHandle(intptr_t handle);

// A move-only owner of one handle, closed with CloseOsHandle when the owner
// goes (the shape of Chromium's ScopedFD and win::ScopedHandle). Every
// handle this contract hands out for the caller to close is one of these.
class OwnedHandle {
 public:
  OwnedHandle() = default;
  explicit OwnedHandle(intptr_t handle) : handle_(handle) {}
  OwnedHandle(OwnedHandle&& other) noexcept : handle_(other.release()) {}
  OwnedHandle& operator=(OwnedHandle&& other) noexcept {
    reset(other.release());
    return *this;
  }
  OwnedHandle(const OwnedHandle&) = delete;
  OwnedHandle& operator=(const OwnedHandle&) = delete;
  ~OwnedHandle() { reset(); }

  intptr_t get() const { return handle_; }
  bool valid() const { return handle_ != -1; }
  // Gives the handle up without closing it.
  intptr_t release() {
    const intptr_t h = handle_;
    handle_ = -1;
    return h;
  }
  // Closes the handle held, if any, and holds `handle` instead.
  void reset(intptr_t handle = -1) {
    if (handle_ != -1) CloseOsHandle(handle_);
    handle_ = handle;
  }

 private:
  intptr_t handle_ = -1;
};

// --- Processes ---------------------------------------------------------------

// A started child, as the parent holds it: `pid`, and `sentinel`, a handle
// that becomes ready (WaitReady, Waitable::Kind::kSentinel) when the child
// ends and lives until the Child goes.
//   POSIX (Linux 5.4 or later): a pidfd for the child (pidfd_open,
//     close-on-exec), opened in the parent right after fork(): it becomes
//     readable when the child ends, whoever else holds a copy of it, and
//     reaping and signalling go through it, so they reach this child or
//     nothing, never a process that reused its pid. A child that ended and
//     was reaped by other code before its pidfd could be opened (SIGCHLD
//     ignored, and it ended at once) is `lost`: its sentinel is a
//     descriptor that is always readable (an eventfd), WaitChild reads it
//     as ended with kExitCodeUnknown and SignalChild leaves it alone.
//   Win32: the process HANDLE (signalled at exit).
//   threads: the id of an object that the child thread marks when done.
// `reaped` is set by WaitChild once the exit code was collected.
//
// A POSIX forkserver child (StartForkserverChild) is the server's child to
// the OS, which only lets the server reap it. Its `sentinel` is the read
// end of a pipe on which the server writes the exit status once it has
// reaped it (readable then, or at end of file if the server ended first),
// and `process` is a pidfd for it, which signals reach it through (as
// pidfd_send_signal, it reaches the child or, once the server reaped it,
// nothing). If the server ends before the child, WaitChild makes the
// sentinel that pidfd under the same value (dup3), which turns readable
// when the child ends, and the child then reads as ended with
// kExitCodeUnknown, as one reaped by other code does. `process` is -1 for
// every other child, and on Win32 and threads.
struct Child {
  int64_t pid = -1;
  OwnedHandle sentinel;
  bool reaped = false;
  bool lost = false;    // POSIX only; see above
  OwnedHandle process;  // POSIX forkserver children only; see above
};

// How a child is started, beyond what it runs.
struct ChildOptions {
  // Python's daemon flag: a daemon may not start children of its own, and
  // is terminated rather than joined when its parent's main code ends.
  bool daemon = false;
  // The child is killed when this process dies, even by SIGKILL.
  //   POSIX (Linux): PR_SET_PDEATHSIG(SIGKILL), set between fork and exec,
  //     plus a check that the parent did not die before it was set. Linux
  //     ties it to the *thread* that forked: a child started from a thread
  //     that exits first is killed then.
  //   Win32: the child is assigned to this process's Job object, created
  //     with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE; the job handle closes when
  //     this process dies, however it dies.
  bool die_with_parent = true;
};

// A child's standard streams, environment and working directory, as
// mp/process.h's SetStdin, SetStdout, SetStderr, SetEnvironment,
// ExtendEnvironment and SetWorkingDirectory ask for them. The handles are
// the caller's, made with the functions of "Standard streams" below; it
// keeps them open until StartFork or StartCopy has returned and closes them
// then, on every path. The default is a child that has this process's own
// (inherits them).
struct ChildIo {
  // The child's stdin, stdout and stderr, in that order: -1 gives it this
  // process's own; otherwise a handle from OpenStreamFile, OpenNullDevice
  // or the child's end of CreateStreamPipe, which becomes that stream.
  //   POSIX: dup2'ed onto descriptor 0, 1 or 2 in the child, after fork and
  //     before its target or exec. The handles are 3 or more (the
  //     functions below make them so), so that placing one never replaces
  //     another.
  //   Win32: STARTUPINFO's hStdInput, hStdOutput, hStdError, as
  //     inheritable duplicates in the child's handle list.
  intptr_t streams[3] = {-1, -1, -1};
  enum class Environment {
    kInherit,  // this process's environment
    kExtend,   // this process's, with `environment` set over it
    kReplace,  // exactly `environment`
  };
  Environment environment_mode = Environment::kInherit;
  // Names and values, each name once (Win32: names compare
  // case-insensitively, as Windows compares them). Checked by the caller:
  // no name is empty or holds '=' or NUL, no value holds NUL.
  std::vector<std::pair<std::string, std::string>> environment;
  // Where the child starts: from OpenWorkingDirectory, or both empty (-1,
  // "") for this process's working directory.
  //   POSIX: the child fchdir()s to the handle before its target or exec.
  //   Win32: CreateProcessW's lpCurrentDirectory is the path.
  intptr_t working_directory = -1;
  std::string working_directory_path;

  bool IsDefault() const {
    return streams[0] == -1 && streams[1] == -1 && streams[2] == -1 &&
           environment_mode == Environment::kInherit &&
           working_directory == -1 && working_directory_path.empty();
  }
};

// What a child runs, in this process's memory (fork children use it as is).
struct Target {
  internal::InvokerFn invoker = nullptr;
  void (*function)() = nullptr;
  std::string args;
  // The OS handles the arguments refer to, by index. A fork child has them
  // under the same values; a spawned child is given exactly these.
  std::vector<intptr_t> handles;
  ChildOptions options;
  // Not sent to a spawned child: StartCopy applies it (CopySpec::io).
  ChildIo io;
};

// Everything a spawned child needs to run its target: the Target with its
// code addresses as CodeRefs, sent over the spawn channel (the protocol is
// mp/internal/spawn.h).
struct Launch {
  internal::CodeRef invoker;
  internal::CodeRef function;
  std::string args;
  // As in Target: the parent's values. The message carries the values the
  // child sees (StartCopy's StartedCopy::handles).
  std::vector<intptr_t> handles;
  ChildOptions options;
  // The parent's process-wide start method (mp::GetStartMethod()), which
  // mp::Init() makes the spawned child's own before its target runs, as
  // Python passes it to a spawned child: a program that chose spawn keeps
  // it in its grandchildren. A fork child has it in its copy of memory;
  // threads children share the parent's.
  StartMethod start_method{};
};

// --- Provided by the common layer (api/internal/) ----------------------------

// Runs a target in the child and returns its exit code: 0 after a normal
// return, 1 after an uncaught exception or undecodable arguments (the
// reason is printed to stderr first). Before the target it forgets the
// parent's children (a fork child has a copy of the parent's list) and
// records the daemon flag; after it, it ends this child's own children as
// the end of main() does (see mp/init.h). Backends call it, then ExitNow().
int RunTarget(const Target& target);

// The answer a spawned copy that could not become the program writes on
// its spawn channel (POSIX, between fork and exec): a whole frame of the
// spawn protocol saying "`step` failed with OS error `error`", which
// Start() returns as that OS error. Async-signal-safe: it only copies bytes
// into `out`.
enum class CopyStep {
  kStandardStreams,   // placing ChildIo::streams on 0, 1 and 2
  kWorkingDirectory,  // entering ChildIo::working_directory
  kExec,              // exec of the running binary
};
inline constexpr size_t kCopyFailureFrameSize = 8 + 1 + 4;
void FillCopyFailureFrame(char (&out)[kCopyFailureFrameSize], CopyStep step,
                          int32_t error);

// --- Provided by each backend ----------------------------------------------

// Whether this OS can fork (POSIX: yes; Win32: no).
bool HasFork();

// Whether children run inside this process's address space. POSIX and
// Win32: no. The threads backend (platform/threads, Python's
// multiprocessing.dummy): yes; the common layer then keeps its per-process
// state (the children registry, the daemon flag) per CurrentPid() rather
// than per address space, runs a spawn Launch by resolving it here and
// starting it as StartFork does (there is no second copy of the program),
// and leaves running, at the end of main's code, a daemon that cannot be
// terminated instead of joining it. It also refuses a ChildIo other than
// the default (Unimplemented), before opening anything for it: a child
// that is a thread shares its process's descriptors, environment and
// working directory.
bool ChildrenShareAddressSpace();

// Fork (POSIX only; Win32: InvalidArgument): fork(); the child calls
// RunTarget(target) directly. It is a copy of this process, as Python's
// fork child is: it keeps every descriptor this process holds (a plain
// pipe() too), except the channel ends it was not given (see AdoptChannel),
// also those another thread makes or closes meanwhile: fork() and changes
// to the record of channel ends exclude each other. POSIX: a kernel
// without pidfds (before Linux 5.4) makes StartFork and StartCopy
// Unimplemented, before any child exists.
// The child starts with the signal state mp/process.h promises
// (Process::Start): it is reset in the child after fork — handlers and an
// ignored SIGTERM to SIG_DFL, then an empty mask — with async-signal-safe
// calls, and every signal is blocked across fork() so that no handler of
// the parent's runs in the child first. Then it applies `target.io`
// (streams, environment, working directory), and only then closes the
// channel ends it was not given, which include the handles `target.io`
// named (see "Standard streams" below): it holds its streams on 0, 1 and 2
// and no other copy of them, nor this process's end of any stream pipe.
// The environment is built in this process before fork() and the child
// only points `environ` at it (no setenv(), which may allocate). A step
// that fails in the child (dup2(), or fchdir() refused because the
// directory's permissions changed since OpenWorkingDirectory checked them)
// is written to its stderr, and it exits with 127. threads: a thread runs
// the target.
absl::StatusOr<Child> StartFork(const Target& target);

// --- Forkserver (POSIX)
// -------------------------------------------------------
//
// Each process that starts forkserver children has one forkserver: a
// single-threaded copy of the program, started by the spawn protocol
// (mp/internal/spawn.h) with an internal target, that forks a child for
// each request and reaps it. It holds no user code but the static
// initialisers it ran, so its children are forked from a process in which
// no other thread can hold a lock. The starter's Start() sends the Launch,
// the handles it names, and the child's standard streams, environment and
// working directory (ChildIo's, or where it leaves one to the default, the
// starter's own as they are at Start()); the server forks, and the child
// resets its signal state to the starter's (handlers to the default, the
// signals the starter ignores at Start() ignored, except SIGTERM; an empty
// mask), takes those streams, that environment, that directory and
// exactly those handles, and runs RunTarget. The child's
// ParentPid() is the starter's pid. The server ends when its starter ends
// (it watches a pidfd of it), so a child that dies with its parent
// (ChildOptions::die_with_parent: the death signal, on the server) dies
// with the starter. It never appears in the starter's registry of
// children. POSIX: posix/forkserver.cc (the protocol is described there).
// Win32: InvalidArgument (no fork). threads: never called, as the common
// layer starts a forkserver Launch as a spawn one (a thread).

// Starts a child from this process's forkserver, starting the server first
// if it is not running (or ended). Returns once the server has forked the
// child; the Child is as described above. Errors: the server's start
// (a spawn's errors); the launch refused by the server (InvalidArgument,
// as a spawned child refuses one); the OS's, on either side
// (ResourceExhausted with no descriptor left); DeadlineExceeded if the
// server does not answer within SpawnTimeout() (it is killed, with the
// children that die with it); Unavailable if it ended meanwhile. No child
// is left running on any error path. Callable from several threads at once
// (requests are serialised). `io`'s handles stay this process's: the server
// gets copies.
absl::StatusOr<Child> StartForkserverChild(const Launch& launch,
                                           const ChildIo& io = {});
// Starts the server now if it is not running; the same errors as
// StartForkserverChild's for starting it. threads: OK (nothing to do).
absl::Status EnsureForkserver();
// Ends this process's forkserver, if any, and reaps it: called at the end
// of main's code (internal::FinishChildren), once its children are joined.
// A later forkserver start starts a new one. Win32 and threads: nothing.
void StopForkserver();

// --- Spawn: the OS's part (the protocol itself is mp/internal/spawn.h) ------
//
// The spawn channel: a connected pair of byte-stream ends, both private to
// this process (close-on-exec, non-inheritable).
//   POSIX: an AF_UNIX SOCK_STREAM socketpair.
//   Win32: one instance of a duplex byte-mode named pipe under a random
//     name, for the current user only, both ends opened for overlapped I/O
//     (so that reads and writes can time out).
//   threads: Unimplemented (no second copy of the program is ever started).
struct SpawnChannel {
  OwnedHandle parent;
  OwnedHandle child;
};
absl::StatusOr<SpawnChannel> CreateSpawnChannel();
// Writes all of `bytes` to a spawn channel end before `deadline`, however
// little the peer reads: DeadlineExceeded then.
absl::Status WriteSpawnChannel(intptr_t end, absl::string_view bytes,
                               internal::Deadline deadline);
// Reads exactly `size` bytes before `deadline`: OutOfRange if the peer's
// end closed first, DeadlineExceeded.
absl::Status ReadSpawnChannel(intptr_t end, char* out, size_t size,
                              internal::Deadline deadline);

// What StartCopy starts.
struct CopySpec {
  // The command-line arguments after the program's own path.
  std::vector<std::string> arguments;
  // The child's end of the spawn channel. The copy inherits it under the
  // same value (the arguments name it); StartCopy closes this process's
  // copy as soon as the child has its own, on every path.
  OwnedHandle channel;
  // Handles the copy also inherits (a Launch's handles).
  std::vector<intptr_t> handles;
  ChildOptions options;
  // Its standard streams, environment and working directory.
  ChildIo io;
};
struct StartedCopy {
  Child child;
  // `CopySpec::handles` as the child sees them, in the same order.
  std::vector<intptr_t> handles;
};
// Starts a copy of this program: the same binary, run with `arguments`.
//   POSIX: fork, then execv("/proc/self/exe"), the running binary even if
//     its path was replaced since; argv[0] is the path it names. Between
//     fork and exec (async-signal-safe calls only) the child resets its
//     signal state as StartFork's does, sets the death signal if asked,
//     marks every descriptor from 3 up close-on-exec (close_range(2) with
//     CLOSE_RANGE_CLOEXEC, else one by one up to RLIMIT_NOFILE) and then
//     clears the mark on the channel and the handles, which keep their
//     values; it places `io`'s streams on 0, 1 and 2, enters its working
//     directory and execs with its environment (built before fork). If a
//     step fails, it writes FillCopyFailureFrame's frame for that step on
//     the channel and exits with 127.
//   Win32: CreateProcessW on GetModuleFileNameW, suspended until it is in
//     this process's job (die_with_parent); the channel is made inheritable
//     in place and the handles are inheritable duplicates, and
//     PROC_THREAD_ATTRIBUTE_HANDLE_LIST names exactly those and the
//     standard handles (this process's, or inheritable duplicates of
//     `io`'s). Every inheritable copy is closed in this process as soon as
//     CreateProcessW returns, so that no process started meanwhile by
//     another thread (system()) inherits them. `io`'s environment is a
//     Unicode block sorted by name as Windows requires, and its working
//     directory is lpCurrentDirectory.
//   threads: Unimplemented.
// Either way the copy holds the standard streams, the channel and the
// handles, nothing else, whatever else this process left inheritable.
absl::StatusOr<StartedCopy> StartCopy(CopySpec spec);

// In a spawned copy: takes the channel end its command line names
// (`value`), makes it private to this process, and checks that the process
// holding the other end is this process's parent:
//   POSIX: the socket's SO_PEERCRED pid (the process that made the pair)
//     is getppid();
//   Win32: GetNamedPipeClientProcessId is ParentPid().
// InvalidArgument if `value` is not an open spawn channel end;
// PermissionDenied if another process holds the other end.
absl::StatusOr<OwnedHandle> AdoptSpawnChannel(intptr_t value);
// Makes a handle inherited from the parent private: no program this
// process starts inherits it. POSIX: FD_CLOEXEC; Win32: clears
// HANDLE_FLAG_INHERIT.
void MakeHandlePrivate(intptr_t handle);
// Whether this process runs with privileges its caller may lack, so that
// whoever ran it must not choose what it runs. POSIX: getauxval(AT_SECURE)
// (setuid, setgid, file capabilities); Win32 and threads: false.
bool IsPrivileged();
// The backend's status for a raw OS error `code` (errno; GetLastError())
// from `call`, with the OS's message, as its own calls report errors.
absl::Status OsErrorStatus(absl::string_view call, int64_t code);

// Waits until `deadline` (Deadline::Passed(): just look; Deadline::Never():
// until it ends). Returns the exit code once the child has ended and been
// reaped — POSIX: N for exit(N), -N for death by signal N; Win32: the exit
// code, with Terminate()/Kill() reading as -15/-9 and crashes mapped to signals
// (see win32/process.cc) — or nullopt if it is still running. Sets `reaped`; an
// already reaped child is FailedPrecondition. POSIX: reaps with waitid(P_PIDFD)
// on the sentinel, never by pid; a child that ended and was reaped by other
// code of this program (SIGCHLD set to SIG_IGN, or its own SIGCHLD handler;
// waitid fails with ECHILD), or is `lost`, reads as ended with
// kExitCodeUnknown. A forkserver child's code is the one its server
// reported on the sentinel (the server reaps it, whatever this process does
// with SIGCHLD). Process::kExitCodeUnknown: outside exit codes (0..255) and
// signals.
inline constexpr int kExitCodeUnknown = -256;
absl::StatusOr<std::optional<int>> WaitChild(Child& child,
                                             internal::Deadline deadline);

enum class Signal { kTerminate, kKill };
// POSIX: SIGTERM / SIGKILL. Win32: TerminateProcess with the exit code
// that WaitChild reports as -15 / -9. A child that already ended, or was
// reaped, is OK and untouched: POSIX signals with pidfd_send_signal on the
// sentinel (a forkserver child: on `process`), which reaches the child or,
// once it is reaped, nothing.
absl::Status SignalChild(const Child& child, Signal signal);

// A code address as a module-relative reference, and back. Making one
// fails for an address that is not code of a module loaded at program start
// (a module loaded later, e.g. by dlopen/LoadLibrary, would be missing in a
// spawned child), naming the symbol where the OS knows it. Resolving checks
// that the result lies in executable code of a module loaded here.
absl::StatusOr<internal::CodeRef> MakeCodeRef(const void* address);
absl::StatusOr<const void*> ResolveCodeRef(const internal::CodeRef& ref);

// --- Memory shared with other processes -------------------------------------
//
// Monitors and shared memory below both live in memory that every holder of
// the handle maps. Every other holder may be hostile (see "Trust" in
// mp/sync.h): it can write any byte, but it must not be able to crash this
// process through the memory. Two rules follow:
//   * No holder can change the memory's size, or every other holder's next
//     access beyond the new end would be a crash (SIGBUS).
//     POSIX: the memfd is sealed at creation (F_SEAL_SHRINK, F_SEAL_GROW,
//       F_SEAL_SEAL), and OpenMonitor / OpenSharedMemory refuse a received
//       one without those seals (InvalidArgument).
//     Win32: a section object's size is fixed when it is created; no holder
//       of its handle can shrink it under another's view.
//     threads: ordinary memory owned by the program; there is no handle to
//       resize.
//   * A size or offset read from the memory is read once, validated, and
//     kept in this process's own memory; later reads of the shared field
//     are never trusted (a peer may flip it between two reads).

// --- Monitors: shared synchronisation state --------------------------------
//
// A Monitor is a robust, process-shared mutex with one condition variable
// and `data_size` bytes of shared memory, reachable through ONE OS handle
// that can be given to children. Every mp synchronisation object (Lock,
// RLock, Semaphore, Event, Condition, Barrier, and the Queue's two locks)
// is a Monitor plus platform-independent logic in api/sync.cc.
//   POSIX: one memfd mapping: a header with a pthread mutex
//     (PTHREAD_PROCESS_SHARED, PTHREAD_MUTEX_ROBUST, ERRORCHECK or
//     RECURSIVE) and a condition word that waiters sleep on with futex(2),
//     then data. No pthread_cond_t: glibc's keeps per-waiter counts in the
//     shared object, which a waiter killed while asleep strands for ever.
//   Win32: one file mapping holding the data, an owner word and the
//     condition's counters. The lock is the owner word, taken by
//     compare-and-swap in user space: the holder's thread id and a stamp of
//     that thread's creation time and process, which a later thread given
//     the same id does not share. A locker that finds the word naming no
//     running thread (no such id, or another stamp) takes it over with
//     OwnerDied; contended lockers sleep on a kernel auto-reset event and
//     the holder's thread handle together. Condition waiters sleep on a
//     kernel semaphore. Both kernel objects have random names stored in the
//     mapping and are opened by name.
//   threads (platform/threads): an owner-tracking std::mutex and
//     std::condition_variable with the data in ordinary memory; a holder
//     cannot die alone, so OwnerDied never occurs.
struct Monitor;

// `kind` is stored in the monitor (MonitorKind) so that the common layer
// can refuse, say, a Lock's handle decoded as a Semaphore.
absl::StatusOr<Monitor*> CreateMonitor(uint32_t kind, size_t data_size,
                                       bool recursive);
// Opens a monitor from a handle received from a parent; takes ownership of
// the handle (closed by CloseMonitor, or here on error). InvalidArgument if
// the handle is not a monitor, or is memory a holder could resize.
absl::StatusOr<Monitor*> OpenMonitor(intptr_t handle);
uint32_t MonitorKind(const Monitor* monitor);
void CloseMonitor(Monitor* monitor);
intptr_t MonitorHandle(const Monitor* monitor);
// The shared data: zero-filled at creation, 16-byte aligned.
void* MonitorData(const Monitor* monitor);

// Locks before `deadline` (Deadline::Never(): no limit). OK; or
// OwnerDied (mp/status.h): locked, but the previous owner died holding it;
// DeadlineExceeded; FailedPrecondition if this thread holds a non-recursive
// monitor already. Signals never interrupt it.
absl::Status MonitorLock(Monitor* monitor, internal::Deadline deadline);
// FailedPrecondition if this thread does not hold it.
absl::Status MonitorUnlock(Monitor* monitor);
// Atomically unlocks, waits for a notification or `deadline`, and locks
// again (also on timeout). OK (notified, or a spurious wakeup: callers loop
// on their predicate), DeadlineExceeded, or OwnerDied (re-locked);
// FailedPrecondition if this thread does not hold the monitor. A recursive
// monitor must be held once. A waiter that dies while it waits leaves the
// monitor working: later notifies and waits of every process work as
// before (Win32: a dead waiter stays counted, which costs later waits a
// spurious wakeup now and then).
absl::Status MonitorWait(Monitor* monitor, internal::Deadline deadline);
// Wakes up to `n` waiters / all waiters. Call with the monitor locked.
void MonitorNotify(Monitor* monitor, int n);
void MonitorNotifyAll(Monitor* monitor);

// --- Shared memory and waits on words in it ---------------------------------
//
// A region of memory mapped by every process that holds its handle, with
// futex-like waits on 32-bit words inside it: the Queue's ring
// (api/internal/ring.h) is built on nothing else.
//   POSIX (Linux): a memfd mapping (no name, nothing left in /dev/shm); the
//     waits are futex(2) FUTEX_WAIT / FUTEX_WAKE on the word itself, in
//     their shared (not PRIVATE) form, so they work across processes.
//   Win32: a pagefile-backed file mapping. A small header ahead of the data
//     holds, per slot (a word's 64-byte line, modulo 4), a waiter count and
//     the random name of a kernel semaphore; a wait counts itself and sleeps
//     on its slot's semaphore, a wake hands out one token per counted
//     waiter. A semaphore cannot stop a later waiter from taking a token
//     meant for an earlier one, so waits also return every 5 ms for their
//     caller to re-check (see win32/memory.cc).
//   threads: ordinary memory, a std::mutex and a std::condition_variable.
struct SharedMemory;

// `size` zero-filled bytes, 64-byte aligned.
absl::StatusOr<SharedMemory*> CreateSharedMemory(size_t size);
// Maps memory from a handle received from a parent; takes ownership of the
// handle (closed by CloseSharedMemory, or here on error). InvalidArgument
// if the handle is not shared memory, or is memory a holder could resize.
absl::StatusOr<SharedMemory*> OpenSharedMemory(intptr_t handle);
void CloseSharedMemory(SharedMemory* memory);
intptr_t SharedMemoryHandle(const SharedMemory* memory);
void* SharedMemoryData(const SharedMemory* memory);
// The size the creator asked for (the mapping may be larger), as validated
// against the mapping when it was created or opened: never read again from
// the shared memory.
size_t SharedMemorySize(const SharedMemory* memory);
// Blocks while `*word == expected`, until WakeWord on the same word or
// `deadline`. OK when woken, when the word differs, or spuriously (callers
// loop on their own condition); DeadlineExceeded. `word` lies in `memory`.
// Signals never interrupt it.
absl::Status WaitWord(SharedMemory* memory, const std::atomic<uint32_t>* word,
                      uint32_t expected, internal::Deadline deadline);
// Wakes every thread of every process blocked in WaitWord on `word`.
void WakeWord(SharedMemory* memory, const std::atomic<uint32_t>* word);

// --- Channels: record pipes --------------------------------------------------
//
// A channel is a pair of connected ends carrying records: SendRecord
// delivers one whole record or nothing (a sender killed mid-call cannot
// leave half a record), RecvRecord returns exactly one whole record. The
// framing of messages into records (api/internal/framing.cc) relies on it.
//   POSIX: an AF_UNIX SOCK_SEQPACKET socketpair.
//   Win32: a message-mode named pipe pair (overlapped I/O, so that reads can
//     time out and be waited for), PIPE_REJECT_REMOTE_CLIENTS.
//   threads: two bounded queues of whole records, one per direction.
// Several processes may send on one end, and several receive on the other,
// at once: records never interleave.
inline constexpr size_t kMaxRecordBytes = 64 * 1024;

struct ChannelPair {
  OwnedHandle a;  // simplex: the read end
  OwnedHandle b;  // simplex: the write end
};
absl::StatusOr<ChannelPair> CreateChannelPair(bool duplex);
// Sends `pieces`, concatenated, as one record (at most kMaxRecordBytes).
// Blocks while the channel is full. EndOfFile (mp/status.h) if no process
// holds the other end any more.
absl::Status SendRecord(intptr_t end,
                        std::initializer_list<absl::string_view> pieces);
// Receives one record into `buffer` (kMaxRecordBytes long) before
// `deadline`: its size; EndOfFile once every other end is closed;
// DeadlineExceeded.
absl::StatusOr<size_t> RecvRecord(intptr_t end, char* buffer,
                                  internal::Deadline deadline);
// What WaitReady waits for: a channel end (ready when a record or end of
// file can be read) or a child's sentinel (Child::sentinel; ready once the
// child has ended). The kind is stated, never guessed from the handle.
struct Waitable {
  enum class Kind { kChannel, kSentinel };
  Kind kind;
  intptr_t handle;
};
// Waits until any of `waitables` is ready, or until `deadline`. Returns one
// flag per input, set for every input ready when it returns. Takes no
// record: a receive after it gets what it would have got without it.
//   POSIX: one poll(2).
//   Win32: an overlapped zero-byte ReadFile per channel end (on a
//     message-mode pipe it completes when a message is queued, taking
//     nothing) and the process handles, in one WaitForMultipleObjects;
//     beyond 64 handles, helper threads wait on 63 each for the length of
//     the call (win32/channel.cc).
//   threads: the objects' states under the backend's one lock.
absl::StatusOr<std::vector<bool>> WaitReady(
    const std::vector<Waitable>& waitables, internal::Deadline deadline);
void CloseChannel(intptr_t end);
// Records a channel end this process received from its parent (decoded
// from its arguments), as CreateChannelPair records the ends it makes.
//   POSIX: a fork child closes every recorded end it was not given, so that
//     it holds exactly the ends a spawned child would: otherwise its copy of,
//     say, its parent's end of a pipe keeps its own reader from ever seeing
//     end of file (Python's fork-only hang). An end is made and recorded
//     (CreateChannelPair, AdoptChannel), or forgotten and closed
//     (CloseChannel, CloseOsHandle), under one lock that every fork() of
//     this process takes (pthread_atfork), so that no fork child holds an
//     end its record does not name.
//   Win32: nothing to do (no fork; children get explicit handle lists).
void AdoptChannel(intptr_t end);
// The generation of this process's channel ends: an end made
// (CreateChannelPair) or adopted (AdoptChannel) under one generation is
// this process's to use and close only while the generation is unchanged.
//   POSIX: a fork child starts a new one when it closes the recorded ends
//     it was not given (see AdoptChannel): its copies of its parent's
//     objects name descriptors it no longer holds, whose numbers new
//     descriptors may reuse. Ends it was given are adopted again, under the
//     new generation.
//   Win32 and threads: always 0 (no fork; a threads child shares its
//     parent's ends).
// Cheap enough to check before every send and receive.
uint64_t ChannelGeneration();

// --- Standard streams: what a ChildIo names ---------------------------------
//
// Everything here is made in the parent, before any child exists, so that
// a path that cannot be opened is Start()'s error (the OS's: NotFound,
// PermissionDenied, ...) and never a child that dies. Every handle is
// private to this process (close-on-exec, non-inheritable) until StartFork
// or StartCopy hands it to the one child it is for.
//   POSIX: every descriptor is 3 or more, and is recorded with the channel
//     ends (see AdoptChannel), so that a fork child started by another
//     thread meanwhile closes it too: no other child holds, say, the write
//     end of a stdin pipe, which would keep its reader from ever seeing
//     end of file.
//   threads: Unimplemented (the common layer refuses a ChildIo first).

enum class StreamFile {
  kRead,           // an existing file, for a child's stdin
  kWriteTruncate,  // created if missing, emptied
  kWriteAppend,    // created if missing; every write goes to its end
};
absl::StatusOr<OwnedHandle> OpenStreamFile(const std::string& path,
                                           StreamFile how);
// The null device, for reading and writing (POSIX: /dev/null; Win32: NUL).
absl::StatusOr<OwnedHandle> OpenNullDevice();

// A pipe from this process to a child's stdin (`child_reads`), or from a
// child's stdout or stderr: `child` becomes the stream, `parent` is this
// process's end, read or written with ReadStream / WriteStream.
//   POSIX: pipe2(); the parent's end is non-blocking.
//   Win32: one instance of a byte-mode named pipe, one way, under a random
//     name, for the current user only; the parent's end (the server) is
//     overlapped, so that its reads and writes can time out; the child's
//     (the client) is not, as a program expects of its standard streams.
struct StreamPipe {
  OwnedHandle parent;
  OwnedHandle child;
};
absl::StatusOr<StreamPipe> CreateStreamPipe(bool child_reads);
// Reads what has arrived on a stream pipe's parent end, at most `size`
// bytes, waiting until `deadline` for at least one: the number read; 0 at
// end of file (every copy of the child's end is closed and everything was
// read); DeadlineExceeded.
absl::StatusOr<size_t> ReadStream(intptr_t end, char* out, size_t size,
                                  internal::Deadline deadline);
// Writes a prefix of `bytes` (not empty) on a stream pipe's parent end,
// waiting until `deadline` for room: the number written, at least one;
// DeadlineExceeded if none could be; EndOfFile (mp/status.h) if every copy
// of the child's end is closed. POSIX: never raises SIGPIPE.
absl::StatusOr<size_t> WriteStream(intptr_t end, absl::string_view bytes,
                                   internal::Deadline deadline);

// A directory a child can start in: NotFound, NotADirectory (as
// FailedPrecondition), PermissionDenied (no search permission) here rather
// than in the child.
//   POSIX: `handle` is the directory opened O_PATH (the child fchdir()s to
//     it: a directory renamed or removed meanwhile cannot make the child
//     start elsewhere); `path` is empty.
//   Win32: `handle` is the directory, opened to hold it (it cannot be
//     removed while open); `path` is its full path, which CreateProcessW
//     takes.
struct WorkingDirectory {
  OwnedHandle handle;
  std::string path;
};
absl::StatusOr<WorkingDirectory> OpenWorkingDirectory(const std::string& path);

// Ends the calling process now with `code` after flushing stdio; runs no
// destructors or atexit handlers (a child must not run its parent's).
[[noreturn]] void ExitNow(int code);

int64_t CurrentPid();
int64_t ParentPid();
int CpuCount();

}  // namespace os
}  // namespace mp

#endif  // MP_INTERNAL_OS_H_
