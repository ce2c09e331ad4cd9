# Every source file of mp's CMake build, by list. The Bazel build names the
# same files in its BUILD files; tools/check_build_parity.py fails CI when a
# file is in one build and not the other, so a file added to a BUILD file is
# added here too (the check names the list).
#
# Paths are relative to the repository's root. Included by CMakeLists.txt;
# run on its own (`cmake -P cmake/sources.cmake`) it prints one line per
# file, "<list> <path>", which is how the check reads it.

# The public headers, installed and included as "mp/<path below api/>"
# (Bazel: include_prefix = "mp" in api/BUILD). mp/internal/*.h are
# included by the public headers and so are installed too.
set(MP_HDRS
  api/codec.h
  api/init.h
  api/internal/children.h
  api/internal/deadline.h
  api/internal/framing.h
  api/internal/hooks.h
  api/internal/os.h
  api/internal/pool_impl.h
  api/internal/ring.h
  api/internal/spawn.h
  api/internal/start_method.h
  api/internal/stream.h
  api/internal/sync_state.h
  api/internal/target.h
  api/internal/task.h
  api/pipe.h
  api/pool.h
  api/process.h
  api/queue.h
  api/shared_memory.h
  api/status.h
  api/stdio.h
  api/sync.h
)

# The platform-independent code (//api:codec, :status, :core, and the
# sources of :api and :api_threads), the same in every backend.
set(MP_COMMON_SRCS
  api/codec.cc
  api/init.cc
  api/internal/children.cc
  api/internal/deadline.cc
  api/internal/framing.cc
  api/internal/launch.cc
  api/internal/ring.cc
  api/internal/run_target.cc
  api/internal/spawn.cc
  api/internal/start_method.cc
  api/pipe.cc
  api/pool.cc
  api/process.cc
  api/queue.cc
  api/shared_memory.cc
  api/status.cc
  api/stdio.cc
  api/sync.cc
)

# Compiled into each backend's library, so that a program that links two
# backends fails to link (//posix:one_backend and its peers).
set(MP_ONE_BACKEND_SRCS
  api/internal/one_backend.cc
)

# The POSIX backend (//posix:backend and //posix:util).
set(MP_POSIX_SRCS
  posix/channel.cc
  posix/channel.h
  posix/forkserver.cc
  posix/forkserver.h
  posix/memory.cc
  posix/module.cc
  posix/process.cc
  posix/stdio.cc
  posix/sync.cc
  posix/util.cc
  posix/util.h
)

# What only Linux has, behind posix/linux.h (//posix:linux).
set(MP_LINUX_SRCS
  posix/linux.h
  posix/linux_futex.cc
  posix/linux_memfd.cc
  posix/linux_mutex.cc
  posix/linux_pidfd.cc
  posix/linux_process.cc
)

# The Win32 backend (//win32:backend).
set(MP_WIN32_SRCS
  win32/channel.cc
  win32/memory.cc
  win32/module.cc
  win32/process.cc
  win32/stdio.cc
  win32/sync.cc
  win32/util.cc
  win32/util.h
)

# The threads backend (//platform/threads:backend).
set(MP_THREADS_SRCS
  platform/threads/channel.cc
  platform/threads/memory.cc
  platform/threads/module.cc
  platform/threads/objects.cc
  platform/threads/objects.h
  platform/threads/process.cc
  platform/threads/stdio.cc
  platform/threads/sync.cc
)

# The MPI pool (//:mp_mpi: //mpi and its public header), with Open MPI.
# Bazel builds it; this CMake build lists it for the parity check but does
# not build it (no MP_MPI target yet).
set(MP_MPI_SRCS
  api/mpi_pool.h
  mpi/fault.cc
  mpi/fault.h
  mpi/pool.cc
  mpi/pools.h
  mpi/relay.cc
  mpi/runtime.cc
  mpi/runtime.h
  mpi/wire.h
)

# main() of the test binaries (//tests:mp_test_main).
set(MP_TEST_MAIN_SRCS
  tests/mp_test_main.cc
)

# The conformance suite (//tests/conformance:posix, :threads, :win32_bin).
set(MP_CONFORMANCE_SRCS
  tests/conformance/backends.h
  tests/conformance/handles_test.cc
  tests/conformance/helpers.cc
  tests/conformance/helpers.h
  tests/conformance/hostile_peer_test.cc
  tests/conformance/pipe_test.cc
  tests/conformance/pool_test.cc
  tests/conformance/process_test.cc
  tests/conformance/queue_test.cc
  tests/conformance/shared_memory_test.cc
  tests/conformance/signal_storm_test.cc
  tests/conformance/start_test.cc
  tests/conformance/stdio_test.cc
  tests/conformance/stray_test.cc
  tests/conformance/sync_test.cc
)

set(MP_SOURCE_LISTS
  MP_HDRS MP_COMMON_SRCS MP_ONE_BACKEND_SRCS MP_POSIX_SRCS MP_LINUX_SRCS
  MP_WIN32_SRCS MP_THREADS_SRCS MP_MPI_SRCS MP_TEST_MAIN_SRCS
  MP_CONFORMANCE_SRCS)

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  foreach(list IN LISTS MP_SOURCE_LISTS)
    foreach(file IN LISTS ${list})
      message(NOTICE "${list} ${file}")
    endforeach()
  endforeach()
endif()
