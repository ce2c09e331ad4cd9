// Copyright 2026 The mp Authors.
//
// A stopped holder of an object's internal lock (here: a thread that takes
// the monitor behind a Semaphore or an Event and keeps it, as a suspended
// process would) makes timed calls time out instead of hanging.

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "mp/codec.h"
#include "mp/internal/os.h"
#include "mp/sync.h"

namespace mp {
namespace {

// The monitor behind `object`, opened a second time.
template <typename T>
os::Monitor* MonitorOf(const T& object) {
  HandleList list;
  Encoder e(&list);
  Encode(e, object);
  EXPECT_TRUE(e.status().ok() && list.handles.size() == 1);
  absl::StatusOr<intptr_t> dup = os::DuplicateOsHandle(list.handles[0]);
  EXPECT_TRUE(dup.ok());
  absl::StatusOr<os::Monitor*> m = os::OpenMonitor(*dup);
  EXPECT_TRUE(m.ok());
  return *m;
}

// Holds `m` on a thread of its own until destroyed.
class StuckHolder {
 public:
  explicit StuckHolder(os::Monitor* m) : m_(m), thread_([this] { Run(); }) {
    while (!holding_.load()) std::this_thread::yield();
  }
  ~StuckHolder() {
    release_.store(true);
    thread_.join();
    os::CloseMonitor(m_);
  }

 private:
  void Run() {
    EXPECT_TRUE(os::MonitorLock(m_, internal::Deadline::Never()).ok());
    holding_.store(true);
    while (!release_.load()) absl::SleepFor(absl::Milliseconds(1));
    EXPECT_TRUE(os::MonitorUnlock(m_).ok());
  }
  os::Monitor* m_;
  std::atomic<bool> holding_{false}, release_{false};
  std::thread thread_;
};

TEST(InternalLockTest, SemaphoreAcquireTimesOutBehindAStuckHolder) {
  absl::StatusOr<Semaphore> sem = Semaphore::Create(1);
  ASSERT_TRUE(sem.ok());
  {
    StuckHolder stuck(MonitorOf(*sem));
    const absl::Time start = absl::Now();
    EXPECT_TRUE(absl::IsDeadlineExceeded(sem->Acquire(absl::Milliseconds(20))));
    // At least the 100 ms every internal lock is given, and far less than
    // for ever.
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
    EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  }
  EXPECT_TRUE(sem->Acquire(absl::ZeroDuration()).ok());  // free again
}

TEST(InternalLockTest, EventWaitTimesOutBehindAStuckHolder) {
  absl::StatusOr<Event> event = Event::Create();
  ASSERT_TRUE(event.ok());
  ASSERT_TRUE(event->Set().ok());
  {
    StuckHolder stuck(MonitorOf(*event));
    const absl::Time start = absl::Now();
    EXPECT_TRUE(absl::IsDeadlineExceeded(event->Wait(absl::ZeroDuration())));
    EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  }
  EXPECT_TRUE(event->Wait(absl::ZeroDuration()).ok());
}

}  // namespace
}  // namespace mp
