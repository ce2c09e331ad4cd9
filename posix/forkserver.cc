// Copyright 2026 The mp Authors.
//
// The forkserver start method on POSIX (mp/internal/os.h, "Forkserver"):
// the starter's side and the server.
//
// The server is a spawned copy of this program (internal::Spawn) whose
// target is Serve(), given one end of an AF_UNIX SOCK_STREAM socketpair,
// the request stream, and the starter's pid. It is single-threaded: it
// runs the program's static initialisers and mp::Init(), then only the loop
// below. It polls the request stream, a pidfd of its starter and a pidfd of
// each child it forked: it reaps each child as it ends and writes its exit
// status on the child's status pipe; it ends (ExitNow) when the starter
// ends, closes the stream (the end of main's code: StopForkserver), or
// breaks the protocol. It is started with die_with_parent off, because
// Linux's death signal follows the thread that started it (a starter
// thread that returns would kill it); it watches the starter's pidfd
// instead. Its children that die with their parent get the death signal
// on the server (which is single-threaded), so they die with it, and so
// with the starter.
//
// One request at a time: the starter holds its lock from sending a request
// to reading its answer.
//
//   starter (StartForkserverChild)             server (Serve)
//   Frame('S' request)               ----->    read it
//   'F' messages, each one byte      ----->    take the descriptors
//     carrying up to kFdsPerMessage
//     descriptors (SCM_RIGHTS)
//                                              resolve the launch, fork;
//                                              the child: BecomeChild
//   Frame('P' pid), the child's      <-----    answer
//     pidfd attached (SCM_RIGHTS)
//   or Frame('X' status)                       (EncodeAnswer's verdict)
//   Frame('K' pid)                   ----->    SIGKILL to that child (a
//                                              starter that could not take
//                                              its pidfd); no answer
//
// Frames are the spawn protocol's (mp/internal/spawn.h). A request's body
// is the codec's encoding of: the signals the starter ignores at Start()
// (uint64, bit N-1 for signal N; SIGTERM never), which standard streams
// the child gets (uint8, bit i for descriptor i; none for a stream the
// starter has closed and ChildIo does not set) and whether its working
// directory was chosen (bit 3: then failing to enter it ends the child
// with 127, as in a fork child), the number of descriptors that follow,
// the child's whole environment ("NAME=value" strings: ChildIo's, or the
// starter's `environ` as it is now), and the launch (EncodeLaunch; its
// handle values are the starter's and are replaced by the ones received).
// The descriptors are, in order: the write end of the child's status pipe,
// the child's working directory (ChildIo's, or the starter's own:
// OpenWorkingDirectory), its standard streams (ChildIo's, or the
// starter's 0, 1, 2), and the launch's handles. A status is 4 bytes, the exit
// code as a little-endian int32, written once the child is reaped; the server
// then closes the pipe, so end of file without a status means the server ended
// first.

#include "posix/forkserver.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mp/codec.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "mp/internal/spawn.h"
#include "mp/internal/start_method.h"
#include "mp/internal/target.h"
#include "posix/channel.h"
#include "posix/linux.h"
#include "posix/util.h"

namespace mp {
namespace os {
namespace {

using internal::Deadline;

constexpr char kRequest = 'S';
constexpr char kKillRequest = 'K';
constexpr char kStarted = 'P';
constexpr char kRefused = 'X';
constexpr char kDescriptors = 'F';
// Below the kernel's SCM_MAX_FD (253) per message.
constexpr size_t kFdsPerMessage = 200;
// The most descriptors one request may carry.
constexpr uint64_t kMaxRequestFds = uint64_t{1} << 20;
// Descriptors of a request before the standard streams and the handles.
constexpr size_t kStatusFd = 0;
constexpr size_t kCwdFd = 1;
constexpr size_t kFixedFds = 2;
// In a request's stream bits: the child's working directory was chosen
// (ChildIo), not the starter's own.
constexpr uint8_t kChosenDirectory = 1 << 3;
// The request stream's name in errors.
constexpr char kStreamName[] = "forkserver stream";
// How long StopForkserver waits for the server to end by itself.
constexpr absl::Duration kStopPatience = absl::Seconds(2);

// --- Descriptors over the stream ---------------------------------------------

// Sends `bytes` (at least one) with `fds` attached to their first byte, then
// the rest of them, before `deadline`.
absl::Status SendWithFds(int stream, absl::string_view bytes,
                         const std::vector<int>& fds, Deadline deadline) {
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  iovec iov = {const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    const ssize_t n = ::sendmsg(stream, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      return SendAll(stream, bytes.substr(static_cast<size_t>(n)), deadline,
                     kStreamName);
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return OsError("sendmsg");
    struct pollfd p = {stream, POLLOUT, 0};
    const int r = ::poll(&p, 1, deadline.ToPollMilliseconds());
    if (r < 0 && errno != EINTR) return OsError("poll");
    if (r == 0 && deadline.Expired()) {
      return absl::DeadlineExceededError(
          absl::StrCat("mp: ", kStreamName, " timed out"));
    }
  }
}

// Receives up to `size` bytes (at least one) and the descriptors attached
// to them before `deadline`: appended to `fds` (close-on-exec). `truncated`
// is set when some could not be received (no descriptor left here: the
// kernel closed them). OutOfRange at end of file.
absl::StatusOr<size_t> RecvWithFds(int stream, char* out, size_t size,
                                   std::vector<OwnedHandle>& fds,
                                   bool& truncated, Deadline deadline) {
  absl::StatusOr<bool> ready = WaitReadable(stream, deadline);
  if (!ready.ok()) return ready.status();
  if (!*ready) {
    return absl::DeadlineExceededError(
        absl::StrCat("mp: ", kStreamName, " timed out"));
  }
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kFdsPerMessage)];
  iovec iov = {out, size};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(stream, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return OsError("recvmsg");
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.emplace_back(fd);
    }
  }
  if ((msg.msg_flags & MSG_CTRUNC) != 0) truncated = true;
  if (n == 0) {
    return absl::OutOfRangeError(absl::StrCat("mp: ", kStreamName, " closed"));
  }
  return static_cast<size_t>(n);
}

// One frame (mp/internal/spawn.h) from the stream, all of it before
// `deadline`; its first byte may carry descriptors (appended to `fds`).
absl::StatusOr<std::string> ReadFrameWithFds(int stream,
                                             std::vector<OwnedHandle>& fds,
                                             bool& truncated,
                                             Deadline deadline) {
  bool first = true;
  return internal::ReadFrame([&](char* out, size_t size) -> absl::Status {
    if (first && size > 0) {
      first = false;
      absl::StatusOr<size_t> n =
          RecvWithFds(stream, out, size, fds, truncated, deadline);
      if (!n.ok()) return n.status();
      out += *n;
      size -= *n;
    }
    return ReadExactly(stream, out, size, deadline, kStreamName);
  });
}

void PutInt32(std::string& out, int32_t v) {
  const uint32_t u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(u >> (8 * i)));
}

int32_t GetInt32(const char* in) {
  uint32_t u = 0;
  for (int i = 0; i < 4; ++i) {
    u |= uint32_t{static_cast<unsigned char>(in[i])} << (8 * i);
  }
  return static_cast<int32_t>(u);
}

// --- The starter's side
// -------------------------------------------------------

// The server's end of the request stream, as its target's argument.
struct ServerEnd {
  intptr_t fd = -1;
};

}  // namespace
}  // namespace os

template <>
struct Codec<os::ServerEnd> {
  static void Encode(Encoder& e, const os::ServerEnd& end) {
    e.PutHandle(end.fd, nullptr);
  }
  static absl::Status Decode(Decoder& d, os::ServerEnd& end) {
    absl::StatusOr<intptr_t> fd = d.TakeHandle();
    if (!fd.ok()) return fd.status();
    end.fd = *fd;
    return absl::OkStatus();
  }
};

namespace os {
namespace {

[[noreturn]] void Serve(ServerEnd end, int64_t starter);

// This process's forkserver, if started. Replaced (not destroyed) in a fork
// child, whose copy's lock another thread may have held at fork time.
struct Client {
  std::mutex mu;
  Child server;        // pid -1 until started; guarded by mu
  OwnedHandle stream;  // guarded by mu; valid while the server is ours
};
std::atomic<Client*> g_client{nullptr};

Client& TheClient() {
  Client* c = g_client.load(std::memory_order_acquire);
  if (c != nullptr) return *c;
  Client* fresh = new Client;
  if (g_client.compare_exchange_strong(c, fresh, std::memory_order_acq_rel)) {
    return *fresh;
  }
  delete fresh;
  return *c;
}

// In a forkserver child: the starter's pid, and its server's (its OS
// parent while the server runs). 0: not a forkserver child.
std::atomic<int64_t> g_starter{0};
std::atomic<int64_t> g_server{0};

// In every fork child (mp's or the program's own): it has no forkserver
// yet, and is no forkserver child until told. Plain stores: a fork child
// of a threaded program may only make async-signal-safe calls. The old
// client is left as it is; its stream is a recorded channel end, which a
// fork child of mp's closes (CloseChannelsExcept).
void ForgetInForkChild() {
  g_client.store(nullptr, std::memory_order_relaxed);
  g_starter.store(0, std::memory_order_relaxed);
  g_server.store(0, std::memory_order_relaxed);
}
[[maybe_unused]] const int g_fork_handler_registered =
    pthread_atfork(nullptr, nullptr, ForgetInForkChild);

// Ends the server (SIGKILL, with the children that die with it) and reaps
// it. Called with c.mu held, when the stream can no longer be trusted.
void DropServerLocked(Client& c) {
  c.stream.reset();
  if (c.server.sentinel.valid() && !c.server.reaped) {
    (void)SignalChild(c.server, Signal::kKill);
    (void)WaitChild(c.server, Deadline::Never());
  }
  c.server = Child();
}

absl::Status StartServerLocked(Client& c) {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    return OsError("socketpair (forkserver)");
  }
  OwnedHandle mine(ends[0]);
  OwnedHandle theirs(ends[1]);
  // Recorded as channel ends, so that a fork child of this process closes
  // its copies (a copy of `mine` would keep the stream from ending).
  AdoptChannel(mine.get());
  AdoptChannel(theirs.get());
  using Invoker = internal::InvokerRegistration<
      &internal::Invoke<void, ServerEnd, int64_t>>;
  (void)Invoker::registered;
  absl::StatusOr<internal::CodeRef> invoker =
      MakeCodeRef(reinterpret_cast<const void*>(
          &internal::Invoke<void, ServerEnd, int64_t>));
  absl::StatusOr<internal::CodeRef> function =
      invoker.ok() ? MakeCodeRef(reinterpret_cast<const void*>(&Serve))
                   : invoker;
  if (!function.ok()) return function.status();
  HandleList handles;
  Encoder e(&handles);
  Encode(e, std::tuple<ServerEnd, int64_t>(ServerEnd{theirs.get()},
                                           static_cast<int64_t>(::getpid())));
  if (!e.status().ok()) return e.status();
  Launch launch;
  launch.invoker = *std::move(invoker);
  launch.function = *std::move(function);
  launch.args = e.Release();
  launch.handles = handles.handles;
  // Not die_with_parent: see the top of this file.
  launch.options = ChildOptions{/*daemon=*/false, /*die_with_parent=*/false};
  launch.start_method = internal::ProcessWideStartMethod();
  absl::StatusOr<Child> server = internal::Spawn(launch);
  theirs.reset();
  if (!server.ok()) {
    return absl::Status(server.status().code(),
                        absl::StrCat("mp: starting the forkserver: ",
                                     server.status().message()));
  }
  c.server = *std::move(server);
  c.stream = std::move(mine);
  return absl::OkStatus();
}

// Makes sure a server runs: the one started before, unless it ended (then
// it is reaped and a new one started).
absl::Status EnsureRunningLocked(Client& c) {
  if (c.stream.valid()) {
    absl::StatusOr<std::optional<int>> ended =
        WaitChild(c.server, Deadline::Passed());
    if (ended.ok() && !ended->has_value()) return absl::OkStatus();
    DropServerLocked(c);
  }
  return StartServerLocked(c);
}

// The signals this process ignores, except SIGTERM (Terminate() must end
// the child): bit N-1 for signal N.
uint64_t IgnoredSignals() {
  uint64_t mask = 0;
  for (int sig = 1; sig < NSIG && sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP || sig == SIGTERM) continue;
    struct sigaction old;
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    if ((old.sa_flags & SA_SIGINFO) == 0 && old.sa_handler == SIG_IGN) {
      mask |= uint64_t{1} << (sig - 1);
    }
  }
  return mask;
}

// The answer to a request: the child's pid and pidfd (invalid if it could
// not be received here), or the server's refusal.
struct Answer {
  absl::Status refused;
  int64_t pid = -1;
  OwnedHandle pidfd;
};

absl::StatusOr<Answer> ReadAnswer(int stream, Deadline deadline) {
  std::vector<OwnedHandle> fds;
  bool truncated = false;
  absl::StatusOr<std::string> frame =
      ReadFrameWithFds(stream, fds, truncated, deadline);
  if (!frame.ok()) return frame.status();
  Answer answer;
  const absl::string_view bytes = *frame;
  if (!bytes.empty() && bytes[0] == kRefused && fds.empty()) {
    answer.refused = internal::DecodeAnswer(bytes.substr(1));
    if (!answer.refused.ok()) return answer;
  }
  Decoder d(bytes.size() > 1 ? bytes.substr(1) : absl::string_view());
  absl::Status s = !bytes.empty() && bytes[0] == kStarted && fds.size() <= 1
                       ? Decode(d, answer.pid)
                       : absl::InternalError("unexpected message");
  if (s.ok()) s = d.Finish();
  if (!s.ok() || answer.pid <= 0) {
    return absl::InternalError(
        absl::StrCat("mp: malformed answer from the forkserver: ",
                     s.ok() ? "no pid" : s.message()));
  }
  if (!fds.empty()) answer.pidfd = std::move(fds[0]);
  return answer;
}

// Reads a status the server writes on `status` (within `deadline`):
// the exit code, or nullopt if none came.
std::optional<int> ReadStatus(int status, Deadline deadline) {
  absl::StatusOr<bool> ready = WaitReadable(status, deadline);
  if (!ready.ok() || !*ready) return std::nullopt;
  char code[4];
  ssize_t n;
  do {
    n = ::read(status, code, sizeof code);
  } while (n < 0 && errno == EINTR);
  if (n != sizeof code) return std::nullopt;
  return GetInt32(code);
}

}  // namespace

absl::StatusOr<Child> StartForkserverChild(const Launch& launch,
                                           const ChildIo& io) {
  if (absl::Status s = CheckPidfdSupport(); !s.ok()) return s;
  // Every descriptor this side needs, before the request: none can be
  // missing once the child exists. `spare` keeps one free for its pidfd.
  OwnedHandle spare(AlwaysReadable());
  if (!spare.valid()) return OsError("eventfd");
  int pipe_ends[2];
  if (::pipe2(pipe_ends, O_CLOEXEC) != 0) return OsError("pipe2");
  OwnedHandle status_read(pipe_ends[0]);
  OwnedHandle status_write(pipe_ends[1]);
  OwnedHandle own_cwd;
  if (io.working_directory < 0) {
    own_cwd.reset(OpenWorkingDirectory());
    if (!own_cwd.valid()) return OsError("open the working directory");
  }
  const int cwd = io.working_directory >= 0
                      ? static_cast<int>(io.working_directory)
                      : static_cast<int>(own_cwd.get());

  std::vector<int> fds = {static_cast<int>(status_write.get()), cwd};
  uint8_t streams = io.working_directory >= 0 ? kChosenDirectory : 0;
  for (int i = 0; i < 3; ++i) {
    const int fd = io.streams[i] >= 0 ? static_cast<int>(io.streams[i]) : i;
    if (io.streams[i] >= 0 || ::fcntl(i, F_GETFD) >= 0) {
      streams |= static_cast<uint8_t>(1 << i);
      fds.push_back(fd);
    }
  }
  for (intptr_t h : launch.handles) fds.push_back(static_cast<int>(h));
  EnvironmentPlan plan;
  PlanEnvironment(io, plan);
  std::vector<std::string> environment = std::move(plan.entries);
  if (plan.inherit) {
    for (char** v = environ; v != nullptr && *v != nullptr; ++v) {
      environment.emplace_back(*v);
    }
  }
  Encoder e;
  Encode(e, IgnoredSignals());
  Encode(e, streams);
  Encode(e, static_cast<uint64_t>(fds.size()));
  Encode(e, environment);
  Encode(e, internal::EncodeLaunch(launch, launch.handles));
  const std::string request =
      internal::Frame(absl::StrCat(absl::string_view(&kRequest, 1), e.bytes()));

  Client& c = TheClient();
  std::lock_guard<std::mutex> lock(c.mu);
  if (absl::Status s = EnsureRunningLocked(c); !s.ok()) return s;
  const int stream = static_cast<int>(c.stream.get());
  const Deadline deadline = Deadline::After(internal::SpawnTimeout());
  absl::Status sent = SendAll(stream, request, deadline, kStreamName);
  for (size_t at = 0; sent.ok() && at < fds.size(); at += kFdsPerMessage) {
    const size_t n = std::min(kFdsPerMessage, fds.size() - at);
    sent = SendWithFds(stream, absl::string_view(&kDescriptors, 1),
                       std::vector<int>(fds.begin() + at, fds.begin() + at + n),
                       deadline);
  }
  // The server holds its own copies now (or the request failed).
  status_write.reset();
  own_cwd.reset();
  spare.reset();
  absl::StatusOr<Answer> answer =
      sent.ok() ? ReadAnswer(stream, deadline) : absl::StatusOr<Answer>(sent);
  if (!answer.ok()) {
    // The stream is out of step, or the server gone: end it. A child it
    // forked meanwhile dies with it, unless it opted out.
    DropServerLocked(c);
    if (absl::IsDeadlineExceeded(answer.status())) {
      return absl::DeadlineExceededError(absl::StrCat(
          "mp: the forkserver did not take the request and answer within ",
          absl::FormatDuration(internal::SpawnTimeout()), "; killed"));
    }
    return absl::UnavailableError(
        absl::StrCat("mp: the forkserver ended while starting the child (",
                     answer.status().message(), ")"));
  }
  if (!answer->refused.ok()) return answer->refused;
  if (!answer->pidfd.valid()) {
    // The child exists, but its pidfd found no free descriptor here
    // (another thread took the one kept free): have the server kill it,
    // and wait until it is reaped, so that nothing is left running.
    std::string kill(1, kKillRequest);
    Encoder k;
    Encode(k, answer->pid);
    kill += k.bytes();
    const absl::Status told =
        SendAll(stream, internal::Frame(kill), deadline, kStreamName);
    if (!told.ok() || !ReadStatus(static_cast<int>(status_read.get()), deadline)
                           .has_value()) {
      DropServerLocked(c);
    }
    return absl::ResourceExhaustedError(
        "mp: no descriptor left for the forkserver child's pidfd; the child "
        "was killed");
  }
  Child child;
  child.pid = answer->pid;
  child.sentinel = std::move(status_read);
  child.process = std::move(answer->pidfd);
  return child;
}

absl::Status EnsureForkserver() {
  Client& c = TheClient();
  std::lock_guard<std::mutex> lock(c.mu);
  return EnsureRunningLocked(c);
}

void StopForkserver() {
  Client* c = g_client.load(std::memory_order_acquire);
  if (c == nullptr) return;
  std::lock_guard<std::mutex> lock(c->mu);
  if (!c->stream.valid()) return;
  // End of file on its stream ends the server.
  c->stream.reset();
  absl::StatusOr<std::optional<int>> ended =
      WaitChild(c->server, Deadline::After(kStopPatience));
  if (ended.ok() && !ended->has_value()) DropServerLocked(*c);
  c->server = Child();
}

absl::StatusOr<std::optional<int>> WaitForkserverChild(Child& child,
                                                       Deadline deadline) {
  const int sentinel = static_cast<int>(child.sentinel.get());
  absl::StatusOr<bool> ready = WaitReadable(sentinel, deadline);
  if (!ready.ok()) return ready.status();
  if (!*ready) return std::optional<int>();
  char code[4];
  ssize_t n;
  do {
    n = ::read(sentinel, code, sizeof code);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return OsError("read (forkserver status)");
  if (n == sizeof code) {
    child.reaped = true;
    return std::optional<int>(GetInt32(code));
  }
  // End of file: the server ended without reporting (a status is never
  // torn: 4 bytes on a pipe are written at once). From now on the child is
  // waited for through its pidfd, under the sentinel's value.
  if (::dup3(static_cast<int>(child.process.get()), sentinel, O_CLOEXEC) < 0) {
    return OsError("dup3");
  }
  child.process.reset();
  return std::optional<int>();
}

pid_t ForkserverParentPid(pid_t os_parent) {
  const int64_t server = g_server.load(std::memory_order_relaxed);
  if (server != 0 && os_parent == server) {
    return static_cast<pid_t>(g_starter.load(std::memory_order_relaxed));
  }
  return os_parent;
}

namespace {

// --- The server
// ---------------------------------------------------------------

// A child the server forked and has not reaped yet.
struct Served {
  pid_t pid;
  OwnedHandle pidfd;
  OwnedHandle status;  // the status pipe's write end
};

struct Server {
  int stream = -1;
  OwnedHandle starter;  // a pidfd
  int64_t starter_pid = 0;
  pid_t pid = 0;
  rlim_t descriptor_limit = 0;  // the soft limit its children get
  std::vector<Served> children;
};

// A request as received.
struct Request {
  uint64_t ignored = 0;
  uint8_t streams = 0;
  // The child's environment, and what `environ` becomes in it (made before
  // fork, pointing into `environment`).
  std::vector<std::string> environment;
  std::vector<char*> environ_pointers;
  Launch launch;
  std::vector<OwnedHandle> fds;
};

[[noreturn]] void Quit(absl::string_view why) {
  if (!why.empty()) {
    std::fprintf(stderr, "mp: forkserver %d: %.*s; ending\n",
                 static_cast<int>(::getpid()), static_cast<int>(why.size()),
                 why.data());
  }
  ExitNow(0);
}

// The signal state Start() promises, for this starter: every handler the
// default, the signals the starter ignored still ignored; then an empty
// mask (every signal was blocked across fork()), so that a signal sent
// meanwhile meets these dispositions.
void TakeStartersSignals(uint64_t ignored) {
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction action = {};
    action.sa_handler =
        sig <= 64 && (ignored >> (sig - 1) & 1) != 0 ? SIG_IGN : SIG_DFL;
    sigemptyset(&action.sa_mask);
    ::sigaction(sig, &action, nullptr);  // fails for the C library's own
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// In the child the server just forked, which is single-threaded as the
// server is: becomes the starter's child and runs the target.
[[noreturn]] void BecomeChild(Server& server, Request& request,
                              const Target& target) {
  TakeStartersSignals(request.ignored);
  if (target.options.die_with_parent) DieWithParent(server.pid);
  struct rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = server.descriptor_limit;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  // The starter's standard streams (received above 2: the server's own are
  // open, SetUpServer), and its working directory.
  size_t next = kFixedFds;
  for (int i = 0; i < 3; ++i) {
    if ((request.streams >> i & 1) != 0) {
      ::dup2(static_cast<int>(request.fds[next++].get()), i);
    } else {
      ::close(i);
    }
  }
  if (::fchdir(static_cast<int>(request.fds[kCwdFd].get())) != 0) {
    if ((request.streams & kChosenDirectory) != 0) {
      ForkChildSetupFailed(CopyStep::kWorkingDirectory, errno);
    }
    std::fprintf(stderr, "mp: forkserver child %d: fchdir: %s\n",
                 static_cast<int>(::getpid()), std::strerror(errno));
  }
  environ = request.environ_pointers.data();
  // Nothing of the server's: its stream, the starter's pidfd, its other
  // children's descriptors; of the request, only the handles.
  ::close(server.stream);
  server.starter.reset();
  server.children.clear();
  for (size_t i = 0; i < next; ++i) request.fds[i].reset();
  for (OwnedHandle& h : request.fds) (void)h.release();  // the target's now
  CloseChannelsExcept(target.handles);
  g_starter.store(server.starter_pid, std::memory_order_relaxed);
  g_server.store(server.pid, std::memory_order_relaxed);
  (void)internal::SetProcessWideStartMethod(request.launch.start_method);
  ExitNow(RunTarget(target));
}

absl::Status SendAnswer(Server& server, absl::string_view bytes, int fd) {
  std::vector<int> fds;
  if (fd >= 0) fds.push_back(fd);
  return SendWithFds(server.stream, internal::Frame(bytes), fds,
                     Deadline::After(internal::SpawnTimeout()));
}

absl::Status Refuse(Server& server, const absl::Status& why) {
  return SendAnswer(server,
                    absl::StrCat(absl::string_view(&kRefused, 1),
                                 internal::EncodeAnswer(why)),
                    -1);
}

// Reads the rest of a request (its descriptors) and decodes it.
// InvalidArgument/ResourceExhausted for a request to refuse; any other
// error breaks the stream.
absl::Status ReadRequest(Server& server, absl::string_view body,
                         Request& request, Deadline deadline,
                         absl::Status& refusal) {
  Decoder d(body);
  uint64_t count = 0;
  std::string launch;
  absl::Status s = Decode(d, request.ignored);
  if (s.ok()) s = Decode(d, request.streams);
  if (s.ok()) s = Decode(d, count);
  if (s.ok()) s = Decode(d, request.environment);
  if (s.ok()) s = Decode(d, launch);
  if (s.ok()) s = d.Finish();
  if (!s.ok()) return s;
  // Far more than a process may hold: a corrupt count, not a request.
  if (count > kMaxRequestFds)
    return absl::InternalError("too many descriptors");
  bool truncated = false;
  while (request.fds.size() < count) {
    const size_t before = request.fds.size();
    const size_t expected =
        std::min<uint64_t>(kFdsPerMessage, count - request.fds.size());
    char byte = 0;
    absl::StatusOr<size_t> n =
        RecvWithFds(server.stream, &byte, 1, request.fds, truncated, deadline);
    if (!n.ok()) return n.status();
    if (byte != kDescriptors ||
        (!truncated && request.fds.size() - before != expected)) {
      return absl::InternalError("descriptors out of step");
    }
    if (truncated) {
      // Every message must still be read; the descriptors are lost.
      request.fds.resize(before);
      count -= expected;
    }
  }
  if (truncated) {
    refusal = absl::ResourceExhaustedError(
        "mp: the forkserver has no descriptor left for the child's");
    return absl::OkStatus();
  }
  absl::StatusOr<Launch> decoded = internal::DecodeLaunch(launch);
  if (!decoded.ok()) {
    refusal = decoded.status();
    return absl::OkStatus();
  }
  request.launch = *std::move(decoded);
  const size_t streams =
      static_cast<size_t>((request.streams & 1) + (request.streams >> 1 & 1) +
                          (request.streams >> 2 & 1));
  if ((request.streams & ~(7u | kChosenDirectory)) != 0 ||
      count != kFixedFds + streams + request.launch.handles.size()) {
    refusal = absl::InvalidArgumentError(
        "mp: malformed forkserver request: descriptors do not match");
    return absl::OkStatus();
  }
  for (size_t i = 0; i < request.launch.handles.size(); ++i) {
    request.launch.handles[i] = request.fds[kFixedFds + streams + i].get();
  }
  for (std::string& entry : request.environment) {
    if (entry.find('\0') != std::string::npos) {
      refusal = absl::InvalidArgumentError(
          "mp: malformed forkserver request: an environment entry holds NUL");
      return absl::OkStatus();
    }
    request.environ_pointers.push_back(&entry[0]);
  }
  request.environ_pointers.push_back(nullptr);
  refusal = internal::CheckStartMethod(request.launch.start_method);
  return absl::OkStatus();
}

// Serves one request; false when the stream is broken or closed.
bool ServeRequest(Server& server) {
  const Deadline deadline = Deadline::After(internal::SpawnTimeout());
  std::vector<OwnedHandle> none;
  bool truncated = false;
  absl::StatusOr<std::string> frame =
      ReadFrameWithFds(server.stream, none, truncated, deadline);
  if (!frame.ok()) {
    if (absl::IsOutOfRange(frame.status())) return false;  // closed
    Quit(frame.status().message());
  }
  if (!none.empty() || frame->empty()) Quit("malformed request");
  const absl::string_view body = absl::string_view(*frame).substr(1);
  if ((*frame)[0] == kKillRequest) {
    Decoder d(body);
    int64_t pid = 0;
    if (!Decode(d, pid).ok()) Quit("malformed kill request");
    for (const Served& c : server.children) {
      if (c.pid == pid) ::kill(c.pid, SIGKILL);  // not reaped: still its pid
    }
    return true;
  }
  if ((*frame)[0] != kRequest) Quit("malformed request");
  Request request;
  absl::Status refusal;
  absl::Status s = ReadRequest(server, body, request, deadline, refusal);
  if (!s.ok()) Quit(s.message());
  absl::StatusOr<Target> target = refusal.ok()
                                      ? internal::ResolveLaunch(request.launch)
                                      : absl::StatusOr<Target>(refusal);
  if (!target.ok()) return Refuse(server, target.status()).ok();
  // Every signal blocked across fork(), and in the child until it has the
  // starter's dispositions: a signal sent to it at once (a Terminate()
  // right after Start()) waits, rather than meeting the server's (SIGTERM
  // ignored) and being lost.
  sigset_t all, old;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, &old);
  const pid_t pid = ::fork();
  if (pid == 0) BecomeChild(server, request, *target);
  const int fork_error = errno;
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return Refuse(server, OsError("fork", fork_error)).ok();
  // Not reaped until this loop waits for it: `pid` is the child's.
  OwnedHandle pidfd(PidfdOpen(pid));
  if (!pidfd.valid()) {
    const absl::Status error = OsError("pidfd_open");
    ::kill(pid, SIGKILL);
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return Refuse(server, error).ok();
  }
  std::string started(1, kStarted);
  Encoder e;
  Encode(e, static_cast<int64_t>(pid));
  started += e.bytes();
  if (!SendAnswer(server, started, static_cast<int>(pidfd.get())).ok()) {
    return false;
  }
  server.children.push_back(
      Served{pid, std::move(pidfd), std::move(request.fds[kStatusFd])});
  return true;  // the request's other descriptors close here
}

// Reaps a child whose pidfd turned readable and reports its status.
void Reap(Served& child) {
  siginfo_t info = {};
  for (;;) {
    if (PidfdWait(static_cast<int>(child.pidfd.get()), &info,
                  WEXITED | WNOHANG) == 0) {
      break;
    }
    if (errno != EINTR) Quit(absl::StrCat("waitid: ", std::strerror(errno)));
  }
  if (info.si_pid == 0) return;  // not ended after all
  std::string status;
  PutInt32(status, ExitCodeOf(info));
  // A pipe takes 4 bytes at once; a starter that closed its end gets
  // nothing (EPIPE: SIGPIPE is ignored here).
  (void)!::write(static_cast<int>(child.status.get()), status.data(),
                 status.size());
  child.pid = 0;
}

// Serve's settings: no signal from the starter's process group (a Ctrl-C,
// a supervisor's SIGTERM) ends it, as it ends with its starter; SIGPIPE is
// an error; its children are reaped here, not by the kernel (an ignored
// SIGCHLD survives exec); it may hold as many descriptors as allowed; and
// its standard streams are open.
void SetUpServer(Server& server) {
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) {
    ::sigaction(sig, &ignore, nullptr);
  }
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(SIGCHLD, &dfl, nullptr);
  struct rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    server.descriptor_limit = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  // A standard stream closed here is /dev/null, so that no descriptor a
  // request brings takes its number (a child gets the starter's streams).
  for (int i = 0; i < 3; ++i) {
    if (::fcntl(i, F_GETFD) < 0) ::open("/dev/null", O_RDWR);
  }
}

[[noreturn]] void Serve(ServerEnd end, int64_t starter) {
  Server server;
  server.stream = static_cast<int>(end.fd);
  server.starter_pid = starter;
  server.pid = ::getpid();
  SetUpServer(server);
  server.starter.reset(PidfdOpen(static_cast<pid_t>(starter)));
  // The starter ended before it could be watched: this process has been
  // given to another parent by now.
  if (!server.starter.valid() || ::getppid() != starter) Quit("");
  std::vector<pollfd> polled;
  for (;;) {
    polled.clear();
    polled.push_back({server.stream, POLLIN, 0});
    polled.push_back({static_cast<int>(server.starter.get()), POLLIN, 0});
    for (const Served& c : server.children) {
      polled.push_back({static_cast<int>(c.pidfd.get()), POLLIN, 0});
    }
    if (::poll(polled.data(), polled.size(), -1) < 0) {
      if (errno == EINTR) continue;
      Quit(absl::StrCat("poll: ", std::strerror(errno)));
    }
    bool reaped = false;
    for (size_t i = 0; i < server.children.size(); ++i) {
      if (polled[2 + i].revents == 0) continue;
      Reap(server.children[i]);
      reaped = reaped || server.children[i].pid == 0;
    }
    if (reaped) {
      server.children.erase(
          std::remove_if(server.children.begin(), server.children.end(),
                         [](const Served& c) { return c.pid == 0; }),
          server.children.end());
    }
    if (polled[1].revents != 0) Quit("");  // the starter ended
    if (polled[0].revents != 0 && !ServeRequest(server)) Quit("");
  }
}

}  // namespace
}  // namespace os
}  // namespace mp
