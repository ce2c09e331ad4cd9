// Copyright 2026 The mp Authors.
//
// main() for GoogleTest binaries that start processes: mp::Init() first, so
// that a spawned child runs its target and exits before GoogleTest sees its
// arguments (GoogleTest's own gtest_main cannot be used for spawn).
//
// A watchdog also ends the binary, naming the case, when one case runs for
// longer than kCaseLimit: cases bound their own waits (kPatience), so a case
// that outlives the limit is stuck in an unbounded call, and the log should
// say where instead of only that Bazel's timeout struck. The conformance
// report (//tools:conformance) then runs the remaining cases one by one.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "mp/init.h"

namespace {

constexpr std::chrono::seconds kCaseLimit(200);

// What the watchdog thread reads. Leaked on purpose: the thread runs until
// the program ends, after GoogleTest has deleted its listeners.
struct CaseClock {
  std::mutex mu;
  std::string name;
  std::chrono::steady_clock::time_point started;
  bool running = false;
};

[[noreturn]] void Watch(CaseClock* clock) {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::lock_guard<std::mutex> lock(clock->mu);
    if (clock->running &&
        std::chrono::steady_clock::now() - clock->started > kCaseLimit) {
      std::fprintf(stderr,
                   "\nmp_test_main: %s still running after %lld s: it is "
                   "stuck in an unbounded call; aborting\n",
                   clock->name.c_str(),
                   static_cast<long long>(kCaseLimit.count()));
      std::fflush(stderr);
      std::_Exit(3);
    }
  }
}

class Watchdog : public ::testing::EmptyTestEventListener {
 public:
  Watchdog() : clock_(new CaseClock) { std::thread(Watch, clock_).detach(); }

 private:
  void OnTestStart(const ::testing::TestInfo& info) override {
    std::lock_guard<std::mutex> lock(clock_->mu);
    clock_->name = std::string(info.test_suite_name()) + "." + info.name();
    clock_->started = std::chrono::steady_clock::now();
    clock_->running = true;
  }
  void OnTestEnd(const ::testing::TestInfo&) override {
    std::lock_guard<std::mutex> lock(clock_->mu);
    clock_->running = false;
  }

  CaseClock* const clock_;
};

}  // namespace

int main(int argc, char** argv) {
  mp::MainScope scope = mp::Init(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  // Owned (and deleted at exit) by GoogleTest's listener list.
  ::testing::UnitTest::GetInstance()->listeners().Append(new Watchdog);
  return RUN_ALL_TESTS();
}
