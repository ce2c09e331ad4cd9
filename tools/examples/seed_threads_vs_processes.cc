// Copyright 2026 The mp Authors.
//
// Seed §1-2: processes are isolated from each other's data and expensive to
// create; threads share their process's data and are cheap. This one
// program is built twice: against //:mp, where a child is a process, and
// against //:mp_threads, where a child is a thread of this program (Python's
// multiprocessing.dummy). It prints what differs:
//
//   children are: processes|threads
//   global seen by main after the child set it: 0|1
//   child pid P, parent pid Q (main is Q)
//   start+join of one empty child: N us (average of 200)

#include <cstdint>

#include "absl/time/clock.h"
#include "mp/init.h"
#include "mp/process.h"
#include "tools/examples/seed_common.h"

#ifndef MP_EXAMPLE_CHILDREN_ARE
#define MP_EXAMPLE_CHILDREN_ARE "processes"
#endif

int g_set_by_child = 0;

void SetGlobal() { g_set_by_child = 1; }

void ReportPids() {
  seed::Print("child pid ", mp::CurrentPid(), ", parent pid ", mp::ParentPid(),
              "");
}

void Nothing() {}

int main(int argc, char** argv) {
  mp::MainScope scope = mp::Init(argc, argv);
  seed::UseStartMethodFrom(argc, argv);
  seed::Print("children are: ", MP_EXAMPLE_CHILDREN_ARE);

  mp::Process setter(SetGlobal);
  if (!setter.Start().ok() || !setter.Join().ok()) return 1;
  seed::Print("global seen by main after the child set it: ", g_set_by_child);

  seed::Print("main pid ", mp::CurrentPid());
  mp::Process reporter(ReportPids);
  if (!reporter.Start().ok() || !reporter.Join().ok()) return 1;

  constexpr int kRounds = 200;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kRounds; ++i) {
    mp::Process p(Nothing);
    if (!p.Start().ok() || !p.Join().ok() || p.ExitCode() != 0) return 1;
  }
  const double us = absl::ToDoubleMicroseconds(absl::Now() - start) / kRounds;
  seed::Print("start+join of one empty child: ", static_cast<int64_t>(us),
              " us (average of ", kRounds, ")");
}
