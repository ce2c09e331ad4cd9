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
//   * every `absl::Time deadline` in this contract is on MonotonicNow()'s
//     scale (mp/internal/deadline.h), never absl::Now()'s;
//     absl::InfiniteFuture() means none. Each backend converts a deadline
//     once per kernel call (a relative timeout from the time left, or an
//     absolute monotonic time directly), so a wall-clock step moves no wait.

#ifndef MP_INTERNAL_OS_H_
#define MP_INTERNAL_OS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "mp/internal/deadline.h"
#include "mp/internal/target.h"

namespace mp {

enum class StartMethod;  // mp/process.h

namespace os {

// A started child, as the parent holds it.
//   POSIX (Linux 5.4 or later): `pid`, and `sentinel`, a pidfd for the child
//     (pidfd_open, close-on-exec), opened in the parent right after fork():
//     it becomes readable (POLLIN) when the child ends, whoever else holds a
//     copy of it, and reaping and signalling go through it, so they reach
//     this child or nothing, never a process that reused its pid. A child
//     that ended and was reaped by other code before its pidfd could be
//     opened (SIGCHLD ignored, and it ended at once) is `lost`: its sentinel
//     is a descriptor that is always readable (an eventfd), WaitChild reads
//     it as ended with kExitCodeUnknown and SignalChild leaves it alone.
//   Win32: `pid`, and `sentinel`, the process HANDLE (signalled at exit).
// `reaped` is set by WaitChild once the exit code was collected; the
// sentinel stays open (and usable for waiting) until ReleaseChild.
struct Child {
  int64_t pid = -1;
  intptr_t sentinel = -1;
  bool reaped = false;
  bool lost = false;  // POSIX only; see above
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

// What a child runs, in this process's memory (fork children use it as is).
struct Target {
  internal::InvokerFn invoker = nullptr;
  void (*function)() = nullptr;
  std::string args;
  // The OS handles the arguments refer to, by index. A fork child has them
  // under the same values; a spawned child is given exactly these.
  std::vector<intptr_t> handles;
  ChildOptions options;
};

// Everything a spawned child needs to run its target: the Target with its
// code addresses as CodeRefs, sent over the spawn channel.
struct Launch {
  internal::CodeRef invoker;
  internal::CodeRef function;
  std::string args;
  // As in Target. StartSpawn makes them inheritable by this child alone and
  // sends the values the child will see (on Win32: the inheritable
  // duplicates' values; on POSIX: the same descriptors).
  std::vector<intptr_t> handles;
  ChildOptions options;
  // The parent's process-wide start method (mp::GetStartMethod()), which
  // mp::Init() makes the spawned child's own before its target runs, as
  // Python passes it to a spawned child: a program that chose spawn keeps
  // it in its grandchildren. A fork child has it in its copy of memory;
  // threads children share the parent's.
  StartMethod start_method{};
};

// --- Provided by the common layer (api/internal/run_target.cc) ---------------

// Runs a target in the child and returns its exit code: 0 after a normal
// return, 1 after an uncaught exception or undecodable arguments (the
// reason is printed to stderr first). Before the target it forgets the
// parent's children (a fork child has a copy of the parent's list) and
// records the daemon flag; after it, it ends this child's own children as
// the end of main() does (see mp/init.h). Backends call it, then ExitNow().
int RunTarget(const Target& target);

// The spawn channel's messages, encoded with the codec so that both
// backends speak the same bytes. The parent sends one Launch message; the
// child answers with one Answer message. Each is framed on the wire as an
// 8-byte little-endian length and then the bytes (see ReadFrame below).
std::string EncodeLaunch(const Launch& launch);
absl::StatusOr<Launch> DecodeLaunch(absl::string_view bytes);
std::string EncodeAnswer(const absl::Status& status);
// The status the child reported, or an error if the bytes are malformed.
absl::Status DecodeAnswer(absl::string_view bytes);
// The one deadline of the spawn handshake: a spawned child must take its
// whole Launch frame and answer within this time, counted from the moment
// StartSpawn begins to send (60 s: it only has to run static initialisers
// and read). A child that has not done both by then is killed and Start()
// is DeadlineExceeded. The child side reads its Launch under it too.
absl::Duration SpawnTimeout();
// Test seam: replaces SpawnTimeout() in this process (not in its children).
void SetSpawnTimeoutForTesting(absl::Duration timeout);
// Spawn-channel frames larger than this are refused (corrupt length).
inline constexpr uint64_t kMaxLaunchBytes = uint64_t{1} << 32;
// A frame: the 8-byte little-endian length of `bytes`, then `bytes`.
std::string Frame(absl::string_view bytes);
// Reads one frame with `read_exactly` (the backend's "fill this buffer or
// fail" primitive). The body is read in bounded chunks, so a corrupt length
// cannot force a large allocation before the data has actually arrived.
absl::StatusOr<std::string> ReadFrame(
    const std::function<absl::Status(char* out, size_t size)>& read_exactly);

// --- Provided by each backend ----------------------------------------------

// Whether this OS can fork (POSIX: yes; Win32: no).
bool HasFork();

// Whether children run inside this process's address space. POSIX and
// Win32: no. The threads backend (platform/threads, Python's
// multiprocessing.dummy): yes; the common layer then keeps its per-process
// state (the children registry, the daemon flag) per CurrentPid() rather
// than per address space, and a daemon that cannot be terminated is left
// running at the end of main's code instead of being joined.
bool ChildrenShareAddressSpace();

// Starts a child that runs `invoker(target, args)` and exits.
//   fork (POSIX only): fork(); the child calls RunTarget(target) directly.
//     It is a copy of this process, as Python's fork child is: it keeps
//     every descriptor this process holds (a plain pipe() too), except the
//     channel ends it was not given (see AdoptChannel), also those another
//     thread makes or closes meanwhile: fork() and changes to the record
//     of channel ends exclude each other.
//   spawn: POSIX re-executes /proc/self/exe (or the path the OS reports);
//     Win32 calls CreateProcessW on GetModuleFileNameW. The child receives
//     the encoded Launch through an inherited channel named on its command
//     line, resolves it (ResolveCodeRef) and answers before running it; the
//     parent waits for that answer, so exec failures and unresolvable
//     targets are Start() errors, not silent child deaths. Sending the
//     Launch and the answer share one deadline, SpawnTimeout(): past it the
//     child is killed and StartSpawn is DeadlineExceeded.
//     The child holds the standard streams, the spawn channel and
//     `launch.handles`, nothing else, whatever else this process left
//     inheritable:
//       POSIX: between fork and exec every descriptor from 3 up is marked
//         close-on-exec (close_range(2) with CLOSE_RANGE_CLOEXEC, else one
//         by one up to RLIMIT_NOFILE), then the given ones are cleared;
//       Win32: PROC_THREAD_ATTRIBUTE_HANDLE_LIST names them, and the
//         inheritable duplicates made for the child are closed in this
//         process as soon as CreateProcessW returns, so that no process
//         started meanwhile by another thread (system()) inherits them.
// POSIX: the child is held by a pidfd (see Child); a kernel without pidfds
// (before Linux 5.4) makes both Unimplemented, before any child exists.
// Either way the child starts with the signal state mp/process.h promises
// (Process::Start): POSIX resets it in the child after fork — handlers and
// an ignored SIGTERM to SIG_DFL, then an empty mask — before the target
// (fork) or exec (spawn), with async-signal-safe calls, and blocks every
// signal across fork() so that no handler of the parent's runs in the
// child first. Win32 and threads: nothing to do (no signals; a thread
// cannot be terminated).
absl::StatusOr<Child> StartFork(const Target& target);
absl::StatusOr<Child> StartSpawn(const Launch& launch);

// Waits up to `timeout` (zero: just look; absl::InfiniteDuration(): until
// it ends). Returns the exit code once the child has ended and been reaped —
// POSIX: N for exit(N), -N for death by signal N; Win32: the exit code, with
// Terminate()/Kill() reading as -15/-9 and crashes mapped to signals (see
// win32/process.cc) — or nullopt if it is still running. Sets `reaped`;
// an already reaped child is FailedPrecondition. POSIX: reaps with
// waitid(P_PIDFD) on the sentinel, never by pid; a child that ended and was
// reaped by other code of this program (SIGCHLD set to SIG_IGN, or its own
// SIGCHLD handler; waitid fails with ECHILD), or is `lost`, reads as ended
// with kExitCodeUnknown.
// Process::kExitCodeUnknown: outside exit codes (0..255) and signals.
inline constexpr int kExitCodeUnknown = -256;
absl::StatusOr<std::optional<int>> WaitChild(Child& child,
                                             absl::Duration timeout);

enum class Signal { kTerminate, kKill };
// POSIX: SIGTERM / SIGKILL. Win32: TerminateProcess with the exit code
// that WaitChild reports as -15 / -9. A child that already ended, or was
// reaped (its pid may belong to someone else by now), is OK and untouched:
// POSIX signals with pidfd_send_signal on the sentinel, which reaches the
// child or, once it is reaped, nothing (ESRCH, OK).
absl::Status SignalChild(const Child& child, Signal signal);

// Closes the parent's handles (the sentinel: POSIX, the pidfd; Win32, the
// process HANDLE). Does not wait: callers reap first, or keep the child in
// the registry (api/internal/children.h).
void ReleaseChild(Child& child);

// In a spawned child: the Launch the parent sent, if this process is one.
// Called by mp::Init() with main()'s arguments. Returns nullopt in a
// process that is not a spawned child; on a malformed channel it reports
// to the parent and exits.
std::optional<Launch> ReceiveLaunch(int argc, char** argv);
// In a spawned child, after resolving: tells the parent the target was
// found (status OK) or why it was not. The parent's StartSpawn returns it.
void AnswerLaunch(const absl::Status& status);

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
//   Win32: one file mapping holding the data and the condition's counters;
//     a kernel mutex (WAIT_ABANDONED is owner death) and a kernel semaphore
//     (wakeups) with random names stored in the mapping, opened by name.
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

// Locks before `deadline` (absl::InfiniteFuture(): no limit). OK; or
// OwnerDied (mp/status.h): locked, but the previous owner died holding it;
// DeadlineExceeded; FailedPrecondition if this thread holds a non-recursive
// monitor already. Signals never interrupt it.
absl::Status MonitorLock(Monitor* monitor, absl::Time deadline);
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
absl::Status MonitorWait(Monitor* monitor, absl::Time deadline);
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
                      uint32_t expected, absl::Time deadline);
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
  intptr_t a = -1;  // simplex: the read end
  intptr_t b = -1;  // simplex: the write end
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
                                  absl::Time deadline);
// Waits until any of `ends` (channel ends, or process sentinels) is ready —
// a record or end-of-file to read, or a process ended — or until
// `deadline`. Returns one flag per input.
absl::StatusOr<std::vector<bool>> WaitReady(const std::vector<intptr_t>& ends,
                                            absl::Time deadline);
void CloseChannel(intptr_t end);
// Records a channel end this process received from its parent (decoded
// from its arguments), as CreateChannelPair records the ends it makes.
//   POSIX: a fork child closes every recorded end it was not given, so that
//     it holds exactly the ends a spawned child would: otherwise its copy of,
//     say, its parent's end of a pipe keeps its own reader from ever seeing
//     end of file (Python's fork-only hang). An end is made and recorded
//     (CreateChannelPair, AdoptChannel), or forgotten and closed
//     (CloseChannel), under one lock that every fork() of this process
//     takes (pthread_atfork), so that no fork child holds an end its record
//     does not name.
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

// Handles of objects that cross process boundaries (descriptors on POSIX,
// HANDLEs on Win32): a non-inheritable duplicate, and closing one.
absl::StatusOr<intptr_t> DuplicateOsHandle(intptr_t handle);
void CloseOsHandle(intptr_t handle);

// Ends the calling process now with `code` after flushing stdio; runs no
// destructors or atexit handlers (a child must not run its parent's).
[[noreturn]] void ExitNow(int code);

int64_t CurrentPid();
int64_t ParentPid();
int CpuCount();

}  // namespace os
}  // namespace mp

#endif  // MP_INTERNAL_OS_H_
