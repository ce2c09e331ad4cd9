// Copyright 2026 The mp Authors.
//
// A child's standard streams, as Python's subprocess (stdin=, stdout=,
// stderr=) and Boost.Process let the parent choose them:
//
//   mp::Process p(Worker, 7);
//   p.SetStdin(mp::Stdio::Pipe());
//   p.SetStdout(mp::Stdio::Pipe());
//   p.SetStderr(mp::Stdio::File(log_path, mp::Stdio::kAppend));
//   p.Start();
//   absl::StatusOr<mp::CapturedOutput> got = p.Communicate("input\n");
//   // got->out: everything the child wrote to stdout
//
// Each stream is one of:
//   * Stdio::Inherit() (the default): this process's own stream;
//   * Stdio::Null(): the null device (reads see end of file at once,
//     writes are discarded);
//   * Stdio::File(path, kTruncate or kAppend): a file, opened by the parent
//     in Start() (a path relative to the parent's working directory, not
//     the child's), read for stdin and written for stdout and stderr;
//   * Stdio::Pipe(): a pipe whose other end the parent holds as a
//     ByteStream (Process::StdinPipe(), StdoutPipe(), StderrPipe()).
//
// A pipe holds little (64 KiB on Linux): a child that writes more blocks
// until the parent reads, so the parent must drain its stdout and stderr
// pipes while the child runs (before Join()), or the two wait on each other
// for ever, as Python's documentation warns. Process::Communicate() does it
// for both at once, feeding stdin as well.

#ifndef MP_STDIO_H_
#define MP_STDIO_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mp {

class Process;

namespace internal {
struct StreamState;
}  // namespace internal

// What one of a child's standard streams is (see above). A value type.
class Stdio {
 public:
  enum Kind { kInherit, kNull, kFile, kPipe };
  // How Stdio::File opens a file for stdout or stderr (stdin reads it).
  enum FileMode { kTruncate, kAppend };

  Stdio() = default;  // Inherit()

  static Stdio Inherit() { return Stdio(); }
  static Stdio Null() { return Stdio(kNull); }
  // kTruncate creates the file or empties it; kAppend creates it or adds to
  // its end (every write goes to the end, also when others write too).
  static Stdio File(std::string path, FileMode mode = kTruncate) {
    Stdio s(kFile);
    s.path_ = std::move(path);
    s.mode_ = mode;
    return s;
  }
  static Stdio Pipe() { return Stdio(kPipe); }

  Kind kind() const { return kind_; }
  const std::string& path() const { return path_; }
  FileMode mode() const { return mode_; }

 private:
  explicit Stdio(Kind kind) : kind_(kind) {}

  Kind kind_ = kInherit;
  std::string path_;
  FileMode mode_ = kTruncate;
};

// The parent's end of a pipe to a child's stdin, or from its stdout or
// stderr: bytes, without message boundaries (unlike mp::Connection). A
// handle: copies share one end, and closing one closes it for all copies.
// Not safe for concurrent use by several threads at once. Every call that
// waits takes a timeout (default: no limit).
class ByteStream {
 public:
  static constexpr size_t kDefaultReadSize = 64 * 1024;

  ByteStream() = default;  // closed

  // Returns what has arrived, at most `max_bytes` (more than zero) bytes,
  // waiting as long as `timeout` for at least one. EndOfFile (mp/status.h)
  // once the child's end is closed (it closed the stream or ended) and
  // everything was read; DeadlineExceeded; FailedPrecondition on a closed
  // or write-only stream.
  absl::StatusOr<std::string> Read(
      size_t max_bytes = kDefaultReadSize,
      absl::Duration timeout = absl::InfiniteDuration());
  // Everything up to end of file (empty if it was all read before). On
  // DeadlineExceeded nothing is lost: what arrived is kept, and the next
  // Read or ReadAll returns it first.
  absl::StatusOr<std::string> ReadAll(
      absl::Duration timeout = absl::InfiniteDuration());
  // Writes all of `bytes`, waiting as long as `timeout` for the child to
  // read. EndOfFile if the child's end is closed (it ended, or closed its
  // stdin); DeadlineExceeded (a part may have been written);
  // FailedPrecondition on a closed or read-only stream.
  absl::Status Write(absl::string_view bytes,
                     absl::Duration timeout = absl::InfiniteDuration());
  // Closes this end, for every copy. A child reading its stdin sees end of
  // file once this is closed; a child writing to a closed stdout or stderr
  // gets an error (POSIX: SIGPIPE, which ends it by default). Idempotent.
  absl::Status Close();

  bool closed() const;
  bool readable() const;
  bool writable() const;

 private:
  friend class Process;
  explicit ByteStream(std::shared_ptr<internal::StreamState> state)
      : state_(std::move(state)) {}
  absl::Status CheckOpen(bool for_writing) const;

  std::shared_ptr<internal::StreamState> state_;
};

// What Process::Communicate() collected: everything the child wrote to its
// stdout and stderr pipes (empty for a stream that is not a pipe).
// (`stdout` and `stderr` are C macros, hence the short names.)
struct CapturedOutput {
  std::string out;
  std::string err;
};

}  // namespace mp

#endif  // MP_STDIO_H_
