// Copyright 2026 The mp Authors.
//
// Private to the Win32 backend: the helpers every file of it uses. The
// mirror of posix/util.h, plus what only Win32 needs (UTF-16, names).

#ifndef MP_WIN32_UTIL_H_
#define MP_WIN32_UTIL_H_

#include <windows.h>

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "mp/internal/deadline.h"

namespace mp {
namespace os {

// "what: <the system's message> (error N)" with the absl code that
// absl::ErrnoToStatusCode gives the errno of the same meaning (one table,
// in util.cc; Unknown for an error with no POSIX counterpart).
absl::Status OsError(absl::string_view what, DWORD err = GetLastError());

// A security descriptor granting everything to the current user and
// nothing to anyone else, for the named pipes mp creates. Freed with
// LocalFree.
absl::StatusOr<PSECURITY_DESCRIPTOR> CurrentUserOnly();

// Memory shared with children: a pagefile-backed file mapping, mapped whole.
// Monitors (sync.cc) and shared memory (memory.cc) are made of it; the
// mirror of posix/util.h's. Unlike a memfd it needs no seal: a section
// object's size is fixed when it is created, so no holder of the handle can
// shrink the memory under another's view.
struct SharedMapping {
  HANDLE mapping = nullptr;
  void* data = nullptr;  // the view
  size_t size = 0;       // of the view, at least what was asked for
};
// `size` zero bytes in a new mapping; nothing is left open on error.
absl::StatusOr<SharedMapping> CreateSharedMapping(uint64_t size);
// Maps all of a mapping received from a parent; closes `mapping` on error,
// and refuses a view smaller than `min_size` bytes.
absl::StatusOr<SharedMapping> MapReceived(HANDLE mapping, size_t min_size);
void Unmap(const SharedMapping& mapping);  // and closes the handle

// One read of a field in memory shared with other processes, which a peer
// may change at any moment: read exactly once (never fetched again by the
// compiler) and never torn. Validate the value, then use only it.
template <typename T>
T ReadOnce(const T* field) {
  return __atomic_load_n(field, __ATOMIC_RELAXED);
}

// A name of `N` wide characters kept in shared memory, copied into `out`
// and terminated there: a peer rewriting it cannot make a reader run past
// its end.
template <size_t N>
void CopyName(const wchar_t (&name)[N], wchar_t (&out)[N]) {
  std::memcpy(out, name, sizeof out);
  out[N - 1] = L'\0';
}

// UTF-8 <-> UTF-16: mp's strings are UTF-8, Win32's wide APIs take UTF-16.
std::wstring Widen(absl::string_view s);
std::string Narrow(const std::wstring& s);

// `prefix` + 32 random hex digits + `suffix`: names of kernel objects and
// pipes that no other process can guess.
std::wstring RandomName(const wchar_t* prefix, const wchar_t* suffix);

// A connected pair of ends of one named-pipe instance under a random name
// (`prefix` + RandomName's digits), for the current user only and local
// clients only, both non-inheritable and opened for overlapped I/O. The
// server end reads (and writes if `duplex`), the client end writes (and
// reads if `duplex`); `messages` picks message mode, else byte mode.
// Nothing is left open on error. (channel.cc)
struct PipeEnds {
  HANDLE server = nullptr;
  HANDLE client = nullptr;
};
absl::StatusOr<PipeEnds> CreateConnectedPipe(const wchar_t* prefix, bool duplex,
                                             bool messages, DWORD buffer);
// The same, one way and in byte mode, for a child's standard stream: the
// server end is overlapped and writes if `server_writes` (the client reads:
// a child's stdin), else reads; the client end is opened for synchronous
// I/O, as a program expects of its standard streams. (channel.cc)
absl::StatusOr<PipeEnds> CreateStreamPipeEnds(const wchar_t* prefix,
                                              bool server_writes, DWORD buffer);

// One overlapped ReadFile (`write` false) or WriteFile of up to `size`
// bytes (at most 1 MiB) on `h`, waited for until `deadline` and cancelled
// then: the number of bytes moved (bytes that moved before a cancel
// count); OutOfRange once the other end is closed; DeadlineExceeded.
// `what` names `h` in errors. (channel.cc)
absl::StatusOr<DWORD> TransferBefore(HANDLE h, bool write, char* data,
                                     size_t size, internal::Deadline deadline,
                                     absl::string_view what);

// Whether a pipe error means that the other end is gone. (channel.cc)
bool IsGone(DWORD err);

// This thread's event for overlapped I/O (manual reset), made on the
// thread's first call and closed when the thread ends: an event per call
// would cost a kernel call each time. ReadFile, WriteFile and
// ConnectNamedPipe reset it themselves when they start. nullptr if it
// cannot be made. (channel.cc)
HANDLE ThreadEvent();

}  // namespace os
}  // namespace mp

#endif  // MP_WIN32_UTIL_H_
