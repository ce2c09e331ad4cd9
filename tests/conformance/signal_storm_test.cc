// Copyright 2026 The mp Authors.
//
// A signal storm — SIGUSR1 to the waiting thread every 100 µs, with a
// handler installed without SA_RESTART so that every blocking system call
// is interrupted — causes no spurious error in Join, Acquire, Send, Recv, Put
// or Get, and timeouts still last at least as long as asked.
//
// Documented difference: Windows has no signals. Its asynchronous
// interruption is the APC, so there the storm queues an APC to the waiting
// thread at the same rate; mp's waits are not alertable, so the APCs must
// neither interrupt nor disturb them, and they run when the case drains
// them at the end. Same case, same assertions.

#if MP_OS_WINDOWS
#include <windows.h>
#else
#include <pthread.h>
#include <signal.h>
#endif

#include <atomic>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "mp/pipe.h"
#include "mp/process.h"
#include "mp/queue.h"
#include "mp/status.h"
#include "mp/sync.h"
#include "tests/conformance/backends.h"
#include "tests/conformance/helpers.h"

namespace mp {
namespace conformance {
namespace {

constexpr int kWrongResult = 91;
std::atomic<int> g_signals{0};

#if MP_OS_WINDOWS
void CALLBACK CountApc(ULONG_PTR) {
  g_signals.fetch_add(1, std::memory_order_relaxed);
}

// Queues an APC to the calling thread every 100 µs (as the timer allows)
// while alive; the destructor lets the queued APCs run.
class SignalStorm {
 public:
  SignalStorm() {
    DuplicateHandle(GetCurrentProcess(), GetCurrentThread(),
                    GetCurrentProcess(), &target_, 0, FALSE,
                    DUPLICATE_SAME_ACCESS);
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        QueueUserAPC(CountApc, target_, 0);
        absl::SleepFor(absl::Microseconds(100));
      }
    });
  }
  ~SignalStorm() {
    stop_.store(true);
    thread_.join();
    SleepEx(0, TRUE);  // an alertable moment: the queued APCs run now
    CloseHandle(target_);
  }

 private:
  HANDLE target_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};
#else
void CountSignal(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }

// Interrupts the calling thread with SIGUSR1 every 100 µs while alive.
class SignalStorm {
 public:
  SignalStorm() {
    struct sigaction sa = {};
    sa.sa_handler = CountSignal;  // no SA_RESTART: interrupt system calls
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &old_);
    const pthread_t target = pthread_self();
    thread_ = std::thread([this, target] {
      while (!stop_.load()) {
        pthread_kill(target, SIGUSR1);
        absl::SleepFor(absl::Microseconds(100));
      }
    });
  }
  ~SignalStorm() {
    stop_.store(true);
    thread_.join();
    sigaction(SIGUSR1, &old_, nullptr);
  }

 private:
  struct sigaction old_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};
#endif

void SleepThenExit() { absl::SleepFor(absl::Milliseconds(300)); }

void HoldBriefly(Lock lock, std::string marker) {
  if (!lock.Acquire().ok()) Exit(kWrongResult);
  WriteFileAtomically(marker, "held");
  absl::SleepFor(absl::Milliseconds(300));
  if (!lock.Release().ok()) Exit(kWrongResult);
}

void SendLate(Connection c) {
  absl::SleepFor(absl::Milliseconds(300));
  if (!c.SendBytes("late").ok()) Exit(kWrongResult);
}

void PutLate(Queue q) {
  absl::SleepFor(absl::Milliseconds(300));
  if (!q.Put(7).ok()) Exit(kWrongResult);
}

// Big enough that sending it blocks many times on a full channel.
constexpr size_t kBigMessage = size_t{8} << 20;

// Starts reading late, so that the parent is blocked in Send or Put;
// answers with the size it received.
void ReceiveBigLate(Connection c) {
  absl::SleepFor(absl::Milliseconds(100));
  absl::StatusOr<std::string> m = c.RecvBytes();
  if (!m.ok() || m->size() != kBigMessage) Exit(kWrongResult);
  if (!c.Send(static_cast<int64_t>(m->size())).ok()) Exit(kWrongResult);
}

void GetBigLate(Queue q, Queue answers) {
  absl::SleepFor(absl::Milliseconds(100));
  absl::StatusOr<std::string> item = q.GetBytes();
  if (!item.ok() || item->size() != kBigMessage) Exit(kWrongResult);
  if (!answers.Put(static_cast<int64_t>(item->size())).ok()) {
    Exit(kWrongResult);
  }
}

template <typename B>
class SignalStormTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(SignalStormTest);

TYPED_TEST_P(SignalStormTest, NoSpuriousErrors) {
  absl::StatusOr<Lock> lock = Lock::Create();
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe();
  absl::StatusOr<Queue> queue = Queue::Create();
  ASSERT_TRUE(lock.ok() && pipe.ok() && queue.ok());
  const std::string marker = TempPath("held");
  g_signals.store(0);
  {
    SignalStorm storm;

    Process sleeper = MakeProcess<TypeParam>(SleepThenExit);
    ASSERT_TRUE(sleeper.Start().ok());
    EXPECT_TRUE(sleeper.Join().ok());
    EXPECT_EQ(sleeper.ExitCode(), 0);

    Process holder = MakeProcess<TypeParam>(HoldBriefly, *lock, marker);
    ASSERT_TRUE(holder.Start().ok());
    ASSERT_TRUE(WaitForFile(marker, kPatience).has_value());
    absl::Time before = absl::Now();
    EXPECT_TRUE(
        absl::IsDeadlineExceeded(lock->Acquire(absl::Milliseconds(50))));
    EXPECT_GE(absl::Now() - before, absl::Milliseconds(50));
    EXPECT_TRUE(lock->Acquire().ok());
    EXPECT_TRUE(lock->Release().ok());
    EXPECT_TRUE(holder.Join().ok());

    Process sender = MakeProcess<TypeParam>(SendLate, pipe->second);
    ASSERT_TRUE(sender.Start().ok());
    before = absl::Now();
    EXPECT_TRUE(absl::IsDeadlineExceeded(
        pipe->first.RecvBytes(absl::Milliseconds(50)).status()));
    EXPECT_GE(absl::Now() - before, absl::Milliseconds(50));
    EXPECT_EQ(pipe->first.RecvBytes().value_or(""), "late");
    EXPECT_TRUE(sender.Join().ok());

    Process putter = MakeProcess<TypeParam>(PutLate, *queue);
    ASSERT_TRUE(putter.Start().ok());
    before = absl::Now();
    EXPECT_TRUE(IsEmpty(queue->Get<int>(absl::Milliseconds(50)).status()));
    EXPECT_GE(absl::Now() - before, absl::Milliseconds(50));
    EXPECT_EQ(queue->Get<int>().value_or(0), 7);
    EXPECT_TRUE(putter.Join().ok());

    // Send and Put blocked on a full channel while the signals arrive.
    const std::string big(kBigMessage, 'b');
    Process receiver = MakeProcess<TypeParam>(ReceiveBigLate, pipe->second);
    ASSERT_TRUE(receiver.Start().ok());
    EXPECT_TRUE(pipe->first.SendBytes(big).ok());
    EXPECT_EQ(pipe->first.Recv<int64_t>(kPatience).value_or(0),
              static_cast<int64_t>(kBigMessage));
    EXPECT_TRUE(receiver.Join().ok());
    EXPECT_EQ(receiver.ExitCode(), 0);

    absl::StatusOr<Queue> answers = Queue::Create();
    ASSERT_TRUE(answers.ok());
    Process getter = MakeProcess<TypeParam>(GetBigLate, *queue, *answers);
    ASSERT_TRUE(getter.Start().ok());
    EXPECT_TRUE(queue->PutBytes(big).ok());
    EXPECT_EQ(answers->Get<int64_t>(kPatience).value_or(0),
              static_cast<int64_t>(kBigMessage));
    EXPECT_TRUE(getter.Join().ok());
    EXPECT_EQ(getter.ExitCode(), 0);
  }  // the storm ends (on Windows its queued APCs run here)
  EXPECT_GT(g_signals.load(), 100) << "the storm did not happen";
}

REGISTER_TYPED_TEST_SUITE_P(SignalStormTest, NoSpuriousErrors);
INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, SignalStormTest, Backends,
                               BackendName);

}  // namespace
}  // namespace conformance
}  // namespace mp
