// Copyright 2026 The mp Authors.
//
// The platform-independent half of mp::Process: argument checks, state, and
// the start method choice. Every OS call goes through mp/internal/os.h.

#include "mp/process.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "mp/init.h"
#include "mp/internal/children.h"
#include "mp/internal/os.h"
#include "mp/internal/spawn.h"
#include "mp/internal/stream.h"
#include "mp/status.h"

namespace mp {
namespace internal {

// Communicate()'s progress across calls that ran out of time.
struct Communication {
  std::string input;  // the first call's
  size_t written = 0;
  bool input_done = false;
  // Each of stdout and stderr once read to end of file.
  std::optional<std::string> output[2];
};

}  // namespace internal

namespace {

constexpr const char* kStreamNames[3] = {"stdin", "stdout", "stderr"};

std::atomic<int> g_process_counter{0};

// Code addresses os::MakeCodeRef() accepted. It accepts only code of a
// module loaded when the program started, which is never unloaded, so an
// address accepted once stays accepted: a fork Start() (which needs the
// check but not the CodeRef) finds its invoker and target here instead of
// walking the loaded modules, which takes the dynamic loader's lock and
// allocates. A lookup only reads; a full table forgets its oldest entry.
class KnownCode {
 public:
  bool Contains(const void* address) const {
    for (const std::atomic<const void*>& slot : slots_) {
      if (slot.load(std::memory_order_relaxed) == address) return true;
    }
    return false;
  }
  void Add(const void* address) {
    if (Contains(address)) return;
    slots_[next_.fetch_add(1, std::memory_order_relaxed) % kSlots].store(
        address, std::memory_order_relaxed);
  }

 private:
  static constexpr unsigned kSlots = 64;
  std::atomic<const void*> slots_[kSlots] = {};
  std::atomic<unsigned> next_{0};
};
KnownCode g_known_code;

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

absl::Status CheckVariables(const std::map<std::string, std::string>& vars) {
  for (const auto& [name, value] : vars) {
    if (name.empty() ||
        name.find_first_of(std::string("=\0", 2)) != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("mp: environment variable name \"", name,
                       "\" is empty or holds '=' or NUL"));
    }
    if (value.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "mp: environment variable ", name, "'s value holds NUL"));
    }
  }
  return absl::OkStatus();
}

// What Start() sets up for a child's streams and working directory, before
// the child exists: the handles the child is given (closed here when this
// goes, once it has its copies, or on an error) and this process's pipe
// ends.
struct ChildSetup {
  os::ChildIo io;
  os::OwnedHandle child_ends[3];
  os::OwnedHandle parent_ends[3];
  os::WorkingDirectory working_directory;
};

absl::Status OpenStream(int stream, const Stdio& stdio, ChildSetup& setup) {
  absl::StatusOr<os::OwnedHandle> handle;
  switch (stdio.kind()) {
    case Stdio::kInherit:
      return absl::OkStatus();
    case Stdio::kNull:
      handle = os::OpenNullDevice();
      break;
    case Stdio::kFile:
      handle = os::OpenStreamFile(stdio.path(),
                                  stream == 0 ? os::StreamFile::kRead
                                  : stdio.mode() == Stdio::kAppend
                                      ? os::StreamFile::kWriteAppend
                                      : os::StreamFile::kWriteTruncate);
      break;
    case Stdio::kPipe: {
      absl::StatusOr<os::StreamPipe> pipe =
          os::CreateStreamPipe(/*child_reads=*/stream == 0);
      if (!pipe.ok()) {
        handle = pipe.status();
        break;
      }
      setup.parent_ends[stream] = std::move(pipe->parent);
      handle = std::move(pipe->child);
      break;
    }
  }
  if (!handle.ok()) {
    return absl::Status(
        handle.status().code(),
        absl::StrCat(kStreamNames[stream], ": ", handle.status().message()));
  }
  setup.io.streams[stream] = handle->get();
  setup.child_ends[stream] = *std::move(handle);
  return absl::OkStatus();
}

// Runs `tasks` at once, each but the first on a thread of its own: what
// Communicate() must not do one after the other, or a child blocked
// writing to one pipe would never reach the end of another.
absl::Status RunTogether(std::vector<std::function<absl::Status()>> tasks) {
  if (tasks.empty()) return absl::OkStatus();
  std::vector<absl::Status> results(tasks.size());
  std::vector<std::thread> threads;
  for (size_t i = 1; i < tasks.size(); ++i) {
    try {
      threads.emplace_back([&results, &tasks, i] { results[i] = tasks[i](); });
    } catch (const std::system_error& e) {
      results[i] = absl::ResourceExhaustedError(
          absl::StrCat("mp: cannot start a thread: ", e.what()));
    }
  }
  results[0] = tasks[0]();
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
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

absl::Status Process::CheckNotStarted(absl::string_view what) const {
  if (record_ != nullptr || closed_) {
    return absl::FailedPreconditionError(
        absl::StrCat("mp: ", name_, ": ", what, " set after Start()"));
  }
  return absl::OkStatus();
}

absl::Status Process::SetStdin(Stdio stdio) {
  if (absl::Status s = CheckNotStarted("stdin"); !s.ok()) return s;
  if (stdio.kind() == Stdio::kFile && stdio.path().empty()) {
    return absl::InvalidArgumentError("mp: stdin: empty file path");
  }
  stdio_[0] = std::move(stdio);
  return absl::OkStatus();
}

absl::Status Process::SetStdout(Stdio stdio) {
  if (absl::Status s = CheckNotStarted("stdout"); !s.ok()) return s;
  if (stdio.kind() == Stdio::kFile && stdio.path().empty()) {
    return absl::InvalidArgumentError("mp: stdout: empty file path");
  }
  stdio_[1] = std::move(stdio);
  return absl::OkStatus();
}

absl::Status Process::SetStderr(Stdio stdio) {
  if (absl::Status s = CheckNotStarted("stderr"); !s.ok()) return s;
  if (stdio.kind() == Stdio::kFile && stdio.path().empty()) {
    return absl::InvalidArgumentError("mp: stderr: empty file path");
  }
  stdio_[2] = std::move(stdio);
  return absl::OkStatus();
}

absl::Status Process::SetEnvironment(
    std::map<std::string, std::string> variables) {
  if (absl::Status s = CheckNotStarted("environment"); !s.ok()) return s;
  if (absl::Status s = CheckVariables(variables); !s.ok()) return s;
  environment_mode_ = Environment::kReplace;
  environment_ = std::move(variables);
  return absl::OkStatus();
}

absl::Status Process::ExtendEnvironment(
    std::map<std::string, std::string> variables) {
  if (absl::Status s = CheckNotStarted("environment"); !s.ok()) return s;
  if (absl::Status s = CheckVariables(variables); !s.ok()) return s;
  if (environment_mode_ == Environment::kInherit) {
    environment_mode_ = Environment::kExtend;
  }
  for (auto& [name, value] : variables) {
    environment_[name] = std::move(value);
  }
  return absl::OkStatus();
}

absl::Status Process::SetWorkingDirectory(std::string path) {
  if (absl::Status s = CheckNotStarted("working directory"); !s.ok()) {
    return s;
  }
  if (path.empty() || path.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(
        "mp: working directory: empty path, or a path holding NUL");
  }
  working_directory_ = std::move(path);
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
  const void* const invoker_code = reinterpret_cast<const void*>(invoker_);
  const void* const target_code = reinterpret_cast<const void*>(target_);
  absl::StatusOr<internal::CodeRef> invoker = internal::CodeRef{};
  absl::StatusOr<internal::CodeRef> target = internal::CodeRef{};
  if (method != StartMethod::kFork || !g_known_code.Contains(invoker_code) ||
      !g_known_code.Contains(target_code)) {
    invoker = os::MakeCodeRef(invoker_code);
    target = invoker.ok() ? os::MakeCodeRef(target_code) : invoker;
    if (!target.ok()) {
      return absl::Status(target.status().code(),
                          absl::StrCat(name_, ": ", target.status().message()));
    }
    g_known_code.Add(invoker_code);
    g_known_code.Add(target_code);
  }
  const os::ChildOptions options{daemon_, die_with_parent_};
  if (method != StartMethod::kFork && !Initialized()) {
    return NeedsInit(name_, method);
  }

  // The child's streams, environment and working directory, set up here
  // so that whatever cannot be opened is this call's error.
  const bool default_io = stdio_[0].kind() == Stdio::kInherit &&
                          stdio_[1].kind() == Stdio::kInherit &&
                          stdio_[2].kind() == Stdio::kInherit &&
                          environment_mode_ == Environment::kInherit &&
                          !working_directory_;
  if (!default_io && os::ChildrenShareAddressSpace()) {
    return absl::UnimplementedError(absl::StrCat(
        "mp: ", name_,
        ": a child of the threads backend is a thread: it shares its "
        "process's standard streams, environment and working directory, "
        "and cannot be given its own"));
  }
  ChildSetup setup;
  for (int stream = 0; stream < 3; ++stream) {
    absl::Status s = OpenStream(stream, stdio_[stream], setup);
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat(name_, ": ", s.message()));
    }
  }
  if (working_directory_) {
    absl::StatusOr<os::WorkingDirectory> wd =
        os::OpenWorkingDirectory(*working_directory_);
    if (!wd.ok()) {
      return absl::Status(
          wd.status().code(),
          absl::StrCat(name_, ": working directory: ", wd.status().message()));
    }
    setup.working_directory = *std::move(wd);
    setup.io.working_directory = setup.working_directory.handle.get();
    setup.io.working_directory_path = setup.working_directory.path;
  }
  if (environment_mode_ != Environment::kInherit) {
    setup.io.environment_mode = environment_mode_ == Environment::kReplace
                                    ? os::ChildIo::Environment::kReplace
                                    : os::ChildIo::Environment::kExtend;
    setup.io.environment.assign(environment_.begin(), environment_.end());
  }

  // Made before the child exists: once a fork child shares this process's
  // pages, each page written here costs a copy-on-write fault, and the
  // allocator writes pages of its own. Filled in below.
  auto record =
      std::make_shared<internal::ChildRecord>(os::Child{}, name_, daemon_);
  absl::StatusOr<os::Child> child;
  if (method == StartMethod::kFork) {
    child = os::StartFork(os::Target{invoker_, target_, args_, handles_.handles,
                                     options, setup.io});
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
            ? os::StartForkserverChild(launch, setup.io)
            : internal::Spawn(launch, setup.io);
  }
  if (!child.ok()) {
    return absl::Status(child.status().code(),
                        absl::StrCat(name_, ": ", child.status().message()));
  }
  record->child = *std::move(child);  // not shared yet: no lock needed
  record_ = std::move(record);
  for (int stream = 0; stream < 3; ++stream) {
    if (setup.parent_ends[stream].valid()) {
      pipes_[stream] = ByteStream(std::make_shared<internal::StreamState>(
          std::move(setup.parent_ends[stream]), /*reads=*/stream != 0));
    }
  }
  // The child has its own copies now: the parent's owners of its arguments
  // may go, and `setup` closes this process's copies of its streams and
  // working directory as it goes.
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

absl::StatusOr<ByteStream> Process::PipeOf(int stream) const {
  absl::Status s = CheckStarted();
  if (!s.ok()) return s;
  if (stdio_[stream].kind() != Stdio::kPipe) {
    return absl::FailedPreconditionError(absl::StrCat(
        "mp: ", name_, ": its ", kStreamNames[stream], " is not a pipe"));
  }
  return pipes_[stream];
}

absl::StatusOr<ByteStream> Process::StdinPipe() const { return PipeOf(0); }
absl::StatusOr<ByteStream> Process::StdoutPipe() const { return PipeOf(1); }
absl::StatusOr<ByteStream> Process::StderrPipe() const { return PipeOf(2); }

absl::StatusOr<CapturedOutput> Process::Communicate(absl::string_view input,
                                                    absl::Duration timeout) {
  absl::Status s = CheckStarted();
  if (!s.ok()) return s;
  const internal::Deadline deadline = internal::Deadline::After(timeout);
  if (communication_ == nullptr) {
    if (!input.empty() && !pipes_[0].writable()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "mp: ", name_, ": input for a stdin that is not ",
          pipes_[0].closed() && stdio_[0].kind() == Stdio::kPipe ? "open"
                                                                 : "a pipe"));
    }
    communication_ = std::make_shared<internal::Communication>();
    communication_->input = std::string(input);
  }
  internal::Communication& c = *communication_;
  std::vector<std::function<absl::Status()>> tasks;
  for (int stream : {1, 2}) {
    if (c.output[stream - 1] || !pipes_[stream].readable()) continue;
    internal::StreamState* state = pipes_[stream].state_.get();
    std::optional<std::string>* out = &c.output[stream - 1];
    tasks.push_back([state, out, deadline]() -> absl::Status {
      absl::StatusOr<std::string> all =
          internal::ReadAllBefore(*state, deadline);
      if (!all.ok()) return all.status();
      *out = *std::move(all);
      return absl::OkStatus();
    });
  }
  if (!c.input_done && pipes_[0].writable()) {
    internal::StreamState* state = pipes_[0].state_.get();
    tasks.push_back([state, &c, deadline]() -> absl::Status {
      absl::Status w =
          internal::WriteBefore(*state, c.input, &c.written, deadline);
      // A child that stopped reading has all of the input it wants.
      if (!w.ok() && !IsEndOfFile(w)) return w;
      c.input_done = true;
      state->end.reset();  // the child reads end of file
      return absl::OkStatus();
    });
  }
  s = RunTogether(std::move(tasks));
  if (s.ok()) s = internal::PollChild(*record_, deadline);
  if (s.ok() && !ExitCode().has_value()) {
    s = absl::DeadlineExceededError("the child has not ended");
  }
  if (!s.ok()) {
    if (!absl::IsDeadlineExceeded(s)) {
      return absl::Status(s.code(), absl::StrCat(name_, ": ", s.message()));
    }
    return absl::DeadlineExceededError(absl::StrCat(
        "mp: ", name_, ": Communicate() ran out of time (", s.message(),
        "); nothing was lost: call it again to go on"));
  }
  CapturedOutput output;
  output.out = std::move(c.output[0]).value_or("");
  output.err = std::move(c.output[1]).value_or("");
  c.output[0] = c.output[1] = std::string();
  for (ByteStream& pipe : pipes_) pipe = ByteStream();
  return output;
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
  for (ByteStream& pipe : pipes_) pipe = ByteStream();
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
