// Copyright 2026 The mp Authors.
//
// OS handles in a child: each object it decodes owns a handle of its own,
// even where the arguments named one handle twice, and an object it merely
// inherited (a global, under fork) never reaches a descriptor that the child
// does not hold for it.

#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "mp/pipe.h"
#include "mp/process.h"
#include "mp/status.h"
#include "mp/sync.h"
#include "tests/conformance/backends.h"
#include "tests/conformance/helpers.h"

namespace mp {
namespace conformance {
namespace {

// Exit-code bits that say what went wrong in a child; 0 when nothing did.
constexpr int kNoFile = 1 << 0;
constexpr int kLockBroken = 1 << 1;
constexpr int kConnectionBroken = 1 << 2;
constexpr int kFileBroken = 1 << 3;
constexpr int kStaleUsable = 1 << 4;
constexpr int kFreshBroken = 1 << 5;

constexpr char kFileText[] = "still writable";

using SharedEntries = std::map<int, std::pair<Lock, Connection>>;

// Drops one of the entries, which all name one Lock and one Connection,
// opens a file, uses what is left, drops the rest, and writes the file: no
// object may close a descriptor that another one (or the file) still uses.
void DropOneThenWrite(SharedEntries entries, std::string path) {
  entries.erase(entries.begin());
  std::FILE* file = std::fopen(path.c_str(), "w");
  int code = file == nullptr ? kNoFile : 0;
  for (auto& [key, entry] : entries) {
    auto& [lock, connection] = entry;
    if (!lock.Acquire(kPatience).ok() || !lock.Release().ok()) {
      code |= kLockBroken;
    }
    if (!connection.Send(key).ok()) code |= kConnectionBroken;
  }
  entries.clear();
  if (file != nullptr) {
    if (std::fputs(kFileText, file) < 0 || std::fflush(file) != 0) {
      code |= kFileBroken;
    }
    if (std::fclose(file) != 0) code |= kFileBroken;
  }
  Exit(code);
}

template <typename B>
class HandlesTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(HandlesTest);

TYPED_TEST_P(HandlesTest, SharedHandleInArgumentsDecodesToSeparateOwners) {
  absl::StatusOr<Lock> lock = Lock::Create();
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe();
  ASSERT_TRUE(lock.ok() && pipe.ok());
  auto& [mine, theirs] = *pipe;
  SharedEntries entries;
  for (int key : {0, 1, 2}) entries.emplace(key, std::make_pair(*lock, theirs));
  const std::string path = TempPath("shared-handles");
  Process child = MakeProcess<TypeParam>(DropOneThenWrite, entries, path);
  entries.clear();
  child.CloseAfterStart(theirs);
  ASSERT_TRUE(child.Start().ok());
  // One message from each entry left, then end of file once the child has
  // dropped them all.
  EXPECT_EQ(mine.Recv<int>(kPatience).value_or(-1), 1);
  EXPECT_EQ(mine.Recv<int>(kPatience).value_or(-1), 2);
  absl::StatusOr<std::string> eof = mine.RecvBytes(kPatience);
  EXPECT_TRUE(IsEndOfFile(eof.status())) << eof.status();
  EXPECT_EQ(JoinCode(child), 0);
  EXPECT_EQ(WaitForFile(path, absl::ZeroDuration()).value_or(""), kFileText);
  // The child released the lock, and the parent's copy still works.
  EXPECT_TRUE(lock->Acquire(absl::ZeroDuration()).ok());
  EXPECT_TRUE(lock->Release().ok());
}

// A Connection this process holds but passes to no child. A fork child has
// a copy of it without the descriptor (it holds only the ends it was
// given); a spawned child has a default, closed one; a child on the threads
// backend shares it with its parent.
Connection g_not_passed;

// Uses g_not_passed after making a pipe of its own (which, under fork, gets
// the descriptor numbers that g_not_passed's end had in the parent): it must
// read as closed, and neither using it nor dropping it may touch the new
// pipe.
void UseInheritedConnection() {
  absl::StatusOr<std::pair<Connection, Connection>> fresh = Pipe();
  if (!fresh.ok()) Exit(kFreshBroken);
  auto& [left, right] = *fresh;
  int code = 0;
  if (!g_not_passed.closed()) code |= kStaleUsable;
  if (!absl::IsFailedPrecondition(g_not_passed.Send(std::string("stray")))) {
    code |= kStaleUsable;
  }
  if (!absl::IsFailedPrecondition(
          g_not_passed.RecvBytes(absl::ZeroDuration()).status())) {
    code |= kStaleUsable;
  }
  if (!absl::IsFailedPrecondition(g_not_passed.Poll().status())) {
    code |= kStaleUsable;
  }
  // Nothing stray arrived on the new pipe...
  if (left.Poll().value_or(true) || right.Poll().value_or(true)) {
    code |= kFreshBroken;
  }
  // ...and dropping the stale object leaves it open.
  g_not_passed = Connection();
  if (!left.Send(7).ok() || right.Recv<int>(kPatience).value_or(0) != 7 ||
      !right.Send(8).ok() || left.Recv<int>(kPatience).value_or(0) != 8) {
    code |= kFreshBroken;
  }
  Exit(code);
}

// On the threads backend: the child's g_not_passed is the parent's own end.
void SendThroughShared() {
  Exit(g_not_passed.Send(std::string("shared")).ok() ? 0 : kConnectionBroken);
}

TYPED_TEST_P(HandlesTest, InheritedConnectionClosedInForkChildReadsAsClosed) {
  absl::StatusOr<std::pair<Connection, Connection>> pipe = Pipe();
  ASSERT_TRUE(pipe.ok());
  auto& [mine, theirs] = *pipe;
  g_not_passed = theirs;
  if (TypeParam::kThreads) {
    Process child = MakeProcess<TypeParam>(SendThroughShared);
    ASSERT_TRUE(child.Start().ok());
    EXPECT_EQ(JoinCode(child), 0);
    EXPECT_EQ(mine.Recv<std::string>(kPatience).value_or(""), "shared");
    g_not_passed = Connection();
    MP_DOCUMENTED_DIFFERENCE(
        "a child thread shares its parent's globals: a Connection it did not "
        "receive is the parent's own, open end");
  }
  Process child = MakeProcess<TypeParam>(UseInheritedConnection);
  ASSERT_TRUE(child.Start().ok());
  EXPECT_EQ(JoinCode(child), 0);
  // The parent's end is untouched by whatever the child did.
  EXPECT_FALSE(g_not_passed.closed());
  ASSERT_TRUE(g_not_passed.Send(std::string("mine")).ok());
  EXPECT_EQ(mine.Recv<std::string>(kPatience).value_or(""), "mine");
  EXPECT_FALSE(mine.Poll().value_or(true));  // nothing stray either
  g_not_passed = Connection();
}

REGISTER_TYPED_TEST_SUITE_P(HandlesTest,
                            SharedHandleInArgumentsDecodesToSeparateOwners,
                            InheritedConnectionClosedInForkChildReadsAsClosed);

INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, HandlesTest, Backends, BackendName);

}  // namespace
}  // namespace conformance
}  // namespace mp
