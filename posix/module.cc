// Copyright 2026 The mp Authors.
//
// CodeRefs on POSIX (ELF): a module is what dl_iterate_phdr reports — the
// main program (name "") or a shared object by the path the loader used —
// and an offset is taken from its load bias. The mirror of win32/module.cc.
// ELF only (Linux, FreeBSD); macOS would walk its Mach-O images with dyld's
// _dyld_image_* calls instead.

#include <dlfcn.h>
#include <elf.h>
#include <link.h>

#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "mp/internal/os.h"

namespace mp {
namespace os {
namespace {

struct Search {
  // In: an address to find, or a module name + offset to resolve.
  uintptr_t address = 0;
  const std::string* name = nullptr;
  uint64_t offset = 0;
  // Out.
  bool found_module = false;
  bool in_code = false;
  std::string module;
  uintptr_t bias = 0;
};

// True when `address` lies in an executable PT_LOAD segment of `info`.
bool InCode(const dl_phdr_info* info, uintptr_t address) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (address >= begin && address - begin < ph.p_memsz) return true;
  }
  return false;
}

bool InAnySegment(const dl_phdr_info* info, uintptr_t address) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (address >= begin && address - begin < ph.p_memsz) return true;
  }
  return false;
}

int Visit(dl_phdr_info* info, size_t, void* data) {
  Search& s = *static_cast<Search*>(data);
  const char* name = info->dlpi_name ? info->dlpi_name : "";
  if (s.name != nullptr) {
    if (*s.name != name) return 0;
    s.found_module = true;
    s.bias = info->dlpi_addr;
    s.in_code = InCode(info, info->dlpi_addr + s.offset);
    return 1;
  }
  if (!InAnySegment(info, s.address)) return 0;
  s.found_module = true;
  s.module = name;
  s.bias = info->dlpi_addr;
  s.in_code = InCode(info, s.address);
  return 1;
}

int CollectName(dl_phdr_info* info, size_t, void* data) {
  static_cast<std::set<std::string>*>(data)->insert(
      info->dlpi_name ? info->dlpi_name : "");
  return 0;
}

// The modules loaded when the program started: the main program and every
// shared object it needs (all loaded before any static initialiser runs).
const std::set<std::string>& StartupModules() {
  static const std::set<std::string>* modules = [] {
    auto* names = new std::set<std::string>;
    dl_iterate_phdr(CollectName, names);
    return names;
  }();
  return *modules;
}
// Take the snapshot during static initialisation, before main() can dlopen.
const bool g_startup_modules_taken = (StartupModules(), true);

// "Worker (0x5555...)" where the dynamic symbol table knows the name.
std::string Describe(const void* address) {
  Dl_info info;
  if (dladdr(address, &info) != 0 && info.dli_sname != nullptr) {
    return absl::StrCat(info.dli_sname, " (",
                        absl::Hex(reinterpret_cast<uintptr_t>(address)), ")");
  }
  return absl::StrCat(absl::Hex(reinterpret_cast<uintptr_t>(address)));
}

}  // namespace

absl::StatusOr<internal::CodeRef> MakeCodeRef(const void* address) {
  Search s;
  s.address = reinterpret_cast<uintptr_t>(address);
  dl_iterate_phdr(Visit, &s);
  if (!s.found_module || !s.in_code) {
    return absl::InvalidArgumentError(
        absl::StrCat("mp: target ", Describe(address),
                     " is not code of a loaded module, so a spawned child "
                     "cannot find it"));
  }
  if (StartupModules().count(s.module) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mp: target ", Describe(address), " is in ", s.module,
        ", which was loaded after the program started (dlopen?); a spawned "
        "child would not have it, so it is refused for every start method"));
  }
  return internal::CodeRef{s.module, s.address - s.bias};
}

absl::StatusOr<const void*> ResolveCodeRef(const internal::CodeRef& ref) {
  Search s;
  s.name = &ref.module;
  s.offset = ref.offset;
  dl_iterate_phdr(Visit, &s);
  const std::string where =
      ref.module.empty() ? std::string("the main program") : ref.module;
  if (!s.found_module) {
    return absl::NotFoundError(absl::StrCat(
        "mp: target module ", where,
        " is not loaded in the spawned child (loaded at run time by the "
        "parent?)"));
  }
  if (!s.in_code) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mp: target offset ", absl::Hex(ref.offset), " is not code in ", where,
        "; is the child the same binary as the parent?"));
  }
  return reinterpret_cast<const void*>(s.bias + ref.offset);
}

}  // namespace os
}  // namespace mp
