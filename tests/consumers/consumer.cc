// Copyright 2026 The mp Authors.
//
// A program outside mp that uses it the way a codebase vendoring mp does,
// built by each consumer project next to this file (Bazel, CMake
// add_subdirectory, CMake find_package, a Makefile with pkg-config; see
// README.md, "Using mp from your build"). It starts a child with each start
// method, passes it a Queue and a Lock, and checks what comes back:
//
// - the parent holds the Lock while the child starts, so nothing may arrive
//   before it lets go (the child puts under the Lock);
// - then every item arrives, in order, and the child exits with 0.
//
// Prints one line per start method and "consumer: ok" and exits 0, or says
// what went wrong and exits 1.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mp/init.h"
#include "mp/process.h"
#include "mp/queue.h"
#include "mp/status.h"
#include "mp/sync.h"

namespace {

constexpr int kItems = 50;

// The child: under the Lock, the squares of 0..count-1, then -1.
void Produce(mp::Queue queue, mp::Lock lock, int count) {
  if (!lock.Acquire().ok()) mp::Exit(2);
  for (int i = 0; i < count; ++i) {
    if (!queue.Put(i * i).ok()) mp::Exit(3);
  }
  if (!queue.Put(-1).ok()) mp::Exit(4);
  if (!lock.Release().ok()) mp::Exit(5);
}

bool Fail(const std::string& method, const std::string& what) {
  std::fprintf(stderr, "consumer: %s: %s\n", method.c_str(), what.c_str());
  return false;
}

bool RunWith(mp::StartMethod method) {
  const std::string name = mp::StartMethodName(method);
  absl::StatusOr<mp::Queue> queue = mp::Queue::Create();
  absl::StatusOr<mp::Lock> lock = mp::Lock::Create();
  if (!queue.ok()) return Fail(name, queue.status().ToString());
  if (!lock.ok()) return Fail(name, lock.status().ToString());
  if (absl::Status s = lock->Acquire(); !s.ok()) {
    return Fail(name, s.ToString());
  }

  mp::Process child(Produce, *queue, *lock, kItems);
  if (absl::Status s = child.SetStartMethod(method); !s.ok()) {
    return Fail(name, s.ToString());
  }
  if (absl::Status s = child.Start(); !s.ok()) return Fail(name, s.ToString());

  // The child waits for the Lock: the queue stays empty while it is held.
  absl::StatusOr<int> early = queue->Get<int>(absl::Milliseconds(300));
  if (early.ok() || !mp::IsEmpty(early.status())) {
    return Fail(name, "an item arrived while the parent held the lock");
  }
  if (absl::Status s = lock->Release(); !s.ok()) {
    return Fail(name, s.ToString());
  }

  for (int i = 0; i <= kItems; ++i) {
    const int want = i < kItems ? i * i : -1;
    absl::StatusOr<int> got = queue->Get<int>(absl::Seconds(30));
    if (!got.ok()) return Fail(name, got.status().ToString());
    if (*got != want) {
      return Fail(name, "item " + std::to_string(i) + " is " +
                            std::to_string(*got) + ", not " +
                            std::to_string(want));
    }
  }
  if (absl::Status s = child.Join(); !s.ok()) return Fail(name, s.ToString());
  if (child.ExitCode() != 0) {
    return Fail(name, "the child exited with " +
                          std::to_string(child.ExitCode().value_or(-1)));
  }
  std::printf("consumer: %s: child %lld passed %d items under the lock\n",
              name.c_str(), static_cast<long long>(child.Pid().value_or(0)),
              kItems);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // First: a spawned child runs Produce here and exits.
  mp::MainScope scope = mp::Init(argc, argv);
#ifdef _WIN32
  const std::vector<mp::StartMethod> methods = {mp::StartMethod::kSpawn};
#else
  const std::vector<mp::StartMethod> methods = {mp::StartMethod::kFork,
                                                mp::StartMethod::kSpawn};
#endif
  for (mp::StartMethod method : methods) {
    if (!RunWith(method)) return 1;
  }
  std::printf("consumer: ok\n");
  return 0;
}
