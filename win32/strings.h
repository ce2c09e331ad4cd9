// Copyright 2026 The mp Authors.
//
// UTF-8 <-> UTF-16 for the Win32 backend: mp's strings are UTF-8, Win32's
// wide APIs take UTF-16.

#ifndef MP_WIN32_STRINGS_H_
#define MP_WIN32_STRINGS_H_

#include <windows.h>

#include <string>

#include "absl/strings/string_view.h"

namespace mp {
namespace os {

inline std::wstring Widen(absl::string_view s) {
  if (s.empty()) return std::wstring();
  const int n = MultiByteToWideChar(CP_UTF8, 0, s.data(),
                                    static_cast<int>(s.size()), nullptr, 0);
  std::wstring out(n > 0 ? n : 0, L'\0');
  if (n > 0) {
    MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()),
                        &out[0], n);
  }
  return out;
}

inline std::string Narrow(const std::wstring& s) {
  if (s.empty()) return std::string();
  const int n =
      WideCharToMultiByte(CP_UTF8, 0, s.data(), static_cast<int>(s.size()),
                          nullptr, 0, nullptr, nullptr);
  std::string out(n > 0 ? n : 0, '\0');
  if (n > 0) {
    WideCharToMultiByte(CP_UTF8, 0, s.data(), static_cast<int>(s.size()),
                        &out[0], n, nullptr, nullptr);
  }
  return out;
}

}  // namespace os
}  // namespace mp

#endif  // MP_WIN32_STRINGS_H_
