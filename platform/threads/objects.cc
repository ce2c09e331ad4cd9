// Copyright 2026 The mp Authors.

#include "platform/threads/objects.h"

#include <algorithm>
#include <unordered_set>

#include "absl/time/clock.h"

namespace mp {
namespace os {
namespace threads {
namespace {

// Leaked on purpose: handles may be released from atexit handlers.
struct State {
  std::mutex mu;
  std::condition_variable changed;
  std::unordered_set<const Object*> live;
};

State& Get() {
  static State* state = new State;
  return *state;
}

}  // namespace

std::mutex& Mutex() { return Get().mu; }
std::condition_variable& Changed() { return Get().changed; }

intptr_t Register(Object* object) {
  std::lock_guard<std::mutex> lock(Get().mu);
  Get().live.insert(object);
  return HandleOf(object);
}

Object* Find(intptr_t handle) {
  Object* object = reinterpret_cast<Object*>(handle);
  return Get().live.count(object) != 0 ? object : nullptr;
}

bool AddRef(intptr_t handle) {
  std::lock_guard<std::mutex> lock(Get().mu);
  Object* object = Find(handle);
  if (object == nullptr) return false;
  ++object->refs_;
  return true;
}

void Release(intptr_t handle) {
  Object* dead = nullptr;
  {
    std::lock_guard<std::mutex> lock(Get().mu);
    Object* object = Find(handle);
    if (object == nullptr || --object->refs_ > 0) return;
    Get().live.erase(object);
    object->LastReferenceGone();
    dead = object;
  }
  delete dead;
}

bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
               absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) {
    cv.wait(lock);
    return true;
  }
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return false;
  cv.wait_for(lock, absl::ToChronoNanoseconds(std::min(left, absl::Hours(1))));
  return true;
}

}  // namespace threads
}  // namespace os
}  // namespace mp
