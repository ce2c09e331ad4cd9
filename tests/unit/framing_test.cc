// Copyright 2026 The mp Authors.
//
// The framing's receiver (mp/internal/framing.h) fed records from memory:
// memory follows the bytes received, a deadline inside a message keeps the
// part received, and a finished writer's records are read before anything
// is dropped. Allocations are measured with an AllocationProbe.

#include "mp/internal/framing.h"

#include <cstring>
#include <deque>
#include <string>

#include "gtest/gtest.h"
#include "mp/internal/deadline.h"
#include "mp/status.h"
#include "tests/unit/allocation_probe.h"

namespace mp {
namespace internal {
namespace {

using ::mp::test_support::AllocationProbe;

constexpr uint64_t kMaxMessage = uint64_t{64} << 20;

// Records queued by the test; an empty queue is a silent writer.
class Records {
 public:
  void First(uint64_t total, const std::string& chunk) {
    std::string r = "F";
    r.append(reinterpret_cast<const char*>(&total), 8);
    records_.push_back(r + chunk);
  }
  void Middle(const std::string& chunk) { records_.push_back("M" + chunk); }
  void Last(const std::string& chunk) { records_.push_back("L" + chunk); }

  Receiver::RecordSource Source() {
    return [this](char* buffer, Deadline) -> absl::StatusOr<size_t> {
      if (records_.empty()) return absl::DeadlineExceededError("silent");
      const std::string r = records_.front();
      records_.pop_front();
      std::memcpy(buffer, r.data(), r.size());
      return r.size();
    };
  }

 private:
  std::deque<std::string> records_;
};

TEST(FramingTest, AnnouncedSizeAloneAllocatesNothingLarge) {
  Records records;
  records.First(kMaxMessage - 1, std::string(100, 'x'));
  Receiver receiver;
  std::string out;
  AllocationProbe probe(size_t{1} << 20);
  absl::Status s = receiver.Recv(records.Source(), Deadline::Passed(),
                                 kMaxMessage, nullptr, &out);
  probe.Stop();
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_LT(probe.largest(), size_t{1} << 20);
}

TEST(FramingTest, DeadlineInsideAMessageKeepsThePartReceived) {
  Records records;
  records.First(9, "abc");
  Receiver receiver;
  std::string out;
  EXPECT_TRUE(absl::IsDeadlineExceeded(receiver.Recv(
      records.Source(), Deadline::Passed(), kMaxMessage, nullptr, &out)));
  records.Middle("def");
  EXPECT_TRUE(absl::IsDeadlineExceeded(receiver.Recv(
      records.Source(), Deadline::Passed(), kMaxMessage, nullptr, &out)));
  records.Last("ghi");
  ASSERT_TRUE(receiver
                  .Recv(records.Source(), Deadline::Passed(), kMaxMessage,
                        nullptr, &out)
                  .ok());
  EXPECT_EQ(out, "abcdefghi");
}

TEST(FramingTest, WriterThatFinishedIsReadBeforeAnythingIsDropped) {
  Records records;
  records.First(6, "abc");
  Receiver receiver;
  std::string out;
  // The writer publishes its last record and lets go just as the reader
  // is about to ask whether it is alive.
  auto writer_alive = [&records] {
    records.Last("def");
    return false;
  };
  ASSERT_TRUE(receiver
                  .Recv(records.Source(), Deadline::After(absl::Seconds(10)),
                        kMaxMessage, writer_alive, &out)
                  .ok());
  EXPECT_EQ(out, "abcdef");
}

TEST(FramingTest, DeadWritersPartIsDroppedAndTheNextMessageArrives) {
  Records records;
  records.First(6, "abc");
  Receiver receiver;
  std::string out;
  auto writer_dead = [] { return false; };
  EXPECT_TRUE(absl::IsDeadlineExceeded(receiver.Recv(
      records.Source(), Deadline::Passed(), kMaxMessage, writer_dead, &out)));
  records.Middle("zzz");  // a stray tail: its start was dropped
  records.First(4, "wh");
  records.Last("ol");
  ASSERT_TRUE(receiver
                  .Recv(records.Source(), Deadline::Passed(), kMaxMessage,
                        writer_dead, &out)
                  .ok());
  EXPECT_EQ(out, "whol");
}

}  // namespace
}  // namespace internal
}  // namespace mp
