// Copyright 2026 The mp Authors.
//
// The backends the conformance suite runs on. A backend is a type naming a
// start method on the OS the test binary was built for; the suite is written
// once (typed tests, as Abseil's waiter_test.cc) and every suite is
// instantiated for `Backends`, the list for the OS this binary targets
// (MP_OS_* comes from //platform:os, the one place that tells OSes apart):
//
//   posix-fork        ForkBackend        (Linux binary)
//   posix-spawn       SpawnBackend       (Linux binary)
//   posix-forkserver  ForkserverBackend  (Linux binary)
//   win32             Win32Backend       (mingw-w64 .exe under Wine)
//   threads           ThreadsBackend     (Linux binary linked with
//   //:mp_threads) mpi               MpiBackend         (the Pool suite only,
//   linked with
//                                         //:mp_mpi and run under mpirun:
//                                         mpi_test.sh)
//
// Test names carry the backend: Conformance/ProcessTest/fork.ExitCodeOfExit.

#ifndef MP_TESTS_CONFORMANCE_BACKENDS_H_
#define MP_TESTS_CONFORMANCE_BACKENDS_H_

#include <string>

#include "gtest/gtest.h"
#include "mp/process.h"

namespace mp {
namespace conformance {

struct ForkBackend {
  static constexpr StartMethod kMethod = StartMethod::kFork;
  static constexpr const char* kName = "fork";
  static constexpr bool kThreads = false;
  static constexpr bool kMpi = false;
  static constexpr int kStartJoinCycles = 10000;
};

struct SpawnBackend {
  static constexpr StartMethod kMethod = StartMethod::kSpawn;
  static constexpr const char* kName = "spawn";
  static constexpr bool kThreads = false;
  static constexpr bool kMpi = false;
  static constexpr int kStartJoinCycles = 10000;
};

// Children forked by this process's forkserver (a spawned, single-threaded
// copy of the test binary, started by the first case that needs it and
// kept until the end of main's code).
struct ForkserverBackend {
  static constexpr StartMethod kMethod = StartMethod::kForkserver;
  static constexpr const char* kName = "forkserver";
  static constexpr bool kThreads = false;
  static constexpr bool kMpi = false;
  static constexpr int kStartJoinCycles = 10000;
};

struct Win32Backend {
  static constexpr StartMethod kMethod = StartMethod::kSpawn;
  static constexpr const char* kName = "win32";
  static constexpr bool kThreads = false;
  static constexpr bool kMpi = false;
  // Under Wine every CreateProcess costs ~30 ms of wineserver round trips:
  // 10 000 cycles would take five minutes. A per-cycle leak shows after
  // 1 000 just as well (as 1 000 handles).
  static constexpr int kStartJoinCycles = 1000;
};

// platform/threads: every "process" a thread of the test binary.
struct ThreadsBackend {
  static constexpr StartMethod kMethod = StartMethod::kFork;
  static constexpr const char* kName = "threads";
  static constexpr bool kThreads = true;
  static constexpr bool kMpi = false;
  static constexpr int kStartJoinCycles = 10000;
};

// //:mp_mpi: the Pool's workers on the other ranks of an MPI job
// (mp/mpi_pool.h), each rank forking its own.
struct MpiBackend {
  static constexpr StartMethod kMethod = StartMethod::kFork;
  static constexpr const char* kName = "mpi";
  static constexpr bool kThreads = false;
  static constexpr bool kMpi = true;
  static constexpr int kStartJoinCycles = 10000;
};

#if MP_BACKEND_MPI
using Backends = ::testing::Types<MpiBackend>;
#elif MP_BACKEND_THREADS
using Backends = ::testing::Types<ThreadsBackend>;
#elif MP_OS_WINDOWS
using Backends = ::testing::Types<Win32Backend>;
#else
using Backends = ::testing::Types<ForkBackend, SpawnBackend, ForkserverBackend>;
#endif

struct BackendName {
  template <typename B>
  static std::string GetName(int) {
    return B::kName;
  }
};

// A Process on backend B.
template <typename B, typename F, typename... A>
Process MakeProcess(F target, A&&... args) {
  Process p(target, std::forward<A>(args)...);
  EXPECT_TRUE(p.SetStartMethod(B::kMethod).ok());
  return p;
}

// Skips a case on the threads backend, where every "process" is a thread
// of the test binary, naming the reason: the case needs something only a
// separate process has (it can be killed, crash or exit alone). The report
// (//tools:conformance) lists such a skip as a documented difference, not
// a failure; any other skip is reported as a failure.
#define MP_SKIP_ON_THREADS(reason)                             \
  do {                                                         \
    if (TypeParam::kThreads) MP_DOCUMENTED_DIFFERENCE(reason); \
  } while (0)

// Skips the case on this backend as a documented difference: the fault
// or feature it tests does not exist here, for the reason given.
#define MP_DOCUMENTED_DIFFERENCE(reason)                        \
  GTEST_SKIP() << "documented difference (" << TypeParam::kName \
               << "): " << reason

// The longest any conformance case waits for a child that should end: a
// broken backend fails the case instead of hanging the suite.
inline constexpr absl::Duration kPatience = absl::Seconds(30);

}  // namespace conformance
}  // namespace mp

#endif  // MP_TESTS_CONFORMANCE_BACKENDS_H_
