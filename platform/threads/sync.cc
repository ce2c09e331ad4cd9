// Copyright 2026 The mp Authors.
//
// Monitors on threads (mp/internal/os.h). The mirror of posix/sync.cc and
// win32/sync.cc: an owner-tracking mutex and a condition variable built
// from std::mutex and std::condition_variable, and the shared data in
// ordinary memory. A thread cannot die alone, so OwnerDied never occurs.

#include <cstring>
#include <memory>
#include <new>
#include <thread>

#include "absl/strings/str_cat.h"
#include "mp/internal/os.h"
#include "platform/threads/objects.h"

namespace mp {
namespace os {

struct Monitor : threads::Object {
  Monitor(uint32_t k, size_t size, bool r)
      : kind(k), recursive(r), data(new (std::align_val_t{16}) char[size + 1]) {
    std::memset(data, 0, size + 1);
  }
  ~Monitor() override { operator delete[](data, std::align_val_t{16}); }

  const uint32_t kind;
  const bool recursive;
  char* const data;

  std::mutex mu;                  // guards owner and depth
  std::condition_variable freed;  // the monitor became free
  std::condition_variable cond;   // MonitorNotify
  std::thread::id owner;
  int depth = 0;
};

namespace {

absl::Status NotHeld() {
  return absl::FailedPreconditionError(
      "mp: the lock is not held by this thread");
}

// Takes the monitor for this thread once `mu` is held; false at `deadline`.
bool Take(Monitor* m, std::unique_lock<std::mutex>& lock,
          internal::Deadline deadline) {
  while (m->owner != std::thread::id()) {
    if (!threads::WaitUntil(lock, m->freed, deadline)) return false;
  }
  m->owner = std::this_thread::get_id();
  m->depth = 1;
  return true;
}

}  // namespace

absl::StatusOr<Monitor*> CreateMonitor(uint32_t kind, size_t data_size,
                                       bool recursive) {
  auto* m = new Monitor(kind, data_size, recursive);
  threads::Register(m);
  return m;
}

absl::StatusOr<Monitor*> OpenMonitor(intptr_t handle) {
  Monitor* m;
  {
    std::lock_guard<std::mutex> lock(threads::Mutex());
    m = threads::FindAs<Monitor>(handle);
  }
  if (m == nullptr) {
    threads::Release(handle);
    return absl::InvalidArgumentError(
        absl::StrCat("mp: handle ", handle, " is not a monitor"));
  }
  return m;
}

uint32_t MonitorKind(const Monitor* m) { return m->kind; }

void CloseMonitor(Monitor* m) { threads::Release(threads::HandleOf(m)); }

intptr_t MonitorHandle(const Monitor* m) { return threads::HandleOf(m); }

void* MonitorData(const Monitor* m) { return m->data; }

absl::Status MonitorLock(Monitor* m, internal::Deadline deadline) {
  std::unique_lock<std::mutex> lock(m->mu);
  if (m->owner == std::this_thread::get_id()) {
    if (!m->recursive) {
      return absl::FailedPreconditionError(
          "mp: this thread already holds the lock");
    }
    ++m->depth;
    return absl::OkStatus();
  }
  if (!Take(m, lock, deadline)) {
    return absl::DeadlineExceededError("mp: lock timed out");
  }
  return absl::OkStatus();
}

absl::Status MonitorUnlock(Monitor* m) {
  std::lock_guard<std::mutex> lock(m->mu);
  if (m->owner != std::this_thread::get_id()) return NotHeld();
  if (--m->depth == 0) {
    m->owner = std::thread::id();
    m->freed.notify_one();
  }
  return absl::OkStatus();
}

absl::Status MonitorWait(Monitor* m, internal::Deadline deadline) {
  std::unique_lock<std::mutex> lock(m->mu);
  if (m->owner != std::this_thread::get_id()) return NotHeld();
  // Give the monitor up entirely (a recursive holder too), wait, take it
  // back with the same depth. `mu` is held from the check to the wait, so
  // a notifier, which must hold the monitor and thus `mu`, cannot slip in
  // between.
  const int depth = m->depth;
  m->owner = std::thread::id();
  m->depth = 0;
  m->freed.notify_one();
  const bool notified = threads::WaitUntil(lock, m->cond, deadline);
  (void)Take(m, lock, internal::Deadline::Never());
  m->depth = depth;
  if (!notified) return absl::DeadlineExceededError("mp: wait timed out");
  return absl::OkStatus();
}

void MonitorNotify(Monitor* m, int n) {
  std::lock_guard<std::mutex> lock(m->mu);
  for (int i = 0; i < n; ++i) m->cond.notify_one();
}

void MonitorNotifyAll(Monitor* m) {
  std::lock_guard<std::mutex> lock(m->mu);
  m->cond.notify_all();
}

}  // namespace os
}  // namespace mp
