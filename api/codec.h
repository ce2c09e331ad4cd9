// Copyright 2026 The mp Authors.
//
// mp's pickle: the byte encoding of values that cross a process boundary —
// a Process target's arguments today, Pipe and Queue messages later.
//
// Supported types: arithmetic types, enums, std::string, std::vector,
// std::array, std::pair, std::tuple, std::optional, std::map,
// std::unordered_map, any nesting of these, and your own structs with one
// line naming their fields:
//
//   struct Point {
//     int x = 0;
//     std::string label;
//     MP_FIELDS(x, label);
//   };
//
// A type without a codec is a compile-time error that says so; mp never
// falls back to copying raw bytes (pointers, handles and padding would
// arrive as garbage).
//
// The encoding is little-endian, length-prefixed and position-independent,
// identical on every backend, so a value encoded by a Linux parent and one
// encoded by a Win32 parent are byte-for-byte the same.
//
// Decoding is defensive: every read is bounds-checked, every length is
// checked against the bytes actually left before anything is allocated, and
// trailing garbage is an error. Corrupt, truncated or hostile input yields
// absl::InvalidArgumentError / absl::OutOfRangeError, never undefined
// behaviour, and no exception leaves Decode or FromBytes: one derived from
// std::exception thrown while decoding becomes a status (std::bad_alloc
// ResourceExhausted, any other Internal).
//
// Memory follows the bytes received, never a count they claim. A count is
// accepted only if the bytes left could hold that many items at their
// smallest encoding (a std::array<T, N> takes at least N times what a T
// does); items encoded in no bytes at all (std::tuple<>, empty arrays) are
// accepted at most as many in one decode as the input has bytes. Room is
// reserved ahead only for items made of arithmetic values, and only as many
// as the bytes left could fill; otherwise a container grows only with the
// items actually decoded. So a decode of B bytes allocates in total at most
//   B + the sum, over the items actually decoded into strings, vectors and
//       maps, of 4 * sizeof(item) + 64 bytes
// (a map's item being its key/value pair), besides the message of an error
// it returns. Every item except those of no bytes takes at least one input
// byte of its own (for a type with a Codec of your own, at least one byte is
// assumed). A 4 KB message claiming four thousand 1 MiB arrays is therefore
// rejected before anything is allocated for them. What a value legitimately
// needs can still far exceed its bytes, as it did in the sender (an empty
// std::optional<std::array<char, N>> is one byte on the wire); when memory
// runs out, decoding returns ResourceExhausted.
//
// Thread-safety: Encoder and Decoder are plain values; use one per thread.

#ifndef MP_CODEC_H_
#define MP_CODEC_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mp {

// OS handles (file descriptors, HANDLEs) travel beside the bytes, never in
// them: an object that wraps one (a Lock, a Connection, ...) puts the handle
// in a HandleList and only its index in the bytes. A handle is listed once,
// however many objects among the arguments wrap it (copies of one Lock, say);
// they all carry its one index, and the decoding side gives each object an
// owner of its own (see HandleTable). Only Process arguments carry handles
// (the child is given exactly those); encoding such an object anywhere else
// is an error reported by Encoder::status().
struct HandleList {
  std::vector<intptr_t> handles;
  // Keeps each handle's owner alive until the handles have been passed on.
  std::vector<std::shared_ptr<const void>> keep_alive;
  // Each handle's index in `handles`.
  std::unordered_map<intptr_t, uint64_t> index;
};

// The handles a decoder may take, as received by a child. Taking one hands
// its ownership to the decoded object; taking the same one again yields a
// duplicate from `duplicate`, so that every decoded object owns (and
// closes) a handle of its own. Handles never taken are closed by `close`
// when the table is finished (so no stray copy of, say, a pipe's write end
// stays open in the child and keeps its reader from seeing end-of-file).
class HandleTable {
 public:
  HandleTable(std::vector<intptr_t> handles,
              std::function<absl::StatusOr<intptr_t>(intptr_t)> duplicate,
              std::function<void(intptr_t)> close);
  HandleTable(const HandleTable&) = delete;
  HandleTable& operator=(const HandleTable&) = delete;
  ~HandleTable() { CloseUntaken(); }

  absl::StatusOr<intptr_t> Take(uint64_t index);
  void CloseUntaken();

 private:
  std::vector<intptr_t> handles_;
  std::vector<bool> taken_;
  std::function<absl::StatusOr<intptr_t>(intptr_t)> duplicate_;
  std::function<void(intptr_t)> close_;
};

// Appends encoded values to a byte string.
class Encoder {
 public:
  Encoder() = default;
  // An encoder that may carry handles, collected in `handles`.
  explicit Encoder(HandleList* handles) : handles_(handles) {}

  // Puts a handle: its index in the bytes; the handle and `owner` in the
  // HandleList unless it is listed already (then it keeps its index). Without
  // a HandleList it records an error instead.
  void PutHandle(intptr_t handle, std::shared_ptr<const void> owner);
  // OK unless something could not be encoded here (a handle outside
  // Process arguments, a closed Connection, ...).
  const absl::Status& status() const { return status_; }
  // Records why a value cannot be encoded (the first reason is kept).
  void Fail(absl::Status status) {
    if (status_.ok()) status_ = std::move(status);
  }

  void PutBytes(const void* data, size_t size) {
    out_.append(static_cast<const char*>(data), size);
  }
  // Unsigned LEB128: small lengths cost one byte.
  void PutVarint(uint64_t v);

  const std::string& bytes() const { return out_; }
  std::string Release() { return std::move(out_); }

 private:
  std::string out_;
  HandleList* handles_ = nullptr;
  absl::Status status_;
};

// Reads encoded values back from a byte view it does not own.
class Decoder {
 public:
  explicit Decoder(absl::string_view in, HandleTable* handles = nullptr)
      : in_(in), handles_(handles) {}

  // Takes the next handle (see HandleTable); InvalidArgument where the
  // bytes carry no handles.
  absl::StatusOr<intptr_t> TakeHandle();

  // Copies exactly `size` bytes, or fails without consuming anything.
  absl::Status GetBytes(void* out, size_t size);
  // A view of the next `size` bytes (valid while the input lives).
  absl::StatusOr<absl::string_view> GetView(size_t size);
  absl::StatusOr<uint64_t> GetVarint();
  // A varint that is a count of items each at least `min_item_size` bytes
  // long: rejected when the remaining input cannot possibly hold them, so a
  // corrupt count never drives a huge allocation. Items of no bytes
  // (min_item_size 0) are rejected once their counts in this decoder would
  // add up to more than the bytes left.
  absl::StatusOr<size_t> GetCount(size_t min_item_size);

  size_t remaining() const { return in_.size(); }
  // OK when every byte was consumed.
  absl::Status Finish() const;

 private:
  absl::string_view in_;
  HandleTable* handles_ = nullptr;
  // Items of no bytes accepted so far (see GetCount).
  size_t empty_items_ = 0;
};

namespace codec_internal {
template <typename T>
struct AlwaysFalse : std::false_type {};
}  // namespace codec_internal

// Codec<T> says how one type is encoded. Specialise it to add a type:
//   static void Encode(Encoder&, const T&);
//   static absl::Status Decode(Decoder&, T&);
// This primary template is the type without one: encoding or decoding it is
// a compile-time error that says so (one error, at the first use).
template <typename T, typename Enable = void>
struct Codec {
  // Marks the primary template (see codec_internal::IsEncodable).
  static constexpr bool kNoCodec = true;
  static void Encode(Encoder&, const T&) { NoCodec(); }
  static absl::Status Decode(Decoder&, T&) {
    NoCodec();
    return absl::UnimplementedError("mp::Codec: no codec for this type");
  }

 private:
  // Instantiated once per type, however many of the above are used.
  static void NoCodec() {
    static_assert(codec_internal::AlwaysFalse<T>::value,
                  "mp::Codec: this type cannot be sent to another process. "
                  "Supported: arithmetic types, enums, std::string, and "
                  "std::vector / std::array / std::pair / std::tuple / "
                  "std::optional / std::map / std::unordered_map of supported "
                  "types. For your own struct add MP_FIELDS(field, ...) "
                  "inside it.");
  }
};

template <typename T>
void Encode(Encoder& e, const T& value) {
  Codec<T>::Encode(e, value);
}

namespace codec_internal {
// The status for an exception thrown while decoding: ResourceExhausted for
// std::bad_alloc, Internal otherwise. Allocates nothing if memory is short.
absl::Status ExceptionStatus(const std::exception& e);
}  // namespace codec_internal

// Decodes one value; a status, never an exception (see the top of the file).
template <typename T>
absl::Status Decode(Decoder& d, T& value) {
  try {
    return Codec<T>::Decode(d, value);
  } catch (const std::exception& e) {
    return codec_internal::ExceptionStatus(e);
  }
}

// Convenience: one value to bytes and back (the whole input must be used).
// Values that wrap OS handles cannot be encoded this way (see HandleList);
// use Encoder::status() to find out, or the StatusOr overloads below.
template <typename T>
std::string ToBytes(const T& value) {
  Encoder e;
  Encode(e, value);
  return e.Release();
}

template <typename T>
absl::StatusOr<T> FromBytes(absl::string_view bytes,
                            HandleTable* handles = nullptr) {
  static_assert(std::is_default_constructible_v<T>,
                "mp::Codec: a type received from another process must be "
                "default-constructible: decoding assigns into a default "
                "instance");
  if constexpr (std::is_default_constructible_v<T>) {
    try {
      Decoder d(bytes, handles);
      T value{};
      absl::Status s = Decode(d, value);
      if (!s.ok()) return s;
      s = d.Finish();
      if (!s.ok()) return s;
      return value;
    } catch (const std::exception& e) {
      // Here the partly decoded value has been freed.
      return codec_internal::ExceptionStatus(e);
    }
  } else {
    return absl::UnimplementedError("mp::Codec: not default-constructible");
  }
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

namespace codec_internal {

template <typename T, typename = void>
struct HasFields : std::false_type {};
template <typename T>
struct HasFields<T, std::void_t<decltype(std::declval<T&>().mp_fields())>>
    : std::true_type {};

// What decoders need to know of T's encoding: kMinSize, the fewest bytes
// one encoded T can take (lets a decoder reject a count that the remaining
// input cannot hold before allocating for it); kFlat, whether T is made of
// arithmetic values and enums only (in arrays, pairs, tuples and structs),
// so decoding one allocates nothing. Any other type — strings, containers,
// optionals, types with a Codec of their own — takes at least one byte (a
// length prefix, a flag, a handle index) and is not flat.
template <typename T, typename = void>
struct Shape {
  static constexpr size_t kMinSize = 1;
  static constexpr bool kFlat = false;
};

template <typename T>
struct Shape<T,
             std::enable_if_t<std::is_arithmetic_v<T> || std::is_enum_v<T>>> {
  static constexpr size_t kMinSize = sizeof(T);  // bool: one byte
  static constexpr bool kFlat = true;
};

template <typename T, size_t N>
struct Shape<std::array<T, N>> {
  static constexpr size_t kMinSize = N * Shape<T>::kMinSize;
  static constexpr bool kFlat = Shape<T>::kFlat;
};

template <typename... T>
struct Shape<std::tuple<T...>> {
  static constexpr size_t kMinSize = (size_t{0} + ... + Shape<T>::kMinSize);
  static constexpr bool kFlat = (true && ... && Shape<T>::kFlat);
};

template <typename A, typename B>
struct Shape<std::pair<A, B>> : Shape<std::tuple<A, B>> {};

template <typename Tuple>
struct DecayedTuple;
template <typename... F>
struct DecayedTuple<std::tuple<F...>> {
  using type = std::tuple<std::decay_t<F>...>;
};

template <typename T>
struct Shape<T, std::enable_if_t<HasFields<T>::value>>
    : Shape<typename DecayedTuple<
          decltype(std::declval<T&>().mp_fields())>::type> {};

template <typename T>
constexpr size_t MinEncodedSize() {
  return Shape<T>::kMinSize;
}

// Decodes `n` items into a container through `add(item)`.
template <typename T, typename Add>
absl::Status DecodeItems(Decoder& d, size_t n, Add add) {
  for (size_t i = 0; i < n; ++i) {
    T item{};
    absl::Status s = Codec<T>::Decode(d, item);
    if (!s.ok()) return s;
    s = add(std::move(item));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

template <typename Tuple, size_t... I>
void EncodeTuple(Encoder& e, const Tuple& t, std::index_sequence<I...>) {
  (Codec<std::decay_t<std::tuple_element_t<I, Tuple>>>::Encode(e,
                                                               std::get<I>(t)),
   ...);
}

template <typename Tuple, size_t... I>
absl::Status DecodeTuple(Decoder& d, Tuple& t, std::index_sequence<I...>) {
  absl::Status s;
  // Left to right, stopping at the first error.
  ((s.ok() ? (s = Codec<std::decay_t<std::tuple_element_t<I, Tuple>>>::Decode(
                  d, std::get<I>(t)),
              0)
           : 0),
   ...);
  return s;
}

}  // namespace codec_internal

template <typename T, typename A>
struct Codec<std::vector<T, A>> {
  static void Encode(Encoder& e, const std::vector<T, A>& v) {
    e.PutVarint(v.size());
    for (const T& item : v) Codec<T>::Encode(e, item);
  }
  // Room for flat items is reserved up front, as much as the bytes left
  // could fill; beyond that (and for all other items, which may be far
  // larger in memory than on the wire) capacity at most doubles as items
  // are decoded, so it stays under twice the items decoded so far.
  static absl::Status Decode(Decoder& d, std::vector<T, A>& v) {
    absl::StatusOr<size_t> n = d.GetCount(codec_internal::MinEncodedSize<T>());
    if (!n.ok()) return n.status();
    v.clear();
    if constexpr (codec_internal::Shape<T>::kFlat) {
      v.reserve(std::min(*n, d.remaining() / sizeof(T)));
    }
    for (size_t i = 0; i < *n; ++i) {
      if (v.size() == v.capacity()) {
        v.reserve(std::min(*n, std::max(size_t{1}, 2 * v.size())));
      }
      absl::Status s;
      if constexpr (std::is_same_v<T, bool>) {  // no bool& into vector<bool>
        bool b = false;
        s = Codec<bool>::Decode(d, b);
        v.push_back(b);
      } else {
        s = Codec<T>::Decode(d, v.emplace_back());  // in place: T may be big
      }
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
};

template <typename T, size_t N>
struct Codec<std::array<T, N>> {
  static void Encode(Encoder& e, const std::array<T, N>& v) {
    for (const T& item : v) Codec<T>::Encode(e, item);
  }
  static absl::Status Decode(Decoder& d, std::array<T, N>& v) {
    for (T& item : v) {
      absl::Status s = Codec<T>::Decode(d, item);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
};

template <typename... T>
struct Codec<std::tuple<T...>> {
  static void Encode(Encoder& e, const std::tuple<T...>& v) {
    codec_internal::EncodeTuple(e, v, std::index_sequence_for<T...>());
  }
  static absl::Status Decode(Decoder& d, std::tuple<T...>& v) {
    return codec_internal::DecodeTuple(d, v, std::index_sequence_for<T...>());
  }
};

template <typename A, typename B>
struct Codec<std::pair<A, B>> {
  static void Encode(Encoder& e, const std::pair<A, B>& v) {
    Codec<A>::Encode(e, v.first);
    Codec<B>::Encode(e, v.second);
  }
  static absl::Status Decode(Decoder& d, std::pair<A, B>& v) {
    absl::Status s = Codec<A>::Decode(d, v.first);
    return s.ok() ? Codec<B>::Decode(d, v.second) : s;
  }
};

// One flag byte (0: empty, 1: a value follows).
template <typename T>
struct Codec<std::optional<T>> {
  static void Encode(Encoder& e, const std::optional<T>& v) {
    Codec<bool>::Encode(e, v.has_value());
    if (v.has_value()) Codec<T>::Encode(e, *v);
  }
  static absl::Status Decode(Decoder& d, std::optional<T>& v) {
    bool present = false;
    absl::Status s = Codec<bool>::Decode(d, present);
    if (!s.ok() || !present) {
      v.reset();
      return s;
    }
    v.emplace();
    return Codec<T>::Decode(d, *v);
  }
};

// Maps: a count, then key/value pairs. A repeated key is corrupt input.
template <typename Map>
struct MapCodec {
  using K = typename Map::key_type;
  using V = typename Map::mapped_type;
  static void Encode(Encoder& e, const Map& m) {
    e.PutVarint(m.size());
    for (const auto& [k, v] : m) {
      Codec<K>::Encode(e, k);
      Codec<V>::Encode(e, v);
    }
  }
  static absl::Status Decode(Decoder& d, Map& m) {
    absl::StatusOr<size_t> n =
        d.GetCount(codec_internal::MinEncodedSize<std::pair<K, V>>());
    if (!n.ok()) return n.status();
    m.clear();
    return codec_internal::DecodeItems<std::pair<K, V>>(
        d, *n, [&m](std::pair<K, V>&& kv) {
          if (!m.emplace(std::move(kv)).second) {
            return absl::InvalidArgumentError("mp codec: repeated map key");
          }
          return absl::OkStatus();
        });
  }
};

template <typename K, typename V, typename C, typename A>
struct Codec<std::map<K, V, C, A>> : MapCodec<std::map<K, V, C, A>> {};

template <typename K, typename V, typename H, typename E, typename A>
struct Codec<std::unordered_map<K, V, H, E, A>>
    : MapCodec<std::unordered_map<K, V, H, E, A>> {};

// Structs that name their fields with MP_FIELDS: the fields in order.
template <typename T>
struct Codec<T, std::enable_if_t<codec_internal::HasFields<T>::value>> {
  static void Encode(Encoder& e, const T& v) {
    auto fields = v.mp_fields();
    codec_internal::EncodeTuple(
        e, fields,
        std::make_index_sequence<std::tuple_size_v<decltype(fields)>>());
  }
  static absl::Status Decode(Decoder& d, T& v) {
    auto fields = v.mp_fields();
    return codec_internal::DecodeTuple(
        d, fields,
        std::make_index_sequence<std::tuple_size_v<decltype(fields)>>());
  }
};

namespace codec_internal {

// Whether a T can be encoded: true when T has a Codec (a built-in one or a
// specialisation of your own) and, for the built-in containers and for
// structs with MP_FIELDS, so does every part. Never a compile-time error
// itself, so templates can check it before encoding anything.
template <typename T, typename = void>
struct HasCodec : std::true_type {};
template <typename T>
struct HasCodec<T, std::enable_if_t<Codec<T>::kNoCodec>> : std::false_type {};

template <typename T, typename = void>
struct IsEncodable : HasCodec<T> {};
template <typename T, typename A>
struct IsEncodable<std::vector<T, A>> : IsEncodable<T> {};
template <typename T, size_t N>
struct IsEncodable<std::array<T, N>> : IsEncodable<T> {};
template <typename... T>
struct IsEncodable<std::tuple<T...>>
    : std::bool_constant<(IsEncodable<T>::value && ...)> {};
template <typename A, typename B>
struct IsEncodable<std::pair<A, B>> : IsEncodable<std::tuple<A, B>> {};
template <typename T>
struct IsEncodable<std::optional<T>> : IsEncodable<T> {};
template <typename K, typename V, typename C, typename A>
struct IsEncodable<std::map<K, V, C, A>> : IsEncodable<std::tuple<K, V>> {};
template <typename K, typename V, typename H, typename E, typename A>
struct IsEncodable<std::unordered_map<K, V, H, E, A>>
    : IsEncodable<std::tuple<K, V>> {};
template <typename T>
struct IsEncodable<T, std::enable_if_t<HasFields<T>::value>>
    : IsEncodable<typename DecayedTuple<
          decltype(std::declval<T&>().mp_fields())>::type> {};

}  // namespace codec_internal

}  // namespace mp

// Inside a struct or class: MP_FIELDS(a, b, c) makes it encodable as its
// fields a, b, c in that order (each of a supported type). The struct must be
// default-constructible; decoding assigns the fields of a default instance.
#define MP_FIELDS(...)                                     \
  auto mp_fields() { return std::tie(__VA_ARGS__); }       \
  auto mp_fields() const { return std::tie(__VA_ARGS__); } \
  static_assert(true, "")

#endif  // MP_CODEC_H_
