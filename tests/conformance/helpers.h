// Copyright 2026 The mp Authors.
//
// Small OS helpers for conformance cases that look at processes from the
// outside (is this pid alive?) and pass facts between processes through
// files in the test's temporary directory.

#ifndef MP_TESTS_CONFORMANCE_HELPERS_H_
#define MP_TESTS_CONFORMANCE_HELPERS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "mp/codec.h"
#include "mp/process.h"
#include "mp/sync.h"
#include "tests/conformance/backends.h"

namespace mp {
namespace conformance {

// Joins `p` within `patience` and returns its exit code;
// a failed or timed-out join fails the case and returns -1000.
int JoinCode(Process& p, absl::Duration patience = kPatience);

// Whether a process with this pid exists and has not ended.
bool PidAlive(int64_t pid);
// Kills a process by pid (cleanup for cases whose child outlives its parent).
void KillPid(int64_t pid);

// A fresh path in the test's temporary directory (TEST_TMPDIR, else the
// system's temporary directory: never the working directory).
std::string TempPath(const std::string& name);
// Writes `text` to `path` atomically (write then rename), so a reader never
// sees half of it.
bool WriteFileAtomically(const std::string& path, const std::string& text);
// The contents of `path` once it exists, or nullopt after `timeout`.
std::optional<std::string> WaitForFile(const std::string& path,
                                       absl::Duration timeout);
// Waits until `pid`, which announced that it is about to block, is asleep
// in the kernel (Linux: its state in /proc is S); false after `timeout`.
// Win32 shows no thread state without the native API: it waits 200 ms.
bool WaitUntilAsleep(int64_t pid, absl::Duration timeout);
// Waits until `pid` has ended; false after `timeout`.
bool WaitPidGone(int64_t pid, absl::Duration timeout);

// The descriptors (POSIX: entries of /proc/self/fd) or handles (Win32:
// GetProcessHandleCount) this process has open; -1 if unknown.
int64_t OpenHandleCount();
// Children of this process that ended and were never reaped (Linux: from
// /proc; Win32 has no zombies: 0).
int CountZombieChildren();
// The pids of this process's children as the OS sees them, mp's or not
// (Linux: from /proc; Win32: empty).
std::vector<int64_t> ChildPids();

// Uses up the descriptors this process may open, all but `spare`: lowers
// RLIMIT_NOFILE to a little above those open and opens /dev/null until
// EMFILE. The destructor closes them and restores the limit. POSIX only:
// Create() returns nullptr on Win32, which has no such limit.
class DescriptorsExhausted {
 public:
  static std::unique_ptr<DescriptorsExhausted> Create(int spare);
  ~DescriptorsExhausted();

 private:
  DescriptorsExhausted() = default;
  std::vector<int> fillers_;
  uint64_t old_soft_limit_ = 0;
};

// A child that runs until `release` is set (for cases whose child must end
// while the parent is blocked).
void WaitForRelease(Event release);
// Ends such a child the hard way where the backend can: Kill() on a
// process backend (the case's fault: a peer that dies), Set(release) on the
// threads backend (a thread cannot be killed; it returns instead). Either
// way every handle the child held is closed.
template <typename B>
absl::Status EndPeer(Process& p, Event& release) {
  return B::kThreads ? release.Set() : p.Kill();
}

// The OS handles behind `value`, as the codec hands them to a child (the
// handles stay owned by `value`).
template <typename T>
std::vector<intptr_t> HandlesOf(const T& value) {
  HandleList list;
  Encoder e(&list);
  Encode(e, value);
  if (!e.status().ok()) return {};
  return list.handles;
}

// Makes this process's next multi-record message (Connection::Send,
// Queue::Put) stop after its first record: it releases `stalled`, then
// goes on once it acquires `go` (a writer descheduled, stopped or slow at
// the worst moment). Ends the process with code 93 if `go` never comes.
void StallNextMessageAfterFirstRecord(Semaphore stalled, Semaphore go);
// A message of `size` bytes that tells `n` apart, and whether `m` is whole.
std::string NumberedMessage(int32_t n, size_t size);
bool IsNumberedMessage(const std::string& m, int32_t n, size_t size);
// Large enough to need three records.
inline constexpr size_t kThreeRecords = 150 * 1024;

// A few 64-bit counters in a file mapped shared by every process that opens
// the same path: what a case protects with the lock under test. Increments
// are deliberately non-atomic read-modify-writes.
class SharedCounters {
 public:
  static constexpr int kCount = 8;
  // Creates (zeroed) or opens the file at `path`; nullptr on failure.
  static std::unique_ptr<SharedCounters> Open(const std::string& path);
  ~SharedCounters();
  volatile int64_t& operator[](int i) { return values_[i]; }

 private:
  SharedCounters() = default;
  volatile int64_t* values_ = nullptr;
  intptr_t file_ = -1;
  intptr_t mapping_ = -1;
};

}  // namespace conformance
}  // namespace mp

#endif  // MP_TESTS_CONFORMANCE_HELPERS_H_
