// Copyright 2026 The mp Authors.
//
// Fuzz target: the frame decoder (mp/internal/framing.h), which turns the
// records of a Pipe or Queue back into messages. The input describes a
// stream that legitimate writers and readers could leave behind — whole
// messages, messages in records of any size, writers killed between two
// records of a message (followed by the 'A' record the next writer sends),
// readers killed in the middle of a message (whose successor resyncs), and
// messages over the maximum size. This file builds the records from the
// format as documented, independently of the sender's code, and the
// decoder must deliver exactly the whole messages, in order, each once:
// nothing torn, spliced, lost or invented; an oversized message is
// ResourceExhausted and the stream goes on.
//
// The first input byte chooses raw mode instead (odd: the rest of the
// input is cut into records as is): then only the absence of crashes,
// sanitizer reports and unbounded allocation is checked.
//
// Built with libFuzzer (tools/fuzz/run.sh) and as a replay of
// tests/fuzz/corpus/framing under `bazel test`.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "mp/internal/framing.h"
#include "mp/internal/os.h"
#include "mp/status.h"

namespace {

using mp::os::kMaxRecordBytes;
constexpr uint64_t kMaxMessage = 20000;  // small, so oversize is reachable
// Chunks far below a record's size, so that messages span many records.
constexpr size_t kMaxChunk = 8192;
static_assert(kMaxChunk + 9 <= kMaxRecordBytes);

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  uint32_t Take(int bytes) {
    uint32_t v = 0;
    for (int i = 0; i < bytes && !empty(); ++i) v = v << 8 | data_[at_++];
    return v;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

// What a stream should decode to: a message, or an oversized one.
struct Expected {
  std::string message;
  bool oversized = false;
};

struct Stream {
  std::vector<std::string> records;
  std::vector<Expected> expected;
  // Record indexes where a dead reader's successor starts (Resync first).
  std::vector<size_t> resync_at;
};

// Message number `id`'s bytes: a position-dependent pattern, so that any
// splice or shift shows.
std::string Pattern(uint32_t id, uint64_t size) {
  std::string m(size, '\0');
  for (uint64_t i = 0; i < size; ++i) {
    m[i] = static_cast<char>((id * 131 + i * 7 + i / 251) & 0xff);
  }
  return m;
}

// The records of one multi-record message, in chunks the input chooses.
std::vector<std::string> Split(Input& in, const std::string& m) {
  std::vector<std::string> out;
  std::string first(1, 'F');
  const uint64_t total = m.size();
  first.append(reinterpret_cast<const char*>(&total), 8);
  size_t at = 0;
  size_t chunk = 1 + in.Take(2) % kMaxChunk;
  chunk = std::min(chunk, m.size());
  first.append(m, 0, chunk);
  out.push_back(first);
  at = chunk;
  while (at < m.size()) {
    chunk = std::min<size_t>(1 + in.Take(2) % kMaxChunk, m.size() - at);
    const char kind = at + chunk >= m.size() ? 'L' : 'M';
    out.push_back(std::string(1, kind) + m.substr(at, chunk));
    at += chunk;
  }
  if (out.size() == 1) out.push_back("L");  // F then an empty L
  return out;
}

Stream Build(Input& in) {
  Stream s;
  uint32_t id = 0;
  while (!in.empty() && s.records.size() < 64) {
    const uint32_t op = in.Take(1) % 5;
    if (op == 0) {  // a whole message in one record
      const std::string m = Pattern(++id, in.Take(2) % 2048);
      s.records.push_back("W" + m);
      s.expected.push_back({m, false});
    } else if (op == 1) {  // a message in several records (maybe too big)
      const uint64_t size = 1 + in.Take(3) % (2 * kMaxMessage);
      const std::string m = Pattern(++id, size);
      for (std::string& r : Split(in, m)) s.records.push_back(std::move(r));
      s.expected.push_back({size <= kMaxMessage ? m : "", size > kMaxMessage});
    } else if (op == 2) {  // its writer dies before the last record
      const std::string m = Pattern(++id, 1 + in.Take(3) % kMaxMessage);
      std::vector<std::string> records = Split(in, m);
      const size_t keep = 1 + in.Take(1) % (records.size() - 1);
      for (size_t i = 0; i < keep; ++i) s.records.push_back(records[i]);
      s.records.push_back("A");  // what the next writer announces
    } else if (op == 3) {  // its reader dies after taking the first records
      const std::string m = Pattern(++id, 1 + in.Take(3) % kMaxMessage);
      std::vector<std::string> records = Split(in, m);
      const size_t taken = 1 + in.Take(1) % (records.size() - 1);
      s.resync_at.push_back(s.records.size());
      for (size_t i = taken; i < records.size(); ++i) {
        s.records.push_back(records[i]);
      }
    } else {  // a whole message whose body could be mistaken for a kind
      const std::string m(1 + in.Take(1) % 8, "WFMLA"[in.Take(1) % 5]);
      s.records.push_back("W" + m);
      s.expected.push_back({m, false});
    }
  }
  return s;
}

[[noreturn]] void Fail(const char* what, size_t index) {
  std::fprintf(stderr, "framing fuzzer: %s (message %zu)\n", what, index);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  mp::internal::Receiver receiver;
  size_t next = 0;
  std::vector<std::string> records;

  if (data[0] & 1) {  // raw: the rest cut into records as is
    Input in(data + 1, size - 1);
    while (!in.empty()) {
      const size_t n = std::min<size_t>(in.Take(2) % 300, kMaxRecordBytes);
      std::string r;
      for (size_t i = 0; i < n && !in.empty(); ++i) {
        r.push_back(static_cast<char>(in.Take(1)));
      }
      records.push_back(r);
    }
  }
  Input in(data + 1, size - 1);
  Stream stream;
  if (!(data[0] & 1)) {
    stream = Build(in);
    records = stream.records;
  }

  auto source = [&](char* buffer,
                    mp::internal::Deadline) -> absl::StatusOr<size_t> {
    if (next >= records.size()) return mp::EndOfFileError("end of stream");
    const std::string& r = records[next++];
    std::memcpy(buffer, r.data(), r.size());
    return r.size();
  };
  size_t resync = 0;
  for (size_t got = 0;; ++got) {
    if (resync < stream.resync_at.size() && stream.resync_at[resync] == next) {
      receiver.Resync();
      ++resync;
    }
    std::string out;
    absl::Status s = receiver.Recv(source, mp::internal::Deadline::Passed(),
                                   kMaxMessage, nullptr, &out);
    if (data[0] & 1) {  // raw: any status will do, within bounds
      if (s.ok() && out.size() > kMaxMessage) Fail("over the maximum", got);
      if (mp::IsEndOfFile(s)) break;
      continue;
    }
    if (mp::IsEndOfFile(s)) {
      if (got != stream.expected.size()) Fail("messages lost", got);
      break;
    }
    if (got >= stream.expected.size()) Fail("a message invented", got);
    const Expected& want = stream.expected[got];
    if (want.oversized) {
      if (!absl::IsResourceExhausted(s)) Fail("oversize not reported", got);
    } else if (!s.ok() || out != want.message) {
      Fail("torn, spliced or lost message", got);
    }
  }
  return 0;
}
