// Copyright 2026 The mp Authors.
//
// Pipes between processes, as Python's multiprocessing.Pipe:
//
// clang-format off
//   auto pipe = mp::Pipe();  // absl::StatusOr<std::pair<Connection, Connection>>
//   auto& [parent_end, child_end] = *pipe;
//   mp::Process p(Worker, child_end);
//   p.CloseAfterStart(child_end);  // the parent keeps no copy of it
//   p.Start();
//   parent_end.Send(std::string("hello"));
//   absl::StatusOr<int> reply = parent_end.Recv<int>();
// clang-format on
//
// Messages keep their boundaries: each Send arrives as one Recv, never
// merged or split; an empty message is a message. Send<T>/Recv<T> use the
// codec (mp/codec.h); SendBytes/RecvBytes move raw bytes. Messages up to the
// maximum size (default 1 GiB, see SetMaxMessageSize) of any length work;
// larger ones are refused by Send (nothing is sent) and dropped whole by
// Recv (ResourceExhausted; the connection stays usable).
//
// End of file: Recv on a connection whose every other end is closed (in
// every process) returns EndOfFile (mp/status.h), never hangs. Python hangs
// here when the parent forgot to close its copy of the child's end: that is
// what Process::CloseAfterStart is for.
//
// A Connection is a handle: copies share one end (closing one closes it for
// all copies in this process). It may be passed to a child as a Process
// argument, on every start method, and that is the only way a child gets
// one: a Connection it was not passed reads as closed there, as in a
// spawned child, also where a fork child has a copy of it (a global, say);
// using or dropping that copy never touches the child's descriptors. On the
// threads backend a child shares its parent's Connections. Like Python's,
// a Connection is not safe for concurrent use by several threads or
// processes at once (two writers can interleave whole messages out of
// order, two readers can each take part of a stream); a Queue is.

#ifndef MP_PIPE_H_
#define MP_PIPE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "mp/codec.h"
#include "mp/status.h"

namespace mp {

class Process;

namespace internal {
struct ConnectionState;
}  // namespace internal

class Connection {
 public:
  static constexpr uint64_t kDefaultMaxMessageSize = uint64_t{1} << 30;

  Connection() = default;  // closed

  // Sends one message. FailedPrecondition on a closed or read-only end;
  // InvalidArgument over the maximum size; EndOfFile if the other end is
  // gone.
  absl::Status SendBytes(absl::string_view bytes);
  // Receives one message, waiting for it as long as `timeout` (default: no
  // limit): EndOfFile when every other end is closed; DeadlineExceeded. The
  // timeout holds inside a large message too (a writer stopped or killed
  // between its parts while another process keeps its end open): the part
  // received is kept, and the next call goes on with it.
  absl::StatusOr<std::string> RecvBytes(
      absl::Duration timeout = absl::InfiniteDuration());
  // Receives into `buffer`, returning the message's size. If the buffer is
  // too short: ResourceExhausted naming the size needed, and the message
  // stays available for the next Recv*.
  absl::StatusOr<size_t> RecvBytesInto(
      absl::Span<char> buffer,
      absl::Duration timeout = absl::InfiniteDuration());

  template <typename T>
  absl::Status Send(const T& value) {
    Encoder e;
    Encode(e, value);
    if (!e.status().ok()) return e.status();
    return SendBytes(e.bytes());
  }
  // Receives one message as a T (see RecvBytes). The message is consumed
  // even when it is no T: InvalidArgument if it does not decode as one,
  // ResourceExhausted if the decoded value does not fit in memory.
  template <typename T>
  absl::StatusOr<T> Recv(absl::Duration timeout = absl::InfiniteDuration()) {
    absl::StatusOr<std::string> bytes = RecvBytes(timeout);
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<T> value = FromBytes<T>(*bytes);
    if (!value.ok()) {
      return absl::Status(absl::IsResourceExhausted(value.status())
                              ? absl::StatusCode::kResourceExhausted
                              : absl::StatusCode::kInvalidArgument,
                          absl::StrCat("mp: received message does not decode: ",
                                       value.status().message()));
    }
    return value;
  }

  // True when a message (or end of file) is ready within `timeout`.
  absl::StatusOr<bool> Poll(absl::Duration timeout = absl::ZeroDuration());
  // Closes this end (for every copy in this process). Idempotent.
  absl::Status Close();

  bool closed() const;
  bool readable() const;
  bool writable() const;
  void SetMaxMessageSize(uint64_t bytes);

 private:
  friend struct Codec<Connection>;
  friend absl::StatusOr<std::pair<Connection, Connection>> Pipe(bool duplex);
  friend absl::StatusOr<std::vector<size_t>> Wait(
      const std::vector<const Connection*>& connections,
      const std::vector<const Process*>& processes, absl::Duration timeout);
  explicit Connection(std::shared_ptr<internal::ConnectionState> state)
      : state_(std::move(state)) {}
  absl::Status CheckOpen(bool for_writing) const;

  std::shared_ptr<internal::ConnectionState> state_;
};

// A pair of connected ends. Duplex (default): both ends send and receive.
// Simplex: the first end only receives, the second only sends (Python's
// Pipe(duplex=False)); using an end the wrong way is FailedPrecondition.
absl::StatusOr<std::pair<Connection, Connection>> Pipe(bool duplex = true);

// Waits until some connections have a message (or end of file) ready, or
// some processes have ended, or `timeout` passes. Returns the indexes of
// the ready ones: connections first (0 .. n-1), then processes (n ..).
// Empty on timeout. Python's multiprocessing.connection.wait.
absl::StatusOr<std::vector<size_t>> Wait(
    const std::vector<const Connection*>& connections,
    const std::vector<const Process*>& processes = {},
    absl::Duration timeout = absl::InfiniteDuration());

template <>
struct Codec<Connection> {
  static void Encode(Encoder& e, const Connection& c);
  static absl::Status Decode(Decoder& d, Connection& c);
};

}  // namespace mp

#endif  // MP_PIPE_H_
