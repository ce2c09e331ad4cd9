// Copyright 2026 The mp Authors.
//
// The threads backend's handles. This backend (Python's
// multiprocessing.dummy) runs every "process" as a thread of one program, so
// an OS handle (mp/internal/os.h) is simply a pointer to a reference-counted
// Object: a monitor, a channel end, or a child's sentinel. Duplicating a
// handle adds a reference and returns the same value; closing one drops a
// reference; the last close destroys the object, which is how the other
// end of a channel sees end of file.
//
// One mutex guards every reference count and all channel and sentinel
// state, and one condition variable announces any change to it; waits
// re-check their own condition. Simple and plainly correct, which is what a
// reference backend is for; monitors keep a mutex of their own, so Lock
// traffic does not contend with channels.
//
// Only standard C++ is used: this backend builds wherever the compiler
// does, and it is the worked example in PORTING.md.

#ifndef MP_PLATFORM_THREADS_OBJECTS_H_
#define MP_PLATFORM_THREADS_OBJECTS_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "mp/internal/deadline.h"

namespace mp {
namespace os {
namespace threads {

class Object {
 public:
  Object() = default;
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  virtual ~Object() = default;

  // Called under Mutex() when the last reference goes, before deletion.
  virtual void LastReferenceGone() {}
  // Whether WaitReady (mp/internal/os.h) sees this handle as ready. Called
  // under Mutex().
  virtual bool Ready() const { return false; }

 private:
  friend intptr_t Register(Object* object);
  friend bool AddRef(intptr_t handle);
  friend void Release(intptr_t handle);
  int refs_ = 1;
};

// The backend's one lock and its change notification.
std::mutex& Mutex();
std::condition_variable& Changed();

// Makes `object` (with its one reference) a live handle.
intptr_t Register(Object* object);
// The live object behind `handle`, or nullptr. Call with Mutex() held.
Object* Find(intptr_t handle);
template <typename T>
T* FindAs(intptr_t handle) {
  return dynamic_cast<T*>(Find(handle));
}
inline intptr_t HandleOf(const Object* object) {
  return reinterpret_cast<intptr_t>(object);
}
// Adds a reference; false if `handle` is not live. Takes Mutex().
bool AddRef(intptr_t handle);
// Drops a reference, destroying the object with the last one; a handle
// that is not live is ignored. Takes Mutex().
void Release(intptr_t handle);

// Waits on `cv` (with `lock` held) until notified or `deadline`: false once
// the deadline has passed, true otherwise (callers re-check and loop).
bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
               internal::Deadline deadline);

}  // namespace threads
}  // namespace os
}  // namespace mp

#endif  // MP_PLATFORM_THREADS_OBJECTS_H_
