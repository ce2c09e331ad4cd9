// Copyright 2026 The mp Authors.
//
// OS handles in a child: each object it decodes owns a handle of its own,
// even where the arguments named one handle twice.

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

REGISTER_TYPED_TEST_SUITE_P(HandlesTest,
                            SharedHandleInArgumentsDecodesToSeparateOwners);

INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, HandlesTest, Backends, BackendName);

}  // namespace
}  // namespace conformance
}  // namespace mp
