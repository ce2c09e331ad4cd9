// Copyright 2026 The mp Authors.
//
// Shared by the seed's ported programs: the start method from argv[1]
// ("fork" or "spawn"; default: the OS's default), and printing that
// reaches the terminal at once (the seed's print()), so a process that is
// terminated does not lose lines still in its stdio buffer.

#ifndef MP_TOOLS_EXAMPLES_SEED_COMMON_H_
#define MP_TOOLS_EXAMPLES_SEED_COMMON_H_

#include <cstdio>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "mp/process.h"

namespace seed {

// The seed sleeps whole seconds; the ports sleep tenths of them.
inline void Sleep(double seed_seconds) {
  absl::SleepFor(absl::Milliseconds(seed_seconds * 100));
}

template <typename... T>
void Print(const T&... parts) {
  const std::string line = absl::StrCat(parts..., "\n");
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

// argv[1] picks the start method for every Process of the program.
inline void UseStartMethodFrom(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "spawn") == 0) {
    (void)mp::SetStartMethod(mp::StartMethod::kSpawn);
  } else if (argc > 1 && std::strcmp(argv[1], "fork") == 0) {
    (void)mp::SetStartMethod(mp::StartMethod::kFork);
  }
}

inline const char* Bool(bool b) { return b ? "True" : "False"; }

}  // namespace seed

#endif  // MP_TOOLS_EXAMPLES_SEED_COMMON_H_
