// Copyright 2026 The mp Authors.
//
// A target in a module loaded after the program started (dlopen) cannot be
// found by a spawned child, so Start() refuses it — for fork as well, so
// that a program accepted under one start method is accepted under both.

#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "mp/process.h"

namespace mp {
namespace {

void InMainProgram() {}

class DlopenTargetTest : public ::testing::TestWithParam<StartMethod> {};

TEST_P(DlopenTargetTest, TargetInDlopenedModuleIsRefused) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  ASSERT_NE(srcdir, nullptr);
  const std::string path = std::string(srcdir) + "/mp/tests/unit/libplugin.so";
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << dlerror();
  auto* fn = reinterpret_cast<void (*)()>(dlsym(handle, "PluginTarget"));
  ASSERT_NE(fn, nullptr);

  Process p(fn);
  ASSERT_TRUE(p.SetStartMethod(GetParam()).ok());
  absl::Status s = p.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("libplugin.so"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("PluginTarget"), absl::string_view::npos) << s;
  EXPECT_FALSE(p.Pid().has_value());

  // A target in the main program is fine on the same start method.
  Process ok(InMainProgram);
  ASSERT_TRUE(ok.SetStartMethod(GetParam()).ok());
  ASSERT_TRUE(ok.Start().ok());
  ASSERT_TRUE(ok.Join(absl::Seconds(30)).ok());
  EXPECT_EQ(ok.ExitCode(), 0);
  dlclose(handle);
}

INSTANTIATE_TEST_SUITE_P(StartMethods, DlopenTargetTest,
                         ::testing::Values(StartMethod::kFork,
                                           StartMethod::kSpawn),
                         [](const auto& info) {
                           return StartMethodName(info.param);
                         });

}  // namespace
}  // namespace mp
