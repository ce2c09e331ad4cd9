// Copyright 2026 The mp Authors.
//
// mp::Init is C++'s `if __name__ == '__main__':`, and its result marks where
// the main code ends. Call it first thing in main(), before anything that
// must run only in the parent:
//
//   int main(int argc, char** argv) {
//     mp::MainScope scope = mp::Init(argc, argv);
//     ...  // the parent's code; never runs in a spawned child
//   }      // end of main's code: daemon children are terminated, the
//          // others joined and reaped
//
// In the parent Init() records that the program is spawn-ready and returns.
// In a child started with the spawn method (POSIX spawn, Windows) it finds
// the target the parent chose, runs it, and exits the process with the
// target's exit code: it never returns into the rest of main().
//
// The end of the main code, as in Python: when the MainScope is destroyed —
// or, if main() never reaches that point, when the program exits normally
// (an atexit handler) — every daemon child is terminated, and then
// every child is joined and reaped. A child's own children are handled the
// same way when its target returns. This happens once per child; a child
// killed or joined before that is simply skipped.
//
// A spawn Start() in a program that never called mp::Init() fails with
// FailedPreconditionError instead of starting a child that would re-run
// main() (Python's classic fork-bomb on Windows).
//
// Thread-safety: call Init() once, from main(), before starting threads.

#ifndef MP_INIT_H_
#define MP_INIT_H_

namespace mp {

// Ends the main code when destroyed (see above). Movable, not copyable.
class MainScope {
 public:
  MainScope() = default;
  MainScope(MainScope&& other) noexcept : active_(other.active_) {
    other.active_ = false;
  }
  MainScope& operator=(MainScope&&) = delete;
  MainScope(const MainScope&) = delete;
  ~MainScope();

 private:
  friend MainScope Init(int argc, char** argv);
  bool active_ = false;
};

// [[nodiscard]]: a result not held would be destroyed at once, ending the
// main code before it began.
[[nodiscard]] MainScope Init(int argc, char** argv);

// True once Init() has run in this process.
bool Initialized();

}  // namespace mp

#endif  // MP_INIT_H_
