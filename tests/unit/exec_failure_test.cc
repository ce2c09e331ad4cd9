// Copyright 2026 The mp Authors.
//
// An exec failure under spawn is reported by Start() through the error
// channel, with the OS's reason, and leaves no child behind. The failure
// is real: an environment string longer than the kernel accepts (128 KiB)
// makes execve fail with E2BIG. So are the other steps a copy takes
// between fork and exec (its standard streams, its working directory).

#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "mp/internal/os.h"
#include "mp/internal/spawn.h"
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

// The same failure from an environment given to the child alone
// (Process::ExtendEnvironment): this process's own is untouched.
TEST(ExecFailureTest, SpawnReportsExecErrorOfTheChildsEnvironment) {
  Process p(Nothing);
  ASSERT_TRUE(p.SetStartMethod(StartMethod::kSpawn).ok());
  ASSERT_TRUE(
      p.ExtendEnvironment({{"MP_TEST_HUGE", std::string(256 * 1024, 'x')}})
          .ok());
  absl::Status s = p.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exec"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("too long"), absl::string_view::npos) << s;
  EXPECT_FALSE(p.Pid().has_value());
  EXPECT_TRUE(ActiveChildren().empty());
  EXPECT_EQ(std::getenv("MP_TEST_HUGE"), nullptr);
}

// Each step a copy can fail at between fork and exec reads back as the OS's
// error, naming the step.
TEST(ExecFailureTest, CopyFailureFramesNameTheirStep) {
  const std::pair<os::CopyStep, const char*> steps[] = {
      {os::CopyStep::kStandardStreams, "standard streams"},
      {os::CopyStep::kWorkingDirectory, "working directory"},
      {os::CopyStep::kExec, "exec of this program"},
  };
  for (const auto& [step, words] : steps) {
    char frame[os::kCopyFailureFrameSize];
    os::FillCopyFailureFrame(frame, step, ENOENT);
    const absl::Status s =
        internal::DecodeAnswer(absl::string_view(frame + 8, sizeof frame - 8));
    EXPECT_TRUE(absl::IsNotFound(s)) << s;
    EXPECT_NE(s.message().find(words), absl::string_view::npos) << s;
  }
}

}  // namespace
}  // namespace mp
