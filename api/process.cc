// Copyright 2026 The mp Authors.
//
// The platform-independent half of mp::Process: argument checks, state, and
// the start method choice. Every OS call goes through mp/internal/os.h.

#include "mp/process.h"

#include <atomic>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mp/init.h"
#include "mp/internal/os.h"

namespace mp {
namespace {

std::atomic<StartMethod> g_default_method{StartMethod::kDefault};
std::atomic<int> g_process_counter{0};

// Children whose Process object went away before they were reaped. They are
// reaped (without blocking) whenever another child starts, so they do not
// linger as zombies; the parent's handles stay open until then.
std::mutex g_unjoined_mu;
std::vector<os::Child>& Unjoined() {
  static auto* v = new std::vector<os::Child>();
  return *v;
}

void ReapUnjoined() {
  std::lock_guard<std::mutex> lock(g_unjoined_mu);
  std::vector<os::Child>& v = Unjoined();
  for (size_t i = 0; i < v.size();) {
    absl::StatusOr<std::optional<int>> r =
        os::WaitChild(v[i], absl::ZeroDuration());
    if (!r.ok() || r->has_value()) {
      v[i] = v.back();
      v.pop_back();
    } else {
      ++i;
    }
  }
}

StartMethod Resolve(StartMethod m) {
  if (m != StartMethod::kDefault) return m;
  m = g_default_method.load();
  if (m != StartMethod::kDefault) return m;
  return os::HasFork() ? StartMethod::kFork : StartMethod::kSpawn;
}

}  // namespace

struct Process::State {
  os::Child child;
};

void Process::StateDeleter::operator()(State* state) const { delete state; }

absl::Status SetStartMethod(StartMethod method) {
  if (method == StartMethod::kFork && !os::HasFork()) {
    return absl::InvalidArgumentError("mp: this OS has no fork start method");
  }
  g_default_method.store(method);
  return absl::OkStatus();
}

StartMethod GetStartMethod() { return Resolve(StartMethod::kDefault); }

std::string StartMethodName(StartMethod method) {
  switch (method) {
    case StartMethod::kFork:
      return "fork";
    case StartMethod::kSpawn:
      return "spawn";
    case StartMethod::kDefault:
      break;
  }
  return "default";
}

void Process::InitCommon() {
  name_ = absl::StrCat("Process-", ++g_process_counter);
}

Process::Process(Process&& other) noexcept
    : name_(std::move(other.name_)),
      daemon_(other.daemon_),
      method_(other.method_),
      invoker_(other.invoker_),
      target_(other.target_),
      args_(std::move(other.args_)),
      exit_code_(other.exit_code_),
      state_(std::move(other.state_)) {}

Process::~Process() {
  if (state_ != nullptr && !exit_code_.has_value()) {
    std::lock_guard<std::mutex> lock(g_unjoined_mu);
    Unjoined().push_back(state_->child);
  }
}

absl::Status Process::SetStartMethod(StartMethod method) {
  if (state_ != nullptr) {
    return absl::FailedPreconditionError("mp: start method set after Start()");
  }
  if (method == StartMethod::kFork && !os::HasFork()) {
    return absl::InvalidArgumentError("mp: this OS has no fork start method");
  }
  method_ = method;
  return absl::OkStatus();
}

absl::Status Process::SetName(std::string name) {
  name_ = std::move(name);
  return absl::OkStatus();
}

absl::Status Process::SetDaemon(bool daemon) {
  if (state_ != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("mp: ", name_, ": daemon flag set after Start()"));
  }
  daemon_ = daemon;
  return absl::OkStatus();
}

absl::Status Process::Start() {
  if (state_ != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("mp: ", name_, " was already started"));
  }
  if (target_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("mp: ", name_, " has no target (moved from?)"));
  }
  ReapUnjoined();
  const StartMethod method = Resolve(method_);
  // The same checks for every start method, so that a program accepted
  // under fork is accepted under spawn and the other way round.
  absl::StatusOr<internal::CodeRef> invoker =
      os::MakeCodeRef(reinterpret_cast<const void*>(invoker_));
  if (!invoker.ok()) return invoker.status();
  absl::StatusOr<internal::CodeRef> target =
      os::MakeCodeRef(reinterpret_cast<const void*>(target_));
  if (!target.ok()) return target.status();

  absl::StatusOr<os::Child> child;
  if (method == StartMethod::kFork) {
    child = os::StartFork(invoker_, target_, args_);
  } else {
    if (!Initialized()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "mp: ", name_,
          ": the spawn start method needs mp::Init(argc, argv) as the first "
          "statement of main() (the `if __name__ == '__main__'` guard); "
          "without it the child would re-run main()"));
    }
    child = os::StartSpawn(
        os::Launch{*std::move(invoker), *std::move(target), args_});
  }
  if (!child.ok()) {
    return absl::Status(child.status().code(),
                        absl::StrCat(name_, ": ", child.status().message()));
  }
  state_.reset(new State{*child});
  return absl::OkStatus();
}

absl::Status Process::Poll(absl::Duration timeout) {
  if (state_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("mp: ", name_, " was not started"));
  }
  if (exit_code_.has_value()) return absl::OkStatus();
  absl::StatusOr<std::optional<int>> r = os::WaitChild(state_->child, timeout);
  if (!r.ok()) return r.status();
  exit_code_ = *r;
  return absl::OkStatus();
}

absl::Status Process::Join() { return Poll(absl::InfiniteDuration()); }

absl::Status Process::Join(absl::Duration timeout) {
  return Poll(std::max(timeout, absl::ZeroDuration()));
}

bool Process::IsAlive() {
  if (state_ == nullptr || exit_code_.has_value()) return false;
  return Poll(absl::ZeroDuration()).ok() && !exit_code_.has_value();
}

absl::Status Process::Terminate() {
  if (state_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("mp: ", name_, " was not started"));
  }
  if (exit_code_.has_value()) return absl::OkStatus();
  return os::SignalChild(state_->child, os::Signal::kTerminate);
}

absl::Status Process::Kill() {
  if (state_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("mp: ", name_, " was not started"));
  }
  if (exit_code_.has_value()) return absl::OkStatus();
  return os::SignalChild(state_->child, os::Signal::kKill);
}

std::optional<int64_t> Process::Pid() const {
  if (state_ == nullptr) return std::nullopt;
  return state_->child.pid;
}

int64_t CurrentPid() { return os::CurrentPid(); }
int64_t ParentPid() { return os::ParentPid(); }
int CpuCount() { return os::CpuCount(); }

}  // namespace mp
