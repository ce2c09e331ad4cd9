#!/usr/bin/env bash
# Proves that projects outside mp can build against it (README.md, "Using mp
# from your build", shows the same commands): builds mp with CMake, runs its
# conformance suite under ctest (labels $MP_CTEST_LABELS, default
# "spawn|forkserver|threads", the backends that re-execute the binary or
# link another backend: Bazel's `bazel test //...` runs every backend
# already),
# installs it into a prefix, then builds and runs each consumer project:
#
#   cmake_conformance   CMake build of mp, cmake --install, ctest
#   cmake_subdirectory  CMake add_subdirectory(mp)
#   cmake_fetchcontent  CMake FetchContent from mp's local path
#   cmake_find_package  CMake find_package(mp) against the install prefix
#   pkg_config          a Makefile with `pkg-config --cflags --libs mp`
#   bazel               Bazel local_repository + mp_dependencies()
#
# Prints one line per item, "<item>: passed" or "<item>: FAILED" (followed by
# the end of its log), and exits non-zero if any failed. Everything is built
# in one temporary folder, removed at the end (Bazel's output base included).
#   tests/consumers/run.sh [ITEM...]    (default: all, in the order above)
set -uo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d "${TMPDIR:-/tmp}/mp-consumers.XXXXXX")
cleanup() {
  if [ -d "$work/bazel-output" ]; then
    bazel --output_base="$work/bazel-output" shutdown >/dev/null 2>&1 || true
  fi
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

jobs=${MP_CMAKE_JOBS:-2}
labels=${MP_CTEST_LABELS:-spawn|forkserver|threads}
prefix=$work/prefix

# Installs before it tests, so that the items that use the install prefix
# stand or fall on their own.
cmake_conformance() {
  cmake -S . -B "$work/mp" &&
    cmake --build "$work/mp" -j"$jobs" &&
    cmake --install "$work/mp" --prefix "$prefix" &&
    ctest --test-dir "$work/mp" -j"$jobs" -L "$labels" --output-on-failure
}

cmake_subdirectory() {
  cmake -S tests/consumers/cmake_subdirectory -B "$work/sub" &&
    cmake --build "$work/sub" -j"$jobs" &&
    "$work/sub/consumer"
}

cmake_fetchcontent() {
  cmake -S tests/consumers/cmake_subdirectory -B "$work/fetch" \
    -DMP_CONSUMER_FETCHCONTENT=ON &&
    cmake --build "$work/fetch" -j"$jobs" &&
    "$work/fetch/consumer"
}

cmake_find_package() {
  cmake -S tests/consumers/cmake_find_package -B "$work/find" \
    -DCMAKE_PREFIX_PATH="$prefix" &&
    cmake --build "$work/find" -j"$jobs" &&
    "$work/find/consumer"
}

pkg_config() {
  mkdir -p "$work/pc" &&
    PKG_CONFIG_PATH="$prefix/lib/pkgconfig" \
      make -C tests/consumers/pkg_config OUT="$work/pc" &&
    "$work/pc/consumer"
}

bazel_consumer() {
  # --symlink_prefix=/: no bazel-* links in the tree.
  (cd tests/consumers/bazel &&
    bazel --output_base="$work/bazel-output" run --symlink_prefix=/ \
      --jobs="$jobs" //:consumer)
  local rc=$?
  bazel --output_base="$work/bazel-output" shutdown >/dev/null 2>&1 || true
  return $rc
}

items=("$@")
[ ${#items[@]} -gt 0 ] || items=(cmake_conformance cmake_subdirectory
  cmake_fetchcontent cmake_find_package pkg_config bazel)
failed=0
for item in "${items[@]}"; do
  fn=$item
  [ "$item" = bazel ] && fn=bazel_consumer
  if ! declare -F "$fn" >/dev/null; then
    echo "run.sh: no item $item" >&2
    exit 2
  fi
  start=$SECONDS
  if "$fn" >"$work/$item.log" 2>&1; then
    echo "$item: passed ($((SECONDS - start)) s)"
  else
    echo "$item: FAILED ($((SECONDS - start)) s)"
    tail -40 "$work/$item.log"
    failed=1
  fi
done
exit $failed
