// Copyright 2026 The mp Authors.
//
// The spawn protocol of mp/internal/spawn.h: both sides of the handshake
// and its messages. Launch messages and the invoker registry are in
// launch.cc.

#include "mp/internal/spawn.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "mp/codec.h"
#include "mp/internal/deadline.h"

namespace mp {
namespace internal {
namespace {

std::atomic<int64_t> g_spawn_timeout_ns{int64_t{60} * 1000 * 1000 * 1000};

constexpr char kVerdict = 'V';
// FillCopyFailureFrame's kinds, one per os::CopyStep.
constexpr char kStreamsFailed = 'S';
constexpr char kDirectoryFailed = 'W';
constexpr char kExecFailed = 'E';

void PutLength(char* out, uint64_t n) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
}

// One frame from spawn channel end `end`, all of it before `deadline`.
absl::StatusOr<std::string> ReadFrameFrom(intptr_t end, Deadline deadline) {
  return ReadFrame([end, deadline](char* out, size_t size) {
    return os::ReadSpawnChannel(end, out, size, deadline);
  });
}

// In a child that must not take a launch: says why on stderr and ends.
[[noreturn]] void Refuse(absl::string_view why) {
  std::fprintf(stderr, "mp: %s refused: %.*s\n", kSpawnChildFlag,
               static_cast<int>(why.size()), why.data());
  os::ExitNow(2);
}

// Reaps a child that is ending (it refused its launch, could not exec, or
// closed the channel); one still running at `deadline` is killed first, so
// that Spawn() never waits for ever. Its exit code, or nullopt if unknown.
std::optional<int> ReapBy(os::Child& child, Deadline deadline) {
  absl::StatusOr<std::optional<int>> code = os::WaitChild(child, deadline);
  if (code.ok() && code->has_value()) return **code;
  (void)os::SignalChild(child, os::Signal::kKill);
  code = os::WaitChild(child, Deadline::Never());
  return code.ok() ? *code : std::nullopt;
}

// The parent's error for a child that closed the channel without
// answering.
absl::Status EndedBeforeAnswer(os::Child& child, Deadline deadline) {
  const std::optional<int> code = ReapBy(child, deadline);
  const std::string how = code.has_value() ? absl::StrCat(*code) : "unknown";
  return absl::InternalError(absl::StrCat(
      "mp: spawned child ", child.pid, " ended (exit code ", how,
      ") before it started its target; did main() call mp::Init() first?"));
}

}  // namespace

absl::Duration SpawnTimeout() {
  return absl::Nanoseconds(g_spawn_timeout_ns.load(std::memory_order_relaxed));
}

void SetSpawnTimeoutForTesting(absl::Duration timeout) {
  g_spawn_timeout_ns.store(absl::ToInt64Nanoseconds(timeout),
                           std::memory_order_relaxed);
}

std::string EncodeAnswer(const absl::Status& status) {
  Encoder e;
  Encode(e, static_cast<int32_t>(status.code()));
  Encode(e, std::string(status.message()));
  return std::string(1, kVerdict) + e.Release();
}

absl::Status DecodeAnswer(absl::string_view bytes) {
  const absl::Status malformed =
      absl::InternalError("mp: malformed answer from a spawned child");
  if (bytes.empty()) return malformed;
  const char kind = bytes[0];
  bytes.remove_prefix(1);
  if (kind == kExecFailed || kind == kDirectoryFailed ||
      kind == kStreamsFailed) {
    if (bytes.size() != 4) return malformed;
    uint32_t error = 0;
    for (int i = 0; i < 4; ++i) {
      error |= uint32_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
    }
    const char* step =
        kind == kExecFailed ? "exec of this program (spawn start method)"
        : kind == kDirectoryFailed
            ? "entering the working directory (spawn start method)"
            : "placing the standard streams (spawn start method)";
    return os::OsErrorStatus(step, static_cast<int32_t>(error));
  }
  if (kind != kVerdict) return malformed;
  Decoder d(bytes);
  int32_t code = 0;
  std::string message;
  absl::Status s = Decode(d, code);
  if (s.ok()) s = Decode(d, message);
  if (s.ok()) s = d.Finish();
  if (!s.ok() || code < 0 || code > 16) return malformed;
  return absl::Status(static_cast<absl::StatusCode>(code), message);
}

std::string Frame(absl::string_view bytes) {
  std::string out(8, '\0');
  PutLength(&out[0], bytes.size());
  out.append(bytes.data(), bytes.size());
  return out;
}

absl::StatusOr<std::string> ReadFrame(
    const std::function<absl::Status(char* out, size_t size)>& read_exactly) {
  unsigned char length[8];
  absl::Status s = read_exactly(reinterpret_cast<char*>(length), 8);
  if (!s.ok()) return s;
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t{length[i]} << (8 * i);
  if (n > kMaxFrameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("mp: spawn channel frame of ", n, " bytes is corrupt"));
  }
  std::string bytes;
  while (bytes.size() < n) {
    const size_t chunk =
        static_cast<size_t>(std::min<uint64_t>(n - bytes.size(), 1 << 20));
    const size_t at = bytes.size();
    bytes.resize(at + chunk);
    s = read_exactly(&bytes[at], chunk);
    if (!s.ok()) return s;
  }
  return bytes;
}

absl::StatusOr<os::Child> Spawn(const os::Launch& launch,
                                const os::ChildIo& io) {
  if (os::ChildrenShareAddressSpace()) {
    absl::StatusOr<os::Target> target = ResolveLaunch(launch);
    if (!target.ok()) return target.status();
    target->io = io;
    return os::StartFork(*target);
  }
  absl::StatusOr<os::SpawnChannel> channel = os::CreateSpawnChannel();
  if (!channel.ok()) return channel.status();
  os::CopySpec spec;
  spec.arguments = {kSpawnChildFlag, absl::StrCat(channel->child.get())};
  spec.channel = std::move(channel->child);
  spec.handles = launch.handles;
  spec.options = launch.options;
  spec.io = io;
  absl::StatusOr<os::StartedCopy> started = os::StartCopy(std::move(spec));
  if (!started.ok()) return started.status();
  os::Child& child = started->child;

  const intptr_t end = channel->parent.get();
  const Deadline deadline = Deadline::After(SpawnTimeout());
  absl::Status s = os::WriteSpawnChannel(
      end, Frame(EncodeLaunch(launch, started->handles)), deadline);
  // A child that stopped reading may still have answered why (an exec
  // failure, a refused launch): the answer is read unless time is up.
  absl::StatusOr<std::string> answer = absl::IsDeadlineExceeded(s)
                                           ? absl::StatusOr<std::string>(s)
                                           : ReadFrameFrom(end, deadline);
  channel->parent.reset();
  if (answer.ok()) {
    s = DecodeAnswer(*answer);
  } else if (absl::IsDeadlineExceeded(answer.status())) {
    (void)os::SignalChild(child, os::Signal::kKill);
    s = absl::DeadlineExceededError(
        absl::StrCat("mp: spawned child ", child.pid,
                     " did not take its launch and answer within ",
                     absl::FormatDuration(SpawnTimeout()), "; killed"));
  } else {
    return EndedBeforeAnswer(child, deadline);
  }
  if (!s.ok()) {
    // It is ending (it exits after a refusal, was killed, or never ran):
    // reap it, so that nothing is left behind.
    (void)ReapBy(child, deadline);
    return s;
  }
  return std::move(child);
}

std::optional<ReceivedLaunch> ReceiveLaunch(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], kSpawnChildFlag) != 0) {
    return std::nullopt;
  }
  // A setuid or setcap program must not take orders from whoever can run it
  // with this flag: the launch names code to call with arguments to decode.
  if (os::IsPrivileged()) {
    Refuse("this process runs with privileges its caller lacks (AT_SECURE)");
  }
  int64_t value = -1;
  if (argc < 3 || !absl::SimpleAtoi(argv[2], &value) || value < 0) {
    Refuse(argc < 3 ? "no spawn channel named"
                    : absl::StrCat(argv[2], ": not a spawn channel"));
  }
  absl::StatusOr<os::OwnedHandle> channel =
      os::AdoptSpawnChannel(static_cast<intptr_t>(value));
  if (!channel.ok()) Refuse(channel.status().message());
  ReceivedLaunch received;
  received.channel = *std::move(channel);
  absl::StatusOr<std::string> bytes =
      ReadFrameFrom(received.channel.get(), Deadline::After(SpawnTimeout()));
  absl::StatusOr<os::Launch> launch =
      bytes.ok() ? DecodeLaunch(*bytes)
                 : absl::StatusOr<os::Launch>(bytes.status());
  if (!launch.ok()) {
    AnswerLaunch(received, launch.status());
    os::ExitNow(2);
  }
  // They were inheritable only to reach this process.
  for (intptr_t h : launch->handles) os::MakeHandlePrivate(h);
  received.launch = *std::move(launch);
  return received;
}

void AnswerLaunch(ReceivedLaunch& received, const absl::Status& status) {
  if (!received.channel.valid()) return;
  (void)os::WriteSpawnChannel(received.channel.get(),
                              Frame(EncodeAnswer(status)),
                              Deadline::After(SpawnTimeout()));
  received.channel.reset();
}

}  // namespace internal

namespace os {

void FillCopyFailureFrame(char (&out)[kCopyFailureFrameSize], CopyStep step,
                          int32_t error) {
  internal::PutLength(out, 1 + 4);
  out[8] = step == CopyStep::kExec               ? internal::kExecFailed
           : step == CopyStep::kWorkingDirectory ? internal::kDirectoryFailed
                                                 : internal::kStreamsFailed;
  const uint32_t e = static_cast<uint32_t>(error);
  for (int i = 0; i < 4; ++i) out[9 + i] = static_cast<char>(e >> (8 * i));
}

}  // namespace os
}  // namespace mp
