// Copyright 2026 The mp Authors.
//
// The start methods (mp::StartMethod, documented in mp/process.h) and the
// process-wide default that mp::SetStartMethod sets, kept in the common
// core so that every way a child is started can give it the parent's
// default: mp::Init() for a spawned child, the forkserver for its children
// (a fork child has it in its copy of memory).

#ifndef MP_INTERNAL_START_METHOD_H_
#define MP_INTERNAL_START_METHOD_H_

#include "absl/status/status.h"

namespace mp {

// See mp/process.h. The values travel in launch messages: never renumber.
enum class StartMethod {
  kDefault = 0,  // whatever SetStartMethod chose; kFork on POSIX, kSpawn on
                 // Windows
  kFork = 1,
  kSpawn = 2,
  kForkserver = 3,  // POSIX
};

namespace internal {

// OK if `method` is a start method this OS has (any value may arrive in a
// launch message); InvalidArgument naming it otherwise: a value outside the
// enum, or fork or forkserver where the OS has no fork (Windows).
absl::Status CheckStartMethod(StartMethod method);

// The process-wide default as last set (kDefault if never).
StartMethod ProcessWideStartMethod();
// Sets it after CheckStartMethod(method).
absl::Status SetProcessWideStartMethod(StartMethod method);

}  // namespace internal
}  // namespace mp

#endif  // MP_INTERNAL_START_METHOD_H_
