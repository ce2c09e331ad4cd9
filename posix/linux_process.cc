// Copyright 2026 The mp Authors.
//
// Linux-only: what starting a child needs beyond POSIX (posix/linux.h). A
// port replaces PR_SET_PDEATHSIG (FreeBSD: procctl PROC_PDEATHSIG_CTL;
// macOS: a kqueue EVFILT_PROC NOTE_EXIT watch on the parent), /proc/self/exe
// (macOS: _NSGetExecutablePath; FreeBSD: sysctl KERN_PROC_PATHNAME, or
// fexecve of a descriptor opened at start), close_range (closefrom),
// AT_SECURE (issetugid()), sched_getaffinity (cpuset_getaffinity; macOS:
// sysconf), eventfd (a pipe whose write end is closed), SO_PEERCRED
// (FreeBSD: LOCAL_PEERCRED's cr_pid; macOS: LOCAL_PEERPID), O_PATH (O_SEARCH
// where the system has it; else O_RDONLY, which needs read permission),
// glibc's __fpurge (fpurge on the BSDs and macOS), glibc's list of
// streams (elsewhere: fflush(NULL), the fallback here), glibc's
// __libc_single_threaded (elsewhere: false) and syscall(2) for a fork
// child's calls (sigprocmask and close).

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <sys/auxv.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#endif
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <iostream>
#include <streambuf>
#include <string>

#include "posix/linux.h"
#include "posix/util.h"

// close_range(2) (Linux 5.9; CLOSE_RANGE_CLOEXEC since 5.11), for C
// libraries and kernel headers that predate it.
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace mp {
namespace os {

void DieWithParent(pid_t parent) {
  // Through syscall(2), as SetSignalMaskInChild.
  ::syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
  if (::syscall(SYS_getppid) != parent) ::_exit(128 + SIGKILL);
}

void SetSignalMaskInChild(const sigset_t& mask) {
  // The kernel's signal set: one bit per signal, 1 to NSIG - 1.
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, nullptr, (NSIG - 1) / 8);
}

void CloseInChild(int fd) { ::syscall(SYS_close, fd); }

absl::StatusOr<std::string> RunningBinaryPath() {
  std::string path(PATH_MAX, '\0');
  const ssize_t n = ::readlink(kRunningBinary, &path[0], path.size());
  if (n < 0) return OsError("readlink /proc/self/exe");
  if (static_cast<size_t>(n) >= path.size()) {
    return absl::FailedPreconditionError("mp: executable path too long");
  }
  path.resize(static_cast<size_t>(n));
  return path;
}

void MarkCloseOnExecFrom(int first, int limit) {
  if (::syscall(SYS_close_range, static_cast<unsigned>(first), ~0U,
                CLOSE_RANGE_CLOEXEC) == 0) {
    return;
  }
  for (int fd = first; fd < limit; ++fd) {
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
      ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
  }
}

int OpenDirectoryToEnter(const char* path) {
  int fd;
  do {
    fd = ::open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

void DropBufferedStdin() { __fpurge(stdin); }

namespace {

// Exposes std::streambuf's put area to a plain pointer-to-member, which
// may then be applied to any streambuf.
struct PutArea : std::streambuf {
  using std::streambuf::pbase;
  using std::streambuf::pptr;
};

void FlushIfHoldingData(std::ostream& stream) {
  std::streambuf* const buffer = stream.rdbuf();
  if (buffer == nullptr) return;
  char* (std::streambuf::*const pbase)() const = &PutArea::pbase;
  char* (std::streambuf::*const pptr)() const = &PutArea::pptr;
  if ((buffer->*pptr)() != (buffer->*pbase)()) stream.flush();
}

}  // namespace

bool SingleThreaded() {
#if __has_include(<sys/single_threaded.h>)
  return __libc_single_threaded != 0;
#else
  return false;
#endif
}

#ifdef __GLIBC__
// glibc's list of every FILE, exported (GLIBC_2.2.5) but declared in no
// public header since 2.28: what fflush(NULL) walks.
extern "C" {
void _IO_list_lock(void);
void _IO_list_unlock(void);
FILE* _IO_iter_begin(void);
FILE* _IO_iter_end(void);
FILE* _IO_iter_next(FILE* iter);
FILE* _IO_iter_file(FILE* iter);
}

namespace {

// __fpending(), read from the FILE's public fields for a byte stream (the
// usual kind): a fork child that calls it touches one page of the C
// library's code fewer. A wide stream asks __fpending().
bool HoldsOutput(FILE* file) {
  if (file->_mode > 0) return __fpending(file) != 0;
  return file->_IO_write_ptr != file->_IO_write_base;
}

}  // namespace

void FlushStdioHoldingData() {
  FlushIfHoldingData(std::cout);
  FlushIfHoldingData(std::cerr);
  // With no other thread (glibc says so from its first pthread_create on,
  // and in a fork child of a single-threaded parent) nobody can change the
  // list meanwhile, and the lock is left alone: taking it writes the page
  // it lives on, which costs a fork child a copy-on-write fault.
  const bool lock = !SingleThreaded();
  if (lock) _IO_list_lock();
  for (FILE* it = _IO_iter_begin(); it != _IO_iter_end();
       it = _IO_iter_next(it)) {
    FILE* const file = _IO_iter_file(it);
    // __fpending reads the buffer's pointers without the stream's lock: a
    // stream another thread writes to meanwhile may be missed, as it may be
    // by fflush(NULL) a moment later.
    if (HoldsOutput(file)) std::fflush(file);
  }
  if (lock) _IO_list_unlock();
}
#else
void FlushStdioHoldingData() {
  FlushIfHoldingData(std::cout);
  FlushIfHoldingData(std::cerr);
  std::fflush(nullptr);
}
#endif

bool RunsWithPrivileges() { return ::getauxval(AT_SECURE) != 0; }

int AlwaysReadable() { return ::eventfd(1, EFD_CLOEXEC); }

absl::StatusOr<pid_t> SocketPeerPid(int fd) {
  struct ucred peer = {};
  socklen_t size = sizeof peer;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0) {
    return OsError("getsockopt(SO_PEERCRED)");
  }
  return peer.pid;
}

int OpenWorkingDirectory() {
  return ::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
}

int AllowedCpuCount() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  return CPU_COUNT(&set);
}

}  // namespace os
}  // namespace mp
