// Copyright 2026 The mp Authors.
//
// The Queue's transport, and the Pool's: a ring of records in shared memory
// (os::SharedMemory), the in-memory twin of an os:: channel. It carries the
// same records (mp/internal/framing.h builds items from them, with the same
// abort and resync rules), so "Queue = Pipe + Lock" stays the model of the
// Queue's semantics; only the bytes no longer cross the kernel, which is
// what lets a small item cost a few hundred nanoseconds instead of a system
// call or two.
//
// One producer and one consumer at a time: the Queue's write lock and read
// lock serialise them (a Pool's rings each have one of each). The ring itself
// needs no lock:
//
//   * A record is written at `tail` and then published by ONE 64-bit atomic
//     store of `tail`, which packs the byte position (low 32 bits, modulo
//     2^32) and the count of whole items committed (high 32 bits). A
//     producer killed before that store leaves nothing behind: the next one
//     writes over its bytes. Records are therefore whole or absent, as on a
//     SOCK_SEQPACKET socket or a message-mode pipe.
//   * A consumer copies a record out and then advances `head` the same way
//     (position and whole items consumed). A consumer killed before that
//     store leaves the record in place for the next one; its resync rule
//     (framing.h) drops the tail of an item whose start it did not see.
//   * QSize is committed items minus consumed items, both read from those
//     two words, so a death at any instruction leaves it exact.
//   * Waits spin briefly, then sleep with os::WaitWord on a sequence word
//     that the other side bumps (and wakes) only when someone counted
//     itself as waiting: a busy queue makes no system calls at all.
//   * A consumer that must also wait for other things (a pipe, a child's
//     end) sleeps elsewhere instead: Park() marks it asleep unless a record
//     is there, and the producer, after Send, takes that mark with
//     TakeParked() and wakes it by its own means (the Pool's wake pipes).
//     The mark and the check are ordered as the waiter count is, so no
//     wakeup is lost, and the mark is taken once per Park, so the producer
//     sends one wakeup per sleep.
//
// Corrupt contents (a record header that cannot be right) are reported as
// DataLoss and the unread bytes dropped; the ring stays usable.
//
// Thread-safety: Send and Recv need the caller to be the only producer or
// consumer (the Queue's locks); the rest may be called by anyone.

#ifndef MP_INTERNAL_RING_H_
#define MP_INTERNAL_RING_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"

namespace mp {
namespace internal {

struct RingHeader;

class Ring {
 public:
  // Bytes of records the ring holds; a record takes 8 bytes more than its
  // payload, rounded up to 8.
  static constexpr size_t kDefaultCapacity = size_t{1} << 20;

  // `capacity`: a power of two, from 4 KiB to 1 GiB. `maxsize` is stored
  // for every process that opens the ring (the Queue's maxsize).
  static absl::StatusOr<std::unique_ptr<Ring>> Create(size_t capacity,
                                                      int64_t maxsize);
  // The ring behind a handle received from a parent; takes ownership of the
  // handle. InvalidArgument if it is not a ring.
  static absl::StatusOr<std::unique_ptr<Ring>> Open(intptr_t handle);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  intptr_t handle() const;
  // The maxsize stored at Create, as read when the ring was opened.
  int64_t maxsize() const;
  // Bytes of records the ring holds, as validated when it was created or
  // opened.
  size_t capacity() const { return capacity_; }

  // Producer: appends `pieces`, concatenated (at most os::kMaxRecordBytes),
  // as one record, waiting for room until `deadline` (DeadlineExceeded,
  // and nothing written). `ends_item` counts a whole item at publication.
  // An `abort` record may use a few bytes that others leave free, so that
  // a producer can always announce an abandoned item.
  absl::Status Send(std::initializer_list<absl::string_view> pieces,
                    bool ends_item, bool abort, Deadline deadline);
  // Producer: waits until fewer than `limit` whole items are in the ring.
  absl::Status WaitForItemsBelow(int64_t limit, Deadline deadline);

  // Consumer: the next record, copied into `buffer` (os::kMaxRecordBytes
  // long): its size; DeadlineExceeded; DataLoss for corrupt contents.
  absl::StatusOr<size_t> Recv(char* buffer, Deadline deadline);
  // Consumer: the next record if one is there now, as Recv, without
  // waiting or spinning (Unavailable when the ring is empty).
  absl::StatusOr<size_t> TryRecv(char* buffer);

  // Consumer: whether a record is there (or corrupt contents, which the
  // next TryRecv reports).
  bool HasRecord() const;
  // Consumer: marks itself asleep, unless a record is there (then false,
  // and not marked). Unpark() clears the mark after waking.
  bool Park();
  void Unpark();
  // Producer: whether the consumer is parked, clearing the mark: true at
  // most once per Park().
  bool TakeParked();

  // Whole items committed and not yet consumed.
  int64_t Items() const;
  // Whole items committed and not yet marked done (JoinableQueue).
  int64_t Unfinished() const;
  // One fewer unfinished item; FailedPrecondition if there is none.
  absl::Status TaskDone();
  // Waits until no item is unfinished.
  absl::Status WaitForNoneUnfinished(Deadline deadline);

 private:
  Ring(os::SharedMemory* memory, RingHeader* header, char* data,
       uint32_t capacity, int64_t maxsize);
  void Copy(uint32_t at, absl::string_view bytes);
  void CopyOut(uint32_t at, char* out, size_t n) const;
  // Takes the record at `head`, given `tail` read after it.
  absl::StatusOr<size_t> Take(uint64_t head, uint64_t tail, char* buffer);

  os::SharedMemory* const memory_;
  RingHeader* const header_;
  char* const data_;
  // Read from the header once, when the ring was created or opened.
  const uint32_t capacity_;
  const int64_t maxsize_;
};

// One pause of a spin-wait, to use between checks of a word another
// process writes: x86's PAUSE instruction; nothing elsewhere.
void CpuRelax();

}  // namespace internal
}  // namespace mp

#endif  // MP_INTERNAL_RING_H_
