// Copyright 2026 The mp Authors.
//
// Memory shared between processes, as Python's
// multiprocessing.shared_memory.SharedMemory, multiprocessing.Value and
// multiprocessing.Array:
//
//   absl::StatusOr<mp::Value<int>> tickets = mp::Value<int>::Create(3);
//   mp::Process buyer(Buy, *tickets);       // the child gets the same int
//   ...
//   void Buy(mp::Value<int> tickets) {
//     mp::Guard guard(tickets.GetLock());   // Python's `with v.get_lock():`
//     if (mp::IsOwnerDied(guard.status())) { ... repair ... }
//     if (int n = tickets.Load(); n > 0) tickets.Store(n - 1);
//   }
//
// Anonymous, passed like a Lock. The memory has no name: it travels only
// as a Process argument (the child receives the descriptor or handle
// behind it, as for a Lock or a Queue), so there is nothing in /dev/shm and
// no named Win32 section to leak, and no resource tracker that could
// destroy it under another process's feet (CPython gh-82300, gh-129999).
// It is released by the OS when the last process holding it closes it or
// ends, however it ends. POSIX: a memfd; Win32: a pagefile-backed section;
// threads backend: ordinary memory of the program.
//
// Sealed. No holder can resize the memory (POSIX: the memfd is sealed with
// F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL and an unsealed one is refused
// on receipt; Win32: a section's size is fixed when it is made), so a peer
// cannot turn another holder's access into SIGBUS. The size travels in the
// Process argument; on receipt it is checked once against the memory
// received (InvalidArgument if they differ) and kept in the process.
//
// Zero-filled at creation; data() is 64-byte aligned on every backend.
//
// What is synchronised, and what is not:
//   * SharedMemory and Array: nothing. Bytes and elements are plain memory;
//     concurrent writers (or a writer and a reader) of the same bytes need
//     GetLock() (Array) or a Lock of your own, or atomics of your own.
//   * Value<T>, where std::atomic<T> is lock-free (every integral type,
//     and trivially copyable types of 1, 2, 4 or 8 bytes on x86-64): Load,
//     Store, FetchAdd and CompareExchange are each one atomic operation
//     (sequentially consistent) on an address-free atomic in the shared
//     memory, so they need no lock. A read-modify-write spanning several
//     calls (Load, then Store) does: hold GetLock() around it.
//   * Value<T> for a larger T: Load and Store are plain copies that may
//     tear against a concurrent Store; hold GetLock() around both.
//   * GetLock() is an mp::Lock (mp/sync.h) with an owner: when a process
//     dies holding it, the next Acquire returns OwnerDied. Nothing is rolled
//     back: a process that dies in the middle of a write leaves exactly the
//     bytes it wrote. Use OwnerDied to check and repair them.
//   * Load and Store never take the lock themselves (unlike the `value`
//     property of Python's synchronised Value): a Lock is not recursive, and
//     they are called with it held.
//
// Trust. Every holder can write any byte of the memory at any time (see
// "Trust" in mp/sync.h). No holder can make another read or write outside
// it, or crash through it. Values of T read from it are whatever bytes a
// peer left: for a T some of whose byte patterns are not values (bool,
// enums, structs holding those), a hostile peer can make Load return such
// a pattern. Where peers are not trusted, use integer types and validate.
//
// Handles. SharedMemory, Value and Array are handles: copies in one process
// share one mapping, which is unmapped when the last copy closes or goes.
// One copy must not be closed or assigned while another thread uses that
// same copy (as for any C++ object); distinct copies may be used from any
// thread. A default-constructed handle is empty; using the memory of an
// empty one is undefined (data() is nullptr, size() 0).

#ifndef MP_SHARED_MEMORY_H_
#define MP_SHARED_MEMORY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "mp/codec.h"
#include "mp/sync.h"

namespace mp {

namespace internal {
struct SharedMemoryState;  // this process's mapping, shared by its copies
}  // namespace internal

// Bytes shared by every process the handle is passed to.
class SharedMemory {
 public:
  // The alignment of data() on every backend.
  static constexpr size_t kAlignment = 64;

  // `size` zero bytes. InvalidArgument for 0 (as Python's SharedMemory);
  // the OS's error (ResourceExhausted, ...) if it cannot be made.
  static absl::StatusOr<SharedMemory> Create(size_t size);
  SharedMemory() = default;  // empty

  uint8_t* data() const { return data_; }
  // As validated when this process made or received the memory.
  size_t size() const { return size_; }
  absl::Span<uint8_t> span() const { return absl::Span<uint8_t>(data_, size_); }

  // Ends this copy's use of the memory: it becomes empty. The mapping goes
  // when the last copy in this process is closed or destroyed; the memory,
  // when no process holds it any more.
  void Close();
  bool closed() const { return state_ == nullptr; }

 private:
  friend struct Codec<SharedMemory>;
  std::shared_ptr<internal::SharedMemoryState> state_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// A SharedMemory travels as its size and its handle (a Process argument,
// as a Lock). An empty one cannot be encoded (FailedPrecondition).
template <>
struct Codec<SharedMemory> {
  static void Encode(Encoder& e, const SharedMemory& m);
  static absl::Status Decode(Decoder& d, SharedMemory& m);
};

namespace shared_memory_internal {

// Whether std::atomic<T> is lock-free, asked only of trivially copyable T
// (std::atomic<T> itself is an error for the others). A lock-free atomic
// is what mp accepts as address-free: one that is not takes a lock in the
// process's own memory, which another process never sees.
template <typename T, bool = std::is_trivially_copyable_v<T>>
struct LockFreeAtomic : std::false_type {};
template <typename T>
struct LockFreeAtomic<T, true>
    : std::bool_constant<std::atomic<T>::is_always_lock_free &&
                         sizeof(std::atomic<T>) == sizeof(T) &&
                         alignof(std::atomic<T>) <= SharedMemory::kAlignment> {
};

template <typename T>
inline constexpr bool kIsCounter =
    std::is_integral_v<T> && !std::is_same_v<T, bool>;

// The codec of a Value's or an Array's parts: its memory, the count of
// items it holds, and its lock if it has one.
void EncodeParts(Encoder& e, const SharedMemory& memory, uint64_t count,
                 const Lock& lock);
// Decodes them, checking that the memory holds at least `count` items of
// `item_size` bytes.
absl::Status DecodeParts(Decoder& d, size_t item_size, SharedMemory& memory,
                         uint64_t& count, Lock& lock);
// A SharedMemory for `count` items of `item_size` bytes (at least one
// byte), with a Lock if `with_lock`.
absl::Status CreateParts(size_t count, size_t item_size, bool with_lock,
                         SharedMemory& memory, Lock& lock);

}  // namespace shared_memory_internal

#define MP_SHARED_MEMORY_CHECK_TYPE_(Class)                                  \
  static_assert(std::is_trivially_copyable_v<T>,                             \
                "mp::" Class                                                 \
                "<T>: T must be trivially copyable: its bytes "              \
                "are all another process sees, so a type that owns memory "  \
                "or has its own copy or destructor (std::string, "           \
                "std::vector, a pointer's pointee) cannot be shared. Share " \
                "a fixed-size struct of plain values, or use mp::Queue.");   \
  static_assert(!std::is_trivially_copyable_v<T> ||                          \
                    alignof(T) <= SharedMemory::kAlignment,                  \
                "mp::" Class                                                 \
                "<T>: T's alignment exceeds the 64 bytes mp's "              \
                "shared memory guarantees")

// One T shared by every process it is passed to, as Python's
// multiprocessing.Value: Load, Store and, for integral T, lock-free
// FetchAdd and CompareExchange (see the top of the file for what is atomic).
template <typename T>
class Value {
  MP_SHARED_MEMORY_CHECK_TYPE_("Value");

 public:
  // Whether Load, Store and CompareExchange are single atomic operations.
  static constexpr bool kAtomic =
      shared_memory_internal::LockFreeAtomic<T>::value;

  // A Value holding `initial`; with `lock`, GetLock() is a new Lock
  // (Python's lock=True); without, GetLock() is an empty Lock, every call
  // on which is FailedPrecondition (Python's RawValue).
  static absl::StatusOr<Value> Create(const T& initial = T(),
                                      bool lock = true) {
    Value v;
    absl::Status s = shared_memory_internal::CreateParts(1, sizeof(T), lock,
                                                         v.memory_, v.lock_);
    if (!s.ok()) return s;
    if constexpr (kAtomic) {
      new (v.memory_.data()) std::atomic<T>(initial);
    } else {
      std::memcpy(v.memory_.data(), &initial, sizeof(T));
    }
    return v;
  }
  Value() = default;  // empty
  bool empty() const { return memory_.closed(); }

  T Load() const {
    if constexpr (kAtomic) {
      return Atomic()->load();
    } else {
      T v;
      std::memcpy(&v, memory_.data(), sizeof(T));
      return v;
    }
  }
  void Store(const T& v) const {
    if constexpr (kAtomic) {
      Atomic()->store(v);
    } else {
      std::memcpy(memory_.data(), &v, sizeof(T));
    }
  }

  // Adds `delta` (wrapping for unsigned T, as std::atomic) and returns the
  // value before. Integral T other than bool only.
  template <typename U = T,
            typename = std::enable_if_t<shared_memory_internal::kIsCounter<U>>>
  T FetchAdd(T delta) const {
    static_assert(kAtomic,
                  "mp::Value<T>::FetchAdd: std::atomic<T> is not lock-free "
                  "(so not address-free) here: it cannot be shared between "
                  "processes");
    return Atomic()->fetch_add(delta);
  }
  // If the value equals `expected`, makes it `desired` and returns true;
  // otherwise loads it into `expected` and returns false. Integral T only.
  template <typename U = T, typename = std::enable_if_t<std::is_integral_v<U>>>
  bool CompareExchange(T& expected, T desired) const {
    static_assert(kAtomic,
                  "mp::Value<T>::CompareExchange: std::atomic<T> is not "
                  "lock-free (so not address-free) here: it cannot be shared "
                  "between processes");
    return Atomic()->compare_exchange_strong(expected, desired);
  }

  // The Lock made with the Value (empty if it was made without one). A
  // handle, as the Value is: acquiring it through a copy of the Value is
  // acquiring the one lock.
  Lock& GetLock() const { return lock_; }
  // The memory holding the value (sizeof(T) bytes).
  const SharedMemory& memory() const { return memory_; }

 private:
  friend struct Codec<Value<T>>;
  std::atomic<T>* Atomic() const {
    return std::launder(reinterpret_cast<std::atomic<T>*>(memory_.data()));
  }

  SharedMemory memory_;
  mutable Lock lock_;
};

// A fixed number of T shared by every process it is passed to, as Python's
// multiprocessing.Array. Elements are plain T, synchronised by nothing:
// hold GetLock() where processes write the same elements.
template <typename T>
class Array {
  MP_SHARED_MEMORY_CHECK_TYPE_("Array");

 public:
  // `length` elements, every byte zero (also `length` 0). With `lock` as
  // Value::Create. InvalidArgument if length * sizeof(T) overflows.
  static absl::StatusOr<Array> Create(size_t length, bool lock = true) {
    Array a;
    absl::Status s = shared_memory_internal::CreateParts(
        length, sizeof(T), lock, a.memory_, a.lock_);
    if (!s.ok()) return s;
    a.length_ = length;
    return a;
  }
  Array() = default;  // empty, of length 0

  size_t size() const { return length_; }
  T* data() const { return reinterpret_cast<T*>(memory_.data()); }
  absl::Span<T> span() const { return absl::Span<T>(data(), length_); }
  // Unchecked, as std::vector's.
  T& operator[](size_t i) const { return data()[i]; }
  T* begin() const { return data(); }
  T* end() const { return data() + length_; }

  Lock& GetLock() const { return lock_; }
  const SharedMemory& memory() const { return memory_; }

 private:
  friend struct Codec<Array<T>>;
  SharedMemory memory_;
  size_t length_ = 0;
  mutable Lock lock_;
};

#undef MP_SHARED_MEMORY_CHECK_TYPE_

template <typename T>
struct Codec<Value<T>> {
  static void Encode(Encoder& e, const Value<T>& v) {
    shared_memory_internal::EncodeParts(e, v.memory_, 1, v.lock_);
  }
  static absl::Status Decode(Decoder& d, Value<T>& v) {
    uint64_t count = 0;
    Value<T> in;
    absl::Status s = shared_memory_internal::DecodeParts(
        d, sizeof(T), in.memory_, count, in.lock_);
    if (!s.ok()) return s;
    if (count != 1) {
      return absl::InvalidArgumentError("mp: not a Value's memory");
    }
    v = std::move(in);
    return absl::OkStatus();
  }
};

template <typename T>
struct Codec<Array<T>> {
  static void Encode(Encoder& e, const Array<T>& a) {
    shared_memory_internal::EncodeParts(e, a.memory_, a.length_, a.lock_);
  }
  static absl::Status Decode(Decoder& d, Array<T>& a) {
    uint64_t count = 0;
    Array<T> in;
    absl::Status s = shared_memory_internal::DecodeParts(
        d, sizeof(T), in.memory_, count, in.lock_);
    if (!s.ok()) return s;
    in.length_ = static_cast<size_t>(count);
    a = std::move(in);
    return absl::OkStatus();
  }
};

}  // namespace mp

#endif  // MP_SHARED_MEMORY_H_
