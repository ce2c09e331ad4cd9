// Copyright 2026 The mp Authors.
//
// mp::Init is C++'s `if __name__ == '__main__':`. Call it first thing in
// main(), before anything that must run only in the parent:
//
//   int main(int argc, char** argv) {
//     mp::Init(argc, argv);
//     ...  // the parent's code; never runs in a spawned child
//   }
//
// In the parent it records that the program is spawn-ready and returns.
// In a child started with the spawn method (POSIX spawn, Windows) it finds
// the target the parent chose, runs it, and exits the process with the
// target's exit code: it never returns into the rest of main().
//
// A spawn Start() in a program that never called mp::Init() fails with
// FailedPreconditionError instead of starting a child that would re-run
// main() (Python's classic fork-bomb on Windows).
//
// Thread-safety: call it once, from main(), before starting threads.

#ifndef MP_INIT_H_
#define MP_INIT_H_

namespace mp {

void Init(int argc, char** argv);

// True once Init() has run in this process.
bool Initialized();

}  // namespace mp

#endif  // MP_INIT_H_
