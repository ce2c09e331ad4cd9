// Copyright 2026 The mp Authors.
//
// Processes on threads (mp/internal/os.h): Python's multiprocessing.dummy.
// The mirror of posix/process.cc and win32/process.cc, for a "process"
// that is a thread of this program.
//
// A child is a detached std::thread that runs RunTarget() and records its
// exit code in its sentinel, a ThreadChild object that WaitChild and
// WaitReady wait on. Every start method does the same thing: there is no
// second copy of the program, so the common layer resolves a spawn (or
// forkserver) Launch here (its CodeRefs resolve to the very addresses they
// were made from, module.cc) and starts it with StartFork.
//
// Pids are numbers of this emulation, not the OS's: the main program is 1
// and children are 2, 3, ... in start order; a thread that a target starts
// itself belongs to the main program.
//
// What a thread cannot do (the documented differences in PORTING.md):
//   * be terminated or killed: SignalChild is Unimplemented for a running
//     child, and a daemon child is left running at the end of main's code,
//     as Python leaves daemon threads;
//   * exit on its own: exit(), a crash or an uncaught signal ends the whole
//     program;
//   * own memory: children share globals with their parent, so a Lock held
//     by a thread cannot be orphaned and "owner died" never happens;
//   * have standard streams, an environment or a working directory of its
//     own: StartFork refuses a ChildIo other than the default.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "platform/threads/objects.h"

namespace mp {
namespace os {
namespace {

constexpr int64_t kMainPid = 1;
std::atomic<int64_t> g_next_pid{kMainPid + 1};

// The emulated process the calling thread runs for (0: the main program).
thread_local int64_t t_pid = 0;
thread_local int64_t t_parent_pid = 0;

struct ThreadChild : threads::Object {
  bool Ready() const override { return done; }
  bool done = false;  // guarded by threads::Mutex()
  int code = 0;
};

// The child thread's whole life. It owns one reference to its sentinel and
// one to each handle in `target.handles` (taken over by RunTarget).
void RunChild(intptr_t sentinel, Target target, int64_t pid,
              int64_t parent_pid) {
  t_pid = pid;
  t_parent_pid = parent_pid;
  const int code = RunTarget(target);
  {
    std::lock_guard<std::mutex> lock(threads::Mutex());
    ThreadChild* self = threads::FindAs<ThreadChild>(sentinel);
    self->done = true;
    self->code = code;
    threads::Changed().notify_all();
  }
  threads::Release(sentinel);
}

absl::StatusOr<Child> StartThread(Target target) {
  // The child's own references to what it is given, as a fork child
  // inherits descriptors: the parent may close its copies at once.
  for (size_t i = 0; i < target.handles.size(); ++i) {
    if (!threads::AddRef(target.handles[i])) {
      for (size_t j = 0; j < i; ++j) threads::Release(target.handles[j]);
      return absl::InvalidArgumentError(
          absl::StrCat("mp: handle ", target.handles[i], " is not open"));
    }
  }
  const intptr_t sentinel = threads::Register(new ThreadChild);
  (void)threads::AddRef(sentinel);  // the thread's reference
  const int64_t pid = g_next_pid.fetch_add(1);
  const std::vector<intptr_t> handles = target.handles;
  try {
    std::thread(RunChild, sentinel, std::move(target), pid, CurrentPid())
        .detach();
  } catch (const std::system_error& e) {
    for (intptr_t h : handles) threads::Release(h);
    threads::Release(sentinel);
    threads::Release(sentinel);
    return absl::ResourceExhaustedError(
        absl::StrCat("mp: cannot start a thread: ", e.what()));
  }
  Child child;
  child.pid = pid;
  child.sentinel.reset(sentinel);
  return child;
}

}  // namespace

bool HasFork() { return true; }

bool ChildrenShareAddressSpace() { return true; }

absl::StatusOr<Child> StartFork(const Target& target) {
  if (!target.io.IsDefault()) {
    return absl::UnimplementedError(
        "mp: a child of the threads backend is a thread: it shares its "
        "process's standard streams, environment and working directory");
  }
  return StartThread(target);
}

// The common layer starts a forkserver Launch as a spawn one, a thread: there
// is no server, and nothing to start or stop.
absl::StatusOr<Child> StartForkserverChild(const Launch&, const ChildIo&) {
  return absl::UnimplementedError(
      "mp: the threads backend has no forkserver (a forkserver child is a "
      "thread, started as a spawned one)");
}

absl::Status EnsureForkserver() { return absl::OkStatus(); }

void StopForkserver() {}

absl::StatusOr<std::optional<int>> WaitChild(Child& child,
                                             internal::Deadline deadline) {
  if (child.reaped) {
    return absl::FailedPreconditionError("mp: the child was already reaped");
  }
  std::unique_lock<std::mutex> lock(threads::Mutex());
  for (;;) {
    ThreadChild* c = threads::FindAs<ThreadChild>(child.sentinel.get());
    if (c == nullptr) {
      return absl::InvalidArgumentError("mp: not a child's sentinel");
    }
    if (c->done) {
      child.reaped = true;
      return std::optional<int>(c->code);
    }
    if (!threads::WaitUntil(lock, threads::Changed(), deadline)) {
      return std::optional<int>();
    }
  }
}

absl::Status SignalChild(const Child& child, Signal signal) {
  if (child.reaped) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(threads::Mutex());
  ThreadChild* c = threads::FindAs<ThreadChild>(child.sentinel.get());
  if (c == nullptr || c->done) return absl::OkStatus();
  return absl::UnimplementedError(absl::StrCat(
      "mp: the threads backend cannot ",
      signal == Signal::kKill ? "kill" : "terminate",
      " a running child (a thread cannot be stopped from outside; "
      "Python's multiprocessing.dummy has no terminate() either)"));
}

// No second copy of the program is ever started (the common layer runs a
// spawn Launch as StartFork does, ChildrenShareAddressSpace()), so nothing
// below is ever reached from mp's own code.
namespace {
absl::Status NoCopies() {
  return absl::UnimplementedError(
      "mp: the threads backend starts no copy of the program");
}
}  // namespace
absl::StatusOr<SpawnChannel> CreateSpawnChannel() { return NoCopies(); }
absl::Status WriteSpawnChannel(intptr_t, absl::string_view,
                               internal::Deadline) {
  return NoCopies();
}
absl::Status ReadSpawnChannel(intptr_t, char*, size_t, internal::Deadline) {
  return NoCopies();
}
absl::StatusOr<StartedCopy> StartCopy(CopySpec) { return NoCopies(); }
absl::StatusOr<OwnedHandle> AdoptSpawnChannel(intptr_t) { return NoCopies(); }
void MakeHandlePrivate(intptr_t) {}
bool IsPrivileged() { return false; }

absl::Status OsErrorStatus(absl::string_view call, int64_t code) {
  return absl::UnknownError(absl::StrCat(call, ": OS error ", code));
}

absl::StatusOr<intptr_t> DuplicateOsHandle(intptr_t handle) {
  if (!threads::AddRef(handle)) {
    return absl::InvalidArgumentError(
        absl::StrCat("mp: handle ", handle, " is not open"));
  }
  return handle;
}

void CloseOsHandle(intptr_t handle) { threads::Release(handle); }

void ExitNow(int code) {
  std::fflush(nullptr);
  std::_Exit(code);
}

int64_t CurrentPid() { return t_pid != 0 ? t_pid : kMainPid; }

int64_t ParentPid() { return t_pid != 0 ? t_parent_pid : 0; }

int CpuCount() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace os
}  // namespace mp
