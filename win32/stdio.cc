// Copyright 2026 The mp Authors.
//
// Standard streams on Win32 (mp/internal/os.h): what a ChildIo names, made
// in the parent; StartCopy (process.cc) hands them to the child. The mirror
// of posix/stdio.cc.
//
// Every handle is non-inheritable: StartCopy gives the child inheritable
// duplicates in its handle list. A stream pipe is a one-way byte-mode named
// pipe whose server end, the parent's, is overlapped, so that reads and
// writes wait until a deadline (an anonymous pipe cannot); the child's
// client end is synchronous, as programs expect of their standard streams.

// <windows.h> first: the other Win32 headers need it.
// clang-format off
#include <windows.h>
// clang-format on

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mp/internal/deadline.h"
#include "mp/internal/os.h"
#include "mp/status.h"
#include "win32/util.h"

namespace mp {
namespace os {
namespace {

// What the pipe holds before a writer waits for its reader.
constexpr DWORD kStreamBuffer = 64 * 1024;

OwnedHandle Own(HANDLE h) { return OwnedHandle(reinterpret_cast<intptr_t>(h)); }

// CreateFileW, non-inheritable, sharing the file with every other user.
absl::StatusOr<OwnedHandle> Open(const std::wstring& path, DWORD access,
                                 DWORD share, DWORD disposition, DWORD flags,
                                 absl::string_view what) {
  SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, /*bInheritHandle=*/FALSE};
  HANDLE h = CreateFileW(path.c_str(), access, share, &sa, disposition, flags,
                         nullptr);
  if (h == INVALID_HANDLE_VALUE) return OsError(what);
  return Own(h);
}

constexpr DWORD kShareAll =
    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

}  // namespace

absl::StatusOr<OwnedHandle> OpenStreamFile(const std::string& path,
                                           StreamFile how) {
  const std::wstring wide = Widen(path);
  const std::string what = absl::StrCat("CreateFileW ", path);
  switch (how) {
    case StreamFile::kRead:
      return Open(wide, GENERIC_READ, kShareAll, OPEN_EXISTING,
                  FILE_ATTRIBUTE_NORMAL, what);
    case StreamFile::kWriteTruncate:
      return Open(wide, GENERIC_WRITE, kShareAll, CREATE_ALWAYS,
                  FILE_ATTRIBUTE_NORMAL, what);
    case StreamFile::kWriteAppend:
      // Without FILE_WRITE_DATA every write goes to the end of the file,
      // also when another process writes to it too.
      return Open(wide, FILE_APPEND_DATA | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                  kShareAll, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, what);
  }
  return absl::InvalidArgumentError("mp: unknown StreamFile");
}

absl::StatusOr<OwnedHandle> OpenNullDevice() {
  return Open(L"NUL", GENERIC_READ | GENERIC_WRITE,
              FILE_SHARE_READ | FILE_SHARE_WRITE, OPEN_EXISTING,
              FILE_ATTRIBUTE_NORMAL, "CreateFileW NUL");
}

absl::StatusOr<StreamPipe> CreateStreamPipe(bool child_reads) {
  absl::StatusOr<PipeEnds> ends = CreateStreamPipeEnds(
      L"\\\\.\\pipe\\mp-stdio-", /*server_writes=*/child_reads, kStreamBuffer);
  if (!ends.ok()) return ends.status();
  StreamPipe pipe;
  pipe.parent = Own(ends->server);
  pipe.child = Own(ends->client);
  return pipe;
}

absl::StatusOr<size_t> ReadStream(intptr_t end, char* out, size_t size,
                                  internal::Deadline deadline) {
  // End of file is the broken pipe; a read of no bytes (a writer's empty
  // WriteFile) is not.
  for (;;) {
    absl::StatusOr<DWORD> n =
        TransferBefore(reinterpret_cast<HANDLE>(end), /*write=*/false, out,
                       size, deadline, "the child's stream");
    if (absl::IsOutOfRange(n.status())) return 0;
    if (!n.ok()) return n.status();
    if (*n > 0) return static_cast<size_t>(*n);
    if (deadline.Expired()) {
      return absl::DeadlineExceededError("mp: reading the stream timed out");
    }
  }
}

absl::StatusOr<size_t> WriteStream(intptr_t end, absl::string_view bytes,
                                   internal::Deadline deadline) {
  if (bytes.empty()) return 0;
  absl::StatusOr<DWORD> n =
      TransferBefore(reinterpret_cast<HANDLE>(end), /*write=*/true,
                     const_cast<char*>(bytes.data()), bytes.size(), deadline,
                     "the child's stream");
  if (absl::IsOutOfRange(n.status())) {
    return EndOfFileError("mp: the child's end of the stream is closed");
  }
  if (!n.ok()) return n.status();
  if (*n == 0) {
    return absl::DeadlineExceededError("mp: writing the stream timed out");
  }
  return static_cast<size_t>(*n);
}

absl::StatusOr<WorkingDirectory> OpenWorkingDirectory(const std::string& path) {
  const std::wstring wide = Widen(path);
  const DWORD size = GetFullPathNameW(wide.c_str(), 0, nullptr, nullptr);
  if (size == 0) return OsError(absl::StrCat("GetFullPathNameW ", path));
  std::wstring full(size, L'\0');
  const DWORD n = GetFullPathNameW(wide.c_str(), size, &full[0], nullptr);
  if (n == 0 || n >= size) {
    return OsError(absl::StrCat("GetFullPathNameW ", path));
  }
  full.resize(n);
  // Held open without FILE_SHARE_DELETE: it cannot be removed or renamed
  // until the child has started in it.
  absl::StatusOr<OwnedHandle> dir =
      Open(full, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE,
           OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS,
           absl::StrCat("CreateFileW ", path));
  if (!dir.ok()) return dir.status();
  BY_HANDLE_FILE_INFORMATION info = {};
  if (!GetFileInformationByHandle(reinterpret_cast<HANDLE>(dir->get()),
                                  &info)) {
    return OsError(absl::StrCat("GetFileInformationByHandle ", path));
  }
  if ((info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not a directory"));
  }
  return WorkingDirectory{*std::move(dir), Narrow(full)};
}

}  // namespace os
}  // namespace mp
