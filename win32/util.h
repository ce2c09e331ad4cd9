// Copyright 2026 The mp Authors.
//
// Private to the Win32 backend: the helpers every file of it uses. The
// mirror of posix/util.h, plus what only Win32 needs (UTF-16, names).

#ifndef MP_WIN32_UTIL_H_
#define MP_WIN32_UTIL_H_

#include <windows.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mp {
namespace os {

// "what: <the system's message> (error N)" with a matching absl code.
absl::Status OsError(absl::string_view what, DWORD err = GetLastError());

// What is left of `deadline` as a wait's timeout: INFINITE for no
// deadline, rounded up so that a wait never ends before the deadline.
DWORD WaitMs(absl::Time deadline);

// UTF-8 <-> UTF-16: mp's strings are UTF-8, Win32's wide APIs take UTF-16.
std::wstring Widen(absl::string_view s);
std::string Narrow(const std::wstring& s);

// `prefix` + 32 random hex digits + `suffix`: names of kernel objects and
// pipes that no other process can guess.
std::wstring RandomName(const wchar_t* prefix, const wchar_t* suffix);

}  // namespace os
}  // namespace mp

#endif  // MP_WIN32_UTIL_H_
