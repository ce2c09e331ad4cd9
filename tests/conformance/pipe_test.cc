// Copyright 2026 The mp Authors.
//
// Pipe (Connection) conformance across real processes, and mp::Wait.

#include "mp/pipe.h"

#include <algorithm>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "mp/process.h"
#include "mp/status.h"
#include "mp/sync.h"
#include "tests/conformance/backends.h"
#include "tests/conformance/helpers.h"

namespace mp {
namespace conformance {
namespace {

constexpr int kWrongResult = 91;

// Sends back every message it receives until end of file; exits 0 then.
void Echo(Connection c) {
  for (;;) {
    absl::StatusOr<std::string> m = c.RecvBytes();
    if (IsEndOfFile(m.status())) Exit(0);
    if (!m.ok() || !c.SendBytes(*m).ok()) Exit(kWrongResult);
  }
}

// Sends two messages and returns (its end closes with it).
void SendTwoAndLeave(Connection c) {
  if (!c.Send(std::string("one")).ok() || !c.Send(2).ok()) {
    Exit(kWrongResult);
  }
}

// Exits 0 when Recv reports end of file once the parent closed its end.
void ExpectEof(Connection c) {
  absl::StatusOr<std::string> m = c.RecvBytes(kPatience);
  Exit(IsEndOfFile(m.status()) ? 0 : kWrongResult);
}

// Holds its end of a pipe until released (or killed).
void HoldEndUntilReleased(Connection c, Event release) {
  WaitForRelease(release);
  (void)c;
}

// A grandchild given nothing but `release`.
void WaitForReleaseOnly(Event release) { WaitForRelease(release); }

// Starts a grandchild (by `method`, given only `release`) while it holds
// `c`, then sends, closes `c`, and returns, which waits for the grandchild
// as the end of main() does.
void StartGrandchildThenLeave(Connection c, Event release, int method) {
  Process grandchild(WaitForReleaseOnly, release);
  if (!grandchild.SetStartMethod(static_cast<StartMethod>(method)).ok() ||
      !grandchild.Start().ok() || !c.Send(std::string("started")).ok() ||
      !c.Close().ok()) {
    Exit(kWrongResult);
  }
}

void SendAfterDelay(Connection c, std::string text) {
  absl::SleepFor(absl::Milliseconds(200));
  if (!c.SendBytes(text).ok()) Exit(kWrongResult);
}

// Sends one three-record message numbered 7, stopping after its first
// record until told to go on.
void SendStallingMidMessage(Connection c, Semaphore stalled, Semaphore go) {
  StallNextMessageAfterFirstRecord(stalled, go);
  Exit(c.SendBytes(NumberedMessage(7, kThreeRecords)).ok() ? 0 : kWrongResult);
}

template <typename B>
class PipeTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(PipeTest);

TYPED_TEST_P(PipeTest, MessagesKeepBoundariesAcrossProcesses) {
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  auto& [mine, theirs] = *pipe;
  Process echo = MakeProcess<TypeParam>(Echo, theirs);
  echo.CloseAfterStart(theirs);
  ASSERT_TRUE(echo.Start().ok());
  EXPECT_TRUE(theirs.closed());
  const std::vector<std::string> messages = {"first", "", std::string(1, '\0'),
                                             std::string(70000, 'x'), "last"};
  for (const std::string& m : messages) ASSERT_TRUE(mine.SendBytes(m).ok());
  for (const std::string& m : messages) {
    absl::StatusOr<std::string> back = mine.RecvBytes(kPatience);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, m);
  }
  ASSERT_TRUE(mine.Send(std::vector<int>{1, 2, 3}).ok());
  absl::StatusOr<std::vector<int>> typed =
      mine.Recv<std::vector<int>>(kPatience);
  ASSERT_TRUE(typed.ok());
  EXPECT_EQ(*typed, (std::vector<int>{1, 2, 3}));
  ASSERT_TRUE(mine.Close().ok());
  EXPECT_EQ(JoinCode(echo), 0);  // it saw end of file
}

TYPED_TEST_P(PipeTest, SixtyFourMiBRoundTrips) {
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe();
  ASSERT_TRUE(pipe.ok());
  auto& [mine, theirs] = *pipe;
  Process echo = MakeProcess<TypeParam>(Echo, theirs);
  echo.CloseAfterStart(theirs);
  ASSERT_TRUE(echo.Start().ok());
  std::string big(64 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>(i * 131 >> 7);
  ASSERT_TRUE(mine.SendBytes(big).ok());
  absl::StatusOr<std::string> back = mine.RecvBytes(kPatience);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == big);
  ASSERT_TRUE(mine.Close().ok());
  EXPECT_EQ(JoinCode(echo), 0);
}

TYPED_TEST_P(PipeTest, EndOfFileWhenEveryWriteEndIsClosed) {
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe(false);
  ASSERT_TRUE(pipe.ok());
  auto& [reader, writer] = *pipe;
  Process sender = MakeProcess<TypeParam>(SendTwoAndLeave, writer);
  sender.CloseAfterStart(writer);
  ASSERT_TRUE(sender.Start().ok());
  EXPECT_EQ(reader.Recv<std::string>(kPatience).value_or(""), "one");
  EXPECT_EQ(reader.Recv<int>(kPatience).value_or(0), 2);
  absl::StatusOr<std::string> eof = reader.RecvBytes(kPatience);
  EXPECT_TRUE(IsEndOfFile(eof.status())) << eof.status();
  EXPECT_EQ(JoinCode(sender), 0);

  // And the other way: the child reads until the parent closes its end.
  absl::StatusOr<std::pair<Connection, Connection>> back = Pipe(false);
  ASSERT_TRUE(back.ok());
  auto& [child_reader, parent_writer] = *back;
  Process waiter = MakeProcess<TypeParam>(ExpectEof, child_reader);
  waiter.CloseAfterStart(child_reader);
  ASSERT_TRUE(waiter.Start().ok());
  ASSERT_TRUE(parent_writer.Close().ok());
  EXPECT_EQ(JoinCode(waiter), 0);
}

// A child's handles are its own: a grandchild it starts while it holds the
// write end of a pipe, given nothing but an Event, does not hold that end,
// so the parent's reader sees end of file as soon as the child closes it.
// (A spawned child gets its ends inheritable, to cross exec or
// CreateProcess; it must make them private again before starting anyone.)
TYPED_TEST_P(PipeTest, GrandchildDoesNotInheritItsParentsEnds) {
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe(false);
  absl::StatusOr<Event> release = Event::Create();
  ASSERT_TRUE(pipe.ok() && release.ok());
  auto& [reader, writer] = *pipe;
  Process child =
      MakeProcess<TypeParam>(StartGrandchildThenLeave, writer, *release,
                             static_cast<int>(TypeParam::kMethod));
  child.CloseAfterStart(writer);
  ASSERT_TRUE(child.Start().ok());
  EXPECT_EQ(reader.Recv<std::string>(kPatience).value_or(""), "started");
  // The grandchild is alive until released: end of file now means it
  // holds no copy of the write end.
  absl::StatusOr<std::string> eof = reader.RecvBytes(absl::Seconds(10));
  EXPECT_TRUE(IsEndOfFile(eof.status())) << eof.status();
  ASSERT_TRUE(release->Set().ok());
  EXPECT_EQ(JoinCode(child), 0);
}

// A peer that dies while this process is blocked in Recv: end of file, not
// a hang; and a Send to it afterwards is end of file too, not SIGPIPE.
TYPED_TEST_P(PipeTest, PeerDyingDuringRecvIsEndOfFile) {
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe();
  ASSERT_TRUE(pipe.ok());
  auto& [mine, theirs] = *pipe;
  absl::StatusOr<Event> release = Event::Create();
  ASSERT_TRUE(release.ok());
  Process peer = MakeProcess<TypeParam>(HoldEndUntilReleased, theirs, *release);
  peer.CloseAfterStart(theirs);
  ASSERT_TRUE(peer.Start().ok());
  absl::Status ended;
  // The delay only makes it likely that Recv is already blocked; the
  // result must be the same either way.
  std::thread ender([&] {
    absl::SleepFor(absl::Milliseconds(100));
    ended = EndPeer<TypeParam>(peer, *release);
  });
  absl::StatusOr<std::string> m = mine.RecvBytes(kPatience);
  ender.join();
  ASSERT_TRUE(ended.ok()) << ended;
  EXPECT_TRUE(IsEndOfFile(m.status())) << m.status();
  EXPECT_TRUE(IsEndOfFile(mine.Send(1))) << mine.Send(1);
  EXPECT_EQ(JoinCode(peer), TypeParam::kThreads ? 0 : -9);
}

TYPED_TEST_P(PipeTest, SimplexMisuseIsAnError) {
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe(false);
  ASSERT_TRUE(pipe.ok());
  auto& [reader, writer] = *pipe;
  EXPECT_EQ(reader.SendBytes("x").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(writer.RecvBytes(absl::ZeroDuration()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(reader.Close().ok());
  EXPECT_EQ(reader.RecvBytes().status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(reader.Close().ok());  // idempotent
}

TYPED_TEST_P(PipeTest, PollAndRecvTimeoutsWaitAtLeastThatLong) {
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe();
  ASSERT_TRUE(pipe.ok());
  auto& [a, b] = *pipe;
  absl::Time before = absl::Now();
  EXPECT_FALSE(a.Poll(absl::Milliseconds(100)).value_or(true));
  EXPECT_GE(absl::Now() - before, absl::Milliseconds(100));
  before = absl::Now();
  EXPECT_TRUE(
      absl::IsDeadlineExceeded(a.RecvBytes(absl::Milliseconds(100)).status()));
  EXPECT_GE(absl::Now() - before, absl::Milliseconds(100));
  Process late = MakeProcess<TypeParam>(SendAfterDelay, b, std::string("hi"));
  ASSERT_TRUE(late.Start().ok());
  EXPECT_TRUE(a.Poll(kPatience).value_or(false));
  EXPECT_EQ(a.RecvBytes(absl::ZeroDuration()).value_or(""), "hi");
  EXPECT_EQ(JoinCode(late), 0);
}

TYPED_TEST_P(PipeTest, ShortBufferKeepsTheMessage) {
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe();
  ASSERT_TRUE(pipe.ok());
  auto& [a, b] = *pipe;
  ASSERT_TRUE(b.SendBytes("0123456789").ok());
  char small[4];
  absl::StatusOr<size_t> n = a.RecvBytesInto(absl::MakeSpan(small));
  EXPECT_EQ(n.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(a.Poll().value_or(false));
  char big[16];
  n = a.RecvBytesInto(absl::MakeSpan(big));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(big, *n), "0123456789");
}

TYPED_TEST_P(PipeTest, MaximumMessageSizeIsEnforcedBothWays) {
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe();
  ASSERT_TRUE(pipe.ok());
  auto& [a, b] = *pipe;
  b.SetMaxMessageSize(100000);
  EXPECT_EQ(b.SendBytes(std::string(100001, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(b.SendBytes(std::string(100000, 'y')).ok());  // still usable
  a.SetMaxMessageSize(1000);
  absl::StatusOr<std::string> m = a.RecvBytes(kPatience);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(b.SendBytes("after").ok());
  EXPECT_EQ(a.RecvBytes(kPatience).value_or(""), "after");  // still usable
}

TYPED_TEST_P(PipeTest, WaitReturnsTheReadySubset) {
  absl::StatusOr<std::pair<Connection, Connection>> p1 = Pipe();
  absl::StatusOr<std::pair<Connection, Connection>> p2 = Pipe();
  ASSERT_TRUE(p1.ok() && p2.ok());
  Process sender =
      MakeProcess<TypeParam>(SendAfterDelay, p2->second, std::string("2"));
  ASSERT_TRUE(sender.Start().ok());
  absl::StatusOr<std::vector<size_t>> ready =
      Wait({&p1->first, &p2->first}, {}, kPatience);
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(*ready, (std::vector<size_t>{1}));
  // The sender's sentinel becomes ready when it ends.
  ready = Wait({&p1->first}, {&sender}, kPatience);
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(*ready, (std::vector<size_t>{1}));
  EXPECT_EQ(JoinCode(sender), 0);
  ready = Wait({&p1->first}, {}, absl::Milliseconds(20));
  ASSERT_TRUE(ready.ok());
  EXPECT_TRUE(ready->empty());
}

// More connections and processes than Win32 waits on in one call (64): a
// Wait returns exactly the ready ones, whether they were ready before it
// began or became ready while it waited, and times out when none is.
TYPED_TEST_P(PipeTest, WaitOnManyConnectionsSeesTheReadyOnes) {
  constexpr size_t kPipes = 100;
  constexpr size_t kProcesses = 3;
  std::vector<std::pair<Connection, Connection>> pipes;
  std::vector<const Connection*> readers;
  for (size_t i = 0; i < kPipes; ++i) {
    absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe();
    ASSERT_TRUE(pipe.ok()) << pipe.status();
    pipes.push_back(*std::move(pipe));
  }
  for (auto& pipe : pipes) readers.push_back(&pipe.first);
  std::vector<Event> releases;
  std::vector<Process> holders;
  for (size_t i = 0; i < kProcesses; ++i) {
    absl::StatusOr<Event> release = Event::Create();
    ASSERT_TRUE(release.ok());
    releases.push_back(*release);
    holders.push_back(MakeProcess<TypeParam>(WaitForReleaseOnly, *release));
    ASSERT_TRUE(holders.back().Start().ok());
  }
  std::vector<const Process*> processes;
  for (const Process& p : holders) processes.push_back(&p);

  // Ready before the wait: on both sides of every multiple of 63 and 64.
  const std::vector<size_t> sent = {0, 62, 63, 64, 70, 99};
  for (size_t i : sent) ASSERT_TRUE(pipes[i].second.SendBytes("x").ok());
  absl::StatusOr<std::vector<size_t>> ready =
      Wait(readers, processes, kPatience);
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(*ready, sent);
  for (size_t i : sent) {
    EXPECT_EQ(pipes[i].first.RecvBytes(kPatience).value_or(""), "x");
  }

  // None ready: the timeout ends the wait.
  absl::Time before = absl::Now();
  ready = Wait(readers, processes, absl::Milliseconds(200));
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_TRUE(ready->empty());
  EXPECT_GE(absl::Now() - before, absl::Milliseconds(200));
  EXPECT_LT(absl::Now() - before, kPatience);
  // Waits leave nothing open behind them.
  const int64_t handles = OpenHandleCount();
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(Wait(readers, processes, absl::Milliseconds(10))
                    .value_or(std::vector<size_t>{0})
                    .empty());
  }
  EXPECT_EQ(OpenHandleCount(), handles);

  // Ready while the wait is under way: a connection late in the list, then
  // a process.
  Process late = MakeProcess<TypeParam>(SendAfterDelay, pipes[80].second,
                                        std::string("late"));
  ASSERT_TRUE(late.Start().ok());
  before = absl::Now();
  ready = Wait(readers, processes, kPatience);
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(*ready, (std::vector<size_t>{80}));
  EXPECT_LT(absl::Now() - before, kPatience / 3);  // woken, not timed out
  EXPECT_EQ(pipes[80].first.RecvBytes(kPatience).value_or(""), "late");
  EXPECT_EQ(JoinCode(late), 0);
  std::thread releaser([&] {
    absl::SleepFor(absl::Milliseconds(100));
    EXPECT_TRUE(releases[1].Set().ok());
  });
  before = absl::Now();
  ready = Wait(readers, processes, kPatience);
  releaser.join();
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(*ready, (std::vector<size_t>{kPipes + 1}));
  EXPECT_LT(absl::Now() - before, kPatience / 3);

  for (Event& release : releases) ASSERT_TRUE(release.Set().ok());
  for (Process& p : holders) EXPECT_EQ(JoinCode(p), 0);
}

// A message sent while Wait is blocked wakes it: the wait returns that
// connection long before its timeout.
TYPED_TEST_P(PipeTest, WaitWakesWhenAMessageArrives) {
  absl::StatusOr<std::pair<Connection, Connection>> p1 = Pipe();
  absl::StatusOr<std::pair<Connection, Connection>> p2 = Pipe();
  ASSERT_TRUE(p1.ok() && p2.ok());
  std::thread sender([&] {
    absl::SleepFor(absl::Milliseconds(100));
    EXPECT_TRUE(p2->second.SendBytes("wake").ok());
  });
  const absl::Time before = absl::Now();
  absl::StatusOr<std::vector<size_t>> ready =
      Wait({&p1->first, &p2->first}, {}, kPatience);
  const absl::Duration took = absl::Now() - before;
  sender.join();
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(*ready, (std::vector<size_t>{1}));
  EXPECT_LT(took, absl::Seconds(2));  // a generous bound: not a speed test
  EXPECT_EQ(p2->first.RecvBytes(kPatience).value_or(""), "wake");
}

// Waits take nothing and reorder nothing: several threads waiting on one
// end all see the same message, beside a thread blocked receiving on it,
// and the receivers get every message once, in order.
TYPED_TEST_P(PipeTest, WaitersOnOneEndTakeNothing) {
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe();
  ASSERT_TRUE(pipe.ok());
  auto& [a, b] = *pipe;
  constexpr int kWaiters = 3;
  std::vector<std::thread> waiters;
  std::vector<absl::StatusOr<std::vector<size_t>>> woke(kWaiters);
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&, i] { woke[i] = Wait({&a}, {}, kPatience); });
  }
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_TRUE(b.SendBytes("first").ok());
  for (std::thread& t : waiters) t.join();
  for (const auto& w : woke) {
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_EQ(*w, (std::vector<size_t>{0}));
  }
  EXPECT_EQ(a.RecvBytes(kPatience).value_or(""), "first");
  EXPECT_FALSE(a.Poll(absl::ZeroDuration()).value_or(true));

  // A receiver blocked first, a waiter beside it: the receiver gets the
  // first message, the second stays for the next receive.
  absl::StatusOr<std::string> received;
  std::thread receiver([&] { received = a.RecvBytes(kPatience); });
  absl::SleepFor(absl::Milliseconds(100));
  absl::StatusOr<std::vector<size_t>> waited;
  std::thread waiter([&] { waited = Wait({&a}, {}, kPatience); });
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_TRUE(b.SendBytes("one").ok());
  EXPECT_TRUE(b.SendBytes("two").ok());
  receiver.join();
  waiter.join();
  EXPECT_EQ(received.value_or(""), "one");
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ(*waited, (std::vector<size_t>{0}));
  EXPECT_EQ(a.RecvBytes(kPatience).value_or(""), "two");
  EXPECT_FALSE(a.Poll(absl::ZeroDuration()).value_or(true));
}

TYPED_TEST_P(PipeTest, RecvTimeoutHoldsWhileWriterStallsMidMessage) {
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe(false);
  absl::StatusOr<Semaphore> stalled = Semaphore::Create(0);
  absl::StatusOr<Semaphore> go = Semaphore::Create(0);
  ASSERT_TRUE(pipe.ok() && stalled.ok() && go.ok());
  auto& [reader, writer] = *pipe;
  Process w =
      MakeProcess<TypeParam>(SendStallingMidMessage, writer, *stalled, *go);
  ASSERT_TRUE(w.Start().ok());
  ASSERT_TRUE(writer.Close().ok());
  ASSERT_TRUE(stalled->Acquire(kPatience).ok());
  const absl::Time before = absl::Now();
  absl::StatusOr<std::string> m = reader.RecvBytes(absl::Milliseconds(300));
  EXPECT_TRUE(absl::IsDeadlineExceeded(m.status())) << m.status();
  EXPECT_GE(absl::Now() - before, absl::Milliseconds(300));
  EXPECT_LT(absl::Now() - before, absl::Seconds(5));
  // The part received is kept: the next call delivers the whole message.
  ASSERT_TRUE(go->Release().ok());
  m = reader.RecvBytes(kPatience);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(IsNumberedMessage(*m, 7, kThreeRecords));
  EXPECT_EQ(JoinCode(w), 0);
}

TYPED_TEST_P(PipeTest, RecvTimeoutHoldsWhenWriterDiesMidMessage) {
  MP_SKIP_ON_THREADS("a thread cannot be killed, so a writer never dies alone");
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe(false);
  absl::StatusOr<Semaphore> stalled = Semaphore::Create(0);
  absl::StatusOr<Semaphore> go = Semaphore::Create(0);
  absl::StatusOr<Event> release = Event::Create();
  ASSERT_TRUE(pipe.ok() && stalled.ok() && go.ok() && release.ok());
  auto& [reader, writer] = *pipe;
  // Another process keeps a copy of the write end open, so the reader
  // sees no end of file when the writer dies.
  Process holder =
      MakeProcess<TypeParam>(HoldEndUntilReleased, writer, *release);
  ASSERT_TRUE(holder.Start().ok());
  Process w =
      MakeProcess<TypeParam>(SendStallingMidMessage, writer, *stalled, *go);
  ASSERT_TRUE(w.Start().ok());
  ASSERT_TRUE(writer.Close().ok());
  ASSERT_TRUE(stalled->Acquire(kPatience).ok());
  ASSERT_TRUE(w.Kill().ok());
  EXPECT_EQ(JoinCode(w), -9);
  const absl::Time before = absl::Now();
  absl::StatusOr<std::string> m = reader.RecvBytes(absl::Milliseconds(300));
  EXPECT_TRUE(absl::IsDeadlineExceeded(m.status())) << m.status();
  EXPECT_LT(absl::Now() - before, absl::Seconds(5));
  // Once the last write end closes, the half message is dropped.
  ASSERT_TRUE(release->Set().ok());
  EXPECT_EQ(JoinCode(holder), 0);
  EXPECT_TRUE(IsEndOfFile(reader.RecvBytes(kPatience).status()));
}

REGISTER_TYPED_TEST_SUITE_P(
    PipeTest, MessagesKeepBoundariesAcrossProcesses,
    PeerDyingDuringRecvIsEndOfFile, SixtyFourMiBRoundTrips,
    EndOfFileWhenEveryWriteEndIsClosed, SimplexMisuseIsAnError,
    PollAndRecvTimeoutsWaitAtLeastThatLong, ShortBufferKeepsTheMessage,
    MaximumMessageSizeIsEnforcedBothWays, WaitReturnsTheReadySubset,
    WaitOnManyConnectionsSeesTheReadyOnes, WaitWakesWhenAMessageArrives,
    WaitersOnOneEndTakeNothing, GrandchildDoesNotInheritItsParentsEnds,
    RecvTimeoutHoldsWhileWriterStallsMidMessage,
    RecvTimeoutHoldsWhenWriterDiesMidMessage);

INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, PipeTest, Backends, BackendName);

}  // namespace
}  // namespace conformance
}  // namespace mp
