// Copyright 2026 The mp Authors.

#include "mp/pipe.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "mp/internal/framing.h"
#include "mp/internal/os.h"
#include "mp/internal/sync_state.h"
#include "mp/process.h"

namespace mp {
namespace internal {

struct ConnectionState {
  ConnectionState(intptr_t e, bool r, bool w)
      : end(e), readable(r), writable(w) {}
  ~ConnectionState() {
    if (Holds()) os::CloseChannel(end);
  }
  // Whether `end` is open and this process's own. A state that a fork child
  // inherited from its parent is not: the child holds none of the ends
  // made before it started (it adopts those it was given anew), and their
  // numbers may name other descriptors by now. Such a state reads as closed
  // and closes nothing.
  bool Holds() const {
    return end != -1 && generation == os::ChannelGeneration();
  }
  intptr_t end;
  // The os::ChannelGeneration() `end` was made or adopted in.
  const uint64_t generation = os::ChannelGeneration();
  const bool readable;
  const bool writable;
  uint64_t max_message_size = Connection::kDefaultMaxMessageSize;
  Receiver receiver;
  // A message received but not yet delivered (RecvBytesInto too short).
  bool has_pending = false;
  std::string pending;
};

}  // namespace internal

using internal::Deadline;

absl::StatusOr<std::pair<Connection, Connection>> Pipe(bool duplex) {
  absl::StatusOr<os::ChannelPair> pair = os::CreateChannelPair(duplex);
  if (!pair.ok()) return pair.status();
  return std::make_pair(Connection(std::make_shared<internal::ConnectionState>(
                            pair->a.release(), true, duplex)),
                        Connection(std::make_shared<internal::ConnectionState>(
                            pair->b.release(), duplex, true)));
}

absl::Status Connection::CheckOpen(bool for_writing) const {
  if (state_ == nullptr || !state_->Holds()) {
    return absl::FailedPreconditionError("mp: connection is closed");
  }
  if (for_writing && !state_->writable) {
    return absl::FailedPreconditionError(
        "mp: this end of a simplex pipe only receives");
  }
  if (!for_writing && !state_->readable) {
    return absl::FailedPreconditionError(
        "mp: this end of a simplex pipe only sends");
  }
  return absl::OkStatus();
}

absl::Status Connection::SendBytes(absl::string_view bytes) {
  absl::Status s = CheckOpen(/*for_writing=*/true);
  if (!s.ok()) return s;
  if (bytes.size() > state_->max_message_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mp: message of ", bytes.size(), " bytes exceeds the maximum of ",
        state_->max_message_size, "; nothing was sent"));
  }
  return internal::SendMessage(state_->end, bytes);
}

absl::StatusOr<std::string> Connection::RecvBytes(absl::Duration timeout) {
  absl::Status s = CheckOpen(/*for_writing=*/false);
  if (!s.ok()) return s;
  if (state_->has_pending) {
    state_->has_pending = false;
    return std::move(state_->pending);
  }
  std::string message;
  s = state_->receiver.Recv(state_->end, Deadline::After(timeout),
                            state_->max_message_size, nullptr, &message);
  if (!s.ok()) return s;
  return message;
}

absl::StatusOr<size_t> Connection::RecvBytesInto(absl::Span<char> buffer,
                                                 absl::Duration timeout) {
  absl::StatusOr<std::string> message = RecvBytes(timeout);
  if (!message.ok()) return message.status();
  if (message->size() > buffer.size()) {
    const size_t need = message->size();
    state_->pending = *std::move(message);
    state_->has_pending = true;
    return absl::ResourceExhaustedError(
        absl::StrCat("mp: buffer of ", buffer.size(), " bytes is too short; ",
                     need, " needed (the message is kept)"));
  }
  if (!message->empty())
    std::memcpy(buffer.data(), message->data(), message->size());
  return message->size();
}

absl::StatusOr<bool> Connection::Poll(absl::Duration timeout) {
  absl::Status s = CheckOpen(/*for_writing=*/false);
  if (!s.ok()) return s;
  if (state_->has_pending) return true;
  absl::StatusOr<std::vector<bool>> ready = os::WaitReady(
      {{os::Waitable::Kind::kChannel, state_->end}}, Deadline::After(timeout));
  if (!ready.ok()) return ready.status();
  return (*ready)[0];
}

absl::Status Connection::Close() {
  if (state_ != nullptr && state_->end != -1) {
    if (state_->Holds()) os::CloseChannel(state_->end);
    state_->end = -1;
  }
  return absl::OkStatus();
}

bool Connection::closed() const {
  return state_ == nullptr || !state_->Holds();
}
bool Connection::readable() const {
  return state_ != nullptr && state_->readable;
}
bool Connection::writable() const {
  return state_ != nullptr && state_->writable;
}

void Connection::SetMaxMessageSize(uint64_t bytes) {
  if (state_ != nullptr) state_->max_message_size = bytes;
}

absl::StatusOr<std::vector<size_t>> Wait(
    const std::vector<const Connection*>& connections,
    const std::vector<const Process*>& processes, absl::Duration timeout) {
  std::vector<os::Waitable> ends;
  std::vector<size_t> ready_now;
  for (size_t i = 0; i < connections.size(); ++i) {
    const Connection* c = connections[i];
    if (c == nullptr || c->closed() || !c->readable()) {
      return absl::InvalidArgumentError(
          absl::StrCat("mp: Wait: connection ", i, " is closed or send-only"));
    }
    if (c->state_->has_pending) ready_now.push_back(i);
    ends.push_back({os::Waitable::Kind::kChannel, c->state_->end});
  }
  for (size_t i = 0; i < processes.size(); ++i) {
    absl::StatusOr<intptr_t> sentinel =
        processes[i] == nullptr ? absl::InvalidArgumentError("null process")
                                : processes[i]->Sentinel();
    if (!sentinel.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "mp: Wait: process ", i, ": ", sentinel.status().message()));
    }
    ends.push_back({os::Waitable::Kind::kSentinel, *sentinel});
  }
  if (!ready_now.empty()) return ready_now;
  absl::StatusOr<std::vector<bool>> ready =
      os::WaitReady(ends, Deadline::After(timeout));
  if (!ready.ok()) return ready.status();
  std::vector<size_t> out;
  for (size_t i = 0; i < ready->size(); ++i) {
    if ((*ready)[i]) out.push_back(i);
  }
  return out;
}

void Codec<Connection>::Encode(Encoder& e, const Connection& c) {
  if (c.closed()) {
    e.Fail(absl::FailedPreconditionError(
        "mp: a closed Connection cannot be passed to a child"));
    return;
  }
  e.PutHandle(c.state_->end, c.state_);
  mp::Encode(e, c.state_->readable);
  mp::Encode(e, c.state_->writable);
  mp::Encode(e, c.state_->max_message_size);
}

absl::Status Codec<Connection>::Decode(Decoder& d, Connection& c) {
  absl::StatusOr<intptr_t> end = d.TakeHandle();
  if (!end.ok()) return end.status();
  bool readable = false, writable = false;
  uint64_t max = 0;
  absl::Status s = mp::Decode(d, readable);
  if (s.ok()) s = mp::Decode(d, writable);
  if (s.ok()) s = mp::Decode(d, max);
  if (!s.ok()) {
    os::CloseOsHandle(*end);
    return s;
  }
  os::AdoptChannel(*end);
  c = Connection(
      std::make_shared<internal::ConnectionState>(*end, readable, writable));
  c.state_->max_message_size = max;
  return absl::OkStatus();
}

}  // namespace mp
