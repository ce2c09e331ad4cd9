// Copyright 2026 The mp Authors.
//
// Process conformance: the same cases on every backend.

#include "mp/process.h"

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/conformance/backends.h"

namespace mp {
namespace conformance {
namespace {

void ReturnNormally() {}

void ExitWith(int code) { std::_Exit(code); }

void Throw() { throw std::runtime_error("raised in the child"); }

void SleepLong() { absl::SleepFor(absl::Hours(1)); }

// Exits 0 when the arguments arrived as sent, 3 otherwise.
void CheckArgs(int i, std::string s, std::vector<double> v, bool b) {
  const bool same = i == -42 && s == std::string("h\0llo", 5) &&
                    v == std::vector<double>{1.5, -0.0, 1e300} && b;
  std::_Exit(same ? 0 : 3);
}

// Exits 0 when this child's parent is `parent`.
void CheckParent(int64_t parent) { std::_Exit(ParentPid() == parent ? 0 : 4); }

// Joins `p` with the suite's patience and returns its exit code (or -1000).
int JoinCode(Process& p) {
  EXPECT_TRUE(p.Join(kPatience).ok());
  return p.ExitCode().value_or(-1000);
}

template <typename B>
class ProcessTest : public ::testing::Test {};

TYPED_TEST_SUITE_P(ProcessTest);

TYPED_TEST_P(ProcessTest, NormalReturnExitsZero) {
  Process p = MakeProcess<TypeParam>(ReturnNormally);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0);
  EXPECT_FALSE(p.IsAlive());
}

TYPED_TEST_P(ProcessTest, ExitCodeOfExit) {
  Process p = MakeProcess<TypeParam>(ExitWith, 7);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 7);
}

TYPED_TEST_P(ProcessTest, UncaughtExceptionExitsOne) {
  Process p = MakeProcess<TypeParam>(Throw);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 1);
}

TYPED_TEST_P(ProcessTest, ArgumentsArrive) {
  Process p =
      MakeProcess<TypeParam>(CheckArgs, -42, std::string("h\0llo", 5),
                             std::vector<double>{1.5, -0.0, 1e300}, true);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0);
}

TYPED_TEST_P(ProcessTest, CapturelessLambdaTarget) {
  Process p =
      MakeProcess<TypeParam>([](int a, int b) { std::_Exit(a + b); }, 20, 22);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 42);
}

TYPED_TEST_P(ProcessTest, ChildsParentIsTheParent) {
  Process p = MakeProcess<TypeParam>(CheckParent, CurrentPid());
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(JoinCode(p), 0);
  ASSERT_TRUE(p.Pid().has_value());
  EXPECT_NE(*p.Pid(), CurrentPid());
}

TYPED_TEST_P(ProcessTest, StartTwiceFails) {
  Process p = MakeProcess<TypeParam>(ReturnNormally);
  ASSERT_TRUE(p.Start().ok());
  absl::Status again = p.Start();
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition) << again;
  EXPECT_EQ(JoinCode(p), 0);
}

TYPED_TEST_P(ProcessTest, JoinTimeoutThenKill) {
  Process p = MakeProcess<TypeParam>(SleepLong);
  EXPECT_FALSE(p.ExitCode().has_value());
  ASSERT_TRUE(p.Start().ok());
  EXPECT_TRUE(p.IsAlive());
  const absl::Time before = absl::Now();
  ASSERT_TRUE(p.Join(absl::Milliseconds(100)).ok());
  EXPECT_GE(absl::Now() - before, absl::Milliseconds(100));
  EXPECT_FALSE(p.ExitCode().has_value());  // still running
  ASSERT_TRUE(p.Kill().ok());
  EXPECT_EQ(JoinCode(p), -9);
  EXPECT_FALSE(p.IsAlive());
}

TYPED_TEST_P(ProcessTest, TerminateReadsAsMinusSigterm) {
  Process p = MakeProcess<TypeParam>(SleepLong);
  ASSERT_TRUE(p.Start().ok());
  ASSERT_TRUE(p.Terminate().ok());
  EXPECT_EQ(JoinCode(p), -15);
}

TYPED_TEST_P(ProcessTest, OperationsBeforeStartFail) {
  Process p = MakeProcess<TypeParam>(ReturnNormally);
  EXPECT_FALSE(p.IsAlive());
  EXPECT_FALSE(p.Pid().has_value());
  EXPECT_EQ(p.Join().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.Terminate().code(), absl::StatusCode::kFailedPrecondition);
}

REGISTER_TYPED_TEST_SUITE_P(ProcessTest, NormalReturnExitsZero, ExitCodeOfExit,
                            UncaughtExceptionExitsOne, ArgumentsArrive,
                            CapturelessLambdaTarget, ChildsParentIsTheParent,
                            StartTwiceFails, JoinTimeoutThenKill,
                            TerminateReadsAsMinusSigterm,
                            OperationsBeforeStartFail);

INSTANTIATE_TYPED_TEST_SUITE_P(Conformance, ProcessTest, Backends, BackendName);

}  // namespace

}  // namespace conformance
}  // namespace mp
