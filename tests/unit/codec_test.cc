// Copyright 2026 The mp Authors.
//
// The codec: round trips of every supported type, and hostile input —
// every truncation, corrupt lengths, bad flags, trailing bytes, random
// bytes — must give a status, never a crash, an exception or an allocation
// beyond the bound codec.h promises, measured with an AllocationProbe.

#include "mp/codec.h"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/allocation_probe.h"

namespace mp {
namespace {

using ::mp::test_support::AllocationProbe;

// The allocation codec.h allows for one item decoded into a container.
template <typename Item>
constexpr size_t kPerItem = 4 * sizeof(Item) + 64;
// What an error status (its message) may take besides.
constexpr size_t kStatusSlack = 1024;

struct Measured {
  absl::Status status;
  size_t total = 0;
  size_t largest = 0;
};

// Decodes `bytes` as a T with the probe armed. An exception escaping
// FromBytes fails the test (gtest reports it) — a decoder must not throw.
template <typename T>
Measured MeasureDecode(absl::string_view bytes,
                       size_t limit = size_t{256} << 20) {
  Measured m;
  {
    AllocationProbe probe(limit);
    absl::StatusOr<T> value = FromBytes<T>(bytes);
    probe.Stop();
    m.status = value.status();
    m.total = probe.total();
    m.largest = probe.largest();
  }
  return m;
}

enum class Color : uint8_t { kRed = 1, kBlue = 200 };

struct Point {
  int32_t x = 0;
  std::string label;
  std::vector<double> weights;
  MP_FIELDS(x, label, weights);
  bool operator==(const Point& o) const {
    return x == o.x && label == o.label && weights == o.weights;
  }
};

using Everything =
    std::tuple<bool, int8_t, uint64_t, double, Color, std::string,
               std::vector<int16_t>, std::array<float, 3>,
               std::pair<std::string, int>, std::optional<std::string>,
               std::optional<int>, std::map<std::string, std::vector<int>>,
               std::unordered_map<int, std::string>, Point,
               std::vector<std::optional<Point>>>;

Everything Sample() {
  return Everything{true,
                    int8_t{-128},
                    std::numeric_limits<uint64_t>::max(),
                    -0.5,
                    Color::kBlue,
                    std::string("bytes\0and\xff", 9),
                    {1, -2, 32767},
                    {1.5f, 2.5f, -3.5f},
                    {"k", 9},
                    std::optional<std::string>("present"),
                    std::nullopt,
                    {{"a", {1, 2}}, {"b", {}}},
                    {{1, "one"}, {-7, ""}},
                    Point{3, "p", {0.25}},
                    {std::nullopt, Point{-1, "", {}}}};
}

TEST(CodecTest, RoundTripsEveryType) {
  const Everything in = Sample();
  const std::string bytes = ToBytes(in);
  absl::StatusOr<Everything> out = FromBytes<Everything>(bytes);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(*out == in);
}

TEST(CodecTest, EncodingIsStable) {
  // Little-endian, LEB128 lengths: the bytes are part of the contract.
  EXPECT_EQ(ToBytes(int32_t{0x01020304}), std::string("\x04\x03\x02\x01", 4));
  EXPECT_EQ(ToBytes(std::string("ab")), std::string("\x02"
                                                    "ab",
                                                    3));
  EXPECT_EQ(ToBytes(std::optional<uint8_t>()), std::string("\x00", 1));
  EXPECT_EQ(ToBytes(std::vector<uint8_t>(300, 7)).substr(0, 2),
            std::string("\xac\x02", 2));
}

TEST(CodecTest, EveryTruncationFails) {
  const std::string bytes = ToBytes(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::StatusOr<Everything> out = FromBytes<Everything>(bytes.substr(0, n));
    EXPECT_FALSE(out.ok()) << "prefix of " << n << " bytes decoded";
  }
}

TEST(CodecTest, TrailingBytesFail) {
  absl::StatusOr<int32_t> out = FromBytes<int32_t>(ToBytes(int32_t{5}) + "x");
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CodecTest, HugeLengthIsRejectedBeforeAllocating) {
  // A string claiming 2^62 bytes, and vectors claiming 2^40 items.
  std::string huge_string = "\x80\x80\x80\x80\x80\x80\x80\x80\x40";
  EXPECT_EQ(FromBytes<std::string>(huge_string).status().code(),
            absl::StatusCode::kInvalidArgument);
  Encoder e;
  e.PutVarint(uint64_t{1} << 40);
  EXPECT_FALSE(FromBytes<std::vector<uint64_t>>(e.bytes()).ok());
  EXPECT_FALSE(FromBytes<std::vector<std::string>>(e.bytes()).ok());
  EXPECT_FALSE((FromBytes<std::map<int, int>>(e.bytes()).ok()));
  // A count that fits the input for 1-byte items but not for 8-byte ones.
  Encoder f;
  f.PutVarint(4);
  f.PutBytes("12345678", 8);
  EXPECT_FALSE(FromBytes<std::vector<uint64_t>>(f.bytes()).ok());
}

TEST(CodecTest, OverlongVarintFails) {
  EXPECT_FALSE(FromBytes<std::string>(std::string(11, '\xff')).ok());
  // Ten bytes whose last one sets bits beyond 64.
  EXPECT_FALSE(
      FromBytes<std::string>(std::string(9, '\xff') + std::string("\x02", 1))
          .ok());
}

TEST(CodecTest, BadFlagBytesFail) {
  EXPECT_FALSE(FromBytes<bool>(std::string("\x02", 1)).ok());
  EXPECT_FALSE(
      FromBytes<std::optional<int8_t>>(std::string("\x05\x01", 2)).ok());
}

TEST(CodecTest, RepeatedMapKeyFails) {
  Encoder e;
  e.PutVarint(2);
  Encode(e, 1);
  Encode(e, 10);
  Encode(e, 1);
  Encode(e, 20);
  absl::StatusOr<std::map<int, int>> out =
      FromBytes<std::map<int, int>>(e.bytes());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CodecTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(20261126);
  const std::string valid = ToBytes(Sample());
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = valid;
    // Flip a few bytes of a valid message, or make up bytes outright.
    if (i % 2 == 0) {
      for (int k = 0; k < 3; ++k) bytes[rng() % bytes.size()] = char(rng());
    } else {
      bytes.resize(rng() % 64);
      for (char& c : bytes) c = char(rng());
    }
    decoded += FromBytes<Everything>(bytes).ok();
  }
  // Some flips land in payload bytes and still decode; that is fine.
  EXPECT_LT(decoded, 20000);
}

// The shape of the report: 4 KB claiming 4000 items of 1 MiB each, which
// the bytes cannot hold. Nothing may be allocated for the items.
TEST(CodecAllocationTest, CountOfLargeItemsIsRejectedBeforeAllocating) {
  Encoder e;
  e.PutVarint(4000);
  std::string bytes = e.Release();
  bytes.resize(4096, '\0');
  using Huge = std::vector<std::array<char, 1 << 20>>;
  Measured m = MeasureDecode<Huge>(bytes);
  EXPECT_EQ(m.status.code(), absl::StatusCode::kInvalidArgument) << m.status;
  EXPECT_LE(m.total, kStatusSlack) << "largest request " << m.largest;
}

// Items small on the wire and large in memory (an empty optional is one
// byte): memory follows the items actually decoded, not the count. Here
// the second item is corrupt, so at most two are ever decoded.
TEST(CodecAllocationTest, MemoryFollowsItemsDecodedNotTheCount) {
  using Item = std::optional<std::array<char, 1 << 16>>;
  Encoder e;
  e.PutVarint(4000);
  std::string bytes = e.Release();
  bytes.push_back('\0');  // an empty optional
  bytes.push_back('\2');  // a bad flag
  bytes.resize(4096, '\0');
  Measured m = MeasureDecode<std::vector<Item>>(bytes);
  EXPECT_EQ(m.status.code(), absl::StatusCode::kInvalidArgument) << m.status;
  EXPECT_LE(m.total, bytes.size() + 2 * kPerItem<Item> + kStatusSlack)
      << "largest request " << m.largest;
}

// Items that take no bytes at all (std::tuple<>) in nested vectors: each
// inner count alone may not let the total grow with the square of the input.
TEST(CodecAllocationTest, ItemsOfNoBytesAreBoundedPerDecode) {
  Encoder e;
  e.PutVarint(8000);
  for (int i = 0; i < 8000; ++i) e.PutVarint(4000);
  const std::string bytes = e.Release();
  using Empties = std::vector<std::vector<std::tuple<>>>;
  Measured m = MeasureDecode<Empties>(bytes);
  EXPECT_FALSE(m.status.ok());
  // At most one outer item per input byte, and at most as many empty items
  // in all as there are input bytes.
  EXPECT_LE(m.total, bytes.size() * (1 + kPerItem<std::vector<std::tuple<>>> +
                                     kPerItem<std::tuple<>>)+kStatusSlack)
      << "largest request " << m.largest;
}

// Hostile counts in every container, each within a constant factor of the
// input: strings, vectors of strings, maps, optionals, structs.
TEST(CodecAllocationTest, HostileCountsStayWithinTheBound) {
  Encoder e;
  e.PutVarint(4000);
  std::string bytes = e.Release();
  bytes.resize(4096, '\x7f');  // every item claims 127 of its own
  const size_t cap =
      bytes.size() * (1 + kPerItem<std::pair<int, Point>>)+kStatusSlack;
  std::vector<Measured> runs = {
      MeasureDecode<std::string>(bytes),
      MeasureDecode<std::vector<std::string>>(bytes),
      MeasureDecode<std::vector<std::vector<int64_t>>>(bytes),
      MeasureDecode<std::map<int, Point>>(bytes),
      MeasureDecode<std::unordered_map<int, std::string>>(bytes),
      MeasureDecode<std::vector<std::optional<Point>>>(bytes),
      MeasureDecode<std::vector<Point>>(bytes),
  };
  for (size_t i = 0; i < runs.size(); ++i) {
    EXPECT_FALSE(runs[i].status.ok()) << i;
    EXPECT_LE(runs[i].total, cap) << i;
  }
}

// A value that legitimately needs more memory than there is: the decoder
// reports it, it does not throw.
TEST(CodecAllocationTest, OutOfMemoryIsAStatus) {
  using Item = std::optional<std::array<char, 1 << 16>>;
  const std::string bytes = ToBytes(std::vector<Item>(64));
  Measured m = MeasureDecode<std::vector<Item>>(bytes, /*limit=*/1 << 20);
  EXPECT_EQ(m.status.code(), absl::StatusCode::kResourceExhausted) << m.status;
  // With room, the same bytes decode.
  absl::StatusOr<std::vector<Item>> out = FromBytes<std::vector<Item>>(bytes);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->size(), 64u);
}

TEST(CodecAllocationTest, RoundTripsLargeItems) {
  std::vector<std::array<char, 1 << 12>> in(3);
  in[1].fill('x');
  in[2][7] = 'y';
  absl::StatusOr<std::vector<std::array<char, 1 << 12>>> out =
      FromBytes<std::vector<std::array<char, 1 << 12>>>(ToBytes(in));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(*out == in);
  std::vector<bool> bits = {true, false, true};
  absl::StatusOr<std::vector<bool>> bits_out =
      FromBytes<std::vector<bool>>(ToBytes(bits));
  ASSERT_TRUE(bits_out.ok()) << bits_out.status();
  EXPECT_EQ(*bits_out, bits);
}

}  // namespace
}  // namespace mp
