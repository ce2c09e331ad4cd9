// Copyright 2026 The mp Authors.
//
// mp's pickle: the byte encoding of values that cross a process boundary —
// a Process target's arguments today, Pipe and Queue messages later.
//
// Supported types: arithmetic types, enums, std::string, std::vector<T>
// (more arrive with the Process issue: tuples, maps, optionals, user
// structs). A type without a Codec specialisation is a compile-time error
// that says so; it never falls back to copying raw bytes.
//
// The encoding is little-endian, length-prefixed and position-independent,
// identical on every backend, so a value encoded by a Linux parent and one
// encoded by a Win32 parent are byte-for-byte the same.
//
// Decoding is defensive: every read is bounds-checked, every length is
// checked against the bytes actually left before anything is allocated, and
// trailing garbage is an error. Corrupt, truncated or hostile input yields
// absl::InvalidArgumentError / absl::OutOfRangeError, never undefined
// behaviour and never an allocation larger than the input.
//
// Thread-safety: Encoder and Decoder are plain values; use one per thread.

#ifndef MP_CODEC_H_
#define MP_CODEC_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mp {

// Appends encoded values to a byte string.
class Encoder {
 public:
  void PutBytes(const void* data, size_t size) {
    out_.append(static_cast<const char*>(data), size);
  }
  // Unsigned LEB128: small lengths cost one byte.
  void PutVarint(uint64_t v);

  const std::string& bytes() const { return out_; }
  std::string Release() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads encoded values back from a byte view it does not own.
class Decoder {
 public:
  explicit Decoder(absl::string_view in) : in_(in) {}

  // Copies exactly `size` bytes, or fails without consuming anything.
  absl::Status GetBytes(void* out, size_t size);
  // A view of the next `size` bytes (valid while the input lives).
  absl::StatusOr<absl::string_view> GetView(size_t size);
  absl::StatusOr<uint64_t> GetVarint();
  // A varint that is a count of items each at least `min_item_size` bytes
  // long: rejected when the remaining input cannot possibly hold them, so a
  // corrupt count never drives a huge allocation.
  absl::StatusOr<size_t> GetCount(size_t min_item_size);

  size_t remaining() const { return in_.size(); }
  // OK when every byte was consumed.
  absl::Status Finish() const;

 private:
  absl::string_view in_;
};

// Codec<T> says how one type is encoded. Specialise it to add a type:
//   static void Encode(Encoder&, const T&);
//   static absl::Status Decode(Decoder&, T&);
template <typename T, typename Enable = void>
struct Codec {
  // Dependent on T, so it fires only for a type that is actually used.
  static_assert(sizeof(T) == 0,
                "mp::Codec: this type cannot be sent to another process. "
                "Supported: arithmetic types, enums, std::string, "
                "std::vector of a supported type. Add a Codec<T> "
                "specialisation for your own type.");
};

template <typename T>
void Encode(Encoder& e, const T& value) {
  Codec<T>::Encode(e, value);
}

template <typename T>
absl::Status Decode(Decoder& d, T& value) {
  return Codec<T>::Decode(d, value);
}

// Convenience: one value to bytes and back (the whole input must be used).
template <typename T>
std::string ToBytes(const T& value) {
  Encoder e;
  Encode(e, value);
  return e.Release();
}

template <typename T>
absl::StatusOr<T> FromBytes(absl::string_view bytes) {
  Decoder d(bytes);
  T value{};
  absl::Status s = Decode(d, value);
  if (!s.ok()) return s;
  s = d.Finish();
  if (!s.ok()) return s;
  return value;
}

// --- Built-in codecs -------------------------------------------------------

// Arithmetic types: fixed width, little-endian. bool is one byte, 0 or 1.
template <typename T>
struct Codec<T, std::enable_if_t<std::is_arithmetic_v<T>>> {
  static void Encode(Encoder& e, const T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      const uint8_t b = v ? 1 : 0;
      e.PutBytes(&b, 1);
    } else {
      e.PutBytes(&v, sizeof(T));  // every mp target is little-endian
    }
  }
  static absl::Status Decode(Decoder& d, T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      uint8_t b = 0;
      absl::Status s = d.GetBytes(&b, 1);
      if (!s.ok()) return s;
      if (b > 1) return absl::InvalidArgumentError("mp codec: bad bool byte");
      v = b != 0;
      return absl::OkStatus();
    } else {
      return d.GetBytes(&v, sizeof(T));
    }
  }
};

// Enums travel as their underlying integer.
template <typename T>
struct Codec<T, std::enable_if_t<std::is_enum_v<T>>> {
  using U = std::underlying_type_t<T>;
  static void Encode(Encoder& e, const T& v) {
    Codec<U>::Encode(e, static_cast<U>(v));
  }
  static absl::Status Decode(Decoder& d, T& v) {
    U u{};
    absl::Status s = Codec<U>::Decode(d, u);
    if (s.ok()) v = static_cast<T>(u);
    return s;
  }
};

template <>
struct Codec<std::string> {
  static void Encode(Encoder& e, const std::string& v) {
    e.PutVarint(v.size());
    e.PutBytes(v.data(), v.size());
  }
  static absl::Status Decode(Decoder& d, std::string& v) {
    absl::StatusOr<size_t> n = d.GetCount(1);
    if (!n.ok()) return n.status();
    absl::StatusOr<absl::string_view> bytes = d.GetView(*n);
    if (!bytes.ok()) return bytes.status();
    v.assign(bytes->data(), bytes->size());
    return absl::OkStatus();
  }
};

template <typename T, typename A>
struct Codec<std::vector<T, A>> {
  static void Encode(Encoder& e, const std::vector<T, A>& v) {
    e.PutVarint(v.size());
    for (const T& item : v) Codec<T>::Encode(e, item);
  }
  static absl::Status Decode(Decoder& d, std::vector<T, A>& v) {
    // Every encoded item takes at least one byte (bool, empty string, ...).
    absl::StatusOr<size_t> n = d.GetCount(
        std::is_arithmetic_v<T> ? (std::is_same_v<T, bool> ? 1 : sizeof(T))
                                : 1);
    if (!n.ok()) return n.status();
    v.clear();
    v.reserve(*n);
    for (size_t i = 0; i < *n; ++i) {
      T item{};
      absl::Status s = Codec<T>::Decode(d, item);
      if (!s.ok()) return s;
      v.push_back(std::move(item));
    }
    return absl::OkStatus();
  }
};

}  // namespace mp

#endif  // MP_CODEC_H_
