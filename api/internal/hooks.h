// Copyright 2026 The mp Authors.
//
// What an optional part of mp, linked into a program, adds to the core.
//
// The init hook: mp::Init (mp/init.h) calls it in every process that is not
// a spawned child, after the child check and before Init returns to main().
// A hook may never return: that copy of the program then does the hook's
// work and ends there (the MPI pool's worker ranks, mp/mpi_pool.h). One
// hook at most; it is set during static initialisation.

#ifndef MP_INTERNAL_HOOKS_H_
#define MP_INTERNAL_HOOKS_H_

namespace mp {
namespace internal {

using InitHook = void (*)(int argc, char** argv);

// Sets the hook; true. False, and nothing set, if one is set already.
bool SetInitHook(InitHook hook);

}  // namespace internal
}  // namespace mp

#endif  // MP_INTERNAL_HOOKS_H_
