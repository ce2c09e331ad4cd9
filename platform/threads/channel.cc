// Copyright 2026 The mp Authors.
//
// Channels on threads (mp/internal/os.h). The mirror of posix/channel.cc
// and win32/channel.cc: a pair of ends sharing two record queues, one per
// direction. A record is queued whole under the backend's one lock, so
// records never interleave. Like the kernel's socket buffer, a direction
// holds a bounded number of bytes (kCapacity) and a sender blocks while it
// is full; a record that is alone in its direction is always accepted.

#include <cstring>
#include <deque>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "mp/internal/os.h"
#include "mp/status.h"
#include "platform/threads/objects.h"

namespace mp {
namespace os {
namespace {

constexpr size_t kCapacity = 4 * kMaxRecordBytes;

// Guarded by threads::Mutex().
struct Pipe {
  std::deque<std::string> records[2];
  size_t bytes[2] = {0, 0};
  bool open[2] = {true, true};  // end 0 and end 1
};

struct End : threads::Object {
  End(std::shared_ptr<Pipe> p, int s, int in, int out)
      : pipe(std::move(p)), side(s), recv_dir(in), send_dir(out) {}

  void LastReferenceGone() override {
    pipe->open[side] = false;
    if (recv_dir >= 0) {  // nobody can read these any more
      pipe->records[recv_dir].clear();
      pipe->bytes[recv_dir] = 0;
    }
    threads::Changed().notify_all();
  }
  bool PeerOpen() const { return pipe->open[1 - side]; }
  bool Ready() const override {
    return recv_dir >= 0 && (!pipe->records[recv_dir].empty() || !PeerOpen());
  }

  const std::shared_ptr<Pipe> pipe;
  const int side;
  const int recv_dir;  // -1: write-only end
  const int send_dir;  // -1: read-only end
};

absl::Status NotAnEnd(intptr_t end) {
  return absl::InvalidArgumentError(
      absl::StrCat("mp: handle ", end, " is not a channel end"));
}

}  // namespace

absl::StatusOr<ChannelPair> CreateChannelPair(bool duplex) {
  auto pipe = std::make_shared<Pipe>();
  ChannelPair pair;
  if (duplex) {
    pair.a.reset(threads::Register(new End(pipe, 0, 1, 0)));
    pair.b.reset(threads::Register(new End(pipe, 1, 0, 1)));
  } else {
    pair.a.reset(threads::Register(new End(pipe, 0, 0, -1)));  // reads
    pair.b.reset(threads::Register(new End(pipe, 1, -1, 0)));  // writes
  }
  return pair;
}

absl::Status SendRecord(intptr_t end,
                        std::initializer_list<absl::string_view> pieces) {
  std::string record;
  for (absl::string_view piece : pieces) {
    record.append(piece.data(), piece.size());
  }
  if (record.size() > kMaxRecordBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("mp: a record of ", record.size(), " bytes (at most ",
                     kMaxRecordBytes, ")"));
  }
  std::unique_lock<std::mutex> lock(threads::Mutex());
  for (;;) {
    End* e = threads::FindAs<End>(end);
    if (e == nullptr) return NotAnEnd(end);
    if (e->send_dir < 0) {
      return absl::FailedPreconditionError("mp: a read-only channel end");
    }
    if (!e->PeerOpen()) {
      return EndOfFileError("mp: the other end of the pipe is closed");
    }
    Pipe& p = *e->pipe;
    const int dir = e->send_dir;
    if (p.bytes[dir] == 0 || p.bytes[dir] + record.size() <= kCapacity) {
      p.bytes[dir] += record.size();
      p.records[dir].push_back(std::move(record));
      threads::Changed().notify_all();
      return absl::OkStatus();
    }
    threads::Changed().wait(lock);
  }
}

absl::StatusOr<size_t> RecvRecord(intptr_t end, char* buffer,
                                  internal::Deadline deadline) {
  std::unique_lock<std::mutex> lock(threads::Mutex());
  for (;;) {
    End* e = threads::FindAs<End>(end);
    if (e == nullptr) return NotAnEnd(end);
    if (e->recv_dir < 0) {
      return absl::FailedPreconditionError("mp: a write-only channel end");
    }
    Pipe& p = *e->pipe;
    std::deque<std::string>& q = p.records[e->recv_dir];
    if (!q.empty()) {
      const size_t n = q.front().size();
      std::memcpy(buffer, q.front().data(), n);
      q.pop_front();
      p.bytes[e->recv_dir] -= n;
      threads::Changed().notify_all();  // room for a blocked sender
      return n;
    }
    if (!e->PeerOpen()) {
      return EndOfFileError("mp: end of file: every writer is gone");
    }
    if (!threads::WaitUntil(lock, threads::Changed(), deadline)) {
      return absl::DeadlineExceededError("mp: receive timed out");
    }
  }
}

absl::StatusOr<std::vector<bool>> WaitReady(
    const std::vector<Waitable>& waitables, internal::Deadline deadline) {
  std::vector<bool> ready(waitables.size(), false);
  std::unique_lock<std::mutex> lock(threads::Mutex());
  for (;;) {
    bool any = false;
    for (size_t i = 0; i < waitables.size(); ++i) {
      threads::Object* o = threads::Find(waitables[i].handle);
      if (o == nullptr) return NotAnEnd(waitables[i].handle);
      ready[i] = o->Ready();  // a record or end of file; a child ended
      any = any || ready[i];
    }
    if (any || !threads::WaitUntil(lock, threads::Changed(), deadline)) {
      return ready;
    }
  }
}

void CloseChannel(intptr_t end) { threads::Release(end); }

// Nothing to do: no fork, so no copies of ends this thread was not given.
void AdoptChannel(intptr_t) {}

// A child shares its parent's objects and the ends they hold: nothing ever
// goes stale behind them.
uint64_t ChannelGeneration() { return 0; }

}  // namespace os
}  // namespace mp
