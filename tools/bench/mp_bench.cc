// Copyright 2026 The mp Authors.
//
// mp against the raw OS calls it is built on, in one binary (POSIX). Each
// BM_Mp* has its BM_Raw* twin doing the same work with nothing but system
// calls; tools/bench/run.py pairs them up with Python's multiprocessing.
// Speed targets live here and in run.py, never in unit tests.

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "boost/interprocess/ipc/message_queue.hpp"
#include "mp/init.h"
#include "mp/pipe.h"
#include "mp/pool.h"
#include "mp/process.h"
#include "mp/queue.h"
#include "mp/shared_memory.h"
#include "mp/sync.h"

extern char** environ;

namespace {

constexpr char kRawExitFlag[] = "--raw-exit";
constexpr int kQueueItems = 100000;
constexpr int kIncrements = 100000;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "mp_bench: %s failed\n", what);
    std::abort();
  }
}

void Noop() {}

// A machine whose cores are all busy with other work: one child per core
// spinning at the lowest priority (nice 19) while it lives. The *Hogged
// benchmarks run with one, beside their quiet twins: a side that spins
// while its peer has no core to run on shows here.
class Hog {
 public:
  Hog() {
    const unsigned n = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) {
      const pid_t pid = fork();
      Check(pid >= 0, "fork hog");
      if (pid == 0) {
        if (nice(19) == -1) _exit(1);
        for (volatile uint64_t x = 0;; x = x + 1) {
        }
      }
      pids_.push_back(pid);
    }
  }
  ~Hog() {
    for (pid_t pid : pids_) kill(pid, SIGKILL);
    for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
  }
  Hog(const Hog&) = delete;
  Hog& operator=(const Hog&) = delete;

 private:
  std::vector<pid_t> pids_;
};

// --- Process start + join ----------------------------------------------------

// Minor page faults per iteration, in this process and in its reaped
// children, as the counters "parent_faults" and "child_faults": after fork
// every private page is shared copy-on-write, so each page either side
// writes (and each code page the child runs) costs a fault. Also
// "child_cpu_us": the CPU time (user + system) of the reaped children per
// iteration, which waiting for a core on a busy machine does not inflate
// as it does the wall time.
class FaultCounter {
 public:
  FaultCounter()
      : self_(Faults(RUSAGE_SELF)),
        children_(Faults(RUSAGE_CHILDREN)),
        children_cpu_(CpuMicroseconds(RUSAGE_CHILDREN)) {}
  void Report(benchmark::State& state) const {
    const double n = static_cast<double>(state.iterations());
    if (n == 0) return;
    state.counters["parent_faults"] = (Faults(RUSAGE_SELF) - self_) / n;
    state.counters["child_faults"] = (Faults(RUSAGE_CHILDREN) - children_) / n;
    state.counters["child_cpu_us"] =
        (CpuMicroseconds(RUSAGE_CHILDREN) - children_cpu_) / n;
  }

 private:
  static double Faults(int who) {
    struct rusage usage;
    getrusage(who, &usage);
    return static_cast<double>(usage.ru_minflt);
  }
  static double CpuMicroseconds(int who) {
    struct rusage usage;
    getrusage(who, &usage);
    return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 +
           usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
  }
  const double self_;
  const double children_;
  const double children_cpu_;
};

void RawForkWaitpid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status;
  waitpid(pid, &status, 0);
}

void MpForkStartJoin() {
  mp::Process p(Noop);
  Check(p.SetStartMethod(mp::StartMethod::kFork).ok() && p.Start().ok() &&
            p.Join().ok(),
        "fork start/join");
}

void BM_RawForkWaitpid(benchmark::State& state) {
  FaultCounter faults;
  for (auto _ : state) RawForkWaitpid();
  faults.Report(state);
}
BENCHMARK(BM_RawForkWaitpid)->UseRealTime();

void BM_MpForkStartJoin(benchmark::State& state) {
  FaultCounter faults;
  for (auto _ : state) MpForkStartJoin();
  faults.Report(state);
}
BENCHMARK(BM_MpForkStartJoin)->UseRealTime();

double MedianOf(std::vector<double> values) {
  if (values.empty()) return 0;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  return values[mid];
}

// mp's fork start+join and a raw fork+waitpid taking turns, start by start
// (which goes first alternates too), so that whatever the machine does
// meanwhile hits both alike. Counters: "raw_us" and "mp_us", the median
// time of each; "mp_over_raw", their ratio (run.py's mp/raw for the fork
// row). The iteration time is the pair's.
void BM_ForkStartJoinPaired(benchmark::State& state) {
  std::vector<double> raw, mp;
  bool mp_first = false;
  using Clock = std::chrono::steady_clock;
  const auto micros = [](Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::micro>(to - from).count();
  };
  for (auto _ : state) {
    const Clock::time_point t0 = Clock::now();
    mp_first ? MpForkStartJoin() : RawForkWaitpid();
    const Clock::time_point t1 = Clock::now();
    mp_first ? RawForkWaitpid() : MpForkStartJoin();
    const Clock::time_point t2 = Clock::now();
    (mp_first ? mp : raw).push_back(micros(t0, t1));
    (mp_first ? raw : mp).push_back(micros(t1, t2));
    mp_first = !mp_first;
  }
  const double raw_us = MedianOf(raw), mp_us = MedianOf(mp);
  state.counters["raw_us"] = raw_us;
  state.counters["mp_us"] = mp_us;
  if (raw_us > 0) state.counters["mp_over_raw"] = mp_us / raw_us;
}
BENCHMARK(BM_ForkStartJoinPaired)->UseRealTime();

// The same, in a parent that has had another thread (started and joined
// here): glibc then no longer vouches that it has only one, so each child
// reads its own signal dispositions (posix/process.cc's SignalPlan).
void BM_ForkStartJoinPairedAfterThread(benchmark::State& state) {
  std::thread([] {}).join();
  BM_ForkStartJoinPaired(state);
}
BENCHMARK(BM_ForkStartJoinPairedAfterThread)->UseRealTime();

void BM_RawPosixSpawnSelf(benchmark::State& state) {
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  Check(n > 0, "readlink");
  exe[n] = '\0';
  char* argv[] = {exe, const_cast<char*>(kRawExitFlag), nullptr};
  for (auto _ : state) {
    pid_t pid;
    Check(posix_spawn(&pid, exe, nullptr, nullptr, argv, environ) == 0,
          "posix_spawn");
    int status;
    waitpid(pid, &status, 0);
  }
}
BENCHMARK(BM_RawPosixSpawnSelf)->UseRealTime();

void BM_MpSpawnStartJoin(benchmark::State& state) {
  for (auto _ : state) {
    mp::Process p(Noop);
    Check(p.SetStartMethod(mp::StartMethod::kSpawn).ok() && p.Start().ok() &&
              p.Join().ok(),
          "spawn start/join");
  }
}
BENCHMARK(BM_MpSpawnStartJoin)->UseRealTime();

// The server is started before timing (the first forkserver Start() would
// otherwise pay for its spawn once); each start is then a request to it.
void BM_MpForkserverStartJoin(benchmark::State& state) {
  Check(mp::StartForkserver().ok(), "forkserver start");
  for (auto _ : state) {
    mp::Process p(Noop);
    Check(p.SetStartMethod(mp::StartMethod::kForkserver).ok() &&
              p.Start().ok() && p.Join().ok(),
          "forkserver start/join");
  }
}
BENCHMARK(BM_MpForkserverStartJoin)->UseRealTime();

void BM_ThreadCreateJoin(benchmark::State& state) {
  for (auto _ : state) std::thread([] {}).join();
}
BENCHMARK(BM_ThreadCreateJoin)->UseRealTime();

// --- Pipe round trip and one-way throughput
// ------------------------------------

void RawEcho(int fd, size_t size) {
  std::vector<char> buf(size);
  for (;;) {
    size_t got = 0;
    while (got < size) {
      const ssize_t n = read(fd, buf.data() + got, size - got);
      if (n <= 0) _exit(0);
      got += static_cast<size_t>(n);
    }
    if (write(fd, buf.data(), size) != static_cast<ssize_t>(size)) _exit(1);
  }
}

void BM_RawSocketpairRtt8(benchmark::State& state) {
  int sv[2];
  Check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  const pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    RawEcho(sv[1], 8);
  }
  close(sv[1]);
  char msg[8] = {};
  for (auto _ : state) {
    Check(write(sv[0], msg, 8) == 8, "write");
    size_t got = 0;
    while (got < 8) got += static_cast<size_t>(read(sv[0], msg + got, 8 - got));
  }
  close(sv[0]);
  waitpid(pid, nullptr, 0);
}
BENCHMARK(BM_RawSocketpairRtt8)->UseRealTime();

void MpEcho(mp::Connection c) {
  for (;;) {
    absl::StatusOr<std::string> m = c.RecvBytes();
    if (!m.ok() || !c.SendBytes(*m).ok()) return;
  }
}

void BM_MpPipeRtt8(benchmark::State& state) {
  auto pipe = mp::Pipe();
  Check(pipe.ok(), "Pipe");
  mp::Process echo(MpEcho, pipe->second);
  echo.CloseAfterStart(pipe->second);
  Check(echo.Start().ok(), "start echo");
  const std::string msg(8, 'x');
  for (auto _ : state) {
    Check(pipe->first.SendBytes(msg).ok(), "send");
    Check(pipe->first.RecvBytes().ok(), "recv");
  }
  (void)pipe->first.Close();
  (void)echo.Join();
}
BENCHMARK(BM_MpPipeRtt8)->UseRealTime();

// The receiver reads `size`-byte chunks until EOF, then answers one byte.
void BM_RawSocketpairOneWay(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  int sv[2];
  Check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  const pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    std::vector<char> buf(1 << 20);
    while (read(sv[1], buf.data(), buf.size()) > 0) {
    }
    _exit(0);
  }
  close(sv[1]);
  const std::string msg(size, 'x');
  for (auto _ : state) {
    size_t sent = 0;
    while (sent < size) {
      const ssize_t n = write(sv[0], msg.data() + sent, size - sent);
      Check(n > 0, "write");
      sent += static_cast<size_t>(n);
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
  close(sv[0]);
  waitpid(pid, nullptr, 0);
}
BENCHMARK(BM_RawSocketpairOneWay)->Arg(64 << 10)->Arg(1 << 20)->UseRealTime();

// The other raw candidates for the fastest byte channel (run.py takes the
// fastest raw row as the baseline): a socketpair with 4 MiB buffers, and a
// pipe enlarged to 1 MiB with F_SETPIPE_SZ.
void RawOneWay(benchmark::State& state, int writer, int reader) {
  const size_t size = static_cast<size_t>(state.range(0));
  const pid_t pid = fork();
  if (pid == 0) {
    close(writer);
    std::vector<char> buf(1 << 20);
    while (read(reader, buf.data(), buf.size()) > 0) {
    }
    _exit(0);
  }
  close(reader);
  const std::string msg(size, 'x');
  for (auto _ : state) {
    size_t sent = 0;
    while (sent < size) {
      const ssize_t n = write(writer, msg.data() + sent, size - sent);
      Check(n > 0, "write");
      sent += static_cast<size_t>(n);
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
  close(writer);
  waitpid(pid, nullptr, 0);
}

void BM_RawBigSocketpairOneWay(benchmark::State& state) {
  int sv[2];
  Check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  const int big = 4 << 20;
  for (int fd : sv) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  }
  RawOneWay(state, sv[0], sv[1]);
}
BENCHMARK(BM_RawBigSocketpairOneWay)
    ->Arg(64 << 10)
    ->Arg(1 << 20)
    ->UseRealTime();

void BM_RawBigPipeOneWay(benchmark::State& state) {
  int p[2];
  Check(pipe(p) == 0, "pipe");
  // The size is capped by /proc/sys/fs/pipe-max-size (1 MiB by default).
  (void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
  RawOneWay(state, p[1], p[0]);
}
BENCHMARK(BM_RawBigPipeOneWay)->Arg(64 << 10)->Arg(1 << 20)->UseRealTime();

void MpDrain(mp::Connection c) {
  while (c.RecvBytes().ok()) {
  }
}

void BM_MpPipeOneWay(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  auto pipe = mp::Pipe(/*duplex=*/false);
  Check(pipe.ok(), "Pipe");
  mp::Process drain(MpDrain, pipe->first);
  drain.CloseAfterStart(pipe->first);
  Check(drain.Start().ok(), "start drain");
  const std::string msg(size, 'x');
  for (auto _ : state) Check(pipe->second.SendBytes(msg).ok(), "send");
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
  (void)pipe->second.Close();
  (void)drain.Join();
}
BENCHMARK(BM_MpPipeOneWay)->Arg(64 << 10)->Arg(1 << 20)->UseRealTime();

// --- Queue: producers in children, this process consumes --------------------

void ProduceInts(mp::Queue q, int n) {
  for (int i = 0; i < n; ++i) {
    if (!q.Put(i).ok()) _exit(1);
  }
}

void MpQueue(benchmark::State& state, int producers) {
  for (auto _ : state) {
    auto q = mp::Queue::Create();
    Check(q.ok(), "Queue");
    std::vector<mp::Process> ps;
    for (int i = 0; i < producers; ++i) {
      ps.emplace_back(ProduceInts, *q, kQueueItems / producers);
      Check(ps.back().Start().ok(), "start producer");
    }
    for (int i = 0; i < kQueueItems; ++i) Check(q->Get<int>().ok(), "get");
    for (mp::Process& p : ps) Check(p.Join().ok(), "join");
  }
  state.SetItemsProcessed(state.iterations() * kQueueItems);
}

void BM_MpQueue(benchmark::State& state) {
  MpQueue(state, static_cast<int>(state.range(0)));
}
BENCHMARK(BM_MpQueue)
    ->Arg(1)
    ->Arg(4)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_MpQueueHogged(benchmark::State& state) {
  Hog hog;
  MpQueue(state, 1);
}
BENCHMARK(BM_MpQueueHogged)->UseRealTime()->Unit(benchmark::kMillisecond);

// The C++ peer: Boost.Interprocess message_queue (a ring in named shared
// memory, process-shared mutex and condition variables), the same ints,
// producers in forked children.
void BoostMessageQueue(benchmark::State& state, int producers) {
  namespace bip = boost::interprocess;
  const std::string name = "mp_bench_" + std::to_string(getpid());
  for (auto _ : state) {
    bip::message_queue::remove(name.c_str());
    bip::message_queue q(bip::create_only, name.c_str(), 1024, sizeof(int));
    std::vector<pid_t> children;
    for (int p = 0; p < producers; ++p) {
      const pid_t pid = fork();
      if (pid == 0) {
        bip::message_queue mine(bip::open_only, name.c_str());
        for (int i = 0; i < kQueueItems / producers; ++i) {
          mine.send(&i, sizeof i, 0);
        }
        _exit(0);
      }
      children.push_back(pid);
    }
    int item;
    bip::message_queue::size_type got;
    unsigned priority;
    for (int i = 0; i < kQueueItems; ++i) {
      q.receive(&item, sizeof item, got, priority);
    }
    for (pid_t pid : children) waitpid(pid, nullptr, 0);
  }
  bip::message_queue::remove(name.c_str());
  state.SetItemsProcessed(state.iterations() * kQueueItems);
}

void BM_BoostMessageQueue(benchmark::State& state) {
  BoostMessageQueue(state, static_cast<int>(state.range(0)));
}
BENCHMARK(BM_BoostMessageQueue)
    ->Arg(1)
    ->Arg(4)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_BoostMessageQueueHogged(benchmark::State& state) {
  Hog hog;
  BoostMessageQueue(state, 1);
}
BENCHMARK(BM_BoostMessageQueueHogged)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// --- Lock
// ---------------------------------------------------------------------

// A raw robust, process-shared mutex in an anonymous shared mapping.
pthread_mutex_t* NewRawMutex() {
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  Check(p != MAP_FAILED, "mmap");
  auto* mu = static_cast<pthread_mutex_t*>(p);
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(mu, &a);
  return mu;
}

void BM_RawRobustMutexUncontended(benchmark::State& state) {
  pthread_mutex_t* mu = NewRawMutex();
  for (auto _ : state) {
    pthread_mutex_lock(mu);
    pthread_mutex_unlock(mu);
  }
  munmap(mu, 4096);
}
BENCHMARK(BM_RawRobustMutexUncontended);

void BM_MpLockUncontended(benchmark::State& state) {
  auto lock = mp::Lock::Create();
  Check(lock.ok(), "Lock");
  for (auto _ : state) {
    (void)lock->Acquire();
    (void)lock->Release();
  }
}
BENCHMARK(BM_MpLockUncontended);

// Two processes each add 1 to a shared counter kIncrements times.
void RawRobustMutexContended(benchmark::State& state) {
  pthread_mutex_t* mu = NewRawMutex();
  auto* counter =
      reinterpret_cast<volatile int64_t*>(reinterpret_cast<char*>(mu) + 1024);
  for (auto _ : state) {
    pid_t pids[2];
    for (pid_t& pid : pids) {
      pid = fork();
      if (pid == 0) {
        for (int i = 0; i < kIncrements; ++i) {
          pthread_mutex_lock(mu);
          *counter = *counter + 1;
          pthread_mutex_unlock(mu);
        }
        _exit(0);
      }
    }
    for (pid_t pid : pids) waitpid(pid, nullptr, 0);
  }
  state.SetItemsProcessed(state.iterations() * 2 * kIncrements);
  munmap(mu, 4096);
}

void BM_RawRobustMutexContended(benchmark::State& state) {
  RawRobustMutexContended(state);
}
BENCHMARK(BM_RawRobustMutexContended)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_RawRobustMutexContendedHogged(benchmark::State& state) {
  Hog hog;
  RawRobustMutexContended(state);
}
BENCHMARK(BM_RawRobustMutexContendedHogged)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void IncrementUnderLock(mp::Lock lock, int64_t counter_address) {
  auto* counter = reinterpret_cast<volatile int64_t*>(counter_address);
  for (int i = 0; i < kIncrements; ++i) {
    (void)lock.Acquire();
    *counter = *counter + 1;
    (void)lock.Release();
  }
}

void MpLockContended(benchmark::State& state) {
  auto lock = mp::Lock::Create();
  Check(lock.ok(), "Lock");
  // The counter lives in a shared mapping the fork children inherit.
  void* shared = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  Check(shared != MAP_FAILED, "mmap");
  for (auto _ : state) {
    std::vector<mp::Process> ps;
    for (int i = 0; i < 2; ++i) {
      ps.emplace_back(IncrementUnderLock, *lock,
                      reinterpret_cast<int64_t>(shared));
      Check(ps.back().SetStartMethod(mp::StartMethod::kFork).ok() &&
                ps.back().Start().ok(),
            "start incrementer");
    }
    for (mp::Process& p : ps) Check(p.Join().ok(), "join");
  }
  state.SetItemsProcessed(state.iterations() * 2 * kIncrements);
  munmap(shared, 4096);
}

void BM_MpLockContended(benchmark::State& state) { MpLockContended(state); }
BENCHMARK(BM_MpLockContended)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_MpLockContendedHogged(benchmark::State& state) {
  Hog hog;
  MpLockContended(state);
}
BENCHMARK(BM_MpLockContendedHogged)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// --- Pool
// ---------------------------------------------------------------------
//
// Two workers and the trivial f(x) = x + 1, as python_bench.py's pool rows.
// The pool is created before the timed loop, as Python's is.

int AddOne(int x) { return x + 1; }

mp::Pool MakePool(mp::StartMethod method, int workers) {
  mp::Pool::Options o;
  o.workers = workers;
  o.start_method = method;
  absl::StatusOr<mp::Pool> pool = mp::Pool::Create(o);
  Check(pool.ok(), "Pool::Create");
  return *std::move(pool);
}

// Python: [pool.apply_async(f, (i,)) for i in ...], then get() each.
void BM_MpPoolSubmitGet(benchmark::State& state) {
  constexpr int kTasks = 20000;
  mp::Pool pool = MakePool(mp::StartMethod::kFork, 2);
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
BENCHMARK(BM_MpPoolSubmitGet)->UseRealTime()->Unit(benchmark::kMillisecond);

// Python: pool.map(f, range(n), chunksize) (0: the default chunksize).
void BM_MpPoolMap(benchmark::State& state) {
  const size_t chunksize = static_cast<size_t>(state.range(0));
  const int n = static_cast<int>(state.range(1));
  mp::Pool pool = MakePool(mp::StartMethod::kFork, 2);
  std::vector<int> in(n);
  for (int i = 0; i < n; ++i) in[i] = i;
  for (auto _ : state) {
    absl::StatusOr<std::vector<int>> out = pool.Map(AddOne, in, chunksize);
    Check(out.ok() && out->size() == in.size(), "Pool::Map");
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_MpPoolMap)
    ->Args({1, 20000})
    ->Args({0, 1000000})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// One task at a time: the round trip to a worker and back.
void BM_MpPoolRoundTrip(benchmark::State& state) {
  mp::Pool pool = MakePool(mp::StartMethod::kFork, 2);
  for (auto _ : state) {
    Check(pool.Submit(AddOne, 1).Get().ok(), "round trip");
  }
}
BENCHMARK(BM_MpPoolRoundTrip)->UseRealTime()->Unit(benchmark::kMicrosecond);

void ExitWorker() { mp::Exit(0); }

// The cost of a worker's death: a task that ends its worker (its future
// fails WorkerDied) and the next task, which waits for the replacement.
// Arg 0: fork, 1: spawn.
void BM_MpPoolWorkerDeath(benchmark::State& state) {
  const mp::StartMethod method =
      state.range(0) == 0 ? mp::StartMethod::kFork : mp::StartMethod::kSpawn;
  mp::Pool pool = MakePool(method, 1);
  for (auto _ : state) {
    Check(mp::IsWorkerDied(pool.Submit(ExitWorker).Get()), "WorkerDied");
    Check(pool.Submit(AddOne, 1).Get().ok(), "replacement");
  }
}
BENCHMARK(BM_MpPoolWorkerDeath)->Arg(0)->Arg(1)->UseRealTime();

// --- Shared memory -----------------------------------------------------------

constexpr size_t kFillBytes = size_t{64} << 20;
// Fills timed per child, after one untimed fill that maps the pages in.
constexpr int kFillsPerChild = 16;
constexpr int kFetchAdds = 1 << 20;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Fills `a` kFillsPerChild + 1 times, with memset (`copy` false) or with
// memcpy from a buffer of its own, and stores the time of the last
// kFillsPerChild fills in `ns`.
void FillInChild(mp::Array<uint8_t> a, mp::Value<int64_t> ns, bool copy) {
  std::vector<uint8_t> source(copy ? a.size() : 0, 0x5a);
  int64_t start = 0;
  for (int i = 0; i <= kFillsPerChild; ++i) {
    if (i == 1) start = NowNs();
    if (copy) {
      std::memcpy(a.data(), source.data(), a.size());
    } else {
      std::memset(a.data(), i, a.size());
    }
    benchmark::ClobberMemory();
  }
  ns.Store(NowNs() - start);
}

// A child fills a 64 MiB Array (arg 0: memset, 1: memcpy); manual time is
// the child's own time for the fills, so process start is not counted.
void BM_MpArrayFillByChild(benchmark::State& state) {
  const bool copy = state.range(0) != 0;
  auto a = mp::Array<uint8_t>::Create(kFillBytes);
  auto ns = mp::Value<int64_t>::Create(0, false);
  Check(a.ok() && ns.ok(), "Array");
  for (auto _ : state) {
    mp::Process p(FillInChild, *a, *ns, copy);
    Check(p.SetStartMethod(mp::StartMethod::kFork).ok() && p.Start().ok() &&
              p.Join().ok() && p.ExitCode() == 0,
          "filler");
    state.SetIterationTime(ns->Load() * 1e-9 / kFillsPerChild);
  }
  state.SetBytesProcessed(state.iterations() * kFillBytes);
}
BENCHMARK(BM_MpArrayFillByChild)->Arg(0)->Arg(1)->UseManualTime();

// The same fills of private memory in this process. The buffer is
// page-aligned, as an Array's data() is, and the source a std::vector in
// both: memcpy's speed depends on the two addresses' offset from each other.
void BM_RawFill(benchmark::State& state) {
  const bool copy = state.range(0) != 0;
  void* p = mmap(nullptr, kFillBytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  Check(p != MAP_FAILED, "mmap");
  auto* buffer = static_cast<uint8_t*>(p);
  std::memset(buffer, 1, kFillBytes);
  std::vector<uint8_t> source(copy ? kFillBytes : 0, 0x5a);
  int i = 0;
  for (auto _ : state) {
    if (copy) {
      std::memcpy(buffer, source.data(), kFillBytes);
    } else {
      std::memset(buffer, ++i, kFillBytes);
    }
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kFillBytes);
  munmap(p, kFillBytes);
}
BENCHMARK(BM_RawFill)->Arg(0)->Arg(1)->UseRealTime();

void AddInChild(mp::Value<int64_t> v) {
  for (int i = 0; i < kFetchAdds; ++i) v.FetchAdd(1);
}

// Two processes each FetchAdd 1 kFetchAdds times on one Value.
void BM_MpValueFetchAddContended(benchmark::State& state) {
  auto v = mp::Value<int64_t>::Create(0, false);
  Check(v.ok(), "Value");
  for (auto _ : state) {
    std::vector<mp::Process> ps;
    for (int i = 0; i < 2; ++i) {
      ps.emplace_back(AddInChild, *v);
      Check(ps.back().SetStartMethod(mp::StartMethod::kFork).ok() &&
                ps.back().Start().ok(),
            "start adder");
    }
    for (mp::Process& p : ps) Check(p.Join().ok(), "join");
  }
  state.SetItemsProcessed(state.iterations() * 2 * kFetchAdds);
}
BENCHMARK(BM_MpValueFetchAddContended)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The same on a raw std::atomic in an anonymous shared mapping, with raw
// fork children.
void BM_RawAtomicFetchAddContended(benchmark::State& state) {
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  Check(p != MAP_FAILED, "mmap");
  auto* counter = new (p) std::atomic<int64_t>(0);
  for (auto _ : state) {
    pid_t pids[2];
    for (pid_t& pid : pids) {
      pid = fork();
      if (pid == 0) {
        for (int i = 0; i < kFetchAdds; ++i) counter->fetch_add(1);
        _exit(0);
      }
    }
    for (pid_t pid : pids) waitpid(pid, nullptr, 0);
  }
  state.SetItemsProcessed(state.iterations() * 2 * kFetchAdds);
  munmap(p, 4096);
}
BENCHMARK(BM_RawAtomicFetchAddContended)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  // The raw spawn baseline's child: the same binary, doing nothing.
  if (argc > 1 && std::strcmp(argv[1], kRawExitFlag) == 0) _exit(0);
  mp::MainScope scope = mp::Init(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
