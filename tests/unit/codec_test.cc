// Copyright 2026 The mp Authors.
//
// The codec: round trips of every supported type, and hostile input —
// every truncation, corrupt lengths, bad flags, trailing bytes, random
// bytes — must give a status, never a crash or a large allocation (run it
// under --config=asan to check the latter).

#include "mp/codec.h"

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "gtest/gtest.h"

namespace mp {
namespace {

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

}  // namespace
}  // namespace mp
