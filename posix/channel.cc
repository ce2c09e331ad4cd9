// Copyright 2026 The mp Authors.
//
// Channels on POSIX (mp/internal/os.h): AF_UNIX SOCK_SEQPACKET socketpairs.
// The mirror of win32/channel.cc.
//
// SEQPACKET is reliable, ordered and keeps record boundaries: each sendmsg
// queues one record atomically (a sender killed while blocked sends
// nothing), each recv returns one record. Simplex pairs are shut down in the
// unused direction, so the kernel itself refuses the wrong use.
//
// Linux semantics used here (PORTING.md, "What is Linux-only in posix/"):
// recv with MSG_TRUNC returns a record's full length, so an oversized one
// is DataLoss rather than silently cut; SEQPACKET on AF_UNIX, SOCK_CLOEXEC
// and MSG_NOSIGNAL are missing on macOS.

#include "posix/channel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "mp/status.h"
#include "posix/util.h"

namespace mp {
namespace os {
namespace {

// The channel ends this process holds, as a bitmap of descriptors, lock-free
// so that a fork child can read it before doing anything else (another
// thread may have held any lock at fork time).
//
// RACE: a descriptor made but not yet recorded, or forgotten but not yet
// closed, would escape a fork child's CloseChannelsExcept (and one closed
// before it is forgotten could be another thread's new descriptor by then).
// So each of those pairs of steps happens under g_fork_lock, and every
// fork() of this process (StartFork's, StartCopy's, the program's own)
// takes it too, in a pthread_atfork handler: a change to the record is
// wholly before the fork or wholly after it. The child inherits the lock
// held by the thread that forked, its one thread, and makes it fresh in the
// atfork child handler, before fork() returns there. Nothing that allocates
// or takes another lock runs under it, so no thread holding it waits for
// the locks fork() takes after the atfork handlers (the allocator's).
//
// ChannelGeneration() lives beside the lock, on the cache line (and so the
// page) that every fork writes in both processes anyway: a fork child that
// bumps it then costs no copy-on-write fault of its own.
struct ForkLock {
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  // ChannelGeneration(). Changed only by a fork child before it runs
  // anything else, so relaxed loads see the current value.
  std::atomic<uint64_t> generation{0};
};
alignas(64) ForkLock g_fork;
pthread_mutex_t& g_fork_lock = g_fork.mu;

void LockBeforeFork() { pthread_mutex_lock(&g_fork_lock); }
void UnlockInParent() { pthread_mutex_unlock(&g_fork_lock); }
// Plain stores: async-signal-safe, as a fork child of a threaded program
// must be.
void ResetInChild() {
  const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  std::memcpy(&g_fork_lock, &fresh, sizeof fresh);
}
[[maybe_unused]] const int g_fork_handlers_registered =
    pthread_atfork(LockBeforeFork, UnlockInParent, ResetInChild);

constexpr int kTrackedFds = 1 << 16;
std::atomic<uint64_t> g_channel_fds[kTrackedFds / 64];
// One past the highest word of g_channel_fds that ever held a bit: what
// CloseChannelsExcept reads. Most of the bitmap's pages were never written
// then, and a fork child reading one would fault the zero page in.
std::atomic<int> g_words_used{0};

// Records `fd` as a channel end (`on`) or forgets it. Under g_fork_lock,
// or in a fork child before it runs anything else.
void Track(intptr_t fd, bool on) {
  if (fd < 0 || fd >= kTrackedFds) return;
  const uint64_t bit = uint64_t{1} << (fd % 64);
  if (on) {
    const int words = static_cast<int>(fd / 64) + 1;
    // Only raised, under g_fork_lock (every Track(fd, true) holds it).
    if (g_words_used.load(std::memory_order_relaxed) < words) {
      g_words_used.store(words);
    }
    g_channel_fds[fd / 64].fetch_or(bit);
  } else if ((g_channel_fds[fd / 64].load() & bit) != 0) {
    // Only a recorded end is written: closing any other descriptor (a
    // start's spare, say) leaves the bitmap's page alone, which after a
    // fork would cost a copy-on-write fault.
    g_channel_fds[fd / 64].fetch_and(~bit);
  }
}

}  // namespace

absl::StatusOr<ChannelPair> CreateChannelPair(bool duplex) {
  int sv[2];
  pthread_mutex_lock(&g_fork_lock);
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    const int err = errno;
    pthread_mutex_unlock(&g_fork_lock);
    return OsError("socketpair", err);
  }
  Track(sv[0], true);
  Track(sv[1], true);
  pthread_mutex_unlock(&g_fork_lock);
  // Room for 32 full records (2 MiB) in flight each way, so that a large
  // message streams without the writer waiting on the reader record by
  // record (1 MiB messages: 6.2 -> 11.4 GB/s here). The kernel caps the
  // request at net.core.wmem_max / rmem_max (208 KiB by default; 4 MiB on
  // the benchmark machine); the buffer is charged only as it fills.
  const int size = 32 * static_cast<int>(kMaxRecordBytes);
  for (int fd : sv) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  if (!duplex) {
    shutdown(sv[0], SHUT_WR);
    shutdown(sv[1], SHUT_RD);
  }
  return ChannelPair{OwnedHandle(sv[0]), OwnedHandle(sv[1])};
}

absl::Status SendRecord(intptr_t end,
                        std::initializer_list<absl::string_view> pieces) {
  iovec iov[8];
  size_t n = 0;
  for (absl::string_view p : pieces) {
    if (n == 8) return absl::InternalError("mp: too many record pieces");
    iov[n].iov_base = const_cast<char*>(p.data());
    iov[n].iov_len = p.size();
    ++n;
  }
  msghdr msg = {};
  msg.msg_iov = iov;
  msg.msg_iovlen = n;
  for (;;) {
    // MSG_NOSIGNAL: a vanished reader is an error, not SIGPIPE.
    if (sendmsg(static_cast<int>(end), &msg, MSG_NOSIGNAL) >= 0) {
      return absl::OkStatus();
    }
    if (errno == EINTR) continue;
    if (errno == EPIPE || errno == ECONNRESET) {
      return EndOfFileError("mp: the other end of the pipe is closed");
    }
    return OsError("sendmsg", errno);
  }
}

absl::StatusOr<size_t> RecvRecord(intptr_t end, char* buffer,
                                  internal::Deadline deadline) {
  const int fd = static_cast<int>(end);
  // With a deadline, poll first and never block in recv (another reader
  // may take the record poll saw); without one, a blocking recv is enough
  // and saves a system call per record.
  const bool no_deadline = deadline.IsNever();
  for (;;) {
    if (no_deadline) {
      const ssize_t n = recv(fd, buffer, kMaxRecordBytes, MSG_TRUNC);
      if (n > 0) {
        if (static_cast<size_t>(n) > kMaxRecordBytes) {
          return absl::DataLossError("mp: oversized record (not from mp?)");
        }
        return static_cast<size_t>(n);
      }
      if (n == 0 || errno == ECONNRESET) {
        return EndOfFileError("mp: end of file: every writer is gone");
      }
      if (errno == EINTR) continue;
      return OsError("recv");
    }
    pollfd p = {fd, POLLIN, 0};
    const int ready = poll(&p, 1, deadline.ToPollMilliseconds());
    if (ready < 0 && errno != EINTR) return OsError("poll", errno);
    if (ready <= 0) {
      if (ready == 0 && deadline.Expired()) {
        return absl::DeadlineExceededError("mp: receive timed out");
      }
      continue;
    }
    // Another reader may have taken the record: never block here.
    const ssize_t n =
        recv(fd, buffer, kMaxRecordBytes, MSG_TRUNC | MSG_DONTWAIT);
    if (n > 0) {
      if (static_cast<size_t>(n) > kMaxRecordBytes) {
        return absl::DataLossError("mp: oversized record (not from mp?)");
      }
      return static_cast<size_t>(n);
    }
    if (n == 0) return EndOfFileError("mp: end of file: every writer is gone");
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
    if (errno == ECONNRESET) {
      return EndOfFileError("mp: end of file: every writer is gone");
    }
    return OsError("recv", errno);
  }
}

// A channel end is ready when a record or end of file can be read, a
// sentinel (a pidfd) once its process has exited: both poll as POLLIN (or
// POLLHUP), so the kind makes no difference here.
absl::StatusOr<std::vector<bool>> WaitReady(
    const std::vector<Waitable>& waitables, internal::Deadline deadline) {
  std::vector<pollfd> fds(waitables.size());
  for (size_t i = 0; i < waitables.size(); ++i) {
    fds[i] = {static_cast<int>(waitables[i].handle), POLLIN, 0};
  }
  for (;;) {
    const int n = poll(fds.data(), fds.size(), deadline.ToPollMilliseconds());
    if (n < 0 && errno != EINTR) return OsError("poll", errno);
    if (n > 0 || (n == 0 && deadline.Expired())) break;
  }
  std::vector<bool> ready(waitables.size());
  for (size_t i = 0; i < waitables.size(); ++i) {
    ready[i] = fds[i].revents != 0;
  }
  return ready;
}

void CloseChannel(intptr_t end) { CloseOsHandle(end); }

void CloseDescriptor(int fd) {
  pthread_mutex_lock(&g_fork_lock);
  Track(fd, false);
  // POSIX leaves the descriptor's state unspecified after EINTR; on Linux
  // it is closed, so close() is never retried.
  ::close(fd);
  pthread_mutex_unlock(&g_fork_lock);
}

namespace {

// Under g_fork_lock: `fd` itself if it is 3 or above, else a close-on-exec
// duplicate that is (`fd` closed either way on failure), recorded.
int RecordAboveStdio(int fd) {
  if (fd < 3) {
    const int above = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    const int err = errno;
    ::close(fd);
    if (above < 0) {
      errno = err;
      return -1;
    }
    fd = above;
  }
  Track(fd, true);
  return fd;
}

}  // namespace

int RecordStreamDescriptor(int fd) {
  pthread_mutex_lock(&g_fork_lock);
  fd = RecordAboveStdio(fd);
  const int err = errno;
  pthread_mutex_unlock(&g_fork_lock);
  errno = err;
  return fd;
}

int RecordedPipe(int (&ends)[2]) {
  pthread_mutex_lock(&g_fork_lock);
  int made[2];
  int result = pipe2(made, O_CLOEXEC);
  int err = errno;
  if (result == 0) {
    ends[0] = RecordAboveStdio(made[0]);
    err = errno;
    ends[1] = ends[0] < 0 ? -1 : RecordAboveStdio(made[1]);
    if (ends[1] < 0) {
      err = errno;
      if (ends[0] >= 0) {
        Track(ends[0], false);
        ::close(ends[0]);
      } else {
        ::close(made[1]);
      }
      result = -1;
    }
  }
  pthread_mutex_unlock(&g_fork_lock);
  errno = err;
  return result;
}

void AdoptChannel(intptr_t end) {
  pthread_mutex_lock(&g_fork_lock);
  Track(end, true);
  pthread_mutex_unlock(&g_fork_lock);
}

uint64_t ChannelGeneration() {
  return g_fork.generation.load(std::memory_order_relaxed);
}

void CloseChannelsExcept(const std::vector<intptr_t>& keep) {
  g_fork.generation.fetch_add(1, std::memory_order_relaxed);
  const int words = g_words_used.load();
  for (int word = 0; word < words; ++word) {
    uint64_t bits = g_channel_fds[word].load();
    while (bits != 0) {
      const int fd = word * 64 + __builtin_ctzll(bits);
      bits &= bits - 1;
      if (std::find(keep.begin(), keep.end(), fd) == keep.end()) {
        Track(fd, false);
        close(fd);
      }
    }
  }
}

}  // namespace os
}  // namespace mp
