// Copyright 2026 The mp Authors.
//
// The MPI pool's faults, as a program run under mpirun by
// mpi_fault_test.sh:
//
//   mpi_fault kill MARKER  kills a worker rank (the parent of a worker
//                          process), writes the time of the kill to
//                          MARKER (ns since the epoch), then waits for a
//                          task: the job must end, non-zero, instead.
//   mpi_fault hello        runs one task and prints "hello from <variant>".
//
// Built twice, as two variants that differ in one string, so that their
// build ids differ: run together, the job must refuse to start.

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "mp/init.h"
#include "mp/mpi_pool.h"
#include "mp/pool.h"

namespace {

constexpr char kVariant[] = MP_FAULT_VARIANT;

// The worker rank that started this worker process.
int64_t WorkerRankPid() { return ::getppid(); }

void SleepLong() { absl::SleepFor(absl::Seconds(60)); }

int AddOne(int x) { return x + 1; }

int Fail(const std::string& why) {
  std::fprintf(stderr, "mpi_fault: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  mp::MainScope scope = mp::Init(argc, argv);
  if (argc < 2) return Fail("usage: mpi_fault kill MARKER | hello");
  mp::Pool::Options o;
  o.workers = 2;
  absl::StatusOr<mp::Pool> pool = mp::MpiPool::Create(o);
  if (!pool.ok()) return Fail(std::string(pool.status().message()));
  if (std::strcmp(argv[1], "hello") == 0) {
    absl::StatusOr<int> r = pool->Submit(AddOne, 1).Get(absl::Seconds(30));
    if (!r.ok() || *r != 2) return Fail("the task failed");
    std::printf("hello from %s\n", kVariant);
    return 0;
  }
  if (std::strcmp(argv[1], "kill") != 0 || argc < 3) {
    return Fail("usage: mpi_fault kill MARKER | hello");
  }
  absl::StatusOr<int64_t> pid =
      pool->Submit(WorkerRankPid).Get(absl::Seconds(30));
  if (!pid.ok()) return Fail(std::string(pid.status().message()));
  mp::Future<void> running = pool->Submit(SleepLong);
  ::kill(static_cast<pid_t>(*pid), SIGKILL);
  std::ofstream(argv[2]) << absl::ToUnixNanos(absl::Now()) << "\n";
  absl::Status s = running.Get(absl::Seconds(30));
  // Reached only if the job goes on without the killed rank.
  return Fail(absl::StrCat("the job went on after worker rank ", *pid,
                           " was killed: ", s.ToString()));
}
