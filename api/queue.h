// Copyright 2026 The mp Authors.
//
// Queues between processes, as Python's multiprocessing.Queue,
// JoinableQueue and SimpleQueue: many producers, many consumers, FIFO per
// producer, safe to share between any number of processes and threads.
//
//   absl::StatusOr<mp::Queue> q = mp::Queue::Create(/*maxsize=*/100);
//   mp::Process consumer(Consume, *q);
//   q->Put(std::string("job"));                 // blocks while full
//   absl::StatusOr<std::string> job = q->Get<std::string>(absl::Seconds(1));
//   if (mp::IsEmpty(job.status())) ...          // nothing within a second
//
// The model is Python's: Queue = Pipe + Lock. Items travel as messages
// of records (mp/internal/framing.h); producers take a write lock,
// consumers a read lock, both robust. The "pipe" is a ring of records in
// shared memory (mp/internal/ring.h) rather than a kernel channel, so a
// small item crosses without a system call while both sides are busy;
// QSize() is exact. Put encodes the item in the caller, so encoding errors
// surface in Put, and there is no hidden feeder thread (Python's is a
// classic source of lost items at exit).
//
// Faults: a producer killed in the middle of a Put, or a consumer killed in
// the middle of a Get, never tears or splices an item for anyone else: the
// next producer announces the abandoned item (it is dropped whole), and the
// next consumer skips the rest of a half-read one or, if the dead one had
// not taken it yet, gets it whole. The queue stays usable. Shared memory
// that another process scribbled on is DataLoss, with the unread items
// dropped; the queue stays usable then too.
//
// Results: Put with a timeout gives Full (mp/status.h) when no room came in
// time; Get with a timeout gives Empty when no item came. Close() ends
// this process's use of the queue (its memory is released once no call in
// flight uses it): afterwards its Put and Get are FailedPrecondition.
//
// Capacity: without maxsize a Put still blocks when the ring is full until
// a consumer reads, because there is no feeder thread to hold items in
// memory. The ring holds 1 MiB of records: an item takes its encoded size
// plus 9 bytes per 64 KiB, rounded up to 8 (tens of thousands of small
// items), and an item larger than the ring passes through it while a
// consumer reads. A Put whose timeout passes while the ring is full is
// Full, with nothing of the item left for a consumer to see.
//
// A Queue is a handle: copies share it; pass it to children as a Process
// argument. Thread-safe and process-safe. What every process holding it is
// trusted with, and what it cannot do: "Trust" in mp/sync.h.

#ifndef MP_QUEUE_H_
#define MP_QUEUE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "mp/codec.h"
#include "mp/status.h"

namespace mp {

class Process;

namespace internal {
struct QueueState;
}  // namespace internal

class Queue {
 public:
  // maxsize <= 0: unbounded.
  static absl::StatusOr<Queue> Create(int64_t maxsize = 0);
  Queue() = default;  // closed

  absl::Status PutBytes(absl::string_view item,
                        absl::Duration timeout = absl::InfiniteDuration());
  // An item that has begun to arrive is awaited past `timeout` while its
  // producer lives (another consumer could not finish it): Get never drops
  // an item of a live producer, only the part of one whose producer died.
  absl::StatusOr<std::string> GetBytes(
      absl::Duration timeout = absl::InfiniteDuration());

  template <typename T>
  absl::Status Put(const T& item,
                   absl::Duration timeout = absl::InfiniteDuration()) {
    Encoder e;
    Encode(e, item);
    if (!e.status().ok()) return e.status();
    return PutBytes(e.bytes(), timeout);
  }
  template <typename T>
  absl::StatusOr<T> Get(absl::Duration timeout = absl::InfiniteDuration()) {
    absl::StatusOr<std::string> bytes = GetBytes(timeout);
    if (!bytes.ok()) return bytes.status();
    return DecodeItem<T>(*bytes);
  }
  // Get for a consumer that knows its producers: once the queue is empty
  // and every process in `producers` has ended (returned, exited, crashed
  // or been killed), EndOfFile (mp/status.h) instead of waiting for ever —
  // where Python's get() hangs because its producers died. Items they put
  // before ending are returned first; a half-put item of a killed producer
  // is dropped whole. Items are returned as soon as they come; the end of
  // the producers is noticed within 20 ms. Empty after `timeout`;
  // FailedPrecondition if a producer was never started.
  absl::StatusOr<std::string> GetBytesWhileAlive(
      const std::vector<const Process*>& producers,
      absl::Duration timeout = absl::InfiniteDuration());
  template <typename T>
  absl::StatusOr<T> GetWhileAlive(
      const std::vector<const Process*>& producers,
      absl::Duration timeout = absl::InfiniteDuration()) {
    absl::StatusOr<std::string> bytes = GetBytesWhileAlive(producers, timeout);
    if (!bytes.ok()) return bytes.status();
    return DecodeItem<T>(*bytes);
  }

  template <typename T>
  absl::Status PutNoWait(const T& item) {
    return Put(item, absl::ZeroDuration());
  }
  template <typename T>
  absl::StatusOr<T> GetNoWait() {
    return Get<T>(absl::ZeroDuration());
  }

  // Items put and not yet taken, across all processes.
  absl::StatusOr<int64_t> QSize() const;
  absl::StatusOr<bool> Empty() const;
  absl::StatusOr<bool> Full() const;
  int64_t maxsize() const;

  absl::Status Close();
  bool closed() const;

 protected:
  explicit Queue(std::shared_ptr<internal::QueueState> state)
      : state_(std::move(state)) {}
  absl::Status CheckOpen() const;
  // InvalidArgument if `bytes` do not decode as a T, ResourceExhausted if
  // the decoded value does not fit in memory.
  template <typename T>
  static absl::StatusOr<T> DecodeItem(absl::string_view bytes) {
    absl::StatusOr<T> value = FromBytes<T>(bytes);
    if (!value.ok()) {
      return absl::Status(absl::IsResourceExhausted(value.status())
                              ? absl::StatusCode::kResourceExhausted
                              : absl::StatusCode::kInvalidArgument,
                          absl::StrCat("mp: queue item does not decode: ",
                                       value.status().message()));
    }
    return value;
  }

  std::shared_ptr<internal::QueueState> state_;

 private:
  friend struct Codec<Queue>;
};

// A Queue that counts unfinished tasks: every Put adds one, TaskDone()
// removes one, Join() waits for none to be left.
class JoinableQueue : public Queue {
 public:
  static absl::StatusOr<JoinableQueue> Create(int64_t maxsize = 0);
  JoinableQueue() = default;

  // FailedPrecondition if called more times than items were put.
  absl::Status TaskDone();
  // OK once every item put has been marked done; DeadlineExceeded.
  absl::Status Join(absl::Duration timeout = absl::InfiniteDuration());

 private:
  explicit JoinableQueue(Queue q) : Queue(std::move(q)) {}
};

// Python's SimpleQueue: unbounded, with Put, Get, Empty and Close only.
class SimpleQueue {
 public:
  static absl::StatusOr<SimpleQueue> Create();
  SimpleQueue() = default;

  template <typename T>
  absl::Status Put(const T& item) {
    return queue_.Put(item);
  }
  template <typename T>
  absl::StatusOr<T> Get() {
    return queue_.Get<T>();
  }
  absl::StatusOr<bool> Empty() const { return queue_.Empty(); }
  absl::Status Close() { return queue_.Close(); }

 private:
  friend struct Codec<SimpleQueue>;
  explicit SimpleQueue(Queue q) : queue_(std::move(q)) {}
  Queue queue_;
};

template <>
struct Codec<Queue> {
  static void Encode(Encoder& e, const Queue& q);
  static absl::Status Decode(Decoder& d, Queue& q);
};

template <>
struct Codec<JoinableQueue> {
  static void Encode(Encoder& e, const JoinableQueue& q) {
    Codec<Queue>::Encode(e, q);
  }
  static absl::Status Decode(Decoder& d, JoinableQueue& q) {
    return Codec<Queue>::Decode(d, q);
  }
};

template <>
struct Codec<SimpleQueue> {
  static void Encode(Encoder& e, const SimpleQueue& q) {
    Codec<Queue>::Encode(e, q.queue_);
  }
  static absl::Status Decode(Decoder& d, SimpleQueue& q) {
    return Codec<Queue>::Decode(d, q.queue_);
  }
};

}  // namespace mp

#endif  // MP_QUEUE_H_
