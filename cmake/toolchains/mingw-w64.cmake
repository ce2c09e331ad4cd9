# Cross-building mp for Windows x86-64 with Debian's mingw-w64 (posix thread
# model, g++-mingw-w64-x86-64-posix), as the Bazel build's toolchain
# (platform/mingw) does, and running what it builds under Wine:
#
#   cmake -S . -B build-win32 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64.cmake
#   cmake --build build-win32 -j2 && ctest --test-dir build-win32 -L win32
#
# Abseil comes from its source tree (MP_ABSL_PROVIDER defaults to module
# when cross-compiling: Debian ships no mingw-w64 build of it).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(MP_MINGW_PREFIX x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${MP_MINGW_PREFIX}-gcc-posix)
set(CMAKE_CXX_COMPILER ${MP_MINGW_PREFIX}-g++-posix)
set(CMAKE_RC_COMPILER ${MP_MINGW_PREFIX}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${MP_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The flags of platform/mingw/toolchain_config.bzl: Windows 10's API,
# wide-character Win32 calls, and fully static executables (no mingw DLLs
# next to the .exe, which keeps Wine runs hermetic).
set(CMAKE_C_FLAGS_INIT "-D_WIN32_WINNT=0x0A00 -DUNICODE -D_UNICODE")
set(CMAKE_CXX_FLAGS_INIT "-D_WIN32_WINNT=0x0A00 -DUNICODE -D_UNICODE")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# ctest runs the .exe files through the Wine runner the Bazel tests use.
set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_CURRENT_LIST_DIR}/../../tools/wine/run.sh)
