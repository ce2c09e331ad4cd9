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
               internal::Deadline deadline) {
  if (deadline.IsNever()) {
    cv.wait(lock);
    return true;
  }
  if (deadline.Expired()) return false;
  // A far deadline is cut to an hour (callers wait again).
  const internal::Deadline until =
      std::min(deadline, internal::Deadline::After(absl::Hours(1)));
  const std::cv_status woke = cv.wait_until(lock, until.ToSteadyTimePoint());
  return woke == std::cv_status::no_timeout || until < deadline;
}

}  // namespace threads
}  // namespace os
}  // namespace mp
