// Copyright 2026 The mp Authors.

#include "mp/internal/ring.h"

#include <atomic>
#include <climits>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"
#include "mp/internal/deadline.h"

namespace mp {
namespace internal {

namespace {

constexpr uint32_t kMagic = 0x6d705267;  // "mpRg"
constexpr uint32_t kEndsItem = 1;        // the only record flag
constexpr uint32_t kRecordHeader = 8;    // u32 payload size, u32 flags
// Room every record but an abort leaves free, so that an abort fits even
// when the ring is otherwise full (see Send).
constexpr uint32_t kAbortReserve = 16;
// Checks of the other side before sleeping. A producer and a consumer on
// two cores then hand items over without system calls; a few microseconds
// of spinning is cheaper than one futex round trip.
constexpr int kSpins = 256;

uint32_t RecordBytes(size_t payload) {
  return kRecordHeader + static_cast<uint32_t>((payload + 7) & ~size_t{7});
}

uint32_t Position(uint64_t word) { return static_cast<uint32_t>(word); }
uint32_t ItemCount(uint64_t word) { return static_cast<uint32_t>(word >> 32); }
uint64_t Pack(uint32_t items, uint32_t position) {
  return (uint64_t{items} << 32) | position;
}

}  // namespace

void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// In shared memory, at the start of the region; the records follow at
// kDataOffset. Each side's words sit on a cache line of their own. A peer
// may rewrite any of it at any moment: Open reads magic, capacity and
// maxsize once each (atomically, so the compiler cannot read them again),
// validates them and keeps them; the ring never reads them afterwards.
// One thing a side may wait for (records, room, no unfinished item): a
// sequence word the other side bumps, and the count of sides waiting.
// `woken`: a wakeup was sent that no waiter has answered yet, so the other
// side sends no more until one goes to sleep again (a woken waiter with no
// core to run on would otherwise cost a system call per record).
struct WaitPoint {
  std::atomic<uint32_t> seq;
  std::atomic<uint32_t> waiting;
  std::atomic<uint32_t> woken;
};

// In shared memory, at the start of the region; the records follow at
// kDataOffset. Each side's words sit on a cache line of their own. A peer
// may rewrite any of it at any moment: Open reads magic, capacity and
// maxsize once each (atomically, so the compiler cannot read them again),
// validates them and keeps them; the ring never reads them afterwards.
struct RingHeader {
  std::atomic<uint32_t> magic;
  std::atomic<uint32_t> capacity;
  std::atomic<int64_t> maxsize;
  // Written by the producer: Pack(items committed, position).
  alignas(64) std::atomic<uint64_t> tail;
  WaitPoint data;  // consumers wait for records
  // Written by the consumer: Pack(items consumed, position).
  alignas(64) std::atomic<uint64_t> head;
  WaitPoint room;  // producers wait for room
  // JoinableQueue: items marked done.
  alignas(64) std::atomic<uint32_t> done;
  WaitPoint join;
  // Park / TakeParked: set by the consumer, cleared by either side.
  alignas(64) std::atomic<uint32_t> consumer_parked;
};

namespace {

constexpr size_t kDataOffset = (sizeof(RingHeader) + 63) / 64 * 64;

// Waits until `ready()` or `deadline`: spins (if `spin`), then counts
// itself in `waiting`, clears `woken`, reads `seq`, checks once more, and
// sleeps until the other side bumps `seq` (Announce). The count, the
// check's loads (in `ready`), the other side's publishing store and its
// look at the count are all sequentially consistent, so either this side
// sees the change or the other side sees the waiter: no wakeup is lost.
template <typename Ready>
absl::Status Await(os::SharedMemory* memory, WaitPoint& point, bool spin,
                   const Ready& ready, Deadline deadline) {
  if (ready()) return absl::OkStatus();
  if (spin && !deadline.Expired()) {
    for (int i = 0; i < kSpins; ++i) {
      CpuRelax();
      if (ready()) return absl::OkStatus();
    }
  }
  for (;;) {
    point.waiting.fetch_add(1);
    point.woken.store(0);
    const uint32_t s = point.seq.load();
    if (ready()) {
      point.waiting.fetch_sub(1);
      return absl::OkStatus();
    }
    absl::Status waited = os::WaitWord(memory, &point.seq, s, deadline);
    point.waiting.fetch_sub(1);
    if (ready()) return absl::OkStatus();
    if (!waited.ok() && !absl::IsDeadlineExceeded(waited)) return waited;
    if (deadline.Expired()) {
      return absl::DeadlineExceededError("mp: timed out");
    }
  }
}

// After a change the other side may be waiting for: wake it, if it said it
// waits and no wakeup is on its way already. A waiter killed while counted
// costs at most one needless wake.
void Announce(os::SharedMemory* memory, WaitPoint& point) {
  if (point.waiting.load() != 0 && point.woken.exchange(1) == 0) {
    point.seq.fetch_add(1);
    os::WakeWord(memory, &point.seq);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Ring>> Ring::Create(size_t capacity,
                                                   int64_t maxsize) {
  if (capacity < 4096 || capacity > (size_t{1} << 30) ||
      (capacity & (capacity - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("mp: ring capacity ", capacity,
                     " is not a power of two from 4 KiB to 1 GiB"));
  }
  absl::StatusOr<os::SharedMemory*> memory =
      os::CreateSharedMemory(kDataOffset + capacity);
  if (!memory.ok()) return memory.status();
  auto* header = new (os::SharedMemoryData(*memory)) RingHeader;
  header->capacity.store(static_cast<uint32_t>(capacity));
  header->maxsize.store(maxsize);
  header->magic.store(kMagic);
  return std::unique_ptr<Ring>(
      new Ring(*memory, header,
               static_cast<char*>(os::SharedMemoryData(*memory)) + kDataOffset,
               static_cast<uint32_t>(capacity), maxsize));
}

absl::StatusOr<std::unique_ptr<Ring>> Ring::Open(intptr_t handle) {
  absl::StatusOr<os::SharedMemory*> memory = os::OpenSharedMemory(handle);
  if (!memory.ok()) return memory.status();
  const size_t size = os::SharedMemorySize(*memory);
  auto* header = static_cast<RingHeader*>(os::SharedMemoryData(*memory));
  if (size < kDataOffset) {
    os::CloseSharedMemory(*memory);
    return absl::InvalidArgumentError("mp: handle is not a queue's ring");
  }
  const uint32_t magic = header->magic.load(std::memory_order_relaxed);
  const uint32_t capacity = header->capacity.load(std::memory_order_relaxed);
  const int64_t maxsize = header->maxsize.load(std::memory_order_relaxed);
  if (magic != kMagic || capacity < 4096 || (capacity & (capacity - 1)) != 0 ||
      capacity > size - kDataOffset) {
    os::CloseSharedMemory(*memory);
    return absl::InvalidArgumentError("mp: handle is not a queue's ring");
  }
  return std::unique_ptr<Ring>(
      new Ring(*memory, header,
               static_cast<char*>(os::SharedMemoryData(*memory)) + kDataOffset,
               capacity, maxsize));
}

Ring::Ring(os::SharedMemory* memory, RingHeader* header, char* data,
           uint32_t capacity, int64_t maxsize)
    : memory_(memory),
      header_(header),
      data_(data),
      capacity_(capacity),
      maxsize_(maxsize) {}

Ring::~Ring() { os::CloseSharedMemory(memory_); }

intptr_t Ring::handle() const { return os::SharedMemoryHandle(memory_); }

int64_t Ring::maxsize() const { return maxsize_; }

void Ring::Copy(uint32_t at, absl::string_view bytes) {
  if (bytes.empty()) return;  // its data() may be null
  const uint32_t offset = at & (capacity_ - 1);
  const size_t first = std::min<size_t>(bytes.size(), capacity_ - offset);
  std::memcpy(data_ + offset, bytes.data(), first);
  std::memcpy(data_, bytes.data() + first, bytes.size() - first);
}

void Ring::CopyOut(uint32_t at, char* out, size_t n) const {
  const uint32_t offset = at & (capacity_ - 1);
  const size_t first = std::min<size_t>(n, capacity_ - offset);
  std::memcpy(out, data_ + offset, first);
  std::memcpy(out + first, data_, n - first);
}

absl::Status Ring::Send(std::initializer_list<absl::string_view> pieces,
                        bool ends_item, bool abort, Deadline deadline) {
  size_t size = 0;
  for (absl::string_view p : pieces) size += p.size();
  if (size > os::kMaxRecordBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mp: record of ", size, " bytes exceeds ", os::kMaxRecordBytes));
  }
  const uint32_t bytes = RecordBytes(size);
  const uint32_t needed = bytes + (abort ? 0 : kAbortReserve);
  const uint64_t tail = header_->tail.load(std::memory_order_acquire);
  const uint32_t at = Position(tail);
  auto room = [&] {
    const uint32_t used = at - Position(header_->head.load());
    return used <= capacity_ && capacity_ - used >= needed;
  };
  absl::Status s = Await(memory_, header_->room, true, room, deadline);
  if (!s.ok()) return s;
  const uint32_t record[2] = {static_cast<uint32_t>(size),
                              ends_item ? kEndsItem : 0};
  Copy(at,
       absl::string_view(reinterpret_cast<const char*>(record), sizeof record));
  uint32_t to = at + kRecordHeader;
  for (absl::string_view p : pieces) {
    Copy(to, p);
    to += static_cast<uint32_t>(p.size());
  }
  // Publication: one store makes the record and its item count visible.
  header_->tail.store(Pack(ItemCount(tail) + (ends_item ? 1 : 0), at + bytes));
  Announce(memory_, header_->data);
  return absl::OkStatus();
}

absl::Status Ring::WaitForItemsBelow(int64_t limit, Deadline deadline) {
  return Await(
      memory_, header_->room, true, [&] { return Items() < limit; }, deadline);
}

absl::StatusOr<size_t> Ring::Recv(char* buffer, Deadline deadline) {
  const uint64_t head = header_->head.load(std::memory_order_acquire);
  uint64_t tail = 0;
  auto ready = [&] {
    tail = header_->tail.load();
    return Position(tail) != Position(head);
  };
  absl::Status s = Await(memory_, header_->data, true, ready, deadline);
  if (!s.ok()) return s;
  return Take(head, tail, buffer);
}

absl::StatusOr<size_t> Ring::TryRecv(char* buffer) {
  const uint64_t head = header_->head.load(std::memory_order_acquire);
  const uint64_t tail = header_->tail.load();
  if (Position(tail) == Position(head)) {
    return absl::UnavailableError("mp: the ring is empty");
  }
  return Take(head, tail, buffer);
}

absl::StatusOr<size_t> Ring::Take(uint64_t head, uint64_t tail, char* buffer) {
  const uint32_t at = Position(head);
  const uint32_t available = Position(tail) - at;
  uint32_t record[2] = {0, 0};
  if (available >= kRecordHeader && available <= capacity_) {
    CopyOut(at, reinterpret_cast<char*>(record), sizeof record);
  }
  const uint32_t size = record[0];
  const uint32_t flags = record[1];
  if (available < kRecordHeader || available > capacity_ ||
      size > os::kMaxRecordBytes || RecordBytes(size) > available ||
      (flags & ~kEndsItem) != 0) {
    // Nothing here can be trusted: drop everything unread, so that the
    // ring works again for the records that come next.
    header_->head.store(tail);
    Announce(memory_, header_->room);
    return absl::DataLossError(
        absl::StrCat("mp: queue memory is corrupt (a record of ", size,
                     " bytes, flags ", flags, ", with ", available,
                     " bytes unread); the unread items are dropped"));
  }
  CopyOut(at + kRecordHeader, buffer, size);
  header_->head.store(
      Pack(ItemCount(head) + (flags & kEndsItem), at + RecordBytes(size)));
  Announce(memory_, header_->room);
  return size_t{size};
}

bool Ring::HasRecord() const {
  return Position(header_->tail.load()) !=
         Position(header_->head.load(std::memory_order_relaxed));
}

bool Ring::Park() {
  header_->consumer_parked.store(1);
  if (HasRecord()) {
    header_->consumer_parked.store(0);
    return false;
  }
  return true;
}

void Ring::Unpark() { header_->consumer_parked.store(0); }

bool Ring::TakeParked() {
  return header_->consumer_parked.load() != 0 &&
         header_->consumer_parked.exchange(0) != 0;
}

int64_t Ring::Items() const {
  // Head first: items are consumed only after they were committed, so
  // the difference read this way is never negative.
  const uint64_t head = header_->head.load();
  const uint64_t tail = header_->tail.load();
  const uint32_t n = ItemCount(tail) - ItemCount(head);
  return n > INT32_MAX ? 0 : n;
}

int64_t Ring::Unfinished() const {
  const uint32_t done = header_->done.load();
  const uint32_t n = ItemCount(header_->tail.load()) - done;
  return n > INT32_MAX ? 0 : n;
}

absl::Status Ring::TaskDone() {
  uint32_t done = header_->done.load();
  for (;;) {
    const uint32_t n = ItemCount(header_->tail.load()) - done;
    if (n == 0 || n > INT32_MAX) {
      return absl::FailedPreconditionError(
          "mp: TaskDone() called more times than items were put");
    }
    if (header_->done.compare_exchange_weak(done, done + 1)) break;
  }
  Announce(memory_, header_->join);
  return absl::OkStatus();
}

absl::Status Ring::WaitForNoneUnfinished(Deadline deadline) {
  return Await(
      memory_, header_->join, false, [&] { return Unfinished() == 0; },
      deadline);
}

}  // namespace internal
}  // namespace mp
