// Copyright 2026 The mp Authors.
//
// The platform-independent half of mp::Process: argument checks, state, and
// the start method choice. Every OS call goes through mp/internal/os.h.

#include "mp/process.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "mp/init.h"
#include "mp/internal/children.h"
#include "mp/internal/os.h"
#include "mp/internal/spawn.h"

namespace mp {
namespace {

std::atomic<int> g_process_counter{0};

StartMethod Resolve(StartMethod m) {
  if (m != StartMethod::kDefault) return m;
  m = internal::ProcessWideStartMethod();
  if (m != StartMethod::kDefault) return m;
  return os::HasFork() ? StartMethod::kFork : StartMethod::kSpawn;
}

absl::Status NeedsInit(const std::string& name, StartMethod method) {
  return absl::FailedPreconditionError(absl::StrCat(
      "mp: ", name, ": the ", StartMethodName(method),
      " start method needs mp::Init(argc, argv) as the first statement of "
      "main() (the `if __name__ == '__main__'` guard); without it the "
      "child would re-run main()"));
}

}  // namespace

absl::Status SetStartMethod(StartMethod method) {
  return internal::SetProcessWideStartMethod(method);
}

StartMethod GetStartMethod() { return Resolve(StartMethod::kDefault); }

std::string StartMethodName(StartMethod method) {
  switch (method) {
    case StartMethod::kFork:
      return "fork";
    case StartMethod::kSpawn:
      return "spawn";
    case StartMethod::kForkserver:
      return "forkserver";
    case StartMethod::kDefault:
      break;
  }
  return "default";
}

absl::Status StartForkserver() {
  if (absl::Status s = internal::CheckStartMethod(StartMethod::kForkserver);
      !s.ok()) {
    return s;
  }
  if (!Initialized()) {
    return NeedsInit("StartForkserver()", StartMethod::kForkserver);
  }
  return os::EnsureForkserver();
}

void Process::InitCommon() {
  name_ = absl::StrCat("Process-", ++g_process_counter);
}

static_assert(Process::kExitCodeUnknown == os::kExitCodeUnknown);

Process::~Process() = default;

absl::Status Process::CheckStarted() const {
  if (closed_) {
    return absl::FailedPreconditionError(
        absl::StrCat("mp: ", name_, " is closed"));
  }
  if (record_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("mp: ", name_, " was not started"));
  }
  return absl::OkStatus();
}

absl::Status Process::SetStartMethod(StartMethod method) {
  if (record_ != nullptr || closed_) {
    return absl::FailedPreconditionError(
        absl::StrCat("mp: ", name_, ": start method set after Start()"));
  }
  if (absl::Status s = internal::CheckStartMethod(method); !s.ok()) return s;
  method_ = method;
  return absl::OkStatus();
}

absl::Status Process::SetName(std::string name) {
  name_ = std::move(name);
  return absl::OkStatus();
}

absl::Status Process::SetDaemon(bool daemon) {
  if (record_ != nullptr || closed_) {
    return absl::FailedPreconditionError(
        absl::StrCat("mp: ", name_, ": daemon flag set after Start()"));
  }
  daemon_ = daemon;
  return absl::OkStatus();
}

absl::Status Process::SetDieWithParent(bool die_with_parent) {
  if (record_ != nullptr || closed_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "mp: ", name_, ": die-with-parent flag set after Start()"));
  }
  die_with_parent_ = die_with_parent;
  return absl::OkStatus();
}

absl::Status Process::Start() {
  if (closed_) {
    return absl::FailedPreconditionError(
        absl::StrCat("mp: ", name_, " is closed"));
  }
  if (record_ != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("mp: ", name_, " was already started"));
  }
  if (invoker_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("mp: ", name_, " has no target (moved from?)"));
  }
  if (!bind_status_.ok()) {
    return absl::Status(bind_status_.code(),
                        absl::StrCat(name_, ": ", bind_status_.message()));
  }
  if (internal::CurrentIsDaemon()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "mp: ", name_,
        ": a daemon process may not start children (as in Python)"));
  }
  ActiveChildren();  // reap children whose Process objects are gone
  const StartMethod method = Resolve(method_);
  // The same checks for every start method, so that a program accepted
  // under fork is accepted under spawn and the other way round.
  absl::StatusOr<internal::CodeRef> invoker =
      os::MakeCodeRef(reinterpret_cast<const void*>(invoker_));
  absl::StatusOr<internal::CodeRef> target =
      invoker.ok() ? os::MakeCodeRef(reinterpret_cast<const void*>(target_))
                   : invoker;
  if (!target.ok()) {
    return absl::Status(target.status().code(),
                        absl::StrCat(name_, ": ", target.status().message()));
  }
  const os::ChildOptions options{daemon_, die_with_parent_};

  absl::StatusOr<os::Child> child;
  if (method == StartMethod::kFork) {
    child = os::StartFork(
        os::Target{invoker_, target_, args_, handles_.handles, options});
  } else if (!Initialized()) {
    return NeedsInit(name_, method);
  } else {
    const os::Launch launch{*std::move(invoker),
                            *std::move(target),
                            args_,
                            handles_.handles,
                            options,
                            GetStartMethod()};
    // On the threads backend a forkserver child is a thread, as a spawned
    // one is (Spawn starts it).
    child =
        method == StartMethod::kForkserver && !os::ChildrenShareAddressSpace()
            ? os::StartForkserverChild(launch)
            : internal::Spawn(launch);
  }
  if (!child.ok()) {
    return absl::Status(child.status().code(),
                        absl::StrCat(name_, ": ", child.status().message()));
  }
  record_ = std::make_shared<internal::ChildRecord>(*std::move(child), name_,
                                                    daemon_);
  // The child has its own copies now; the parent's owners may go.
  handles_.keep_alive.clear();
  for (std::function<void()>& close : after_start_) close();
  after_start_.clear();
  internal::RegisterChild(record_);
  return absl::OkStatus();
}

absl::Status Process::Join() {
  absl::Status s = CheckStarted();
  return s.ok() ? internal::PollChild(*record_, internal::Deadline::Never())
                : s;
}

absl::Status Process::Join(absl::Duration timeout) {
  absl::Status s = CheckStarted();
  if (!s.ok()) return s;
  return internal::PollChild(*record_, internal::Deadline::After(timeout));
}

bool Process::IsAlive() {
  if (!CheckStarted().ok()) return false;
  if (!internal::PollChild(*record_, internal::Deadline::Passed()).ok()) {
    return false;
  }
  std::lock_guard<std::mutex> lock(record_->mu);
  return !record_->child.reaped;
}

absl::Status Process::Terminate() {
  absl::Status s = CheckStarted();
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(record_->mu);
  return os::SignalChild(record_->child, os::Signal::kTerminate);
}

absl::Status Process::Kill() {
  absl::Status s = CheckStarted();
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(record_->mu);
  return os::SignalChild(record_->child, os::Signal::kKill);
}

std::optional<int> Process::ExitCode() const {
  if (record_ == nullptr) return std::nullopt;
  std::lock_guard<std::mutex> lock(record_->mu);
  return record_->exit_code;
}

std::optional<int64_t> Process::Pid() const {
  if (record_ == nullptr) return std::nullopt;
  return record_->child.pid;
}

absl::StatusOr<intptr_t> Process::Sentinel() const {
  absl::Status s = CheckStarted();
  if (!s.ok()) return s;
  return record_->child.sentinel.get();
}

absl::Status Process::Close() {
  if (closed_) return absl::OkStatus();
  if (record_ != nullptr) {
    absl::Status s =
        internal::PollChild(*record_, internal::Deadline::Passed());
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> lock(record_->mu);
    if (!record_->child.reaped) {
      return absl::FailedPreconditionError(absl::StrCat(
          "mp: ", name_, " is still running; Join() or Kill() it first"));
    }
    record_->child.sentinel.reset();
    record_->child.process.reset();
  }
  closed_ = true;
  return absl::OkStatus();
}

std::vector<int64_t> ActiveChildren() { return internal::ActiveChildPids(); }

void Exit(int code) {
  if (internal::InTarget()) throw internal::ExitRequest{code};
  std::exit(code);
}

int64_t CurrentPid() { return os::CurrentPid(); }
int64_t ParentPid() { return os::ParentPid(); }
int CpuCount() { return os::CpuCount(); }

}  // namespace mp
