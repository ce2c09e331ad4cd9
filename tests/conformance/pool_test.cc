// Copyright 2026 The mp Authors.
//
// Pool conformance: the same cases on every backend. Every wait is bounded
// (kPatience), and no case sleeps to synchronise: a task that must be
// running before the case goes on announces itself in a file.

#include "mp/pool.h"

#if MP_BACKEND_MPI
#include "mp/mpi_pool.h"
#endif

#include <atomic>
#include <cstdint>
#include <iterator>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "mp/queue.h"
#include "mp/status.h"
#include "mp/sync.h"
#include "tests/conformance/backends.h"
#include "tests/conformance/helpers.h"

namespace mp {
namespace conformance {
namespace {

int AddOne(int x) { return x + 1; }

void DoNothing(int) {}

std::string Greeting(std::string who) { return "hello " + who; }

std::string Doubled(int64_t i, std::string s) {
  return absl::StrCat(i, ":", s, s);
}

struct Point {
  int64_t x = 0;
  std::string label;
  std::vector<double> weights;
  MP_FIELDS(x, label, weights);
};

Point MakePoint(int64_t x) {
  return Point{x, absl::StrCat("p", x), {0.5 * x, -1.0}};
}

absl::StatusOr<int> HalfIfEven(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError(absl::StrCat(x, " is odd"));
  return x / 2;
}

absl::Status FailIfNegative(int x) {
  return x < 0 ? absl::OutOfRangeError("negative") : absl::OkStatus();
}

int ThrowIfSeven(int x) {
  if (x == 7) throw std::runtime_error("seven is unlucky");
  return x;
}

int64_t MyPid() { return CurrentPid(); }

// Announces this worker's pid in `path`, then waits for `release` to exist
// (bounded), then returns its input.
int AnnounceAndWait(int x, std::string path, std::string release) {
  WriteFileAtomically(path, absl::StrCat(CurrentPid()));
  (void)WaitForFile(release, kPatience);
  return x;
}

void SleepLong() { absl::SleepFor(absl::Hours(1)); }

void ExitWith(int code) { Exit(code); }

// Set by the initializer, per worker (a thread on the threads backend).
thread_local int t_initialized = 0;
thread_local int64_t t_init_arg = 0;
void Initialize(int64_t arg) {
  ++t_initialized;
  t_init_arg = arg;
}
std::pair<int64_t, int64_t> InitState() { return {t_initialized, t_init_arg}; }

void InitializeOrThrow() { throw std::runtime_error("no database"); }

// Per worker: a threads worker's copy goes with its thread.
thread_local std::optional<Queue> t_queue;
void KeepQueue(Queue q) { t_queue = std::move(q); }
void PutOnQueue(int x) { (void)t_queue->Put(x); }

Pool* g_pool = nullptr;
// Uses the pool that runs it (only reachable where the worker shares or
// copies the parent's memory).
absl::Status UseOwnPool() {
  if (g_pool == nullptr) return absl::NotFoundError("no pool in this worker");
  return g_pool->Submit(AddOne, 1).Get().status();
}

absl::Status CreatePoolInTask() {
  Pool::Options o;
  o.workers = 1;
  absl::StatusOr<Pool> p = Pool::Create(o);
  return p.ok() ? absl::OkStatus() : p.status();
}

// An input range that counts how far it was read.
struct CountingRange {
  struct Iterator {
    using iterator_category = std::input_iterator_tag;
    using value_type = int;
    using difference_type = std::ptrdiff_t;
    using pointer = const int*;
    using reference = int;
    int i = 0;
    std::atomic<int>* reads = nullptr;
    int operator*() const {
      reads->fetch_add(1);
      return i;
    }
    Iterator& operator++() {
      ++i;
      return *this;
    }
    bool operator==(const Iterator& o) const { return i == o.i; }
    bool operator!=(const Iterator& o) const { return i != o.i; }
  };
  int n;
  std::atomic<int>* reads;
  Iterator begin() const { return Iterator{0, reads}; }
  Iterator end() const { return Iterator{n, reads}; }
};

template <typename B>
Pool::Options OptionsFor(int workers) {
  Pool::Options o;
  o.workers = workers;
  o.start_method = B::kMethod;
  return o;
}

// A pool on backend B.
template <typename B>
absl::StatusOr<Pool> CreatePool(Pool::Options o) {
#if MP_BACKEND_MPI
  return MpiPool::Create(std::move(o));
#else
  return Pool::Create(std::move(o));
#endif
}

// The pool's worker count, once it is `n` (or after kPatience): an MPI
// pool's WorkerPids() is refreshed by its worker ranks now and then, so
// it may lag behind a replacement for a moment.
size_t WorkerCountSettlesAt(const Pool& pool, size_t n) {
  const absl::Time give_up = absl::Now() + kPatience;
  size_t count = pool.WorkerPids().size();
  while (count != n && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
    count = pool.WorkerPids().size();
  }
  return count;
}

template <typename B>
class PoolTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(PoolTest);

TYPED_TEST_P(PoolTest, ResultsComeBackInOrder) {
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(OptionsFor<TypeParam>(2));
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::vector<int> in;
  for (int i = 0; i < 200; ++i) in.push_back(i);
  for (size_t chunksize : {size_t{0}, size_t{1}, size_t{7}}) {
    absl::StatusOr<std::vector<int>> out = pool->Map(AddOne, in, chunksize);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->size(), in.size());
    for (int i = 0; i < 200; ++i) EXPECT_EQ((*out)[i], i + 1);
  }
  std::vector<Future<int>> futures;
  for (int i = 0; i < 50; ++i) futures.push_back(pool->Submit(AddOne, i));
  for (int i = 0; i < 50; ++i) {
    absl::StatusOr<int> r = futures[i].Get(kPatience);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, i + 1);
  }
  std::vector<std::pair<int, int>> pairs = {{1, 2}, {3, 4}};
  absl::StatusOr<std::vector<int>> sums = pool->Starmap(
      +[](int a, int b) { return a + b; }, pairs);
  ASSERT_TRUE(sums.ok()) << sums.status();
  EXPECT_EQ(*sums, (std::vector<int>{3, 7}));
}

// Large tasks and results take another way than small ones (mp/pool.h):
// mixed, each must still meet its own input.
TYPED_TEST_P(PoolTest, LargeAndSmallTasksMeetTheirOwnResults) {
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(OptionsFor<TypeParam>(2));
  ASSERT_TRUE(pool.ok()) << pool.status();
  const size_t sizes[] = {10, 70 << 10, 100, (1 << 20) + 3, 20 << 10, 0};
  std::vector<std::pair<int64_t, std::string>> in;
  for (int64_t i = 0; i < 60; ++i) {
    in.emplace_back(i,
                    std::string(sizes[i % 6], static_cast<char>('a' + i % 26)));
  }
  auto expected = [&](size_t i) {
    return absl::StrCat(in[i].first, ":", in[i].second, in[i].second);
  };
  absl::StatusOr<std::vector<std::string>> out = pool->Starmap(Doubled, in, 1);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_TRUE((*out)[i] == expected(i)) << "input " << i;
  }
  std::vector<Future<std::string>> futures;
  for (const auto& [i, s] : in) futures.push_back(pool->Submit(Doubled, i, s));
  for (size_t i = 0; i < in.size(); ++i) {
    absl::StatusOr<std::string> r = futures[i].Get(kPatience);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(*r == expected(i)) << "input " << i;
  }
}

TYPED_TEST_P(PoolTest, ReturnTypesTravel) {
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(OptionsFor<TypeParam>(2));
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_TRUE(pool->Submit(DoNothing, 1).Get(kPatience).ok());
  absl::StatusOr<std::string> s =
      pool->Submit(Greeting, std::string("world")).Get(kPatience);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, "hello world");
  absl::StatusOr<Point> p = pool->Submit(MakePoint, 4).Get(kPatience);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->x, 4);
  EXPECT_EQ(p->label, "p4");
  EXPECT_EQ(p->weights, (std::vector<double>{2.0, -1.0}));
  absl::StatusOr<int> half = pool->Submit(HalfIfEven, 10).Get(kPatience);
  ASSERT_TRUE(half.ok()) << half.status();
  EXPECT_EQ(*half, 5);
  absl::StatusOr<int> odd = pool->Submit(HalfIfEven, 3).Get(kPatience);
  EXPECT_TRUE(absl::IsInvalidArgument(odd.status())) << odd.status();
  EXPECT_EQ(odd.status().message(), "3 is odd");
  EXPECT_TRUE(absl::IsOutOfRange(pool->Submit(FailIfNegative, -1).Get()));
  EXPECT_TRUE(pool->Submit(FailIfNegative, 1).Get().ok());
}

TYPED_TEST_P(PoolTest, ExceptionFailsItsTaskOnly) {
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(OptionsFor<TypeParam>(2));
  ASSERT_TRUE(pool.ok()) << pool.status();
  const std::vector<int64_t> pids = pool->WorkerPids();
  std::vector<Future<int>> futures;
  for (int i = 0; i < 20; ++i) futures.push_back(pool->Submit(ThrowIfSeven, i));
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<int> r = futures[i].Get(kPatience);
    if (i == 7) {
      EXPECT_TRUE(absl::IsUnknown(r.status())) << r.status();
      EXPECT_TRUE(absl::StrContains(r.status().message(), "seven is unlucky"))
          << r.status();
    } else {
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(*r, i);
    }
  }
  EXPECT_EQ(pool->WorkerPids(), pids);  // no worker was lost
  // Map fails with the first failure; Imap goes on past it.
  std::vector<int> in = {5, 6, 7, 8};
  EXPECT_TRUE(absl::IsUnknown(pool->Map(ThrowIfSeven, in, 1).status()));
  auto stream = pool->Imap(ThrowIfSeven, in);
  int ok = 0, failed = 0;
  while (auto r = stream.Next()) (r->ok() ? ok : failed)++;
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(failed, 1);
}

TYPED_TEST_P(PoolTest, WorkerExitFailsItsTaskOnly) {
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(OptionsFor<TypeParam>(2));
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::vector<Future<int>> before;
  for (int i = 0; i < 10; ++i) before.push_back(pool->Submit(AddOne, i));
  absl::Status exited = pool->Submit(ExitWith, 3).Get(kPatience);
  EXPECT_TRUE(IsWorkerDied(exited)) << exited;
  EXPECT_TRUE(absl::StrContains(exited.message(), "exited with code 3"))
      << exited;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(before[i].Get(kPatience).ok());
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<int> r = pool->Submit(AddOne, i).Get(kPatience);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  EXPECT_EQ(WorkerCountSettlesAt(*pool, 2), 2u);
}

TYPED_TEST_P(PoolTest, KilledWorkerFailsItsTaskOnly) {
  MP_SKIP_ON_THREADS("a worker thread cannot be killed");
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(OptionsFor<TypeParam>(2));
  ASSERT_TRUE(pool.ok()) << pool.status();
  const std::string announce = TempPath("victim");
  const std::string release = TempPath("never");
  std::vector<Future<int>> futures;
  for (int i = 0; i < 100; ++i) {
    futures.push_back(i == 30
                          ? pool->Submit(AnnounceAndWait, i, announce, release)
                          : pool->Submit(AddOne, i));
  }
  std::optional<std::string> pid = WaitForFile(announce, kPatience);
  ASSERT_TRUE(pid.has_value());
  KillPid(std::stoll(*pid));
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<int> r = futures[i].Get(kPatience);
    if (i == 30) {
      EXPECT_TRUE(IsWorkerDied(r.status())) << r.status();
      EXPECT_TRUE(absl::StrContains(r.status().message(), *pid)) << r.status();
    } else {
      ASSERT_TRUE(r.ok()) << i << ": " << r.status();
      EXPECT_EQ(*r, i + 1);
    }
  }
  std::vector<int> in(100, 1);
  absl::StatusOr<std::vector<int>> more = pool->Map(AddOne, in, 1);
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_EQ(*more, std::vector<int>(100, 2));
  EXPECT_EQ(WorkerCountSettlesAt(*pool, 2), 2u);
  // A worker killed while idle held no task: the tasks submitted right
  // after its death, some handed to it before the pool saw it end, all run.
  for (int round = 0; round < 5; ++round) {
    ASSERT_TRUE(pool->Map(AddOne, std::vector<int>(8, 1), 1).ok());
    ASSERT_EQ(WorkerCountSettlesAt(*pool, 2), 2u);
    const std::vector<int64_t> pids = pool->WorkerPids();
    ASSERT_FALSE(pids.empty());
    KillPid(pids[0]);
    std::vector<Future<int>> after;
    for (int i = 0; i < 8; ++i) after.push_back(pool->Submit(AddOne, i));
    for (int i = 0; i < 8; ++i) {
      absl::StatusOr<int> r = after[i].Get(kPatience);
      ASSERT_TRUE(r.ok()) << "round " << round << ", task " << i << ": "
                          << r.status();
      EXPECT_EQ(*r, i + 1);
    }
  }
}

TYPED_TEST_P(PoolTest, TaskTimeoutReplacesWorker) {
  MP_SKIP_ON_THREADS(
      "a worker thread cannot be killed: the task fails DeadlineExceeded and "
      "a new worker takes its place, but the abandoned thread runs on");
  Pool::Options o = OptionsFor<TypeParam>(1);
  o.task_timeout = absl::Milliseconds(300);
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(o);
  ASSERT_TRUE(pool.ok()) << pool.status();
  const std::vector<int64_t> pids = pool->WorkerPids();
  const absl::Time start = absl::Now();
  Future<void> slow = pool->Submit(SleepLong);
  Future<int> next = pool->Submit(AddOne, 1);
  absl::Status s = slow.Get(kPatience);
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_TRUE(slow.Ready());
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  absl::StatusOr<int> r = next.Get(kPatience);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 2);
  ASSERT_EQ(pids.size(), 1u);
  EXPECT_TRUE(WaitPidGone(pids[0], kPatience));
  EXPECT_NE(pool->WorkerPids(), pids);
}

TYPED_TEST_P(PoolTest, MaxTasksPerChildReplacesWorkers) {
  Pool::Options o = OptionsFor<TypeParam>(1);
  o.max_tasks_per_child = 2;
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(o);
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::vector<Future<int64_t>> futures;
  for (int i = 0; i < 6; ++i) futures.push_back(pool->Submit(MyPid));
  std::vector<int64_t> seen;
  for (auto& f : futures) {
    absl::StatusOr<int64_t> pid = f.Get(kPatience);
    ASSERT_TRUE(pid.ok()) << pid.status();
    seen.push_back(*pid);
  }
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 3u);
  EXPECT_EQ(seen[0], seen[1]);
  EXPECT_EQ(seen[2], seen[3]);
  EXPECT_EQ(seen[4], seen[5]);
}

TYPED_TEST_P(PoolTest, InitializerRunsOncePerWorker) {
  Pool::Options o = OptionsFor<TypeParam>(2);
  o.SetInitializer(Initialize, int64_t{42});
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(o);
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::vector<Future<std::pair<int64_t, int64_t>>> futures;
  for (int i = 0; i < 20; ++i) futures.push_back(pool->Submit(InitState));
  for (auto& f : futures) {
    absl::StatusOr<std::pair<int64_t, int64_t>> r = f.Get(kPatience);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->first, 1);
    EXPECT_EQ(r->second, 42);
  }
  // Its failure fails Create(), with the reason, and leaves no worker.
  Pool::Options bad = OptionsFor<TypeParam>(2);
  bad.SetInitializer(InitializeOrThrow);
  absl::StatusOr<Pool> broken = CreatePool<TypeParam>(bad);
  EXPECT_TRUE(absl::IsFailedPrecondition(broken.status())) << broken.status();
  EXPECT_TRUE(absl::StrContains(broken.status().message(), "no database"))
      << broken.status();
}

TYPED_TEST_P(PoolTest, HandlesGoThroughTheInitializer) {
  absl::StatusOr<Queue> q = Queue::Create();
  ASSERT_TRUE(q.ok()) << q.status();
  Pool::Options o = OptionsFor<TypeParam>(2);
  o.SetInitializer(KeepQueue, *q);
  if constexpr (TypeParam::kMpi) {
    absl::StatusOr<Pool> refused = CreatePool<TypeParam>(o);
    EXPECT_TRUE(absl::IsInvalidArgument(refused.status())) << refused.status();
    EXPECT_TRUE(absl::StrContains(refused.status().message(), "OS handle"))
        << refused.status();
    MP_DOCUMENTED_DIFFERENCE(
        "an OS handle cannot reach another host: Create fails "
        "InvalidArgument for an initializer argument that wraps one");
  }
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(o);
  ASSERT_TRUE(pool.ok()) << pool.status();
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(lock.ok());
  absl::Status refused = pool->Submit(
                                 +[](Lock) {}, *lock)
                             .Get(kPatience);
  EXPECT_TRUE(absl::IsInvalidArgument(refused)) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "initializer")) << refused;
  ASSERT_TRUE(pool->Submit(PutOnQueue, 5).Get(kPatience).ok());
  absl::StatusOr<int> got = q->Get<int>(kPatience);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, 5);
}

TYPED_TEST_P(PoolTest, TaskCannotUseItsPool) {
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(OptionsFor<TypeParam>(1));
  ASSERT_TRUE(pool.ok()) << pool.status();
  g_pool = &*pool;
  absl::Status s = pool->Submit(UseOwnPool).Get(kPatience);
  g_pool = nullptr;
  // Fork and threads workers see the pool (a copy, or the same object);
  // spawned ones do not have it at all.
  EXPECT_TRUE(absl::IsFailedPrecondition(s) || absl::IsNotFound(s)) << s;
  // A worker is a daemon process, which may not start processes; a
  // threads worker may start a pool of its own (threads are not daemons
  // in that sense there, as in Python's multiprocessing.dummy).
  absl::Status nested = pool->Submit(CreatePoolInTask).Get(kPatience);
  if (!TypeParam::kThreads) {
    EXPECT_TRUE(absl::IsFailedPrecondition(nested)) << nested;
  }
}

TYPED_TEST_P(PoolTest, ImapReadsAtMostTheWindowAhead) {
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(OptionsFor<TypeParam>(2));
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::atomic<int> reads{0};
  constexpr int kN = 10 * 1000 * 1000;  // never materialised
  constexpr size_t kChunk = 3, kWindow = 4;
  auto stream = pool->Imap(AddOne, CountingRange{kN, &reads}, kChunk, kWindow);
  for (int i = 0; i < 100; ++i) {
    auto r = stream.Next();
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(r->ok()) << r->status();
    EXPECT_EQ(**r, i + 1);
    EXPECT_LE(reads.load(), i + 1 + static_cast<int>(kChunk * kWindow));
  }
  // Unordered: every result once.
  std::vector<int> in;
  for (int i = 0; i < 50; ++i) in.push_back(i);
  auto unordered = pool->ImapUnordered(AddOne, in, 2);
  std::multiset<int> got;
  while (auto r = unordered.Next()) {
    ASSERT_TRUE(r->ok()) << r->status();
    got.insert(**r);
  }
  EXPECT_EQ(got.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(got.count(i + 1), 1u);
}

TYPED_TEST_P(PoolTest, CancelBeforeStart) {
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(OptionsFor<TypeParam>(1));
  ASSERT_TRUE(pool.ok()) << pool.status();
  const std::string announce = TempPath("busy");
  const std::string release = TempPath("release");
  Future<int> busy = pool->Submit(AnnounceAndWait, 1, announce, release);
  ASSERT_TRUE(WaitForFile(announce, kPatience).has_value());
  Future<int> waiting =
      pool->Submit(AnnounceAndWait, 2, TempPath("ran"), release);
  EXPECT_TRUE(waiting.Cancel());
  EXPECT_FALSE(busy.Cancel());  // it runs already
  WriteFileAtomically(release, "go");
  absl::StatusOr<int> r = busy.Get(kPatience);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(absl::IsCancelled(waiting.Get(kPatience).status()));
  EXPECT_TRUE(pool->Submit(AddOne, 1).Get(kPatience).ok());
  EXPECT_FALSE(WaitForFile(TempPath("ran"), absl::ZeroDuration()).has_value());
}

TYPED_TEST_P(PoolTest, TerminateWhileBusyEndsWithinOneSecond) {
  MP_SKIP_ON_THREADS("a busy worker thread cannot be stopped");
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(OptionsFor<TypeParam>(2));
  ASSERT_TRUE(pool.ok()) << pool.status();
  const std::vector<int64_t> pids = pool->WorkerPids();
  std::vector<Future<void>> futures;
  for (int i = 0; i < 6; ++i) futures.push_back(pool->Submit(SleepLong));
  const absl::Time start = absl::Now();
  ASSERT_TRUE(pool->Terminate().ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  for (auto& f : futures) {
    EXPECT_TRUE(absl::IsCancelled(f.Get(absl::ZeroDuration()))) << f.Get();
  }
  for (int64_t pid : pids) EXPECT_FALSE(PidAlive(pid)) << pid;
  EXPECT_TRUE(absl::IsCancelled(pool->Submit(AddOne, 1).Get().status()));
  EXPECT_TRUE(pool->Join().ok());
}

TYPED_TEST_P(PoolTest, DestroyedWithTasksInFlightLeavesNoProcess) {
  MP_SKIP_ON_THREADS(
      "a busy worker thread cannot be stopped; it ends when "
      "its task returns");
  std::vector<int64_t> pids;
  std::vector<Future<void>> futures;
  const std::vector<int> inputs(50, 1);
  std::optional<ResultStream<int>> stream;
  const absl::Time start = absl::Now();
  {
    absl::StatusOr<Pool> pool = CreatePool<TypeParam>(OptionsFor<TypeParam>(2));
    ASSERT_TRUE(pool.ok()) << pool.status();
    pids = pool->WorkerPids();
    for (int i = 0; i < 6; ++i) futures.push_back(pool->Submit(SleepLong));
    stream.emplace(pool->Imap(AddOne, inputs, 1, 2));
  }
  EXPECT_LT(absl::Now() - start, kPatience);
  ASSERT_EQ(pids.size(), 2u);
  int alive = 0;
  for (int64_t pid : pids) alive += PidAlive(pid) ? 1 : 0;
  EXPECT_EQ(alive, 0);
  for (int64_t pid : ActiveChildren()) {
    EXPECT_EQ(std::count(pids.begin(), pids.end(), pid), 0);
  }
  for (auto& f : futures) EXPECT_TRUE(absl::IsCancelled(f.Get(kPatience)));
  // A stream outliving its pool: every input it had not finished is
  // Cancelled, those it reads only now as well.
  int results = 0;
  while (std::optional<absl::StatusOr<int>> r = stream->Next()) {
    EXPECT_TRUE(absl::IsCancelled(r->status()))
        << results << ": " << r->status();
    ++results;
  }
  EXPECT_EQ(results, 50);
}

TYPED_TEST_P(PoolTest, CloseThenJoinFinishesQueuedTasks) {
  absl::StatusOr<Pool> pool = CreatePool<TypeParam>(OptionsFor<TypeParam>(2));
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_TRUE(absl::IsFailedPrecondition(pool->Join()));
  std::vector<Future<int>> futures;
  for (int i = 0; i < 30; ++i) futures.push_back(pool->Submit(AddOne, i));
  ASSERT_TRUE(pool->Close().ok());
  EXPECT_TRUE(
      absl::IsFailedPrecondition(pool->Submit(AddOne, 1).Get().status()));
  ASSERT_TRUE(pool->Join().ok());
  for (int i = 0; i < 30; ++i) {
    absl::StatusOr<int> r = futures[i].Get(absl::ZeroDuration());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, i + 1);
  }
  EXPECT_TRUE(pool->WorkerPids().empty());
}

REGISTER_TYPED_TEST_SUITE_P(
    PoolTest, ResultsComeBackInOrder, LargeAndSmallTasksMeetTheirOwnResults,
    ReturnTypesTravel, ExceptionFailsItsTaskOnly, WorkerExitFailsItsTaskOnly,
    KilledWorkerFailsItsTaskOnly, TaskTimeoutReplacesWorker,
    MaxTasksPerChildReplacesWorkers, InitializerRunsOncePerWorker,
    HandlesGoThroughTheInitializer, TaskCannotUseItsPool,
    ImapReadsAtMostTheWindowAhead, CancelBeforeStart,
    TerminateWhileBusyEndsWithinOneSecond,
    DestroyedWithTasksInFlightLeavesNoProcess,
    CloseThenJoinFinishesQueuedTasks);
INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, PoolTest, Backends, BackendName);

}  // namespace
}  // namespace conformance
}  // namespace mp
