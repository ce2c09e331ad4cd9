// Copyright 2026 The mp Authors.
//
// The platform-independent half of mp/sync.h: each object is a Monitor
// (mp/internal/os.h) with a few words of shared state.

#include "mp/sync.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "mp/internal/sync_state.h"

namespace mp {
namespace internal {

absl::StatusOr<std::shared_ptr<SyncState>> NewSyncState(uint32_t kind,
                                                        size_t data_size,
                                                        bool recursive) {
  absl::StatusOr<os::Monitor*> m =
      os::CreateMonitor(kind, data_size, recursive);
  if (!m.ok()) return m.status();
  return std::make_shared<SyncState>(*m);
}

absl::Status SharedObject::CheckNotEmpty() const {
  if (state_ == nullptr) {
    return absl::FailedPreconditionError(
        "mp: empty synchronisation object (default-constructed or moved-from)");
  }
  return absl::OkStatus();
}

intptr_t SharedObject::handle() const {
  return state_ == nullptr ? -1 : os::MonitorHandle(state_->monitor());
}

absl::StatusOr<std::shared_ptr<SyncState>> AdoptSyncState(
    intptr_t handle, bool (*accepts)(uint32_t kind)) {
  absl::StatusOr<os::Monitor*> m = os::OpenMonitor(handle);
  if (!m.ok()) return m.status();
  const uint32_t kind = os::MonitorKind(*m);
  if (!accepts(kind)) {
    os::CloseMonitor(*m);
    return absl::InvalidArgumentError(absl::StrCat(
        "mp: handle is a synchronisation object of another kind (", kind, ")"));
  }
  return std::make_shared<SyncState>(*m);
}

}  // namespace internal

namespace {

using internal::Deadline;
using internal::Internal;
using internal::SyncState;

struct SemaphoreData {
  int64_t value;
  int64_t bound;  // -1: unbounded
};

struct EventData {
  int32_t flag;
};

struct BarrierData {
  int32_t parties;
  int32_t count;  // arrived in the current generation
  int32_t broken;
  uint32_t generation;
  // Waiters of this generation were sent away by Reset(): they get Broken.
  uint32_t reset_generation;
  uint32_t reset_valid;
};

// Lock-like acquire with a deadline: OK, OwnerDied, DeadlineExceeded, ...
absl::Status AcquireMonitor(const SyncState& s, Deadline deadline) {
  return os::MonitorLock(s.monitor(), deadline);
}

}  // namespace

// --- Lock --------------------------------------------------------------------

absl::StatusOr<Lock> Lock::Create() {
  absl::StatusOr<std::shared_ptr<SyncState>> s =
      internal::NewSyncState(kKind, 0, /*recursive=*/false);
  if (!s.ok()) return s.status();
  return Lock(*std::move(s));
}

absl::Status Lock::Acquire() { return Acquire(absl::InfiniteDuration()); }

absl::Status Lock::Acquire(absl::Duration timeout) {
  absl::Status s = CheckNotEmpty();
  return s.ok() ? AcquireMonitor(*state_, Deadline::After(timeout)) : s;
}

absl::Status Lock::Release() {
  absl::Status s = CheckNotEmpty();
  return s.ok() ? os::MonitorUnlock(state_->monitor()) : s;
}

// --- RLock -------------------------------------------------------------------

absl::StatusOr<RLock> RLock::Create() {
  absl::StatusOr<std::shared_ptr<SyncState>> s =
      internal::NewSyncState(kKind, 0, /*recursive=*/true);
  if (!s.ok()) return s.status();
  return RLock(*std::move(s));
}

absl::Status RLock::Acquire() { return Acquire(absl::InfiniteDuration()); }

absl::Status RLock::Acquire(absl::Duration timeout) {
  absl::Status s = CheckNotEmpty();
  return s.ok() ? AcquireMonitor(*state_, Deadline::After(timeout)) : s;
}

absl::Status RLock::Release() {
  absl::Status s = CheckNotEmpty();
  return s.ok() ? os::MonitorUnlock(state_->monitor()) : s;
}

// --- Semaphore ---------------------------------------------------------------

absl::StatusOr<Semaphore> Semaphore::CreateKind(uint32_t kind, int64_t value,
                                                bool bounded) {
  if (value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("mp: semaphore value ", value, " is negative"));
  }
  absl::StatusOr<std::shared_ptr<SyncState>> s =
      internal::NewSyncState(kind, sizeof(SemaphoreData), false);
  if (!s.ok()) return s.status();
  SemaphoreData* d = (*s)->data<SemaphoreData>();
  d->value = value;
  d->bound = bounded ? value : -1;
  return Semaphore(*std::move(s));
}

absl::StatusOr<Semaphore> Semaphore::Create(int64_t value) {
  return CreateKind(kKind, value, /*bounded=*/false);
}

absl::Status Semaphore::Acquire() { return Acquire(absl::InfiniteDuration()); }

absl::Status Semaphore::Acquire(absl::Duration timeout) {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  const Deadline deadline = Deadline::After(timeout);
  Internal lock(*state_, deadline);
  if (absl::IsDeadlineExceeded(lock.status())) {
    return absl::DeadlineExceededError("mp: semaphore acquire timed out");
  }
  if (!lock.status().ok()) return lock.status();
  SemaphoreData* d = state_->data<SemaphoreData>();
  while (d->value == 0) {
    absl::StatusOr<bool> woke = lock.Wait(deadline);
    if (!woke.ok()) return woke.status();
    if (!*woke && d->value == 0) {
      return absl::DeadlineExceededError("mp: semaphore acquire timed out");
    }
  }
  --d->value;
  return absl::OkStatus();
}

absl::Status Semaphore::Release(int64_t n) {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  if (n < 1) {
    return absl::InvalidArgumentError("mp: release count must be >= 1");
  }
  Internal lock(*state_);
  if (!lock.status().ok()) return lock.status();
  SemaphoreData* d = state_->data<SemaphoreData>();
  if (d->bound >= 0 && d->value + n > d->bound) {
    return absl::FailedPreconditionError(
        "mp: bounded semaphore released too many times");
  }
  d->value += n;
  os::MonitorNotify(state_->monitor(),
                    static_cast<int>(std::min<int64_t>(n, 1 << 30)));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Semaphore::GetValue() const {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  Internal lock(*state_);
  if (!lock.status().ok()) return lock.status();
  return state_->data<SemaphoreData>()->value;
}

absl::StatusOr<BoundedSemaphore> BoundedSemaphore::Create(int64_t value) {
  absl::StatusOr<Semaphore> s = CreateKind(kKind, value, /*bounded=*/true);
  if (!s.ok()) return s.status();
  return BoundedSemaphore(*std::move(s));
}

// --- Event -------------------------------------------------------------------

absl::StatusOr<Event> Event::Create() {
  absl::StatusOr<std::shared_ptr<SyncState>> s =
      internal::NewSyncState(kKind, sizeof(EventData), false);
  if (!s.ok()) return s.status();
  return Event(*std::move(s));
}

absl::Status Event::Set() {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  Internal lock(*state_);
  if (!lock.status().ok()) return lock.status();
  state_->data<EventData>()->flag = 1;
  os::MonitorNotifyAll(state_->monitor());
  return absl::OkStatus();
}

absl::Status Event::Clear() {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  Internal lock(*state_);
  if (!lock.status().ok()) return lock.status();
  state_->data<EventData>()->flag = 0;
  return absl::OkStatus();
}

absl::StatusOr<bool> Event::IsSet() const {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  Internal lock(*state_);
  if (!lock.status().ok()) return lock.status();
  return state_->data<EventData>()->flag != 0;
}

absl::Status Event::Wait() { return Wait(absl::InfiniteDuration()); }

absl::Status Event::Wait(absl::Duration timeout) {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  const Deadline deadline = Deadline::After(timeout);
  Internal lock(*state_, deadline);
  if (absl::IsDeadlineExceeded(lock.status())) {
    return absl::DeadlineExceededError("mp: event wait timed out");
  }
  if (!lock.status().ok()) return lock.status();
  EventData* d = state_->data<EventData>();
  while (d->flag == 0) {
    absl::StatusOr<bool> woke = lock.Wait(deadline);
    if (!woke.ok()) return woke.status();
    if (!*woke && d->flag == 0) {
      return absl::DeadlineExceededError("mp: event wait timed out");
    }
  }
  return absl::OkStatus();
}

// --- Condition ---------------------------------------------------------------

namespace {

absl::Status NotHeld() {
  return absl::FailedPreconditionError(
      "mp: the condition's lock is not held by this thread");
}

}  // namespace

absl::StatusOr<Condition> Condition::Create() {
  absl::StatusOr<std::shared_ptr<SyncState>> s =
      internal::NewSyncState(kKind, 0, /*recursive=*/false);
  if (!s.ok()) return s.status();
  return Condition(*std::move(s));
}

absl::Status Condition::Acquire() { return Acquire(absl::InfiniteDuration()); }

absl::Status Condition::Acquire(absl::Duration timeout) {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  s = AcquireMonitor(*state_, Deadline::After(timeout));
  if (s.ok() || IsOwnerDied(s))
    state_->holder.store(std::this_thread::get_id());
  return s;
}

absl::Status Condition::Release() {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  if (state_->holder.load() != std::this_thread::get_id()) return NotHeld();
  state_->holder.store(std::thread::id());
  return os::MonitorUnlock(state_->monitor());
}

absl::Status Condition::Wait() { return Wait(absl::InfiniteDuration()); }

absl::Status Condition::Wait(absl::Duration timeout) {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  if (state_->holder.load() != std::this_thread::get_id()) return NotHeld();
  state_->holder.store(std::thread::id());
  s = os::MonitorWait(state_->monitor(), Deadline::After(timeout));
  state_->holder.store(std::this_thread::get_id());  // held again, always
  return s;
}

absl::Status Condition::WaitFor(const std::function<bool()>& predicate,
                                absl::Duration timeout) {
  const Deadline deadline = Deadline::After(timeout);
  while (!predicate()) {
    absl::Status s = Wait(deadline.Left());
    if (absl::IsDeadlineExceeded(s)) {
      return predicate() ? absl::OkStatus() : s;
    }
    if (!s.ok() && !IsOwnerDied(s)) return s;
  }
  return absl::OkStatus();
}

absl::Status Condition::Notify(int n) {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  if (state_->holder.load() != std::this_thread::get_id()) return NotHeld();
  os::MonitorNotify(state_->monitor(), n);
  return absl::OkStatus();
}

absl::Status Condition::NotifyAll() {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  if (state_->holder.load() != std::this_thread::get_id()) return NotHeld();
  os::MonitorNotifyAll(state_->monitor());
  return absl::OkStatus();
}

// --- Barrier -----------------------------------------------------------------

absl::StatusOr<Barrier> Barrier::Create(int parties) {
  if (parties < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("mp: barrier parties must be >= 1, not ", parties));
  }
  absl::StatusOr<std::shared_ptr<SyncState>> s =
      internal::NewSyncState(kKind, sizeof(BarrierData), false);
  if (!s.ok()) return s.status();
  (*s)->data<BarrierData>()->parties = parties;
  return Barrier(*std::move(s));
}

absl::StatusOr<int> Barrier::Wait() { return Wait(absl::InfiniteDuration()); }

absl::StatusOr<int> Barrier::Wait(absl::Duration timeout) {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  const Deadline deadline = Deadline::After(timeout);
  Internal lock(*state_);
  if (!lock.status().ok()) return lock.status();
  BarrierData* d = state_->data<BarrierData>();
  if (d->broken) return BrokenError("mp: barrier is broken");
  const uint32_t generation = d->generation;
  const int index = d->count++;
  if (d->count == d->parties) {  // the last to arrive releases everyone
    d->count = 0;
    ++d->generation;
    os::MonitorNotifyAll(state_->monitor());
    return index;
  }
  for (;;) {
    absl::StatusOr<bool> woke = lock.Wait(deadline);
    if (!woke.ok()) return woke.status();
    if (d->reset_valid && d->reset_generation == generation) {
      return BrokenError("mp: barrier was reset while waiting");
    }
    if (d->generation != generation) return index;
    if (d->broken) return BrokenError("mp: barrier was aborted");
    if (!*woke) {  // a timeout breaks the barrier for everyone
      d->broken = 1;
      os::MonitorNotifyAll(state_->monitor());
      return BrokenError("mp: barrier wait timed out; barrier broken");
    }
  }
}

absl::Status Barrier::Abort() {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  Internal lock(*state_);
  if (!lock.status().ok()) return lock.status();
  state_->data<BarrierData>()->broken = 1;
  os::MonitorNotifyAll(state_->monitor());
  return absl::OkStatus();
}

absl::Status Barrier::Reset() {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  Internal lock(*state_);
  if (!lock.status().ok()) return lock.status();
  BarrierData* d = state_->data<BarrierData>();
  if (d->count > 0) {  // send the current waiters away, broken
    d->reset_generation = d->generation;
    d->reset_valid = 1;
    ++d->generation;
  }
  d->count = 0;
  d->broken = 0;
  os::MonitorNotifyAll(state_->monitor());
  return absl::OkStatus();
}

absl::StatusOr<bool> Barrier::Broken() const {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  Internal lock(*state_);
  if (!lock.status().ok()) return lock.status();
  return state_->data<BarrierData>()->broken != 0;
}

absl::StatusOr<int> Barrier::NWaiting() const {
  absl::Status s = CheckNotEmpty();
  if (!s.ok()) return s;
  Internal lock(*state_);
  if (!lock.status().ok()) return lock.status();
  return state_->data<BarrierData>()->count;
}

int Barrier::Parties() const {
  return state_ == nullptr ? 0 : state_->data<BarrierData>()->parties;
}

}  // namespace mp
