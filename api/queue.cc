// Copyright 2026 The mp Authors.
//
// Queue = Pipe + Lock, the seed's model, with the pipe in shared memory: a
// ring of records (mp/internal/ring.h) carrying the framing of
// mp/internal/framing.h, a robust write lock serialising producers and a
// robust read lock serialising consumers. The ring keeps the counts
// (QSize, unfinished tasks) in the same atomic words that publish records,
// so they stay exact whoever dies when. See mp/queue.h for the contract.

#include "mp/queue.h"

#include <algorithm>
#include <mutex>

#include "mp/internal/deadline.h"
#include "mp/internal/framing.h"
#include "mp/internal/os.h"
#include "mp/internal/ring.h"
#include "mp/internal/sync_state.h"
#include "mp/pipe.h"
#include "mp/process.h"
#include "mp/sync.h"

namespace mp {
namespace internal {

struct QueueState {
  // The ring while open; Close() drops this process's reference, and the
  // memory goes once no call in flight holds it any more.
  std::shared_ptr<Ring> ring() const {
    std::lock_guard<std::mutex> lock(mu);
    return ring_;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu);
    ring_.reset();
  }

  mutable std::mutex mu;
  std::shared_ptr<Ring> ring_;
  Lock read_lock;
  Lock write_lock;
  Receiver receiver;  // used under read_lock only
};

}  // namespace internal

using internal::Deadline;

namespace {

// How often GetWhileAlive looks at its producers while the queue is empty.
constexpr absl::Duration kProducerCheckInterval = absl::Milliseconds(20);

// The queue's ring, or nullptr once closed (or never opened).
std::shared_ptr<internal::Ring> RingOf(
    const std::shared_ptr<internal::QueueState>& state) {
  return state == nullptr ? nullptr : state->ring();
}

absl::Status Closed() {
  return absl::FailedPreconditionError("mp: queue is closed");
}

}  // namespace

absl::StatusOr<Queue> Queue::Create(int64_t maxsize) {
  auto state = std::make_shared<internal::QueueState>();
  absl::StatusOr<std::unique_ptr<internal::Ring>> ring =
      internal::Ring::Create(internal::Ring::kDefaultCapacity, maxsize);
  if (!ring.ok()) return ring.status();
  state->ring_ = *std::move(ring);
  absl::StatusOr<Lock> read_lock = Lock::Create();
  if (!read_lock.ok()) return read_lock.status();
  absl::StatusOr<Lock> write_lock = Lock::Create();
  if (!write_lock.ok()) return write_lock.status();
  state->read_lock = *std::move(read_lock);
  state->write_lock = *std::move(write_lock);
  return Queue(std::move(state));
}

absl::Status Queue::CheckOpen() const {
  if (RingOf(state_) == nullptr) return Closed();
  return absl::OkStatus();
}

absl::Status Queue::PutBytes(absl::string_view item, absl::Duration timeout) {
  std::shared_ptr<internal::Ring> ring = RingOf(state_);
  if (ring == nullptr) return Closed();
  if (item.size() > Connection::kDefaultMaxMessageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mp: item of ", item.size(), " bytes exceeds the maximum of ",
        Connection::kDefaultMaxMessageSize));
  }
  const Deadline deadline = Deadline::After(timeout);
  absl::Status s = state_->write_lock.Acquire(deadline.Left());
  if (absl::IsDeadlineExceeded(s)) {
    return FullError("mp: queue full: no room within the timeout");
  }
  bool started = false;  // whether a record of this item is in the ring
  auto send = [&](std::initializer_list<absl::string_view> pieces,
                  bool ends_item) {
    absl::Status sent = ring->Send(pieces, ends_item, false, deadline);
    started = started || sent.ok();
    return sent;
  };
  auto send_abort = [&](std::initializer_list<absl::string_view> pieces, bool) {
    return ring->Send(pieces, false, true, deadline);
  };
  if (IsOwnerDied(s)) {
    // The previous producer died holding the lock, perhaps mid-item: tell
    // the consumers to drop whatever part of it they have. Consumers also
    // drop a half item when the next one starts, so an abort that finds
    // no room in time loses nothing.
    (void)internal::SendAbort(send_abort);
  } else if (!s.ok()) {
    return s;
  }
  s = ring->maxsize() > 0 ? ring->WaitForItemsBelow(ring->maxsize(), deadline)
                          : absl::OkStatus();
  if (s.ok()) s = internal::SendMessage(send, item);
  if (!s.ok() && started) {
    // Out of time in the middle of an item: announce it abandoned (the
    // abort may use the room every other record leaves free).
    (void)internal::SendAbort(send_abort);
  }
  (void)state_->write_lock.Release();
  if (absl::IsDeadlineExceeded(s)) {
    return FullError(started ? "mp: queue full: the item did not fit in time"
                             : "mp: queue full: no room within the timeout");
  }
  return s;
}

absl::StatusOr<std::string> Queue::GetBytes(absl::Duration timeout) {
  std::shared_ptr<internal::Ring> ring = RingOf(state_);
  if (ring == nullptr) return Closed();
  const Deadline deadline = Deadline::After(timeout);
  absl::Status s = state_->read_lock.Acquire(deadline.Left());
  if (absl::IsDeadlineExceeded(s)) {
    return EmptyError("mp: queue empty: no item within the timeout");
  }
  if (IsOwnerDied(s)) {
    // The previous consumer died holding the lock, perhaps mid-item.
    state_->receiver.Resync();
  } else if (!s.ok()) {
    return s;
  }
  // Asked while an item is arriving and the ring is silent: may its
  // producer still write? It holds the write lock until it has published
  // the whole item; a dead holder shows as OwnerDied. A free lock means it
  // died or finished, and the receiver then reads what it published
  // before it let go (mp/internal/framing.h).
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
  s = state_->receiver.Recv(
      [&ring](char* buffer, Deadline until) {
        return ring->Recv(buffer, until);
      },
      deadline, Connection::kDefaultMaxMessageSize, writer_alive, &item);
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
  std::vector<os::Waitable> running;  // producers not yet ended
  for (const Process* p : producers) {
    absl::StatusOr<intptr_t> sentinel = p->Sentinel();
    if (!sentinel.ok()) return sentinel.status();
    running.push_back({os::Waitable::Kind::kSentinel, *sentinel});
  }
  const Deadline deadline = Deadline::After(timeout);
  for (;;) {
    // Every producer ended before this look, so an empty queue now stays
    // empty: nothing they put can still be on its way.
    const bool all_ended = running.empty();
    // Items are taken the moment they come; the end of a producer is
    // noticed within one slice. (A process's end and a word in shared
    // memory cannot be waited for together, portably, in one call.)
    const Deadline slice =
        all_ended ? Deadline::Passed()
                  : std::min(deadline, Deadline::After(kProducerCheckInterval));
    absl::StatusOr<std::string> item = GetBytes(slice.Left());
    if (item.ok() || !IsEmpty(item.status())) return item;
    if (all_ended) {
      return EndOfFileError(
          "mp: queue empty and every producer has ended: no item can come");
    }
    absl::StatusOr<std::vector<bool>> ended =
        os::WaitReady(running, Deadline::Passed());
    if (!ended.ok()) return ended.status();
    std::vector<os::Waitable> still;
    for (size_t i = 0; i < running.size(); ++i) {
      if (!(*ended)[i]) still.push_back(running[i]);
    }
    running.swap(still);
    if (!running.empty() && deadline.Expired()) {
      return EmptyError("mp: queue empty: no item within the timeout");
    }
  }
}

absl::StatusOr<int64_t> Queue::QSize() const {
  std::shared_ptr<internal::Ring> ring = RingOf(state_);
  if (ring == nullptr) return Closed();
  return ring->Items();
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
  std::shared_ptr<internal::Ring> ring = RingOf(state_);
  return ring == nullptr ? 0 : ring->maxsize();
}

absl::Status Queue::Close() {
  if (state_ != nullptr) state_->Close();
  return absl::OkStatus();
}

bool Queue::closed() const { return !CheckOpen().ok(); }

absl::StatusOr<JoinableQueue> JoinableQueue::Create(int64_t maxsize) {
  absl::StatusOr<Queue> q = Queue::Create(maxsize);
  if (!q.ok()) return q.status();
  return JoinableQueue(*std::move(q));
}

absl::Status JoinableQueue::TaskDone() {
  std::shared_ptr<internal::Ring> ring = RingOf(state_);
  if (ring == nullptr) return Closed();
  return ring->TaskDone();
}

absl::Status JoinableQueue::Join(absl::Duration timeout) {
  std::shared_ptr<internal::Ring> ring = RingOf(state_);
  if (ring == nullptr) return Closed();
  absl::Status s = ring->WaitForNoneUnfinished(Deadline::After(timeout));
  if (absl::IsDeadlineExceeded(s)) {
    return absl::DeadlineExceededError("mp: JoinableQueue join timed out");
  }
  return s;
}

absl::StatusOr<SimpleQueue> SimpleQueue::Create() {
  absl::StatusOr<Queue> q = Queue::Create(0);
  if (!q.ok()) return q.status();
  return SimpleQueue(*std::move(q));
}

void Codec<Queue>::Encode(Encoder& e, const Queue& q) {
  std::shared_ptr<internal::Ring> ring = RingOf(q.state_);
  if (ring == nullptr) {
    e.Fail(absl::FailedPreconditionError(
        "mp: a closed Queue cannot be passed to a child"));
    return;
  }
  const intptr_t handle = ring->handle();
  e.PutHandle(handle, std::move(ring));
  mp::Encode(e, q.state_->read_lock);
  mp::Encode(e, q.state_->write_lock);
}

absl::Status Codec<Queue>::Decode(Decoder& d, Queue& q) {
  auto state = std::make_shared<internal::QueueState>();
  absl::StatusOr<intptr_t> handle = d.TakeHandle();
  if (!handle.ok()) return handle.status();
  absl::StatusOr<std::unique_ptr<internal::Ring>> ring =
      internal::Ring::Open(*handle);
  if (!ring.ok()) return ring.status();
  state->ring_ = *std::move(ring);
  absl::Status s = mp::Decode(d, state->read_lock);
  if (s.ok()) s = mp::Decode(d, state->write_lock);
  if (!s.ok()) return s;
  q = Queue(std::move(state));
  return absl::OkStatus();
}

}  // namespace mp
