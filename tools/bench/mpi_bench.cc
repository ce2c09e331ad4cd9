// Copyright 2026 The mp Authors.
//
// The Pool on MPI (mp/mpi_pool.h) against the local Pool's rows of
// mp_bench.cc: the same workloads, two workers and f(x) = x + 1, with the
// workers on worker ranks. Run under mpirun (tools/bench/run.py does, with
// 3 ranks, over shared memory and over TCP on the loopback interface):
// rank 0 runs the benchmarks, the other ranks serve the pool.

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "benchmark/benchmark.h"
#include "mp/init.h"
#include "mp/mpi_pool.h"
#include "mp/pool.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "mpi_bench: %s failed\n", what);
    std::abort();
  }
}

int AddOne(int x) { return x + 1; }

mp::Pool MakePool() {
  mp::Pool::Options o;
  o.workers = 2;
  absl::StatusOr<mp::Pool> pool = mp::MpiPool::Create(o);
  Check(pool.ok(), "MpiPool::Create");
  return *std::move(pool);
}

// As BM_MpPoolSubmitGet: Submit every task, then Get each.
void BM_MpiPoolSubmitGet(benchmark::State& state) {
  constexpr int kTasks = 20000;
  mp::Pool pool = MakePool();
  std::vector<mp::Future<int>> futures;
  futures.reserve(kTasks);
  for (auto _ : state) {
    futures.clear();
    for (int i = 0; i < kTasks; ++i) futures.push_back(pool.Submit(AddOne, i));
    for (int i = 0; i < kTasks; ++i) {
      absl::StatusOr<int> r = futures[i].Get();
      Check(r.ok() && *r == i + 1, "Future::Get");
    }
  }
  state.SetItemsProcessed(state.iterations() * kTasks);
}
BENCHMARK(BM_MpiPoolSubmitGet)->UseRealTime()->Unit(benchmark::kMillisecond);

// As BM_MpPoolMap: Map with the given chunksize over n inputs.
void BM_MpiPoolMap(benchmark::State& state) {
  const size_t chunksize = static_cast<size_t>(state.range(0));
  const int n = static_cast<int>(state.range(1));
  mp::Pool pool = MakePool();
  std::vector<int> in(n);
  for (int i = 0; i < n; ++i) in[i] = i;
  for (auto _ : state) {
    absl::StatusOr<std::vector<int>> out = pool.Map(AddOne, in, chunksize);
    Check(out.ok() && out->size() == in.size(), "Pool::Map");
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_MpiPoolMap)
    ->Args({1, 20000})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// One task at a time: the round trip rank 0 -> worker rank -> worker
// process and back.
void BM_MpiPoolRoundTrip(benchmark::State& state) {
  mp::Pool pool = MakePool();
  for (auto _ : state) {
    Check(pool.Submit(AddOne, 1).Get().ok(), "round trip");
  }
}
BENCHMARK(BM_MpiPoolRoundTrip)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  mp::MainScope scope = mp::Init(argc, argv);  // worker ranks stay inside
  if (!mp::MpiPool::Available()) {
    std::fprintf(stderr,
                 "mpi_bench: run it under mpirun with at least 3 ranks\n");
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
