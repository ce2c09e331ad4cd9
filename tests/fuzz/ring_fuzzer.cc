// Copyright 2026 The mp Authors.
//
// Fuzz target: the Queue's ring (mp/internal/ring.h) reading shared memory
// that another process scribbled on. The input is laid over a fresh ring's
// memory — its header words (positions and item counts) and its records —
// as a buggy or hostile process sharing the queue could leave them. The
// consumer then reads until the ring is empty. Every read must be a record
// of at most os::kMaxRecordBytes, DataLoss, or "nothing there"; the counts
// must stay in range; and afterwards the ring must work: a record sent now
// is the next one received, whole.
//
// Built with libFuzzer (tools/fuzz/run.sh) and as a replay of
// tests/fuzz/corpus/ring under `bazel test`.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "mp/internal/ring.h"

namespace {

constexpr size_t kCapacity = 4096;

void Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "ring fuzzer: %s: %s\n", what,
               status.ToString().c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using mp::internal::Ring;
  namespace os = mp::os;
  absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::Create(kCapacity, 0);
  if (!ring.ok()) Fail("Create", ring.status());
  absl::StatusOr<intptr_t> dup = os::DuplicateOsHandle((*ring)->handle());
  if (!dup.ok()) Fail("DuplicateOsHandle", dup.status());
  absl::StatusOr<os::SharedMemory*> raw = os::OpenSharedMemory(*dup);
  if (!raw.ok()) Fail("OpenSharedMemory", raw.status());
  // The scribbling, over the header and the records alike.
  const size_t n = std::min(size, os::SharedMemorySize(*raw));
  std::memcpy(os::SharedMemoryData(*raw), data, n);
  os::CloseSharedMemory(*raw);

  std::string buffer(os::kMaxRecordBytes, '\0');
  for (int reads = 0;; ++reads) {
    if (reads > 1000) Fail("Recv", absl::InternalError("never empty"));
    absl::StatusOr<size_t> got =
        (*ring)->Recv(&buffer[0], mp::internal::Deadline::Passed());
    if (got.ok()) {
      if (*got > os::kMaxRecordBytes) Fail("Recv", absl::InternalError("size"));
      continue;
    }
    if (absl::IsDeadlineExceeded(got.status())) break;  // empty
    if (!absl::IsDataLoss(got.status())) Fail("Recv", got.status());
  }
  const int64_t items = (*ring)->Items();
  const int64_t unfinished = (*ring)->Unfinished();
  if (items < 0 || items > INT32_MAX || unfinished < 0 ||
      unfinished > INT32_MAX) {
    Fail("counts", absl::InternalError("out of range"));
  }
  const std::string probe = "probe after the scribbling";
  absl::Status sent =
      (*ring)->Send({probe}, true, false, mp::internal::Deadline::Passed());
  if (!sent.ok()) Fail("Send", sent);
  absl::StatusOr<size_t> got =
      (*ring)->Recv(&buffer[0], mp::internal::Deadline::Passed());
  if (!got.ok()) Fail("Recv of the probe", got.status());
  if (buffer.compare(0, *got, probe) != 0 || *got != probe.size()) {
    Fail("probe", absl::InternalError("a different record came back"));
  }
  return 0;
}
