// Copyright 2026 The mp Authors.
//
// Standard streams on POSIX (mp/internal/os.h): what a ChildIo names, made
// in the parent; process.cc places them in the child. The mirror of
// win32/stdio.cc.
//
// Every descriptor is close-on-exec, 3 or above, and recorded with the
// channel ends (posix/channel.h), so that a fork child not given it closes
// it. A file is opened before it is recorded (an open() may block, on a
// FIFO say, and must not hold the lock every fork() takes): a fork child
// that another thread starts in that moment keeps a copy of it, as it keeps
// every descriptor the program opens. Pipes are made and recorded under the
// lock.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "mp/status.h"
#include "posix/channel.h"
#include "posix/linux.h"
#include "posix/util.h"

namespace mp {
namespace os {
namespace {

// `fd`, just made by `what` on `path` (-1 with errno if that failed),
// recorded.
absl::StatusOr<OwnedHandle> Recorded(int fd, absl::string_view what,
                                     const std::string& path) {
  if (fd < 0) return OsError(absl::StrCat(what, " ", path));
  fd = RecordStreamDescriptor(fd);
  if (fd < 0) return OsError("fcntl(F_DUPFD_CLOEXEC)");
  return OwnedHandle(fd);
}

// open(), retried on EINTR, then recorded.
absl::StatusOr<OwnedHandle> OpenRecorded(const std::string& path, int flags) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NOCTTY, 0666);
  } while (fd < 0 && errno == EINTR);
  return Recorded(fd, "open", path);
}

// Waits until `fd` polls for `events` (or an error or hang-up) or
// `deadline` passes; false then.
absl::StatusOr<bool> WaitFor(int fd, short events,
                             internal::Deadline deadline) {
  for (;;) {
    struct pollfd p = {fd, events, 0};
    const int n = ::poll(&p, 1, deadline.ToPollMilliseconds());
    if (n > 0) return true;
    if (n == 0 && deadline.Expired()) return false;
    if (n < 0 && errno != EINTR) return OsError("poll");
  }
}

// write(), with the SIGPIPE that a write to a pipe without readers raises
// kept from the process: blocked in this thread for the call, and taken
// back if this write raised it (and it was not pending already).
ssize_t WriteWithoutSigpipe(int fd, absl::string_view bytes) {
  sigset_t pipe_only, old, pending;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  const ssize_t n = ::write(fd, bytes.data(), bytes.size());
  const int err = errno;
  if (n < 0 && err == EPIPE && !was_pending) {
    const struct timespec zero = {0, 0};
    while (::sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return n;
}

}  // namespace

absl::StatusOr<OwnedHandle> OpenStreamFile(const std::string& path,
                                           StreamFile how) {
  switch (how) {
    case StreamFile::kRead:
      return OpenRecorded(path, O_RDONLY);
    case StreamFile::kWriteTruncate:
      return OpenRecorded(path, O_WRONLY | O_CREAT | O_TRUNC);
    case StreamFile::kWriteAppend:
      return OpenRecorded(path, O_WRONLY | O_CREAT | O_APPEND);
  }
  return absl::InvalidArgumentError("mp: unknown StreamFile");
}

absl::StatusOr<OwnedHandle> OpenNullDevice() {
  return OpenRecorded("/dev/null", O_RDWR);
}

absl::StatusOr<StreamPipe> CreateStreamPipe(bool child_reads) {
  int ends[2];
  if (RecordedPipe(ends) != 0) return OsError("pipe2");
  StreamPipe pipe;
  pipe.child.reset(child_reads ? ends[0] : ends[1]);
  pipe.parent.reset(child_reads ? ends[1] : ends[0]);
  // Only the parent's end: reads and writes then never block past their
  // deadline, even when another holder of it took what poll() saw.
  const int parent = static_cast<int>(pipe.parent.get());
  const int flags = ::fcntl(parent, F_GETFL);
  if (flags < 0 || ::fcntl(parent, F_SETFL, flags | O_NONBLOCK) != 0) {
    return OsError("fcntl(O_NONBLOCK)");
  }
  return pipe;
}

absl::StatusOr<size_t> ReadStream(intptr_t end, char* out, size_t size,
                                  internal::Deadline deadline) {
  const int fd = static_cast<int>(end);
  for (;;) {
    const ssize_t n = ::read(fd, out, size);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return OsError("read");
    absl::StatusOr<bool> ready = WaitFor(fd, POLLIN, deadline);
    if (!ready.ok()) return ready.status();
    if (!*ready) {
      return absl::DeadlineExceededError("mp: reading the stream timed out");
    }
  }
}

absl::StatusOr<size_t> WriteStream(intptr_t end, absl::string_view bytes,
                                   internal::Deadline deadline) {
  if (bytes.empty()) return 0;
  const int fd = static_cast<int>(end);
  for (;;) {
    const ssize_t n = WriteWithoutSigpipe(fd, bytes);
    if (n > 0) return static_cast<size_t>(n);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EPIPE) {
      return EndOfFileError("mp: the child's end of the stream is closed");
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return OsError("write");
    }
    absl::StatusOr<bool> ready = WaitFor(fd, POLLOUT, deadline);
    if (!ready.ok()) return ready.status();
    if (!*ready) {
      return absl::DeadlineExceededError("mp: writing the stream timed out");
    }
  }
}

absl::StatusOr<WorkingDirectory> OpenWorkingDirectory(const std::string& path) {
  absl::StatusOr<OwnedHandle> dir =
      Recorded(OpenDirectoryToEnter(path.c_str()), "open directory", path);
  if (!dir.ok()) return dir.status();
  // fchdir() needs search permission, which opening with O_PATH does not.
  if (::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) != 0) {
    return OsError(absl::StrCat("search permission on ", path));
  }
  return WorkingDirectory{*std::move(dir), std::string()};
}

}  // namespace os
}  // namespace mp
