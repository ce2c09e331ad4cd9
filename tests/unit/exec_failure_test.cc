// Copyright 2026 The mp Authors.
//
// An exec failure under spawn is reported by Start() through the error
// channel, with the OS's reason, and leaves no child behind. The failure
// is real: an environment string longer than the kernel accepts (128 KiB)
// makes execve fail with E2BIG.

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "mp/process.h"

namespace mp {
namespace {

void Nothing() {}

TEST(ExecFailureTest, SpawnReportsExecErrorAndLeavesNoChild) {
  const std::string huge(256 * 1024, 'x');
  ASSERT_EQ(setenv("MP_TEST_HUGE", huge.c_str(), 1), 0);
  Process p(Nothing);
  ASSERT_TRUE(p.SetStartMethod(StartMethod::kSpawn).ok());
  absl::Status s = p.Start();
  unsetenv("MP_TEST_HUGE");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exec"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("too long"), absl::string_view::npos) << s;
  EXPECT_FALSE(p.Pid().has_value());
  EXPECT_TRUE(ActiveChildren().empty());

  // The same Process object was never started: after the cause is gone,
  // starting works.
  ASSERT_TRUE(p.Start().ok());
  ASSERT_TRUE(p.Join(absl::Seconds(30)).ok());
  EXPECT_EQ(p.ExitCode(), 0);
}

}  // namespace
}  // namespace mp
