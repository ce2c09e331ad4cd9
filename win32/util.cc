// Copyright 2026 The mp Authors.

#include "win32/util.h"

// <windows.h> first: the other Win32 headers need it.
// clang-format off
#include <windows.h>
#include <bcrypt.h>
#include <sddl.h>
// clang-format on

#include <vector>

#include "absl/strings/str_cat.h"

namespace mp {
namespace os {

absl::StatusOr<PSECURITY_DESCRIPTOR> CurrentUserOnly() {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
    return OsError("OpenProcessToken");
  }
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::vector<char> buffer(size);
  if (!GetTokenInformation(token, TokenUser, buffer.data(), size, &size)) {
    CloseHandle(token);
    return OsError("GetTokenInformation");
  }
  CloseHandle(token);
  wchar_t* sid = nullptr;
  if (!ConvertSidToStringSidW(
          reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &sid)) {
    return OsError("ConvertSidToStringSidW");
  }
  const std::wstring sddl = std::wstring(L"D:P(A;;GA;;;") + sid + L")";
  LocalFree(sid);
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
          sddl.c_str(), SDDL_REVISION_1, &sd, nullptr)) {
    return OsError("ConvertStringSecurityDescriptorToSecurityDescriptorW");
  }
  return sd;
}

namespace {

absl::StatusCode StatusCodeOf(DWORD err) {
  // Each error with the code absl::ErrnoToStatusCode gives the errno of the
  // same meaning, so that a caller sees one code on every backend.
  switch (err) {
    case ERROR_FILE_NOT_FOUND:  // ENOENT
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_MOD_NOT_FOUND:
    case ERROR_PROC_NOT_FOUND:
      return absl::StatusCode::kNotFound;
    case ERROR_ACCESS_DENIED:  // EACCES, EPERM
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_PRIVILEGE_NOT_HELD:
      return absl::StatusCode::kPermissionDenied;
    case ERROR_NOT_ENOUGH_MEMORY:  // ENOMEM, EMFILE, ENOSPC, EDQUOT
    case ERROR_OUTOFMEMORY:
    case ERROR_NO_SYSTEM_RESOURCES:
    case ERROR_TOO_MANY_OPEN_FILES:
    case ERROR_COMMITMENT_LIMIT:
    case ERROR_NOT_ENOUGH_QUOTA:
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      return absl::StatusCode::kResourceExhausted;
    case ERROR_INVALID_PARAMETER:  // EINVAL, ENOEXEC, ENAMETOOLONG
    case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME:
    case ERROR_FILENAME_EXCED_RANGE:
    case ERROR_INVALID_FUNCTION:
    case ERROR_BAD_EXE_FORMAT:
      return absl::StatusCode::kInvalidArgument;
    case ERROR_ALREADY_EXISTS:  // EEXIST
    case ERROR_FILE_EXISTS:
      return absl::StatusCode::kAlreadyExists;
    case ERROR_INVALID_HANDLE:  // EBADF, EPIPE, ENOTDIR, ENOTCONN
    case ERROR_BROKEN_PIPE:
    case ERROR_NO_DATA:
    case ERROR_PIPE_NOT_CONNECTED:
    case ERROR_DIRECTORY:
      return absl::StatusCode::kFailedPrecondition;
    case ERROR_TIMEOUT:  // ETIMEDOUT
    case ERROR_SEM_TIMEOUT:
    case WAIT_TIMEOUT:
      return absl::StatusCode::kDeadlineExceeded;
    case ERROR_OPERATION_ABORTED:  // ECANCELED
      return absl::StatusCode::kCancelled;
    case ERROR_BUSY:  // EBUSY, EAGAIN
    case ERROR_PIPE_BUSY:
      return absl::StatusCode::kUnavailable;
    case ERROR_NOT_SUPPORTED:  // ENOSYS, ENOTSUP
    case ERROR_CALL_NOT_IMPLEMENTED:
      return absl::StatusCode::kUnimplemented;
    case ERROR_ARITHMETIC_OVERFLOW:  // ERANGE
      return absl::StatusCode::kOutOfRange;
    default:
      return absl::StatusCode::kUnknown;
  }
}

}  // namespace

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
  const absl::StatusCode code = StatusCodeOf(err);
  return absl::Status(code,
                      absl::StrCat(what, ": ", message, " (error ", err, ")"));
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
