// Copyright 2026 The mp Authors.
//
// Queue, JoinableQueue and SimpleQueue conformance across real processes.

#include "mp/queue.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "mp/internal/framing.h"
#include "mp/process.h"
#include "mp/status.h"
#include "mp/sync.h"
#include "tests/conformance/backends.h"
#include "tests/conformance/helpers.h"

namespace mp {
namespace conformance {
namespace {

constexpr int kWrongResult = 91;
constexpr int kProducers = 4;
constexpr int kConsumers = 3;
constexpr int kItems = 100000;  // in all
constexpr int kPerProducer = kItems / kProducers;

// An item: (producer, sequence number).
using Item = std::pair<int32_t, int32_t>;

void Produce(Queue q, int32_t producer) {
  for (int32_t i = 0; i < kPerProducer; ++i) {
    if (!q.Put(Item{producer, i}).ok()) Exit(kWrongResult);
  }
}

// Takes items until a stop item (-1, -1). Checks FIFO per producer and
// reports, per producer, the count, sum and sum of squares of sequence
// numbers it saw: duplicates or losses cannot keep all three right.
void Consume(Queue q, Queue results) {
  std::vector<int32_t> last(kProducers, -1);
  std::vector<int64_t> count(kProducers), sum(kProducers), squares(kProducers);
  for (;;) {
    absl::StatusOr<Item> item = q.Get<Item>(kPatience);
    if (!item.ok()) Exit(kWrongResult);
    if (item->first == -1) break;
    const int p = item->first;
    if (p < 0 || p >= kProducers || item->second <= last[p]) {
      Exit(kWrongResult + 1);  // out of order or nonsense
    }
    last[p] = item->second;
    ++count[p];
    sum[p] += item->second;
    squares[p] += int64_t{item->second} * item->second;
  }
  if (!results.Put(std::make_tuple(count, sum, squares)).ok()) {
    Exit(kWrongResult);
  }
}

void PutAfterDelay(Queue q, std::string text) {
  absl::SleepFor(absl::Milliseconds(200));
  if (!q.Put(text).ok()) Exit(kWrongResult);
}

// Puts 1 MiB items with a recognisable pattern, forever; the test kills it,
// typically while it is blocked in the middle of an item.
void PutBigItemsForever(Queue q, std::string marker) {
  WriteFileAtomically(marker, "started");
  for (int32_t n = 0;; ++n) {
    std::string item(1 << 20, static_cast<char>('a' + n % 26));
    std::memcpy(&item[0], &n, sizeof n);
    if (!q.PutBytes(item).ok()) Exit(kWrongResult);
  }
}

// Takes items and marks each done.
void WorkAndMarkDone(JoinableQueue q, int n) {
  for (int i = 0; i < n; ++i) {
    if (!q.Get<int>(kPatience).ok() || !q.TaskDone().ok()) {
      Exit(kWrongResult);
    }
  }
}

// Items of the thousand-kill case: four records long (records carry at
// most 64 KiB), so a kill often lands between two records of one item.
constexpr size_t kTaggedItemSize = 200 * 1024;

// Puts items tagged (round, n) and filled with a byte derived from both,
// until killed.
void PutTaggedItemsForever(Queue q, int32_t round) {
  std::string item(kTaggedItemSize, '\0');
  for (int32_t n = 0;; ++n) {
    std::memcpy(&item[0], &round, sizeof round);
    std::memcpy(&item[4], &n, sizeof n);
    std::fill(item.begin() + 8, item.end(),
              static_cast<char>('a' + (round + n) % 26));
    if (!q.PutBytes(item).ok()) Exit(kWrongResult);
  }
}

// The round of a tagged item, or -1000 if it is torn or corrupt.
int32_t RoundOfWholeItem(const std::string& item) {
  if (item.size() != kTaggedItemSize) return -1000;
  int32_t round, n;
  std::memcpy(&round, &item[0], sizeof round);
  std::memcpy(&n, &item[4], sizeof n);
  const char fill = static_cast<char>('a' + (round + n) % 26);
  if (std::count(item.begin() + 8, item.end(), fill) !=
      static_cast<long>(kTaggedItemSize - 8)) {
    return -1000;
  }
  return round;
}

// Takes items for ever, announcing the first; the test kills it, typically
// in the middle of copying out a 1 MiB item.
void GetItemsForever(Queue q, std::string marker) {
  bool announced = false;
  for (;;) {
    if (!q.GetBytes(kPatience).ok()) Exit(kWrongResult);
    if (!announced) WriteFileAtomically(marker, "took one");
    announced = true;
  }
}

// Puts three items, then holds on until released (or killed).
void PutThreeThenHold(Queue q, Event release) {
  for (int i = 0; i < 3; ++i) {
    if (!q.Put(i).ok()) Exit(kWrongResult);
  }
  WaitForRelease(release);
}

// Puts `rounds` three-record items numbered 0, 1, ..., each stopping after
// its first record until the consumer says go; releases `put` after each
// Put has returned.
void PutItemsStallingMidItem(Queue q, Semaphore stalled, Semaphore go,
                             Semaphore put, int32_t rounds) {
  for (int32_t n = 0; n < rounds; ++n) {
    StallNextMessageAfterFirstRecord(stalled, go);
    if (!q.PutBytes(NumberedMessage(n, kThreeRecords)).ok() ||
        !put.Release().ok()) {
      Exit(kWrongResult);
    }
  }
}

template <typename B>
class QueueTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(QueueTest);

TYPED_TEST_P(QueueTest, FourProducersThreeConsumersLoseNothing) {
  absl::StatusOr<Queue> q = Queue::Create();
  absl::StatusOr<Queue> results = Queue::Create();
  ASSERT_TRUE(q.ok() && results.ok());
  std::vector<Process> producers, consumers;
  for (int i = 0; i < kConsumers; ++i) {
    consumers.push_back(MakeProcess<TypeParam>(Consume, *q, *results));
    ASSERT_TRUE(consumers.back().Start().ok());
  }
  for (int32_t i = 0; i < kProducers; ++i) {
    producers.push_back(MakeProcess<TypeParam>(Produce, *q, i));
    ASSERT_TRUE(producers.back().Start().ok());
  }
  // The bound is for a hang, not for speed.
  constexpr absl::Duration kWorkload = absl::Seconds(120);
  for (Process& p : producers) EXPECT_EQ(JoinCode(p, kWorkload), 0);
  for (int i = 0; i < kConsumers; ++i) ASSERT_TRUE(q->Put(Item{-1, -1}).ok());
  std::vector<int64_t> count(kProducers), sum(kProducers), squares(kProducers);
  for (int i = 0; i < kConsumers; ++i) {
    using Report = std::tuple<std::vector<int64_t>, std::vector<int64_t>,
                              std::vector<int64_t>>;
    absl::StatusOr<Report> r = results->Get<Report>(kWorkload);
    ASSERT_TRUE(r.ok()) << r.status();
    for (int p = 0; p < kProducers; ++p) {
      count[p] += std::get<0>(*r)[p];
      sum[p] += std::get<1>(*r)[p];
      squares[p] += std::get<2>(*r)[p];
    }
  }
  for (Process& c : consumers) EXPECT_EQ(JoinCode(c, kWorkload), 0);
  int64_t want_sum = 0, want_squares = 0;
  for (int64_t i = 0; i < kPerProducer; ++i) {
    want_sum += i;
    want_squares += i * i;
  }
  for (int p = 0; p < kProducers; ++p) {
    EXPECT_EQ(count[p], kPerProducer) << "producer " << p;
    EXPECT_EQ(sum[p], want_sum) << "producer " << p;
    EXPECT_EQ(squares[p], want_squares) << "producer " << p;
  }
  EXPECT_EQ(q->QSize().value_or(-1), 0);
}

TYPED_TEST_P(QueueTest, FullAndEmptyAreDistinctAndTimeoutsWait) {
  absl::StatusOr<Queue> q = Queue::Create(2);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->maxsize(), 2);
  EXPECT_TRUE(IsEmpty(q->GetNoWait<int>().status()));
  absl::Time before = absl::Now();
  EXPECT_TRUE(IsEmpty(q->Get<int>(absl::Milliseconds(100)).status()));
  EXPECT_GE(absl::Now() - before, absl::Milliseconds(100));
  ASSERT_TRUE(q->Put(1).ok());
  ASSERT_TRUE(q->Put(2).ok());
  EXPECT_EQ(q->QSize().value_or(-1), 2);
  EXPECT_TRUE(q->Full().value_or(false));
  EXPECT_TRUE(IsFull(q->PutNoWait(3)));
  before = absl::Now();
  EXPECT_TRUE(IsFull(q->Put(3, absl::Milliseconds(100))));
  EXPECT_GE(absl::Now() - before, absl::Milliseconds(100));
  EXPECT_EQ(q->Get<int>().value_or(0), 1);
  EXPECT_EQ(q->Get<int>().value_or(0), 2);
  EXPECT_TRUE(q->Empty().value_or(false));
  // A blocked Get is woken by a Put from another process.
  Process late = MakeProcess<TypeParam>(PutAfterDelay, *q, std::string("late"));
  ASSERT_TRUE(late.Start().ok());
  EXPECT_EQ(q->Get<std::string>(kPatience).value_or(""), "late");
  EXPECT_EQ(JoinCode(late), 0);
}

TYPED_TEST_P(QueueTest, KilledProducerNeverTearsAnItem) {
  MP_SKIP_ON_THREADS("a thread cannot be killed in the middle of Put");
  for (int round = 0; round < 5; ++round) {
    absl::StatusOr<Queue> q = Queue::Create();
    ASSERT_TRUE(q.ok());
    const std::string marker = TempPath("producer");
    Process producer = MakeProcess<TypeParam>(PutBigItemsForever, *q, marker);
    ASSERT_TRUE(producer.Start().ok());
    ASSERT_TRUE(WaitForFile(marker, kPatience).has_value());
    // Nothing reads, so the producer soon blocks inside an item. No event
    // says "blocked mid-item": the pause only makes that case likely; the
    // assertions hold whenever it is killed.
    absl::SleepFor(absl::Milliseconds(20 + 10 * round));
    ASSERT_TRUE(producer.Kill().ok());
    EXPECT_EQ(JoinCode(producer), -9);
    // The next producer puts while this process drains: the channel may be
    // full of the dead producer's records.
    Process next =
        MakeProcess<TypeParam>(PutAfterDelay, *q, std::string("after"));
    ASSERT_TRUE(next.Start().ok());
    // Whole items only, then "after".
    for (;;) {
      absl::StatusOr<std::string> item = q->GetBytes(kPatience);
      ASSERT_TRUE(item.ok()) << item.status();
      absl::StatusOr<std::string> text = FromBytes<std::string>(*item);
      if (text.ok() && *text == "after") break;
      ASSERT_EQ(item->size(), size_t{1} << 20) << "torn item";
      int32_t n;
      std::memcpy(&n, item->data(), sizeof n);
      const char fill = static_cast<char>('a' + n % 26);
      EXPECT_EQ(std::count(item->begin() + 4, item->end(), fill),
                static_cast<long>((1 << 20) - 4))
          << "corrupt item " << n;
    }
    EXPECT_EQ(JoinCode(next), 0);
    EXPECT_TRUE(q->Empty().value_or(false));
  }
}

// A consumer killed while it takes items: the items it had not finished
// taking are either dropped whole or received whole by the next consumer,
// never torn or out of order, and the queue's count stays exact.
TYPED_TEST_P(QueueTest, KilledConsumerNeverTearsAnItem) {
  MP_SKIP_ON_THREADS("a thread cannot be killed in the middle of Get");
  constexpr size_t kSize = size_t{1} << 20;
  for (int round = 0; round < 3; ++round) {
    absl::StatusOr<Queue> q = Queue::Create();
    ASSERT_TRUE(q.ok());
    const std::string marker = TempPath("consumer");
    Process consumer = MakeProcess<TypeParam>(GetItemsForever, *q, marker);
    ASSERT_TRUE(consumer.Start().ok());
    // Items tagged 0, 1, ... and filled by tag, until told to stop.
    std::atomic<int32_t> putting{0};
    std::atomic<bool> stop{false}, done{false};
    absl::Status put_status;
    std::thread producer([&] {
      for (int32_t n = 0; !stop.load() && put_status.ok(); ++n) {
        putting.store(n);
        std::string item(kSize, static_cast<char>('a' + n % 26));
        std::memcpy(&item[0], &n, sizeof n);
        put_status = q->PutBytes(item, kPatience);
      }
      done.store(true);
    });
    ASSERT_TRUE(WaitForFile(marker, kPatience).has_value());
    absl::SleepFor(absl::Milliseconds(5 * round));  // vary the kill point
    ASSERT_TRUE(consumer.Kill().ok());
    EXPECT_EQ(JoinCode(consumer), -9);
    // This process takes over as the consumer: every item whole and in
    // order, until one put after the kill, then the rest. (No ASSERT before
    // the join: the producer thread must be joined.)
    const int32_t after_kill = putting.load() + 1;
    int32_t last = -1;
    std::string wrong;
    while (wrong.empty()) {
      if (last >= after_kill) stop.store(true);
      absl::StatusOr<std::string> item =
          q->GetBytes(stop.load() ? absl::Milliseconds(200) : kPatience);
      if (!item.ok() && IsEmpty(item.status()) && done.load()) break;
      int32_t n = -1;
      if (item.ok() && item->size() == kSize) {
        std::memcpy(&n, item->data(), sizeof n);
      }
      if (!item.ok()) {
        if (!IsEmpty(item.status()) || !stop.load()) {
          wrong = item.status().ToString();
        }
        continue;
      } else if (n < 0) {
        wrong = absl::StrCat("torn item of ", item->size(), " bytes");
      } else if (n <= last) {
        wrong = absl::StrCat("item ", n, " after ", last);
      } else if (std::count(item->begin() + 4, item->end(),
                            static_cast<char>('a' + n % 26)) !=
                 static_cast<long>(kSize - 4)) {
        wrong = absl::StrCat("corrupt item ", n);
      }
      last = n;
    }
    stop.store(true);
    while (!done.load()) (void)q->GetBytes(absl::Milliseconds(10));
    producer.join();
    ASSERT_TRUE(wrong.empty()) << "round " << round << ": " << wrong;
    EXPECT_TRUE(put_status.ok()) << put_status;
    EXPECT_EQ(q->QSize().value_or(-1), 0);
    ASSERT_TRUE(q->Put(std::string("still usable")).ok());
    EXPECT_EQ(q->Get<std::string>(kPatience).value_or(""), "still usable");
  }
}

// A thousand producers, each killed while it puts and this process reads:
// every item received is whole, and the queue stays usable.
TYPED_TEST_P(QueueTest, ThousandProducersKilledMidPutNeverTearAnItem) {
  MP_SKIP_ON_THREADS("a thread cannot be killed in the middle of Put");
  absl::StatusOr<Queue> q = Queue::Create();
  ASSERT_TRUE(q.ok());
  int64_t whole = 0;
  for (int32_t round = 0; round < 1000; ++round) {
    Process producer = MakeProcess<TypeParam>(PutTaggedItemsForever, *q, round);
    const absl::Status started = producer.Start();
    ASSERT_TRUE(started.ok()) << "round " << round << ": " << started;
    // Take items (a dead producer's last whole ones first) until one of
    // this round's arrives: the producer is then putting the next one,
    // and is killed at whatever point of it it has reached.
    for (;;) {
      absl::StatusOr<std::string> item = q->GetBytes(kPatience);
      ASSERT_TRUE(item.ok()) << "round " << round << ": " << item.status();
      const int32_t of = RoundOfWholeItem(*item);
      ASSERT_GE(of, 0) << "round " << round << ": torn or corrupt item";
      ++whole;
      if (of == round) break;
    }
    ASSERT_TRUE(producer.Kill().ok());
    ASSERT_EQ(JoinCode(producer), -9);
  }
  // Usable afterwards: a new producer's items come through whole.
  Process last = MakeProcess<TypeParam>(PutTaggedItemsForever, *q, 5000);
  ASSERT_TRUE(last.Start().ok());
  for (;;) {
    absl::StatusOr<std::string> item = q->GetBytes(kPatience);
    ASSERT_TRUE(item.ok()) << item.status();
    const int32_t of = RoundOfWholeItem(*item);
    ASSERT_GE(of, 0) << "torn or corrupt item after the last kill";
    if (of == 5000) break;
  }
  ASSERT_TRUE(last.Kill().ok());
  EXPECT_EQ(JoinCode(last), -9);
  EXPECT_GE(whole, 1000);
}

// Producers that die while the consumer waits: GetWhileAlive ends with end
// of file (Python's get() would hang); the items they put first all arrive,
// and the queue stays usable.
TYPED_TEST_P(QueueTest, ProducersDyingDuringGetIsEndOfFile) {
  absl::StatusOr<Queue> q = Queue::Create();
  absl::StatusOr<Event> release = Event::Create();
  ASSERT_TRUE(q.ok() && release.ok());
  Process a = MakeProcess<TypeParam>(PutThreeThenHold, *q, *release);
  Process b = MakeProcess<TypeParam>(PutThreeThenHold, *q, *release);
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  const std::vector<const Process*> producers = {&a, &b};
  for (int i = 0; i < 6; ++i) {
    absl::StatusOr<int> item = q->GetWhileAlive<int>(producers, kPatience);
    ASSERT_TRUE(item.ok()) << i << ": " << item.status();
  }
  absl::Status ended_a, ended_b;
  std::thread ender([&] {  // the delay only makes a blocked Get likely
    absl::SleepFor(absl::Milliseconds(100));
    ended_a = EndPeer<TypeParam>(a, *release);
    ended_b = EndPeer<TypeParam>(b, *release);
  });
  absl::StatusOr<int> none = q->GetWhileAlive<int>(producers, kPatience);
  ender.join();
  ASSERT_TRUE(ended_a.ok() && ended_b.ok()) << ended_a << ended_b;
  EXPECT_TRUE(IsEndOfFile(none.status())) << none.status();
  EXPECT_TRUE(IsEmpty(q->Get<int>(absl::Milliseconds(10)).status()));
  ASSERT_TRUE(q->Put(7).ok());
  EXPECT_EQ(q->Get<int>(kPatience).value_or(0), 7);
  EXPECT_EQ(JoinCode(a), TypeParam::kThreads ? 0 : -9);
  EXPECT_EQ(JoinCode(b), TypeParam::kThreads ? 0 : -9);
}

TYPED_TEST_P(QueueTest, JoinableQueueCountsUnfinishedTasks) {
  absl::StatusOr<JoinableQueue> q = JoinableQueue::Create();
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->TaskDone().code(), absl::StatusCode::kFailedPrecondition);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q->Put(i).ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(q->Join(absl::Milliseconds(50))));
  Process worker = MakeProcess<TypeParam>(WorkAndMarkDone, *q, 5);
  ASSERT_TRUE(worker.Start().ok());
  EXPECT_TRUE(q->Join(kPatience).ok());
  EXPECT_EQ(JoinCode(worker), 0);
}

TYPED_TEST_P(QueueTest, SimpleQueueAndCloseRules) {
  absl::StatusOr<SimpleQueue> sq = SimpleQueue::Create();
  ASSERT_TRUE(sq.ok());
  EXPECT_TRUE(sq->Empty().value_or(false));
  ASSERT_TRUE(sq->Put(std::string("x")).ok());
  EXPECT_EQ(sq->Get<std::string>().value_or(""), "x");
  ASSERT_TRUE(sq->Close().ok());
  EXPECT_EQ(sq->Put(1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(sq->Get<int>().status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Encoding errors surface in Put, in the caller.
  absl::StatusOr<Queue> q = Queue::Create();
  ASSERT_TRUE(q.ok());
  absl::StatusOr<Queue> other = Queue::Create();
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(q->Put(*other).code(), absl::StatusCode::kInvalidArgument);
}

TYPED_TEST_P(QueueTest, SlowLiveProducerNeverLosesAnItem) {
  absl::StatusOr<Queue> q = Queue::Create();
  absl::StatusOr<Semaphore> stalled = Semaphore::Create(0);
  absl::StatusOr<Semaphore> go = Semaphore::Create(0);
  absl::StatusOr<Semaphore> put = Semaphore::Create(0);
  ASSERT_TRUE(q.ok() && stalled.ok() && go.ok() && put.ok());
  // The race, every round: the consumer's wait for the item's next record
  // times out while the producer is stopped; before the consumer asks
  // whether the producer is alive, the producer finishes the item and lets
  // go of the write lock, so "its writer is gone" and "its writer finished"
  // look alike.
  bool resumed = false;
  internal::TestHooks().before_writer_check = [&] {
    if (resumed) return;
    resumed = true;
    EXPECT_TRUE(go->Release().ok());
    EXPECT_TRUE(put->Acquire(kPatience).ok());
  };
  struct ClearHook {
    ~ClearHook() { internal::TestHooks().before_writer_check = nullptr; }
  } clear_hook;
  constexpr int32_t kRounds = 100;
  Process producer = MakeProcess<TypeParam>(PutItemsStallingMidItem, *q,
                                            *stalled, *go, *put, kRounds);
  ASSERT_TRUE(producer.Start().ok());
  for (int32_t n = 0; n < kRounds; ++n) {
    ASSERT_TRUE(stalled->Acquire(kPatience).ok()) << "round " << n;
    resumed = false;
    absl::StatusOr<std::string> item = q->GetBytes(absl::Seconds(10));
    ASSERT_TRUE(item.ok()) << "round " << n << ": " << item.status();
    EXPECT_TRUE(resumed) << "round " << n;
    ASSERT_TRUE(IsNumberedMessage(*item, n, kThreeRecords)) << "round " << n;
  }
  EXPECT_EQ(JoinCode(producer), 0);
  EXPECT_EQ(q->QSize().value_or(-1), 0);
}

REGISTER_TYPED_TEST_SUITE_P(QueueTest, FourProducersThreeConsumersLoseNothing,
                            ProducersDyingDuringGetIsEndOfFile,
                            FullAndEmptyAreDistinctAndTimeoutsWait,
                            KilledProducerNeverTearsAnItem,
                            KilledConsumerNeverTearsAnItem,
                            ThousandProducersKilledMidPutNeverTearAnItem,
                            JoinableQueueCountsUnfinishedTasks,
                            SimpleQueueAndCloseRules,
                            SlowLiveProducerNeverLosesAnItem);

INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, QueueTest, Backends, BackendName);

}  // namespace
}  // namespace conformance
}  // namespace mp
