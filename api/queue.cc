// Copyright 2026 The mp Authors.
//
// Queue = Pipe + Lock: one record channel, a robust write lock serialising
// producers, a robust read lock serialising consumers, and a monitor
// holding the counts. See mp/queue.h for the contract and
// mp/internal/framing.h for why no item can be torn.

#include "mp/queue.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "mp/internal/framing.h"
#include "mp/internal/os.h"
#include "mp/internal/sync_state.h"
#include "mp/pipe.h"
#include "mp/process.h"
#include "mp/sync.h"

namespace mp {
namespace internal {

constexpr uint32_t kQueueKind = 20;

struct QueueCounts {
  int64_t count;       // items put and not yet taken
  int64_t maxsize;     // <= 0: unbounded
  int64_t unfinished;  // items put and not yet TaskDone() (JoinableQueue)
};

struct QueueState {
  ~QueueState() { CloseEnds(); }
  void CloseEnds() {
    if (read_end != -1) os::CloseChannel(read_end);
    if (write_end != -1) os::CloseChannel(write_end);
    read_end = write_end = -1;
  }
  intptr_t read_end = -1;
  intptr_t write_end = -1;
  std::shared_ptr<SyncState> counts;
  Lock read_lock;
  Lock write_lock;
  Receiver receiver;
};

}  // namespace internal

namespace {

using internal::Internal;
using internal::QueueCounts;

// What is left of `deadline`, as a timeout for calls that take one.
absl::Duration Left(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return absl::InfiniteDuration();
  return std::max(deadline - absl::Now(), absl::ZeroDuration());
}

bool IsQueueKind(uint32_t kind) { return kind == internal::kQueueKind; }

}  // namespace

absl::StatusOr<Queue> Queue::Create(int64_t maxsize) {
  auto state = std::make_shared<internal::QueueState>();
  absl::StatusOr<os::ChannelPair> pair =
      os::CreateChannelPair(/*duplex=*/false);
  if (!pair.ok()) return pair.status();
  state->read_end = pair->a;
  state->write_end = pair->b;
  absl::StatusOr<std::shared_ptr<internal::SyncState>> counts =
      internal::NewSyncState(internal::kQueueKind, sizeof(QueueCounts), false);
  if (!counts.ok()) return counts.status();
  state->counts = *std::move(counts);
  state->counts->data<QueueCounts>()->maxsize = maxsize;
  absl::StatusOr<Lock> read_lock = Lock::Create();
  if (!read_lock.ok()) return read_lock.status();
  absl::StatusOr<Lock> write_lock = Lock::Create();
  if (!write_lock.ok()) return write_lock.status();
  state->read_lock = *std::move(read_lock);
  state->write_lock = *std::move(write_lock);
  return Queue(std::move(state));
}

absl::Status Queue::CheckOpen() const {
  if (state_ == nullptr || state_->read_end == -1) {
    return absl::FailedPreconditionError("mp: queue is closed");
  }
  return absl::OkStatus();
}

absl::Status Queue::PutBytes(absl::string_view item, absl::Duration timeout) {
  absl::Status s = CheckOpen();
  if (!s.ok()) return s;
  if (item.size() > Connection::kDefaultMaxMessageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mp: item of ", item.size(), " bytes exceeds the maximum of ",
        Connection::kDefaultMaxMessageSize));
  }
  const absl::Time deadline = internal::DeadlineAfter(timeout);
  s = state_->write_lock.Acquire(Left(deadline));
  if (absl::IsDeadlineExceeded(s)) {
    return FullError("mp: queue full: no room within the timeout");
  }
  if (IsOwnerDied(s)) {
    // The previous producer died holding the lock, perhaps mid-item: tell
    // the consumers to drop whatever part of it they have.
    (void)internal::SendAbort(state_->write_end);
  } else if (!s.ok()) {
    return s;
  }
  {
    Internal counts(*state_->counts);
    QueueCounts* c = state_->counts->data<QueueCounts>();
    // The loop condition is checked again after a timed-out wait, so room
    // that appeared just as the deadline passed is still taken.
    for (bool in_time = true; c->maxsize > 0 && c->count >= c->maxsize;) {
      absl::StatusOr<bool> woke =
          in_time ? counts.Wait(deadline) : absl::StatusOr<bool>(false);
      if (!woke.ok() || !in_time) {
        (void)state_->write_lock.Release();
        return woke.ok() ? FullError("mp: queue full") : woke.status();
      }
      in_time = *woke;
    }
  }
  s = internal::SendMessage(state_->write_end, item);
  if (s.ok()) {
    Internal counts(*state_->counts);
    QueueCounts* c = state_->counts->data<QueueCounts>();
    ++c->count;
    ++c->unfinished;
    counts.NotifyAll();
  }
  (void)state_->write_lock.Release();
  return s;
}

absl::StatusOr<std::string> Queue::GetBytes(absl::Duration timeout) {
  absl::Status s = CheckOpen();
  if (!s.ok()) return s;
  const absl::Time deadline = internal::DeadlineAfter(timeout);
  s = state_->read_lock.Acquire(Left(deadline));
  if (absl::IsDeadlineExceeded(s)) {
    return EmptyError("mp: queue empty: no item within the timeout");
  }
  if (IsOwnerDied(s)) {
    // The previous consumer died holding the lock, perhaps mid-item.
    state_->receiver.Resync();
  } else if (!s.ok()) {
    return s;
  }
  // Asked while an item is arriving and the channel is silent: is its
  // producer still writing? The write lock is held by a live producer
  // exactly then; a dead holder shows as OwnerDied.
  Lock write_lock = state_->write_lock;
  auto writer_alive = [&write_lock]() {
    absl::Status w = write_lock.TryAcquire();
    if (w.ok() || IsOwnerDied(w)) {
      (void)write_lock.Release();
      return false;
    }
    return true;
  };
  std::string item;
  s = state_->receiver.Recv(state_->read_end, deadline,
                            Connection::kDefaultMaxMessageSize, writer_alive,
                            &item);
  if (s.ok()) {
    Internal counts(*state_->counts);
    --state_->counts->data<QueueCounts>()->count;
    counts.NotifyAll();
  }
  (void)state_->read_lock.Release();
  if (absl::IsDeadlineExceeded(s)) {
    return EmptyError("mp: queue empty: no item within the timeout");
  }
  if (!s.ok()) return s;
  return item;
}

absl::StatusOr<std::string> Queue::GetBytesWhileAlive(
    const std::vector<const Process*>& producers, absl::Duration timeout) {
  absl::Status s = CheckOpen();
  if (!s.ok()) return s;
  std::vector<intptr_t> running;  // sentinels of producers not yet ended
  for (const Process* p : producers) {
    absl::StatusOr<intptr_t> sentinel = p->Sentinel();
    if (!sentinel.ok()) return sentinel.status();
    running.push_back(*sentinel);
  }
  const absl::Time deadline = internal::DeadlineAfter(timeout);
  for (;;) {
    // An item that is there is taken first, even from ended producers.
    absl::StatusOr<std::string> item = GetBytes(absl::ZeroDuration());
    if (item.ok() || !IsEmpty(item.status())) return item;
    if (running.empty()) {
      return EndOfFileError(
          "mp: queue empty and every producer has ended: no item can come");
    }
    // Wait for the channel to have something, or a producer to end. The
    // channel also reads as ready while another consumer is taking an item;
    // GetBytes above then finds it gone and this waits again.
    std::vector<intptr_t> ends = {state_->read_end};
    ends.insert(ends.end(), running.begin(), running.end());
    absl::StatusOr<std::vector<bool>> ready = os::WaitReady(ends, deadline);
    if (!ready.ok()) return ready.status();
    std::vector<intptr_t> still;
    for (size_t i = 1; i < ends.size(); ++i) {
      if (!(*ready)[i]) still.push_back(ends[i]);
    }
    running.swap(still);
    if (std::find(ready->begin(), ready->end(), true) == ready->end() &&
        absl::Now() >= deadline) {
      return EmptyError("mp: queue empty: no item within the timeout");
    }
  }
}

absl::StatusOr<int64_t> Queue::QSize() const {
  absl::Status s = CheckOpen();
  if (!s.ok()) return s;
  Internal counts(*state_->counts);
  if (!counts.status().ok()) return counts.status();
  return state_->counts->data<QueueCounts>()->count;
}

absl::StatusOr<bool> Queue::Empty() const {
  absl::StatusOr<int64_t> n = QSize();
  if (!n.ok()) return n.status();
  return *n == 0;
}

absl::StatusOr<bool> Queue::Full() const {
  absl::StatusOr<int64_t> n = QSize();
  if (!n.ok()) return n.status();
  const int64_t max = maxsize();
  return max > 0 && *n >= max;
}

int64_t Queue::maxsize() const {
  if (state_ == nullptr || state_->counts == nullptr) return 0;
  return state_->counts->data<QueueCounts>()->maxsize;
}

absl::Status Queue::Close() {
  if (state_ != nullptr) state_->CloseEnds();
  return absl::OkStatus();
}

bool Queue::closed() const { return !CheckOpen().ok(); }

absl::StatusOr<JoinableQueue> JoinableQueue::Create(int64_t maxsize) {
  absl::StatusOr<Queue> q = Queue::Create(maxsize);
  if (!q.ok()) return q.status();
  return JoinableQueue(*std::move(q));
}

absl::Status JoinableQueue::TaskDone() {
  absl::Status s = CheckOpen();
  if (!s.ok()) return s;
  Internal counts(*state_->counts);
  QueueCounts* c = state_->counts->data<QueueCounts>();
  if (c->unfinished <= 0) {
    return absl::FailedPreconditionError(
        "mp: TaskDone() called more times than items were put");
  }
  if (--c->unfinished == 0) counts.NotifyAll();
  return absl::OkStatus();
}

absl::Status JoinableQueue::Join(absl::Duration timeout) {
  absl::Status s = CheckOpen();
  if (!s.ok()) return s;
  const absl::Time deadline = internal::DeadlineAfter(timeout);
  Internal counts(*state_->counts);
  QueueCounts* c = state_->counts->data<QueueCounts>();
  while (c->unfinished > 0) {
    absl::StatusOr<bool> woke = counts.Wait(deadline);
    if (!woke.ok()) return woke.status();
    if (!*woke && c->unfinished > 0) {
      return absl::DeadlineExceededError("mp: JoinableQueue join timed out");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SimpleQueue> SimpleQueue::Create() {
  absl::StatusOr<Queue> q = Queue::Create(0);
  if (!q.ok()) return q.status();
  return SimpleQueue(*std::move(q));
}

void Codec<Queue>::Encode(Encoder& e, const Queue& q) {
  if (q.closed()) {
    e.Fail(absl::FailedPreconditionError(
        "mp: a closed Queue cannot be passed to a child"));
    return;
  }
  const internal::QueueState& s = *q.state_;
  e.PutHandle(s.read_end, q.state_);
  e.PutHandle(s.write_end, q.state_);
  e.PutHandle(os::MonitorHandle(s.counts->monitor()), q.state_);
  mp::Encode(e, s.read_lock);
  mp::Encode(e, s.write_lock);
}

absl::Status Codec<Queue>::Decode(Decoder& d, Queue& q) {
  auto state = std::make_shared<internal::QueueState>();
  absl::StatusOr<intptr_t> read_end = d.TakeHandle();
  if (!read_end.ok()) return read_end.status();
  state->read_end = *read_end;
  os::AdoptChannel(*read_end);
  absl::StatusOr<intptr_t> write_end = d.TakeHandle();
  if (!write_end.ok()) return write_end.status();
  state->write_end = *write_end;
  os::AdoptChannel(*write_end);
  absl::StatusOr<intptr_t> counts = d.TakeHandle();
  if (!counts.ok()) return counts.status();
  absl::StatusOr<std::shared_ptr<internal::SyncState>> adopted =
      internal::AdoptSyncState(*counts, &IsQueueKind);
  if (!adopted.ok()) return adopted.status();
  state->counts = *std::move(adopted);
  absl::Status s = mp::Decode(d, state->read_lock);
  if (s.ok()) s = mp::Decode(d, state->write_lock);
  if (!s.ok()) return s;
  q = Queue(std::move(state));
  return absl::OkStatus();
}

}  // namespace mp
