// Copyright 2026 The mp Authors.
//
// Fuzz target: hostile bytes into every decoder that reads bytes another
// process wrote — the codec (nested containers, optionals, user structs),
// and the spawn channel's Launch and Answer messages. Decoding must return
// a status, never crash, throw, read out of bounds or allocate beyond the
// bound codec.h states (items large in memory but small or absent on the
// wire test the latter). The first byte picks the decoder.
//
// Built two ways: with libFuzzer (tools/fuzz/run.sh, clang), and as a
// replay of the seed corpus in tests/fuzz/corpus/codec under `bazel test`
// (replay_main.cc), which is also where every crash found becomes a
// regression case: add its input to the corpus.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "mp/codec.h"
#include "mp/internal/os.h"
#include "mp/internal/spawn.h"

namespace {

struct Inner {
  int32_t id = 0;
  std::optional<std::string> label;
  std::vector<std::pair<bool, double>> points;
  MP_FIELDS(id, label, points);
};

using Nested =
    std::tuple<std::map<std::string, std::vector<int32_t>>,
               std::unordered_map<int64_t, Inner>,
               std::vector<std::optional<Inner>>, std::array<uint16_t, 3>>;

// Items far larger in memory than their smallest encoding, or with none.
using Amplifying =
    std::tuple<std::vector<std::array<char, 1 << 20>>,
               std::vector<std::optional<std::array<char, 1 << 16>>>,
               std::vector<std::vector<std::tuple<>>>,
               std::map<int32_t, std::array<int64_t, 1024>>>;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view bytes(reinterpret_cast<const char*>(data) + 1,
                                size - 1);
  switch (data[0] % 5) {
    case 0:
      (void)mp::FromBytes<Nested>(bytes);
      break;
    case 1:
      (void)mp::FromBytes<std::map<std::string, std::vector<int32_t>>>(bytes);
      break;
    case 2:
      (void)mp::internal::DecodeLaunch(bytes);
      break;
    case 3:
      (void)mp::internal::DecodeAnswer(bytes);
      break;
    case 4:
      (void)mp::FromBytes<Amplifying>(bytes);
      break;
  }
  return 0;
}
