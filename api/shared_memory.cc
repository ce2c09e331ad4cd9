// Copyright 2026 The mp Authors.

#include "mp/shared_memory.h"

#include <cstdint>
#include <limits>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mp/internal/os.h"

namespace mp {
namespace internal {

struct SharedMemoryState {
  explicit SharedMemoryState(os::SharedMemory* m) : memory(m) {}
  ~SharedMemoryState() { os::CloseSharedMemory(memory); }
  SharedMemoryState(const SharedMemoryState&) = delete;
  SharedMemoryState& operator=(const SharedMemoryState&) = delete;

  os::SharedMemory* const memory;
};

}  // namespace internal

namespace {

// A handle for `memory`, whose size was validated as `size`.
void Adopt(os::SharedMemory* memory, size_t size,
           std::shared_ptr<internal::SharedMemoryState>& state, uint8_t*& data,
           size_t& stored_size) {
  state = std::make_shared<internal::SharedMemoryState>(memory);
  data = static_cast<uint8_t*>(os::SharedMemoryData(memory));
  stored_size = size;
}

}  // namespace

absl::StatusOr<SharedMemory> SharedMemory::Create(size_t size) {
  if (size == 0) {
    return absl::InvalidArgumentError(
        "mp: SharedMemory size must be greater than zero");
  }
  absl::StatusOr<os::SharedMemory*> memory = os::CreateSharedMemory(size);
  if (!memory.ok()) return memory.status();
  SharedMemory m;
  Adopt(*memory, size, m.state_, m.data_, m.size_);
  return m;
}

void SharedMemory::Close() {
  state_.reset();
  data_ = nullptr;
  size_ = 0;
}

void Codec<SharedMemory>::Encode(Encoder& e, const SharedMemory& m) {
  if (m.closed()) {
    e.Fail(absl::FailedPreconditionError(
        "mp: an empty or closed SharedMemory cannot be passed to a child"));
    return;
  }
  e.PutVarint(m.size_);
  e.PutHandle(os::SharedMemoryHandle(m.state_->memory), m.state_);
}

absl::Status Codec<SharedMemory>::Decode(Decoder& d, SharedMemory& m) {
  absl::StatusOr<uint64_t> size = d.GetVarint();
  if (!size.ok()) return size.status();
  absl::StatusOr<intptr_t> handle = d.TakeHandle();
  if (!handle.ok()) return handle.status();
  absl::StatusOr<os::SharedMemory*> memory = os::OpenSharedMemory(*handle);
  if (!memory.ok()) return memory.status();
  // The size the sender made, against the one this process validated when
  // it mapped the memory: the two must agree, and only the local copy is
  // used from here on.
  const size_t mapped = os::SharedMemorySize(*memory);
  if (*size == 0 || *size != mapped) {
    os::CloseSharedMemory(*memory);
    return absl::InvalidArgumentError(
        absl::StrCat("mp: shared memory of ", mapped, " bytes received as ",
                     *size, " bytes"));
  }
  SharedMemory out;
  Adopt(*memory, mapped, out.state_, out.data_, out.size_);
  m = std::move(out);
  return absl::OkStatus();
}

namespace shared_memory_internal {

void EncodeParts(Encoder& e, const SharedMemory& memory, uint64_t count,
                 const Lock& lock) {
  Codec<SharedMemory>::Encode(e, memory);
  e.PutVarint(count);
  Codec<bool>::Encode(e, !lock.empty());
  if (!lock.empty()) Codec<Lock>::Encode(e, lock);
}

absl::Status DecodeParts(Decoder& d, size_t item_size, SharedMemory& memory,
                         uint64_t& count, Lock& lock) {
  absl::Status s = Codec<SharedMemory>::Decode(d, memory);
  if (!s.ok()) return s;
  absl::StatusOr<uint64_t> n = d.GetVarint();
  if (!n.ok()) return n.status();
  if (*n > memory.size() / item_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mp: ", *n, " items of ", item_size,
        " bytes do not fit in shared memory of ", memory.size(), " bytes"));
  }
  count = *n;
  bool has_lock = false;
  s = Codec<bool>::Decode(d, has_lock);
  if (!s.ok()) return s;
  if (has_lock) return Codec<Lock>::Decode(d, lock);
  return absl::OkStatus();
}

absl::Status CreateParts(size_t count, size_t item_size, bool with_lock,
                         SharedMemory& memory, Lock& lock) {
  if (count > std::numeric_limits<size_t>::max() / item_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("mp: ", count, " items of ", item_size,
                     " bytes overflow the address space"));
  }
  const size_t bytes = count * item_size;
  absl::StatusOr<SharedMemory> m = SharedMemory::Create(bytes > 0 ? bytes : 1);
  if (!m.ok()) return m.status();
  if (with_lock) {
    absl::StatusOr<Lock> l = Lock::Create();
    if (!l.ok()) return l.status();
    lock = *std::move(l);
  }
  memory = *std::move(m);
  return absl::OkStatus();
}

}  // namespace shared_memory_internal
}  // namespace mp
