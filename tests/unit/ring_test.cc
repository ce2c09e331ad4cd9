// Copyright 2026 The mp Authors.
//
// The ring (mp/internal/ring.h) on its own: records whole and in order
// across the wrap, waits and their deadlines, the abort reserve, the item
// counts, corrupt shared memory, and a consumer that parks to sleep
// elsewhere. The Queue's and the Pool's conformance cases cover it across
// processes; this covers the edges one by one.

#include "mp/internal/ring.h"

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"

#if MP_OS_WINDOWS
#include <windows.h>
#endif

namespace mp {
namespace internal {
namespace {

constexpr size_t kSmall = 4096;
const absl::Duration kPatience = absl::Seconds(30);

Deadline Soon() { return Deadline::After(absl::Milliseconds(50)); }

std::unique_ptr<Ring> MakeRing(size_t capacity = kSmall) {
  absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::Create(capacity, 0);
  EXPECT_TRUE(ring.ok()) << ring.status();
  return ring.ok() ? *std::move(ring) : nullptr;
}

absl::Status Send(Ring& ring, absl::string_view bytes, bool ends_item = true,
                  Deadline deadline = Deadline::Never()) {
  return ring.Send({bytes}, ends_item, /*abort=*/false, deadline);
}

std::string Recv(Ring& ring, Deadline deadline = Deadline::Never()) {
  std::string buffer(os::kMaxRecordBytes, '\0');
  absl::StatusOr<size_t> n = ring.Recv(&buffer[0], deadline);
  if (!n.ok()) return absl::StrCat("error: ", n.status().ToString());
  buffer.resize(*n);
  return buffer;
}

// The ring's memory, mapped a second time, to scribble on.
struct RawView {
  explicit RawView(const Ring& ring) {
    absl::StatusOr<intptr_t> dup = os::DuplicateOsHandle(ring.handle());
    EXPECT_TRUE(dup.ok());
    absl::StatusOr<os::SharedMemory*> m = os::OpenSharedMemory(*dup);
    EXPECT_TRUE(m.ok());
    memory = *m;
  }
  ~RawView() { os::CloseSharedMemory(memory); }
  char* bytes() { return static_cast<char*>(os::SharedMemoryData(memory)); }
  os::SharedMemory* memory;
};

// The bytes of `memory`'s mapping ahead of its data, which a peer mapping
// the same handle can write too: the backend's own header, where it keeps
// one in the shared memory (Win32: the memory's size and the names of its
// semaphores). POSIX and threads keep nothing there.
std::pair<char*, size_t> BackendHeader(os::SharedMemory* memory) {
#if MP_OS_WINDOWS
  char* data = static_cast<char*>(os::SharedMemoryData(memory));
  MEMORY_BASIC_INFORMATION info;
  if (VirtualQuery(data, &info, sizeof info) == 0) return {nullptr, 0};
  char* base = static_cast<char*>(info.AllocationBase);
  return {base, static_cast<size_t>(data - base)};
#else
  (void)memory;
  return {nullptr, 0};
#endif
}

TEST(RingTest, BadCapacityIsInvalidArgument) {
  for (size_t capacity :
       {size_t{0}, size_t{1000}, size_t{5000}, size_t{1} << 31}) {
    EXPECT_EQ(Ring::Create(capacity, 0).status().code(),
              absl::StatusCode::kInvalidArgument)
        << capacity;
  }
}

TEST(RingTest, RecordsArriveWholeAndInOrderAcrossTheWrap) {
  std::unique_ptr<Ring> ring = MakeRing();
  // Sizes that are not multiples of 8 move the wrap point around, so
  // records and their headers cross the end of the buffer at every offset.
  for (int i = 0; i < 2000; ++i) {
    const std::string record(static_cast<size_t>(i % 301),
                             static_cast<char>('a' + i % 26));
    ASSERT_TRUE(Send(*ring, record).ok()) << i;
    ASSERT_EQ(Recv(*ring), record) << i;
  }
  EXPECT_EQ(ring->Items(), 0);
}

TEST(RingTest, ItemsCountOnlyRecordsThatEndAnItem) {
  std::unique_ptr<Ring> ring = MakeRing();
  ASSERT_TRUE(Send(*ring, "first part", /*ends_item=*/false).ok());
  EXPECT_EQ(ring->Items(), 0);
  ASSERT_TRUE(Send(*ring, "last part", /*ends_item=*/true).ok());
  ASSERT_TRUE(Send(*ring, "whole", /*ends_item=*/true).ok());
  EXPECT_EQ(ring->Items(), 2);
  EXPECT_EQ(Recv(*ring), "first part");
  EXPECT_EQ(ring->Items(), 2);
  EXPECT_EQ(Recv(*ring), "last part");
  EXPECT_EQ(ring->Items(), 1);
  EXPECT_EQ(Recv(*ring), "whole");
  EXPECT_EQ(ring->Items(), 0);
}

TEST(RingTest, OversizedRecordIsRefusedAndNothingIsWritten) {
  std::unique_ptr<Ring> ring = MakeRing(size_t{1} << 20);
  const std::string big(os::kMaxRecordBytes + 1, 'x');
  EXPECT_EQ(Send(*ring, big).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ring->Items(), 0);
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      ring->Recv(&std::string(os::kMaxRecordBytes, '\0')[0], Soon()).status()));
}

TEST(RingTest, FullRingTimesOutWritingNothingButAnAbortStillFits) {
  std::unique_ptr<Ring> ring = MakeRing();
  const std::string record(120, 'r');  // 128 bytes with its header
  int sent = 0;
  while (Send(*ring, record, true, Deadline::Passed()).ok()) ++sent;
  // 4096 bytes hold 32 such records, less the room kept for an abort.
  EXPECT_EQ(sent, 31);
  // The last 128 bytes take 16-byte records until 16 bytes are left.
  int small = 0;
  while (Send(*ring, "s", true, Deadline::Passed()).ok()) ++small;
  EXPECT_EQ(small, 7);
  EXPECT_EQ(ring->Items(), 38);
  const absl::Time start = absl::Now();
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      Send(*ring, "x", true, Deadline::After(absl::Milliseconds(30)))));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(30));
  EXPECT_EQ(ring->Items(), 38);
  // An abort may take the last 16 bytes; a second one finds no room.
  EXPECT_TRUE(
      ring->Send({"A"}, false, /*abort=*/true, Deadline::Passed()).ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      ring->Send({"A"}, false, /*abort=*/true, Deadline::Passed())));
  for (int i = 0; i < sent; ++i) ASSERT_EQ(Recv(*ring), record) << i;
  for (int i = 0; i < small; ++i) ASSERT_EQ(Recv(*ring), "s") << i;
  EXPECT_EQ(Recv(*ring), "A");
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      ring->Recv(&std::string(os::kMaxRecordBytes, '\0')[0], Soon()).status()));
}

TEST(RingTest, RecvWaitsForASendAndSendForRoom) {
  std::unique_ptr<Ring> ring = MakeRing();
  // The consumer: waits (past its spinning, into the OS wait) for records
  // the producer sends only once the ring has been full.
  std::string received;
  std::thread consumer([&] {
    for (int i = 0; i < 100; ++i) {
      received += Recv(*ring, Deadline::After(kPatience)).substr(0, 1);
    }
  });
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(Send(*ring, std::string(1000, static_cast<char>('0' + i % 10)),
                     true, Deadline::After(kPatience))
                    .ok());
  }
  consumer.join();
  std::string expected;
  for (int i = 0; i < 100; ++i) expected += static_cast<char>('0' + i % 10);
  EXPECT_EQ(received, expected);
}

TEST(RingTest, ItemsBelowWaitsForTheConsumer) {
  std::unique_ptr<Ring> ring = MakeRing();
  ASSERT_TRUE(Send(*ring, "one").ok());
  ASSERT_TRUE(Send(*ring, "two").ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(ring->WaitForItemsBelow(2, Soon())));
  std::thread consumer([&] { EXPECT_EQ(Recv(*ring), "one"); });
  EXPECT_TRUE(ring->WaitForItemsBelow(2, Deadline::After(kPatience)).ok());
  consumer.join();
}

TEST(RingTest, UnfinishedCountsTaskDoneAndJoinWaits) {
  std::unique_ptr<Ring> ring = MakeRing();
  EXPECT_EQ(ring->TaskDone().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ring->WaitForNoneUnfinished(Deadline::Passed()).ok());
  ASSERT_TRUE(Send(*ring, "a").ok());
  ASSERT_TRUE(Send(*ring, "b", /*ends_item=*/false).ok());
  EXPECT_EQ(ring->Unfinished(), 1);
  EXPECT_TRUE(absl::IsDeadlineExceeded(ring->WaitForNoneUnfinished(Soon())));
  std::thread worker([&] { EXPECT_TRUE(ring->TaskDone().ok()); });
  EXPECT_TRUE(ring->WaitForNoneUnfinished(Deadline::After(kPatience)).ok());
  worker.join();
  EXPECT_EQ(ring->TaskDone().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RingTest, OpenSeesTheSameRingAndRefusesOtherMemory) {
  std::unique_ptr<Ring> ring = MakeRing();
  absl::StatusOr<intptr_t> dup = os::DuplicateOsHandle(ring->handle());
  ASSERT_TRUE(dup.ok());
  absl::StatusOr<std::unique_ptr<Ring>> other = Ring::Open(*dup);
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE(Send(*ring, "through the other mapping").ok());
  EXPECT_EQ(Recv(**other), "through the other mapping");

  absl::StatusOr<os::SharedMemory*> plain = os::CreateSharedMemory(kSmall);
  ASSERT_TRUE(plain.ok());
  absl::StatusOr<intptr_t> plain_dup =
      os::DuplicateOsHandle(os::SharedMemoryHandle(*plain));
  ASSERT_TRUE(plain_dup.ok());
  EXPECT_EQ(Ring::Open(*plain_dup).status().code(),
            absl::StatusCode::kInvalidArgument);
  os::CloseSharedMemory(*plain);
}

// A header that cannot be right, wherever it is: DataLoss, the unread
// records dropped, and the ring usable for the next ones.
TEST(RingTest, CorruptRecordHeaderIsDataLossAndTheRingRecovers) {
  std::unique_ptr<Ring> ring = MakeRing();
  RawView raw(*ring);
  ASSERT_TRUE(Send(*ring, "good").ok());
  EXPECT_EQ(Recv(*ring), "good");
  // The next record starts 16 bytes into the data, which follows the
  // header; find it by its payload.
  ASSERT_TRUE(Send(*ring, "victim").ok());
  ASSERT_TRUE(Send(*ring, "also unread").ok());
  char* bytes = raw.bytes();
  const size_t size = os::SharedMemorySize(raw.memory);
  char* victim = nullptr;
  for (size_t i = 0; i + 6 <= size; ++i) {
    if (std::memcmp(bytes + i, "victim", 6) == 0) victim = bytes + i;
  }
  ASSERT_NE(victim, nullptr);
  for (uint32_t bad_size : {uint32_t{1} << 30, uint32_t{4000}}) {
    std::memcpy(victim - 8, &bad_size, 4);
    const std::string got = Recv(*ring);
    EXPECT_NE(got.find("DATA_LOSS"), std::string::npos) << got;
    EXPECT_EQ(ring->Items(), 0);
    ASSERT_TRUE(Send(*ring, "after").ok());
    EXPECT_EQ(Recv(*ring), "after");
    ASSERT_TRUE(Send(*ring, "victim").ok());
    ASSERT_TRUE(Send(*ring, "also unread").ok());
    victim = nullptr;
    for (size_t i = 0; i + 6 <= size; ++i) {
      if (std::memcmp(bytes + i, "victim", 6) == 0) victim = bytes + i;
    }
    ASSERT_NE(victim, nullptr);
  }
  const uint32_t bad_flags = 0x80;
  std::memcpy(victim - 4, &bad_flags, 4);
  EXPECT_NE(Recv(*ring).find("DATA_LOSS"), std::string::npos);
}

// A peer flips every size that opening a ring reads from its memory — the
// ring's capacity, and the memory's own size where the backend keeps it in
// the shared memory — between the true value and 2 GiB or more, while this
// process opens the ring again and again. Each open must refuse the memory
// or see the true capacity: a ring larger than the memory under it would
// read and write out of bounds. Validating one read of a field and then
// using another lets the peer win this race.
TEST(RingTest, SizesFlippedByAPeerAreReadOnce) {
  constexpr int kOpens = 2000;
  std::unique_ptr<Ring> ring = MakeRing();
  RawView raw(*ring);
  const uint64_t memory_size = os::SharedMemorySize(raw.memory);
  // The ring's capacity: the one 32-bit word of its header (within the
  // first 64 bytes of the data) that holds it.
  std::vector<uint32_t*> capacities;
  for (size_t i = 0; i < 64; i += 4) {
    uint32_t value;
    std::memcpy(&value, raw.bytes() + i, sizeof value);
    if (value == kSmall) {
      capacities.push_back(reinterpret_cast<uint32_t*>(raw.bytes() + i));
    }
  }
  ASSERT_EQ(capacities.size(), 1u);
  // The memory's size, wherever the backend's header holds it.
  std::vector<uint64_t*> sizes;
  const std::pair<char*, size_t> header = BackendHeader(raw.memory);
  for (size_t i = 0; i + 8 <= header.second; i += 8) {
    uint64_t value;
    std::memcpy(&value, header.first + i, sizeof value);
    if (value == memory_size) {
      sizes.push_back(reinterpret_cast<uint64_t*>(header.first + i));
    }
  }
  auto set = [&](bool big) {
    for (uint32_t* c : capacities) {
      __atomic_store_n(c, big ? uint32_t{1} << 31 : uint32_t{kSmall},
                       __ATOMIC_RELAXED);
    }
    for (uint64_t* s : sizes) {
      __atomic_store_n(s, big ? uint64_t{1} << 32 : memory_size,
                       __ATOMIC_RELAXED);
    }
  };
  std::atomic<bool> stop{false};
  std::thread peer([&] {
    for (bool big = true; !stop.load(std::memory_order_relaxed); big = !big) {
      set(big);
    }
  });
  int opened = 0;
  int too_large = 0;
  for (int i = 0; i < kOpens; ++i) {
    absl::StatusOr<intptr_t> dup = os::DuplicateOsHandle(ring->handle());
    ASSERT_TRUE(dup.ok()) << dup.status();
    absl::StatusOr<std::unique_ptr<Ring>> other = Ring::Open(*dup);
    if (!other.ok()) continue;
    ++opened;
    if ((*other)->capacity() != kSmall) ++too_large;
  }
  stop.store(true);
  peer.join();
  set(false);
  EXPECT_EQ(too_large, 0) << "of " << opened << " opens out of " << kOpens;
  EXPECT_GT(opened, 0);  // the true capacity was seen, and accepted
  // The ring itself kept its own capacity all along.
  ASSERT_TRUE(Send(*ring, "after the flips").ok());
  EXPECT_EQ(Recv(*ring), "after the flips");
}

TEST(RingTest, TryRecvTakesWhatIsThereAndNeverWaits) {
  std::unique_ptr<Ring> ring = MakeRing();
  std::string buffer(os::kMaxRecordBytes, '\0');
  EXPECT_TRUE(absl::IsUnavailable(ring->TryRecv(&buffer[0]).status()));
  ASSERT_TRUE(Send(*ring, "one").ok());
  ASSERT_TRUE(Send(*ring, absl::string_view()).ok());  // null data()
  absl::StatusOr<size_t> n = ring->TryRecv(&buffer[0]);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(buffer.substr(0, *n), "one");
  n = ring->TryRecv(&buffer[0]);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0u);  // an empty record is a record
  EXPECT_TRUE(absl::IsUnavailable(ring->TryRecv(&buffer[0]).status()));
}

TEST(RingTest, ParkRefusesWhileARecordWaitsAndTakeParkedIsOncePerPark) {
  std::unique_ptr<Ring> ring = MakeRing();
  EXPECT_FALSE(ring->TakeParked());
  ASSERT_TRUE(ring->Park());
  EXPECT_TRUE(ring->TakeParked());
  EXPECT_FALSE(ring->TakeParked());  // one wakeup per sleep
  ASSERT_TRUE(Send(*ring, "x").ok());
  EXPECT_FALSE(ring->Park());  // a record is there: do not sleep
  EXPECT_FALSE(ring->TakeParked());
  EXPECT_EQ(Recv(*ring), "x");
  ASSERT_TRUE(ring->Park());
  ring->Unpark();
  EXPECT_FALSE(ring->TakeParked());  // woke by itself: nothing to send
}

// A consumer that sleeps elsewhere (here on a condition variable the
// producer signals when it takes the park mark) never misses a record: a
// producer and a consumer hand over records one by one, the consumer
// parking whenever the ring is empty. A lost wakeup leaves the consumer
// asleep with a record in the ring, and the bounded wait fails the case.
TEST(RingTest, ParkedConsumerIsNeverLeftAsleepWithARecord) {
  constexpr int kRecords = 20000;
  std::unique_ptr<Ring> ring = MakeRing();
  std::mutex mu;
  std::condition_variable cv;
  int wakeups = 0;  // guarded by mu
  std::thread producer([&] {
    for (int i = 0; i < kRecords; ++i) {
      ASSERT_TRUE(Send(*ring, absl::StrCat(i)).ok());
      if (ring->TakeParked()) {
        std::lock_guard<std::mutex> lock(mu);
        ++wakeups;
        cv.notify_one();
      }
    }
  });
  std::string buffer(os::kMaxRecordBytes, '\0');
  int seen = 0;
  int consumed_wakeups = 0;
  bool lost = false;
  while (seen < kRecords && !lost) {
    absl::StatusOr<size_t> n = ring->TryRecv(&buffer[0]);
    if (n.ok()) {
      ASSERT_EQ(buffer.substr(0, *n), absl::StrCat(seen));
      ++seen;
      continue;
    }
    ASSERT_TRUE(absl::IsUnavailable(n.status())) << n.status();
    if (!ring->Park()) continue;
    std::unique_lock<std::mutex> lock(mu);
    lost = !cv.wait_for(lock, absl::ToChronoSeconds(kPatience),
                        [&] { return wakeups > consumed_wakeups; });
    consumed_wakeups = wakeups;
    ring->Unpark();
  }
  producer.join();
  EXPECT_FALSE(lost) << "asleep with a record in the ring after " << seen;
  EXPECT_EQ(seen, kRecords);
}

// Both sides block often (a small ring, records of a few hundred bytes) and
// each wakeup is sent only once per sleep: a lost one leaves a side asleep
// and its bounded wait fails the case.
TEST(RingTest, BlockingHandOverNeverLosesAWakeup) {
  constexpr int kRecords = 50000;
  std::unique_ptr<Ring> ring = MakeRing();
  std::atomic<bool> producer_failed{false};
  std::thread producer([&] {
    for (int i = 0; i < kRecords; ++i) {
      const std::string record(100 + i % 300, static_cast<char>('a' + i % 26));
      if (!Send(*ring, record, true, Deadline::After(kPatience)).ok()) {
        producer_failed = true;
        return;
      }
    }
  });
  int seen = 0;
  for (; seen < kRecords; ++seen) {
    const std::string got = Recv(*ring, Deadline::After(kPatience));
    if (got !=
        std::string(100 + seen % 300, static_cast<char>('a' + seen % 26))) {
      ADD_FAILURE() << "record " << seen << ": " << got.substr(0, 40);
      break;
    }
  }
  producer.join();
  EXPECT_FALSE(producer_failed.load());
  EXPECT_EQ(seen, kRecords);
}

}  // namespace
}  // namespace internal
}  // namespace mp
