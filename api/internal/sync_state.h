// Copyright 2026 The mp Authors.
//
// The state behind every mp synchronisation object (mp/sync.h), among them
// the Queue's two locks: one OS Monitor, shared by every copy of the object
// in this process.

#ifndef MP_INTERNAL_SYNC_STATE_H_
#define MP_INTERNAL_SYNC_STATE_H_

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "mp/status.h"

namespace mp {
namespace internal {

class SyncState {
 public:
  explicit SyncState(os::Monitor* monitor) : monitor_(monitor) {}
  ~SyncState() { os::CloseMonitor(monitor_); }
  SyncState(const SyncState&) = delete;
  SyncState& operator=(const SyncState&) = delete;

  os::Monitor* monitor() const { return monitor_; }
  template <typename T>
  T* data() const {
    return static_cast<T*>(os::MonitorData(monitor_));
  }

  // The thread of this process holding a Condition's lock, if any: Wait
  // and Notify check it (the OS does not report ownership portably).
  std::atomic<std::thread::id> holder{};

 private:
  os::Monitor* const monitor_;
};

absl::StatusOr<std::shared_ptr<SyncState>> NewSyncState(uint32_t kind,
                                                        size_t data_size,
                                                        bool recursive);

// Holds a monitor used as an internal lock: held for a few instructions
// only, so a holder's death cannot leave the state torn, and OwnerDied is
// simply the lock being free again. Calls with a deadline pass it, so that
// a holder that stopped (a suspended or debugged process) makes them time
// out rather than hang; status() is then DeadlineExceeded. The lock is
// always given at least 100 ms: a zero timeout means "do not wait for the
// object", not "fail if another process is reading its state right now".
class Internal {
 public:
  explicit Internal(const SyncState& s, Deadline deadline = Deadline::Never())
      : m_(s.monitor()) {
    status_ = os::MonitorLock(
        m_, std::max(deadline, Deadline::After(absl::Milliseconds(100))));
    if (IsOwnerDied(status_)) status_ = absl::OkStatus();
  }
  ~Internal() {
    if (status_.ok()) (void)os::MonitorUnlock(m_);
  }
  Internal(const Internal&) = delete;
  Internal& operator=(const Internal&) = delete;
  const absl::Status& status() const { return status_; }
  // Waits for a notification; false once `deadline` has passed.
  absl::StatusOr<bool> Wait(Deadline deadline) {
    absl::Status s = os::MonitorWait(m_, deadline);
    if (s.ok() || IsOwnerDied(s)) return true;
    if (absl::IsDeadlineExceeded(s)) return false;
    return s;
  }
  void NotifyAll() { os::MonitorNotifyAll(m_); }

 private:
  os::Monitor* m_;
  absl::Status status_;
};

}  // namespace internal
}  // namespace mp

#endif  // MP_INTERNAL_SYNC_STATE_H_
