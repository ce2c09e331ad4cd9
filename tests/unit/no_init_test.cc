// Copyright 2026 The mp Authors.
//
// A program whose main() never calls mp::Init (this binary uses gtest_main):
// spawn must refuse to start, rather than start a child that re-runs main();
// fork needs no guard and works.

#include "gtest/gtest.h"
#include "mp/init.h"
#include "mp/process.h"

namespace mp {
namespace {

void Nothing() {}

TEST(NoInitTest, SpawnWithoutInitFailsClearly) {
  ASSERT_FALSE(Initialized());
  Process p(Nothing);
  ASSERT_TRUE(p.SetStartMethod(StartMethod::kSpawn).ok());
  absl::Status s = p.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("mp::Init"), absl::string_view::npos) << s;
  EXPECT_FALSE(p.Pid().has_value());
}

TEST(NoInitTest, ForkserverWithoutInitFailsClearly) {
  ASSERT_FALSE(Initialized());
  Process p(Nothing);
  ASSERT_TRUE(p.SetStartMethod(StartMethod::kForkserver).ok());
  absl::Status s = p.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("mp::Init"), absl::string_view::npos) << s;
  EXPECT_FALSE(p.Pid().has_value());
  s = StartForkserver();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("mp::Init"), absl::string_view::npos) << s;
}

TEST(NoInitTest, ForkWithoutInitWorks) {
  Process p(Nothing);
  ASSERT_TRUE(p.SetStartMethod(StartMethod::kFork).ok());
  ASSERT_TRUE(p.Start().ok());
  ASSERT_TRUE(p.Join(absl::Seconds(30)).ok());
  EXPECT_EQ(p.ExitCode(), 0);
}

}  // namespace
}  // namespace mp
