// Copyright 2026 The mp Authors.

#include "platform/threads/objects.h"

#include <algorithm>
#include <chrono>
#include <unordered_set>

#include "mp/internal/deadline.h"

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
  const absl::Time now = internal::MonotonicNow();
  if (deadline <= now) return false;
  // MonotonicNow() is steady_clock's time since its origin, so the deadline
  // converts directly; a far one is cut to an hour (callers wait again).
  const absl::Time until = std::min(deadline, now + absl::Hours(1));
  const std::cv_status woke = cv.wait_until(
      lock, std::chrono::steady_clock::time_point(
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                    absl::ToChronoNanoseconds(until - absl::UnixEpoch()))));
  return woke == std::cv_status::no_timeout || until < deadline;
}

}  // namespace threads
}  // namespace os
}  // namespace mp
