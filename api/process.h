// Copyright 2026 The mp Authors.
//
// mp::Process runs a function in a child process, like Python's
// multiprocessing.Process:
//
//   void Worker(int n, std::string tag) { ... }
//
//   int main(int argc, char** argv) {
//     mp::MainScope scope = mp::Init(argc, argv);  // `if __name__ == ...`
//     mp::Process p(Worker, 7, std::string("x"));
//     if (absl::Status s = p.Start(); !s.ok()) { ... }
//     p.Join();
//     std::optional<int> code = p.ExitCode();   // 0
//   }
//
// Start methods (as Python's get_context / set_start_method):
//
//   * kFork (the default on POSIX): the child is a copy-on-write copy of the
//     parent at Start(); no code is re-run, and it sees every global as the
//     parent had it. Like Python's fork child it also keeps the parent's
//     open descriptors, e.g. one from a plain pipe(), except mp's own pipe
//     ends it was not given (so, say, the reader of a pipe() whose write end
//     a fork child holds sees end of file only once that child closes it).
//   * kSpawn (POSIX and Windows): the child is a fresh run of the same binary.
//     It re-runs module initialisation (static initialisers) and then
//     mp::Init(), which recognises it as a child, runs the target and exits:
//     the rest of main() never runs in a child. Globals changed in main()
//     before Start() are *not* seen. It holds the standard streams and the
//     descriptors or handles of its arguments, nothing else: not even one
//     this program left inheritable. Windows only has spawn.
//   * kForkserver (POSIX; Python's default there since 3.14): the child is
//     forked from this process's forkserver, a single-threaded server that
//     is a spawned copy of this program, started at the first forkserver
//     Start() (or by StartForkserver()) and ended with the main code (see
//     mp/init.h); it runs nothing but static initialisers and the fork
//     loop, and never appears among ActiveChildren(). So the child sees
//     globals as module initialisation left them, as under spawn, and holds
//     the standard streams (this process's at Start(), unless SetStdin...
//     chose others) and its arguments' descriptors, nothing else; a lock that
//     another thread of this process holds at Start() is free in it (a fork
//     child, which has only the starting thread, finds it held for ever). It
//     costs a fork, not an exec. Although the OS sees it as the server's child,
//     it behaves as this process's: ParentPid() in it is this process, and
//     Join, IsAlive, Sentinel, Terminate, Kill, exit codes, the daemon flag,
//     die-with-parent (the server ends when this process does, and takes
//     such children with it) and the end of main's code work as for the
//     other methods. It starts with this process's environment and
//     working directory at Start() (unless ExtendEnvironment... chose
//     others) and with the signals it ignores then; its resource limits
//     and umask are the server's, i.e. this process's when the server
//     started. Windows has no forkserver; the threads backend
//     runs it as a thread, as it does every method.
//
// Targets are plain functions or captureless, non-generic lambdas (function
// style), or a subclass's Run() (class style, see the protected
// constructor). Their arguments are encoded with mp's codec (mp/codec.h) in
// the parent and decoded in the child on every start method, so a program
// that works under fork works under spawn too. A parameter may be a
// reference (`mp::Lock&`, `const std::string&`): it refers to the child's
// decoded copy, never to the parent's object, and lives until the target
// returns. See mp/internal/target.h for how a spawned child finds its
// target.
//
// Before Start(), the parent may also choose the child's standard streams
// (inherited, the null device, a file, or a pipe: mp/stdio.h), its
// environment and its working directory, as Python's subprocess does; on
// fork and forkserver the child applies them before its target runs, so one
// program behaves the same on every start method. The threads backend refuses
// them (see Start()).
//
// Children are killed when this process dies unless SetDieWithParent(false)
// (Python leaves orphans); at the end of main's code (mp/init.h) daemon
// children are terminated and the others joined.
//
// Exit codes follow Python: empty while running, 0 after a normal return,
// N after exit(N), 1 after an uncaught exception, -N after death by signal N
// (on Windows, Terminate() reads as -SIGTERM and Kill() as -SIGKILL).
//
// Thread-safety: a Process object is not thread-safe; use it from one thread
// at a time. Different Process objects are independent.

#ifndef MP_PROCESS_H_
#define MP_PROCESS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mp/codec.h"
#include "mp/internal/start_method.h"
#include "mp/internal/target.h"
#include "mp/stdio.h"

namespace mp {

// The process-wide default start method, as Python's set_start_method.
// kFork and kForkserver are refused with InvalidArgumentError where the OS
// has no fork.
// Children start with it as their parent had it at Start(), on every start
// method: a spawned child is told, so a program that chose spawn gets
// spawned grandchildren too.
absl::Status SetStartMethod(StartMethod method);
StartMethod GetStartMethod();
// "fork", "spawn" or "forkserver", as Python names them; "default" for
// kDefault.
std::string StartMethodName(StartMethod method);

// Starts this process's forkserver now, if it is not running, rather than
// at the first forkserver Start() (Python's forkserver.ensure_running()):
// that Start() then costs a fork, not also a spawn. FailedPrecondition in a
// program that never called mp::Init() (the server is a spawned copy);
// InvalidArgument where the OS has no fork; a spawn's errors otherwise. OK
// and nothing to do on the threads backend.
absl::Status StartForkserver();

namespace internal {
struct ChildRecord;
struct Communication;
}  // namespace internal

// The tag that a Process subclass passes to its base constructor, naming
// itself (see "Class style" below).
template <typename D>
struct RunsAs {};

class Process {
 public:
  // Function style: `target` is a plain function or a captureless,
  // non-generic lambda; `args` are encoded now (so later changes to them are
  // not seen), and must convert to the target's parameter types. Each
  // parameter's type must have a codec (mp/codec.h; a pointer never has
  // one) and a default constructor (the child decodes into a default
  // instance). A misuse (a capturing lambda, a wrong argument count, a type
  // without a codec, ...) is a compile-time error with one mp message.
  template <typename F, typename... A>
  explicit Process(F target, A&&... args);

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&& other) noexcept = default;
  Process& operator=(Process&& other) = delete;

  // Neither joins nor kills: a child still running when its Process object
  // goes away stays registered and is reaped later (by ActiveChildren(), the
  // next Start(), or the end of main()), like a dropped Python Process.
  virtual ~Process();

  // Class style: the code the child runs. Override it in a subclass.
  virtual void Run() {}

  // Before Start(): choose this process's start method (kDefault: the
  // process-wide default).
  absl::Status SetStartMethod(StartMethod method);
  StartMethod start_method() const { return method_; }
  // A name for messages; default "Process-N".
  absl::Status SetName(std::string name);
  const std::string& Name() const { return name_; }
  // Before Start(): daemon children are terminated when the main code ends
  // (see mp/init.h); the others are joined. A daemon may not start
  // children of its own. Setting it after Start() is FailedPrecondition.
  absl::Status SetDaemon(bool daemon);
  bool daemon() const { return daemon_; }
  // Before Start(): whether the child is killed when this process dies,
  // even by SIGKILL (default true; mp never leaves orphans unless asked).
  absl::Status SetDieWithParent(bool die_with_parent);

  // Before Start(): the child's standard streams (mp/stdio.h; default
  // Stdio::Inherit()). Files are opened and pipes made by Start(). A file
  // with an empty path is this call's InvalidArgument.
  absl::Status SetStdin(Stdio stdio);
  absl::Status SetStdout(Stdio stdio);
  absl::Status SetStderr(Stdio stdio);
  // Before Start(): the child's environment is exactly `variables`
  // (Python's env=). On Windows a program may need some of the system's
  // own (SystemRoot, say) to run at all, as Python's documentation notes.
  absl::Status SetEnvironment(std::map<std::string, std::string> variables);
  // Before Start(): sets `variables` in the child's environment, over this
  // process's as it is at Start() (or over SetEnvironment's, if called).
  // Names compare as the OS compares them: case-insensitively on Windows.
  // Both are InvalidArgument for an empty name, a name holding '=', or a
  // NUL in a name or value. A spawned child gets its environment through
  // exec, so under spawn an environment larger than the OS takes there
  // (Linux: a quarter of the stack limit in all, 128 KiB per entry) is
  // Start()'s InvalidArgument ("Argument list too long"); fork and
  // forkserver children take it whatever its size.
  absl::Status ExtendEnvironment(std::map<std::string, std::string> variables);
  // Before Start(): the child starts in `path` (Python's cwd=), relative to
  // this process's working directory. A path that is not a directory the
  // child could enter makes Start() fail; the child is never started. An
  // empty path, or one holding NUL, is this call's InvalidArgument (and
  // the child would inherit this process's directory if it were ignored).
  absl::Status SetWorkingDirectory(std::string path);

  // Starts the child. Asynchronous: returns once the child exists (under
  // spawn: once it has found its target; a spawned child that has not taken
  // its arguments and found its target within 60 s, say one stuck in a
  // static initialiser, is killed and Start() is DeadlineExceededError;
  // under forkserver: once the server has forked it, starting the server
  // first if it is not running; a server that does not answer within 60 s
  // is killed, and Start() is DeadlineExceededError).
  // FailedPreconditionError if already started or closed, if this process
  // is a daemon, or for spawn or forkserver in a program that never called
  // mp::Init(); InvalidArgumentError if the target is not in a module loaded
  // at program start (the same for every start method); the OS's error if
  // the child cannot be created.
  //
  // The child starts with an empty signal mask and default signal
  // dispositions, on every start method, whatever the starting thread
  // blocked (say, for a sigwait() thread) or the parent installed: every
  // handler is reset to the default action, and so is an ignored SIGTERM,
  // so that Terminate() always ends a child that did not itself choose
  // otherwise. A signal the parent ignores otherwise (a server's SIGPIPE,
  // nohup's SIGHUP) stays ignored, as it would across exec. The target may
  // install what it needs. Windows has no signals.
  //
  // Streams, environment and working directory (SetStdin ...
  // SetWorkingDirectory) are set up before the child exists: a file that
  // cannot be opened or a working directory that cannot be entered is
  // Start()'s error (the OS's: NotFound, PermissionDenied,
  // FailedPrecondition for a path that is not a directory), and no child
  // is started. On the threads backend, where a child is a thread sharing
  // its process's streams, environment and working directory, any of them
  // other than the default is Unimplemented (a documented difference).
  absl::Status Start();

  // Blocks until the child has ended (and reaps it). Safe to call again.
  absl::Status Join();
  // Waits at most `timeout` (zero or negative: just look). OK whether or not
  // the child ended in time; ExitCode() or IsAlive() tells which.
  absl::Status Join(absl::Duration timeout);

  // True from Start() until the child is seen to have ended.
  bool IsAlive();
  // Asks the child to end (SIGTERM; TerminateProcess on Windows). Returns at
  // once: IsAlive() may still be true just after. No-op once it has ended:
  // a child seen to have ended is never signalled, so a process that reused
  // its pid is not either.
  absl::Status Terminate();
  // Ends the child without a chance to clean up (SIGKILL).
  absl::Status Kill();

  // After Start(): this process's end of the child's stdin, stdout or
  // stderr pipe (Stdio::Pipe()); a copy that shares the end with this
  // Process. Read the child's output while it runs: see mp/stdio.h.
  // FailedPrecondition before Start(), after Close(), or if that stream is
  // not a pipe.
  absl::StatusOr<ByteStream> StdinPipe() const;
  absl::StatusOr<ByteStream> StdoutPipe() const;
  absl::StatusOr<ByteStream> StderrPipe() const;
  // After Start(), as Python's Popen.communicate(): writes `input` to the
  // stdin pipe and closes it, reads the stdout and stderr pipes to end of
  // file, all at once (so that no pipe fills up while another is waited
  // on), then waits for the child to end. Streams that are not pipes are
  // left alone (their output reads as empty); `input` on a stdin that is
  // not a pipe is FailedPrecondition. A child that stops reading its stdin
  // early (closes it, or ends) is not an error: the rest of `input` is
  // dropped. DeadlineExceeded after `timeout` loses nothing: call again to
  // go on where it stopped (the first call's input is used; a later
  // call's `input` is ignored). After a call that succeeded, this Process
  // holds none of the pipe ends (StdinPipe() ... return closed streams),
  // and a later call returns empty output.
  absl::StatusOr<CapturedOutput> Communicate(
      absl::string_view input = {},
      absl::Duration timeout = absl::InfiniteDuration());

  // Empty until the child has ended and been seen to end (Join, IsAlive).
  // kExitCodeUnknown if something else in this program reaped the child
  // first (POSIX: SIGCHLD set to SIG_IGN, or a SIGCHLD handler of its own
  // that calls wait): the child has ended, but its code is lost.
  std::optional<int> ExitCode() const;
  static constexpr int kExitCodeUnknown = -256;
  // The child's process id; empty before Start().
  std::optional<int64_t> Pid() const;
  // What can be waited on for the child's end: a file descriptor that turns
  // readable (POSIX) or a process HANDLE that turns signalled (Windows).
  // Valid until Close() or destruction. FailedPrecondition before Start().
  absl::StatusOr<intptr_t> Sentinel() const;

  // Closes `object` (a Connection, Queue, ... — anything with Close()) in
  // this process once Start() has succeeded. The child has its own copy;
  // the parent's copy of, say, the child's end of a Pipe would otherwise
  // keep that end open, and the child's reader would never see end of file
  // (Python's classic hang). Copies share their state, so the caller's
  // object reads as closed afterwards.
  template <typename T>
  void CloseAfterStart(T object) {
    after_start_.push_back([object]() mutable { (void)object.Close(); });
  }

  // Releases the OS resources of an ended child, and this Process's copies
  // of its pipe ends (copies taken with StdoutPipe() ... stay open).
  // FailedPrecondition while the child is running; idempotent. After it,
  // everything but Name(), ExitCode() and Close() is FailedPrecondition.
  absl::Status Close();

 protected:
  // Class style: a subclass names itself and passes its own constructor's
  // arguments:
  //
  //   class Server : public mp::Process {
  //    public:
  //     Server(int a, int b)
  //         : Process(mp::RunsAs<Server>(), a, b), a_(a), b_(b) {}
  //     void Run() override { ... a_, b_ ... }
  //    private:
  //     int a_, b_;
  //   };
  //
  // On every start method the child builds a fresh Server from those
  // arguments (decoded with the codec) and calls Run() on it, so fields set
  // after construction are not seen (a spawned child could not see them,
  // and fork behaves the same on purpose). Server must be constructible from
  // the arguments as passed, and their types need a codec and a default
  // constructor, as in function style.
  template <typename D, typename... A>
  explicit Process(RunsAs<D>, A&&... args);

 private:
  void InitCommon();
  template <typename R, typename... P, typename... A>
  void Bind(R (*fn)(P...), A&&... args);
  absl::Status CheckStarted() const;
  absl::Status CheckNotStarted(absl::string_view what) const;
  absl::StatusOr<ByteStream> PipeOf(int stream) const;

  std::string name_;
  bool daemon_ = false;
  bool die_with_parent_ = true;
  bool closed_ = false;
  StartMethod method_ = StartMethod::kDefault;
  internal::InvokerFn invoker_ = nullptr;
  void (*target_)() = nullptr;
  std::string args_;
  HandleList handles_;        // OS handles among the arguments
  absl::Status bind_status_;  // an argument that could not be encoded
  std::vector<std::function<void()>> after_start_;
  std::shared_ptr<internal::ChildRecord> record_;
  // What the child's stdin, stdout and stderr are, and after Start() this
  // process's ends of those that are pipes.
  Stdio stdio_[3];
  ByteStream pipes_[3];
  enum class Environment { kInherit, kExtend, kReplace };
  Environment environment_mode_ = Environment::kInherit;
  std::map<std::string, std::string> environment_;
  std::optional<std::string> working_directory_;
  // Communicate()'s progress, kept across a call that ran out of time.
  std::shared_ptr<internal::Communication> communication_;
};

// The pids of the children this process started that are still running;
// reaps those that ended (as Python's active_children()).
std::vector<int64_t> ActiveChildren();

// The calling process's id, and its parent's: a child's ParentPid() equals
// its parent's CurrentPid().
int64_t CurrentPid();
int64_t ParentPid();

// Ends the calling child with exit code `code`, as Python's sys.exit(code)
// in a Process target: it throws, so the target's stack unwinds and its
// destructors run, and the child's ExitCode() reads `code`. Use it rather
// than std::exit() in a target: it works on every backend, including the
// threads backend, where std::exit() would end the whole program. Outside a
// Process target it calls std::exit(code). A target that catches (...)
// without rethrowing swallows it, as `except BaseException` would in Python.
[[noreturn]] void Exit(int code);
// Logical processors available to this process.
int CpuCount();

// --- Implementation details ------------------------------------------------

// Each static_assert below applies only once the checks before it pass, and
// nothing else is instantiated unless all pass, so a misuse stops at one
// message.
template <typename F, typename... A>
Process::Process(F target, A&&... args) {
  using Check = internal::FunctionTargetCheck<F, A...>;
  static_assert(Check::kIsFunction,
                "mp::Process: the target must be a plain function (not C "
                "variadic) or a captureless, non-generic lambda; captured "
                "state cannot reach a spawned child, so pass it as an "
                "argument instead");
  static_assert(!Check::kIsFunction || Check::kCountMatches,
                "mp::Process: the number of arguments does not match the "
                "target's parameters");
  static_assert(!Check::kCountMatches || Check::kNoPointer,
                "mp::Process: a parameter is a pointer, and what it points to "
                "does not exist in the child; take a value instead (e.g. "
                "std::string for const char*, std::vector for an array)");
  static_assert(!Check::kNoPointer || Check::kComplete,
                "mp::Process: a parameter's type is incomplete here (declared "
                "but not defined); include its definition");
  static_assert(!Check::kComplete || Check::kEncodable,
                "mp::Process: a parameter's type cannot be sent to the child "
                "(it has no mp::Codec). Supported: arithmetic types, enums, "
                "std::string, std containers of supported types, and mp's "
                "shared objects (Lock, Queue, Connection, ...). For your own "
                "struct add MP_FIELDS(field, ...) inside it.");
  static_assert(
      !Check::kEncodable || Check::kDefaultConstructible,
      "mp::Process: a parameter's type must be default-constructible: "
      "the child decodes each argument into a default instance");
  static_assert(!Check::kDefaultConstructible || Check::kArgumentsConvert,
                "mp::Process: an argument does not convert to the target's "
                "parameter type");
  InitCommon();
  if constexpr (Check::kValid) {
    Bind(static_cast<typename Check::Signature::Pointer>(+target),
         std::forward<A>(args)...);
  }
}

template <typename D, typename... A>
Process::Process(RunsAs<D>, A&&... args) {
  using Check = internal::ClassTargetCheck<Process, D, A...>;
  static_assert(Check::kDerives,
                "mp::RunsAs<D>: D must be the class deriving from mp::Process");
  static_assert(!Check::kDerives || Check::kConstructible,
                "mp::Process class style: the class must be constructible from "
                "the arguments passed to Process(RunsAs<...>(), args...)");
  static_assert(!Check::kConstructible || Check::kNoPointer,
                "mp::Process class style: an argument is a pointer, and what "
                "it points to does not exist in the child; pass a value "
                "instead (e.g. std::string for const char*)");
  static_assert(!Check::kNoPointer || Check::kEncodable,
                "mp::Process class style: an argument's type cannot be sent to "
                "the child (it has no mp::Codec). Supported: arithmetic types, "
                "enums, std::string, std containers of supported types, and "
                "mp's shared objects (Lock, Queue, Connection, ...). For your "
                "own struct add MP_FIELDS(field, ...) inside it.");
  static_assert(!Check::kEncodable || Check::kDefaultConstructible,
                "mp::Process class style: an argument's type must be "
                "default-constructible: the child decodes each argument into "
                "a default instance");
  InitCommon();
  if constexpr (Check::kValid) {
    Encoder e(&handles_);
    Encode(e, std::tuple<std::decay_t<A>...>(std::forward<A>(args)...));
    bind_status_ = e.status();
    args_ = e.Release();
    invoker_ = &internal::ConstructAndRun<D, std::decay_t<A>...>;
    (void)internal::InvokerRegistration<
        &internal::ConstructAndRun<D, std::decay_t<A>...>>::registered;
    target_ = reinterpret_cast<void (*)()>(invoker_);
  }
}

// Called only with arguments FunctionTargetCheck accepted.
template <typename R, typename... P, typename... A>
void Process::Bind(R (*fn)(P...), A&&... args) {
  // Each argument converted to the parameter's own type, so the child
  // decodes exactly what the target takes.
  Encoder e(&handles_);
  Encode(e, std::tuple<std::decay_t<P>...>(std::forward<A>(args)...));
  bind_status_ = e.status();
  args_ = e.Release();
  invoker_ = &internal::Invoke<R, P...>;
  (void)internal::InvokerRegistration<&internal::Invoke<R, P...>>::registered;
  target_ = reinterpret_cast<void (*)()>(fn);
}

}  // namespace mp

#endif  // MP_PROCESS_H_
