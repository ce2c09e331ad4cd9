// Copyright 2026 The mp Authors.
//
// The Win32 rows of the benchmark table, run under Wine by
// tools/bench/run.py: mp's Win32 backend beside the raw calls in the same
// binary — spawn start+join against CreateProcessW of this same .exe, Pipe
// round trip against a raw named pipe, an uncontended Lock against a raw
// interlocked compare-exchange acquire and exchange release of a word,
// Queue (1 producer, 1 consumer), and the wake-up of mp::Wait on a pipe
// against WaitForSingleObject on an event.
// Wine turns every kernel-object call into a round trip to wineserver, so
// these figures say how mp compares to the raw calls under Wine, not how
// fast Windows is.
//
// This binary is also its own raw child: `--raw-exit` returns at once and
// `--raw-echo NAME` echoes 8-byte messages over the named pipe NAME.

// clang-format off
#include <windows.h>
// clang-format on

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "benchmark/benchmark.h"
#include "mp/init.h"
#include "mp/pipe.h"
#include "mp/process.h"
#include "mp/queue.h"
#include "mp/sync.h"

namespace {

constexpr int kQueueItems = 100000;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "win32_bench: %s failed (%lu)\n", what,
                 GetLastError());
    std::exit(1);
  }
}

std::wstring SelfExe() {
  wchar_t path[MAX_PATH];
  const DWORD n = GetModuleFileNameW(nullptr, path, MAX_PATH);
  Check(n > 0 && n < MAX_PATH, "GetModuleFileNameW");
  return std::wstring(path, n);
}

// Starts this .exe with `args`, inheriting nothing.
PROCESS_INFORMATION RawStart(const std::wstring& args) {
  const std::wstring exe = SelfExe();
  std::wstring cmd = L"\"" + exe + L"\" " + args;
  STARTUPINFOW si{};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi{};
  Check(CreateProcessW(exe.c_str(), &cmd[0], nullptr, nullptr, FALSE, 0,
                       nullptr, nullptr, &si, &pi),
        "CreateProcessW");
  return pi;
}

void Finish(PROCESS_INFORMATION& pi) {
  WaitForSingleObject(pi.hProcess, INFINITE);
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
}

void Noop() {}

// --- Start and join
// -----------------------------------------------------------

void BM_Win32RawCreateProcess(benchmark::State& state) {
  for (auto _ : state) {
    PROCESS_INFORMATION pi = RawStart(L"--raw-exit");
    Finish(pi);
  }
}
BENCHMARK(BM_Win32RawCreateProcess)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_Win32MpSpawnStartJoin(benchmark::State& state) {
  for (auto _ : state) {
    mp::Process p(Noop);
    Check(p.Start().ok(), "Start");
    Check(p.Join().ok(), "Join");
  }
}
BENCHMARK(BM_Win32MpSpawnStartJoin)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// --- Pipe round trip, 8 bytes
// --------------------------------------------------

int RawEcho(const wchar_t* name) {
  HANDLE h = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                         OPEN_EXISTING, 0, nullptr);
  if (h == INVALID_HANDLE_VALUE) return 1;
  char buf[8];
  DWORD n = 0;
  while (ReadFile(h, buf, sizeof buf, &n, nullptr) && n == sizeof buf) {
    DWORD written = 0;
    if (!WriteFile(h, buf, n, &written, nullptr)) break;
  }
  CloseHandle(h);
  return 0;
}

void BM_Win32RawNamedPipeRtt8(benchmark::State& state) {
  const std::wstring name =
      L"\\\\.\\pipe\\mp-bench-" + std::to_wstring(GetCurrentProcessId());
  HANDLE server =
      CreateNamedPipeW(name.c_str(), PIPE_ACCESS_DUPLEX,
                       PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, 1, 4096,
                       4096, 0, nullptr);
  Check(server != INVALID_HANDLE_VALUE, "CreateNamedPipeW");
  PROCESS_INFORMATION pi = RawStart(L"--raw-echo " + name);
  Check(ConnectNamedPipe(server, nullptr) ||
            GetLastError() == ERROR_PIPE_CONNECTED,
        "ConnectNamedPipe");
  char buf[8] = "ping";
  for (auto _ : state) {
    DWORD n = 0;
    Check(WriteFile(server, buf, sizeof buf, &n, nullptr), "WriteFile");
    Check(ReadFile(server, buf, sizeof buf, &n, nullptr) && n == sizeof buf,
          "ReadFile");
  }
  CloseHandle(server);
  Finish(pi);
}
BENCHMARK(BM_Win32RawNamedPipeRtt8)->UseRealTime();

void MpEcho(mp::Connection c) {
  for (;;) {
    absl::StatusOr<std::string> m = c.RecvBytes();
    if (!m.ok() || !c.SendBytes(*m).ok()) return;
  }
}

void BM_Win32MpPipeRtt8(benchmark::State& state) {
  auto pipe = mp::Pipe();
  Check(pipe.ok(), "Pipe");
  mp::Process echo(MpEcho, pipe->second);
  echo.CloseAfterStart(pipe->second);
  Check(echo.Start().ok(), "start echo");
  const std::string ping(8, 'p');
  for (auto _ : state) {
    Check(pipe->first.SendBytes(ping).ok(), "send");
    Check(pipe->first.RecvBytes().ok(), "recv");
  }
  (void)pipe->first.Close();
  (void)echo.Join();
}
BENCHMARK(BM_Win32MpPipeRtt8)->UseRealTime();

// --- Lock, uncontended acquire + release
// ----------------------------------------------

void BM_Win32RawInterlockedLock(benchmark::State& state) {
  // The least a lock word can cost: a compare-exchange to take it and an
  // exchange to give it back, each a full barrier, as a lock's are.
  alignas(64) static volatile LONG word = 0;
  const LONG me = static_cast<LONG>(GetCurrentThreadId());
  for (auto _ : state) {
    if (InterlockedCompareExchange(&word, me, 0) != 0) std::abort();
    InterlockedExchange(&word, 0);
  }
}
BENCHMARK(BM_Win32RawInterlockedLock);

void BM_Win32MpLockUncontended(benchmark::State& state) {
  auto lock = mp::Lock::Create();
  Check(lock.ok(), "Lock");
  for (auto _ : state) {
    (void)lock->Acquire();
    (void)lock->Release();
  }
}
BENCHMARK(BM_Win32MpLockUncontended);
// --- Wake-up of a waiting thread: mp::Wait on a pipe, WaitForSingleObject
// on an event. Two threads of this process play ping-pong, each waking the
// other once per iteration: an iteration is two wake-ups.

void BM_Win32RawEventWake(benchmark::State& state) {
  HANDLE ping = CreateEventW(nullptr, FALSE, FALSE, nullptr);  // auto-reset
  HANDLE pong = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  Check(ping != nullptr && pong != nullptr, "CreateEventW");
  std::atomic<bool> stop{false};
  std::thread peer([&] {
    for (;;) {
      Check(WaitForSingleObject(ping, INFINITE) == WAIT_OBJECT_0, "wait ping");
      if (stop) return;
      Check(SetEvent(pong), "SetEvent pong");
    }
  });
  for (auto _ : state) {
    Check(SetEvent(ping), "SetEvent ping");
    Check(WaitForSingleObject(pong, INFINITE) == WAIT_OBJECT_0, "wait pong");
  }
  stop = true;
  SetEvent(ping);
  peer.join();
  CloseHandle(ping);
  CloseHandle(pong);
}
BENCHMARK(BM_Win32RawEventWake)->UseRealTime();

// Each side waits with mp::Wait, then receives and answers: the peer's
// send is what wakes it.
void BM_Win32MpWaitWake(benchmark::State& state) {
  auto pipe = mp::Pipe();
  Check(pipe.ok(), "Pipe");
  mp::Connection& mine = pipe->first;
  mp::Connection& theirs = pipe->second;
  std::thread peer([&] {
    for (;;) {
      Check(mp::Wait({&theirs}, {}).ok(), "peer Wait");
      absl::StatusOr<std::string> m = theirs.RecvBytes();
      if (!m.ok()) return;  // end of file: the benchmark is over
      Check(theirs.SendBytes(*m).ok(), "peer send");
    }
  });
  const std::string ping(8, 'p');
  for (auto _ : state) {
    Check(mine.SendBytes(ping).ok(), "send");
    absl::StatusOr<std::vector<size_t>> ready = mp::Wait({&mine}, {});
    Check(ready.ok() && ready->size() == 1, "Wait");
    Check(mine.RecvBytes().ok(), "recv");
  }
  (void)mine.Close();
  peer.join();
}
BENCHMARK(BM_Win32MpWaitWake)->UseRealTime();

// --- Queue, 1 producer / 1 consumer
// -------------------------------------------

void ProduceInts(mp::Queue q, int n) {
  for (int i = 0; i < n; ++i) {
    if (!q.Put(i).ok()) mp::Exit(1);
  }
}

void BM_Win32MpQueue(benchmark::State& state) {
  for (auto _ : state) {
    auto q = mp::Queue::Create();
    Check(q.ok(), "Queue");
    mp::Process producer(ProduceInts, *q, kQueueItems);
    Check(producer.Start().ok(), "start producer");
    // Timed from the first item on: starting the producer costs ~50 ms
    // under Wine (the spawn row), which would otherwise be most of the
    // figure (on Linux a start is a fraction of a millisecond).
    Check(q->Get<int>().ok(), "get");
    const auto start = std::chrono::steady_clock::now();
    for (int i = 1; i < kQueueItems; ++i) Check(q->Get<int>().ok(), "get");
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
    Check(producer.Join().ok(), "join");
  }
  state.SetItemsProcessed(state.iterations() * (kQueueItems - 1));
}
BENCHMARK(BM_Win32MpQueue)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--raw-exit") == 0) return 0;
  if (argc > 2 && std::strcmp(argv[1], "--raw-echo") == 0) {
    const std::string name = argv[2];
    return RawEcho(std::wstring(name.begin(), name.end()).c_str());
  }
  mp::MainScope scope = mp::Init(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
