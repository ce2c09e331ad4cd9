// Copyright 2026 The mp Authors.
//
// The spawn protocol, written once for every backend: how a parent starts a
// fresh copy of its program that runs one target, and how that copy finds
// out what to run. A backend provides only the OS's part (mp/internal/os.h:
// the spawn channel, StartCopy, AdoptSpawnChannel, ...).
//
//   parent (Spawn)                        child (mp::Init)
//   CreateSpawnChannel
//   StartCopy: <program> --mp-spawn-child <channel>
//                                         ReceiveLaunch: AdoptSpawnChannel
//                                           (the peer must be the parent)
//   write Frame(Launch)          ----->   read and decode it, make the
//                                           handles it names private
//                                         ResolveLaunch: code addresses,
//                                           invoker check; start method
//   read Frame(Answer)           <-----   AnswerLaunch(status)
//   Start() returns                       RunTarget, ExitNow
//
// Every frame is an 8-byte little-endian length, then that many bytes. An
// answer is one kind byte, then either the child's verdict ('V', then the
// codec's int32 status code and string message) or a failure to become
// the program, written by a POSIX child between fork and exec
// (FillCopyFailureFrame): the step that failed ('S' placing the standard
// streams, 'W' entering the working directory, 'E' exec), then the OS
// error as a 4-byte little-endian int32.
//
// One deadline covers the parent's whole handshake, SpawnTimeout() from the
// start of sending: the child must take all of its launch and answer by
// then, or it is killed and Start() is DeadlineExceeded. The child reads
// its launch under the same timeout.

#ifndef MP_INTERNAL_SPAWN_H_
#define MP_INTERNAL_SPAWN_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "mp/internal/os.h"

namespace mp {
namespace internal {

// The command-line flag that makes mp::Init() treat a process as a spawned
// child; its value is the child's end of the spawn channel.
inline constexpr char kSpawnChildFlag[] = "--mp-spawn-child";

// --- Parent ------------------------------------------------------------------

// Starts a child that runs `launch` in a fresh copy of this program and
// returns once the child has answered that it found its target. Errors:
// the OS's, from starting the copy (an exec failure included); the child's
// own verdict (InvalidArgument for a launch it refused); DeadlineExceeded
// (the child was killed); Internal if the child ended before answering
// (a main() that does not call mp::Init() first). No child is left running
// on any error path. `io` is the child's streams, environment and working
// directory (os::CopySpec::io); a step of setting them up that failed in
// the child is the OS's error, as an exec failure is. On the threads
// backend, the launch is resolved here and run by os::StartFork.
absl::StatusOr<os::Child> Spawn(const os::Launch& launch,
                                const os::ChildIo& io = {});

// --- Child -------------------------------------------------------------------

struct ReceivedLaunch {
  os::Launch launch;
  os::OwnedHandle channel;  // to the parent, until AnswerLaunch
};

// In mp::Init(): nullopt if this process is not a spawned child (argv[1] is
// not kSpawnChildFlag). Otherwise the launch the parent sent, with the
// handles it names already private to this process. A process that must
// not take a launch ends here with exit code 2 and a message on stderr:
// a privileged one (os::IsPrivileged()), one whose channel is not a spawn
// channel or whose peer is not its parent (nothing is sent on it), and one
// whose launch is malformed or late (the parent is told why first).
std::optional<ReceivedLaunch> ReceiveLaunch(int argc, char** argv);

// The target a launch names, in this copy of the program: both code
// references resolved, the invoker checked to be one that this program's
// mp::Process instantiated (InvalidArgument otherwise: a forged or corrupt
// launch, and nothing is called).
absl::StatusOr<os::Target> ResolveLaunch(const os::Launch& launch);

// Tells the parent whether the child will run its target (OK) or why not,
// and closes the channel. Spawn() returns `status`.
void AnswerLaunch(ReceivedLaunch& received, const absl::Status& status);

// --- The wire format (public for tests and fuzzing) --------------------------

// The launch as sent, with `handles` (the child's values) in place of
// `launch.handles`.
std::string EncodeLaunch(const os::Launch& launch,
                         const std::vector<intptr_t>& handles);
absl::StatusOr<os::Launch> DecodeLaunch(absl::string_view bytes);
std::string EncodeAnswer(const absl::Status& status);
// The status an answer carries (an exec failure as the OS's error), or
// Internal if the bytes are malformed.
absl::Status DecodeAnswer(absl::string_view bytes);

// Frames larger than this are refused as corrupt.
inline constexpr uint64_t kMaxFrameBytes = uint64_t{1} << 32;
std::string Frame(absl::string_view bytes);
// Reads one frame with `read_exactly` ("fill this buffer or fail"). The
// body is read in bounded chunks, so a corrupt length cannot force a large
// allocation before the data has actually arrived.
absl::StatusOr<std::string> ReadFrame(
    const std::function<absl::Status(char* out, size_t size)>& read_exactly);

// The handshake's one timeout: 60 s (a child only has to run its static
// initialisers and read).
absl::Duration SpawnTimeout();
// Test seam: replaces SpawnTimeout() in this process (not in its children).
void SetSpawnTimeoutForTesting(absl::Duration timeout);

}  // namespace internal
}  // namespace mp

#endif  // MP_INTERNAL_SPAWN_H_
