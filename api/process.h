// Copyright 2026 The mp Authors.
//
// mp::Process runs a function in a child process, like Python's
// multiprocessing.Process:
//
//   void Worker(int n, std::string tag) { ... }
//
//   int main(int argc, char** argv) {
//     mp::Init(argc, argv);          // the `if __name__ == '__main__':` guard
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
//     parent had it.
//   * kSpawn (POSIX and Windows): the child is a fresh run of the same binary.
//     It re-runs module initialisation (static initialisers) and then
//     mp::Init(), which recognises it as a child, runs the target and exits:
//     the rest of main() never runs in a child. Globals changed in main()
//     before Start() are *not* seen. Windows only has spawn.
//
// Targets are plain functions or captureless lambdas; their arguments are
// encoded with mp's codec (mp/codec.h) in the parent and decoded in the
// child on every start method, so a program that works under fork works
// under spawn too. See mp/internal/target.h for how a spawned child finds
// its target.
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
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "mp/codec.h"
#include "mp/internal/target.h"

namespace mp {

enum class StartMethod {
  kDefault,  // whatever SetStartMethod chose; kFork on POSIX, kSpawn on Windows
  kFork,
  kSpawn,
};

// The process-wide default start method, as Python's set_start_method.
// kFork is refused with InvalidArgumentError where the OS has no fork.
absl::Status SetStartMethod(StartMethod method);
StartMethod GetStartMethod();
// "fork" or "spawn", as Python names them; "default" for kDefault.
std::string StartMethodName(StartMethod method);

class Process {
 public:
  // Function style: `target` is a plain function or a captureless lambda;
  // `args` are encoded now (so later changes to them are not seen), and must
  // convert to the target's parameter types.
  template <typename F, typename... A>
  explicit Process(F target, A&&... args);

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) = delete;

  // Joins nothing and kills nothing: an unjoined child keeps running and is
  // reaped by the library later (like a Python Process object going away).
  virtual ~Process();

  // Before Start(): choose this process's start method (kDefault: the
  // process-wide default).
  absl::Status SetStartMethod(StartMethod method);
  // Before Start(): a name for logs; default "Process-N".
  absl::Status SetName(std::string name);
  const std::string& Name() const { return name_; }
  // Before Start(): daemon children are terminated when the main program's
  // code ends; the others are joined (see mp/init.h).
  absl::Status SetDaemon(bool daemon);
  bool daemon() const { return daemon_; }

  // Starts the child. Asynchronous: returns once the child exists (under
  // spawn: once it has found its target). Errors: FailedPreconditionError if
  // already started or closed, or a spawn child in a program that never
  // called mp::Init(); the OS's error if the child cannot be created.
  absl::Status Start();

  // Blocks until the child has ended (and reaps it). Safe to call again.
  absl::Status Join();
  // Waits at most `timeout` (zero: just look). OK whether or not the child
  // ended in time; check ExitCode() or IsAlive() to see which.
  absl::Status Join(absl::Duration timeout);

  // True from Start() until the child is known to have ended.
  bool IsAlive();
  // Asks the child to end (SIGTERM; TerminateProcess on Windows). Returns at
  // once: IsAlive() may still be true just after.
  absl::Status Terminate();
  // Ends the child without a chance to clean up (SIGKILL).
  absl::Status Kill();

  // Empty until the child has ended and been seen to end (Join, IsAlive).
  std::optional<int> ExitCode() const { return exit_code_; }
  // The child's process id; empty before Start().
  std::optional<int64_t> Pid() const;

 private:
  struct State;  // OS handles, owned here and released on every path
  struct StateDeleter {
    void operator()(State* state) const;
  };

  void InitCommon();
  template <typename R, typename... P, typename... A>
  void Bind(R (*fn)(P...), A&&... args);
  absl::Status Poll(absl::Duration timeout);

  std::string name_;
  bool daemon_ = false;
  StartMethod method_ = StartMethod::kDefault;
  internal::InvokerFn invoker_ = nullptr;
  void (*target_)() = nullptr;
  std::string args_;
  std::optional<int> exit_code_;
  std::unique_ptr<State, StateDeleter> state_;
};

// The calling process's id, and its parent's: a child's ParentPid() equals
// its parent's CurrentPid().
int64_t CurrentPid();
int64_t ParentPid();
// Logical processors available to this process.
int CpuCount();

// --- Implementation details ------------------------------------------------

namespace internal {
// True when F is a function pointer or converts to one (captureless lambda).
template <typename F, typename = void>
struct IsPlainTarget : std::false_type {};
template <typename F>
struct IsPlainTarget<F, std::void_t<decltype(+std::declval<F>())>>
    : std::bool_constant<std::is_pointer_v<decltype(+std::declval<F>())> &&
                         std::is_function_v<std::remove_pointer_t<
                             decltype(+std::declval<F>())>>> {};
}  // namespace internal

template <typename F, typename... A>
Process::Process(F target, A&&... args) {
  static_assert(internal::IsPlainTarget<F>::value,
                "mp::Process: the target must be a plain function or a "
                "captureless lambda; captured state cannot reach a spawned "
                "child, so pass it as an argument instead");
  InitCommon();
  if constexpr (internal::IsPlainTarget<F>::value) {
    Bind(+target, std::forward<A>(args)...);
  }
}

template <typename R, typename... P, typename... A>
void Process::Bind(R (*fn)(P...), A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A),
                "mp::Process: the number of arguments does not match the "
                "target's parameters");
  static_assert((std::is_constructible_v<std::decay_t<P>, A&&> && ...),
                "mp::Process: an argument does not convert to the target's "
                "parameter type");
  Encoder e;
  // Left to right; each argument converted to the parameter's own type so
  // the child decodes exactly what the target takes.
  (mp::Encode(e, std::decay_t<P>(std::forward<A>(args))), ...);
  args_ = e.Release();
  invoker_ = &internal::Invoke<R, P...>;
  target_ = reinterpret_cast<void (*)()>(fn);
}

}  // namespace mp

#endif  // MP_PROCESS_H_
