// Copyright 2026 The mp Authors.

#include "win32/util.h"

// <windows.h> first: the other Win32 headers need it.
// clang-format off
#include <windows.h>
#include <bcrypt.h>
// clang-format on

#include "absl/strings/str_cat.h"
#include "mp/internal/deadline.h"

namespace mp {
namespace os {

absl::Status OsError(absl::string_view what, DWORD err) {
  wchar_t* text = nullptr;
  FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                     FORMAT_MESSAGE_IGNORE_INSERTS,
                 nullptr, err, 0, reinterpret_cast<wchar_t*>(&text), 0,
                 nullptr);
  std::string message = text ? Narrow(text) : std::string();
  if (text) LocalFree(text);
  while (!message.empty() &&
         (message.back() == '\n' || message.back() == '\r')) {
    message.pop_back();
  }
  const absl::StatusCode code =
      err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND
          ? absl::StatusCode::kNotFound
      : err == ERROR_ACCESS_DENIED ? absl::StatusCode::kPermissionDenied
      : err == ERROR_NOT_ENOUGH_MEMORY || err == ERROR_NO_SYSTEM_RESOURCES ||
              err == ERROR_TOO_MANY_OPEN_FILES
          ? absl::StatusCode::kResourceExhausted
          : absl::StatusCode::kUnknown;
  return absl::Status(code,
                      absl::StrCat(what, ": ", message, " (error ", err, ")"));
}

DWORD WaitMs(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return INFINITE;
  const absl::Duration left = deadline - internal::MonotonicNow();
  if (left <= absl::ZeroDuration()) return 0;
  const int64_t ms =
      absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return ms >= INFINITE ? INFINITE - 1 : static_cast<DWORD>(ms);
}

std::wstring Widen(absl::string_view s) {
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

std::string Narrow(const std::wstring& s) {
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

namespace {

absl::StatusOr<SharedMapping> MapWhole(HANDLE mapping, size_t min_size) {
  void* view = MapViewOfFile(mapping, FILE_MAP_ALL_ACCESS, 0, 0, 0);
  if (view == nullptr) {
    absl::Status s = OsError("MapViewOfFile");
    CloseHandle(mapping);
    return s;
  }
  MEMORY_BASIC_INFORMATION info;
  if (VirtualQuery(view, &info, sizeof info) == 0 ||
      info.RegionSize < min_size) {
    UnmapViewOfFile(view);
    CloseHandle(mapping);
    return absl::InvalidArgumentError("mp: handle is not shared memory");
  }
  return SharedMapping{mapping, view, info.RegionSize};
}

}  // namespace

absl::StatusOr<SharedMapping> CreateSharedMapping(uint64_t size) {
  HANDLE mapping = CreateFileMappingW(
      INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE,
      static_cast<DWORD>(size >> 32), static_cast<DWORD>(size), nullptr);
  if (mapping == nullptr) return OsError("CreateFileMappingW");
  return MapWhole(mapping, size);
}

absl::StatusOr<SharedMapping> MapReceived(HANDLE mapping, size_t min_size) {
  return MapWhole(mapping, min_size);
}

void Unmap(const SharedMapping& m) {
  UnmapViewOfFile(m.data);
  CloseHandle(m.mapping);
}

std::wstring RandomName(const wchar_t* prefix, const wchar_t* suffix) {
  unsigned char bytes[16];
  BCryptGenRandom(nullptr, bytes, sizeof bytes,
                  BCRYPT_USE_SYSTEM_PREFERRED_RNG);
  std::wstring name = prefix;
  const wchar_t* hex = L"0123456789abcdef";
  for (unsigned char b : bytes) {
    name += hex[b >> 4];
    name += hex[b & 15];
  }
  return name + suffix;
}

}  // namespace os
}  // namespace mp
