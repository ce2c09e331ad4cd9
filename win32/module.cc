// Copyright 2026 The mp Authors.
//
// CodeRefs on Win32 (PE): a module is an HMODULE — the main program (name
// "") or a DLL by its full path — and an offset is taken from its base. The
// mirror of posix/module.cc.

// <windows.h> first: the other Win32 headers need it.
// clang-format off
#include <windows.h>
#include <psapi.h>
// clang-format on

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mp/internal/os.h"
#include "win32/util.h"

namespace mp {
namespace os {
namespace {

// True when `offset` from the module's base lies in an executable section.
bool InCode(HMODULE module, uint64_t offset) {
  const auto* base = reinterpret_cast<const unsigned char*>(module);
  const auto* dos = reinterpret_cast<const IMAGE_DOS_HEADER*>(base);
  if (dos->e_magic != IMAGE_DOS_SIGNATURE) return false;
  const auto* nt =
      reinterpret_cast<const IMAGE_NT_HEADERS*>(base + dos->e_lfanew);
  if (nt->Signature != IMAGE_NT_SIGNATURE) return false;
  const IMAGE_SECTION_HEADER* section = IMAGE_FIRST_SECTION(nt);
  for (WORD i = 0; i < nt->FileHeader.NumberOfSections; ++i, ++section) {
    if ((section->Characteristics & IMAGE_SCN_MEM_EXECUTE) == 0) continue;
    const uint64_t begin = section->VirtualAddress;
    if (offset >= begin && offset - begin < section->Misc.VirtualSize) {
      return true;
    }
  }
  return false;
}

std::string ModulePath(HMODULE module) {
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    const DWORD n =
        GetModuleFileNameW(module, &path[0], static_cast<DWORD>(path.size()));
    if (n == 0) return std::string();
    if (n < path.size()) {
      path.resize(n);
      return Narrow(path);
    }
    path.resize(path.size() * 2);
  }
}

// The modules loaded when the program started: the main program and the
// DLLs of its import table (all loaded before any static initialiser runs).
const std::set<HMODULE>& StartupModules() {
  static const std::set<HMODULE>* modules = [] {
    auto* set = new std::set<HMODULE>;
    std::vector<HMODULE> list(256);
    DWORD needed = 0;
    for (;;) {
      if (!K32EnumProcessModules(
              GetCurrentProcess(), list.data(),
              static_cast<DWORD>(list.size() * sizeof(HMODULE)), &needed)) {
        break;
      }
      if (needed <= list.size() * sizeof(HMODULE)) {
        list.resize(needed / sizeof(HMODULE));
        set->insert(list.begin(), list.end());
        break;
      }
      list.resize(needed / sizeof(HMODULE));
    }
    set->insert(GetModuleHandleW(nullptr));
    return set;
  }();
  return *modules;
}
// Take the snapshot during static initialisation, before LoadLibrary.
const bool g_startup_modules_taken = (StartupModules(), true);

}  // namespace

absl::StatusOr<internal::CodeRef> MakeCodeRef(const void* address) {
  HMODULE module = nullptr;
  if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                              GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                          static_cast<LPCWSTR>(address), &module) ||
      module == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mp: target ", absl::Hex(reinterpret_cast<uintptr_t>(address)),
        " is not code of a loaded module, so a spawned child cannot find it"));
  }
  const uint64_t offset = reinterpret_cast<uintptr_t>(address) -
                          reinterpret_cast<uintptr_t>(module);
  if (!InCode(module, offset)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mp: target ", absl::Hex(reinterpret_cast<uintptr_t>(address)),
        " is not code of a loaded module, so a spawned child cannot find it"));
  }
  if (StartupModules().count(module) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mp: target ", absl::Hex(reinterpret_cast<uintptr_t>(address)),
        " is in ", ModulePath(module),
        ", which was loaded after the program started (LoadLibrary?); a "
        "spawned child would not have it, so it is refused"));
  }
  const bool main_program = module == GetModuleHandleW(nullptr);
  return internal::CodeRef{main_program ? std::string() : ModulePath(module),
                           offset};
}

absl::StatusOr<const void*> ResolveCodeRef(const internal::CodeRef& ref) {
  HMODULE module = ref.module.empty()
                       ? GetModuleHandleW(nullptr)
                       : GetModuleHandleW(Widen(ref.module).c_str());
  const std::string where =
      ref.module.empty() ? std::string("the main program") : ref.module;
  if (module == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "mp: target module ", where,
        " is not loaded in the spawned child (loaded at run time by the "
        "parent?)"));
  }
  if (!InCode(module, ref.offset)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mp: target offset ", absl::Hex(ref.offset), " is not code in ", where,
        "; is the child the same binary as the parent?"));
  }
  return reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(module) +
                                       ref.offset);
}

}  // namespace os
}  // namespace mp
