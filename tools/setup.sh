#!/usr/bin/env bash
# Installs everything mp's build and tests need on a fresh Debian 12 machine,
# from Debian's packages only. Run as root. Idempotent: when everything is
# already there it only checks, and takes a second or two.
#
#   sudo tools/setup.sh              # install
#   sudo tools/setup.sh --check      # report what is missing, change nothing
set -euo pipefail

ABSEIL_VERSION=20220623.1
ABSEIL_DIR=${MP_ABSEIL_SRC:-/usr/local/src/abseil-cpp-${ABSEIL_VERSION}}
BENCHMARK_VERSION=1.7.1
BENCHMARK_DIR=${MP_BENCHMARK_SRC:-/usr/local/src/benchmark-${BENCHMARK_VERSION}}

PACKAGES=(
  bazel-bootstrap               # Bazel 4.2.3 (WORKSPACE mode, offline)
  bazel-platforms               # @platforms with every constraint Abseil uses
  bazel-skylib                  # @bazel_skylib (Abseil's BUILD files load it)
  g++                           # the Linux toolchain
  googletest                    # /usr/src/googletest, built from source
  libbenchmark-dev              # Google Benchmark (Linux benchmarks)
  libboost-dev                  # Boost.Interprocess: the benchmarks' C++ peer row
  g++-mingw-w64-x86-64-posix    # the Win32 cross toolchain, posix threads
  wine64                        # runs the Win32 tests
  dpkg-dev                      # dpkg-source, for Abseil's source package
  python3                       # benchmarks' Python baselines
  clang-14                      # fuzz targets (tools/fuzz/run.sh)
  libclang-rt-14-dev            # libFuzzer and the sanitizer runtimes for clang
  cmake                         # the CMake build (CMakeLists.txt) and its consumers
  make                          # CMake's generator; the pkg-config consumer's Makefile
  pkg-config                    # mp.pc and the Abseil modules it names
  libabsl-dev                   # Abseil 20220623 as a CMake/pkg-config package (MP_ABSL_PROVIDER=package)
  openmpi-bin                   # mpirun: the MPI Pool's tests and benchmarks (//:mp_mpi)
  libopenmpi-dev                # Open MPI's headers and libmpi, for //:mp_mpi
)

say() { printf 'setup: %s\n' "$*"; }

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
      printf '%s\n' "$p"
  done
}

abseil_ready() { [ -f "$ABSEIL_DIR/absl/base/config.h" ] && [ -f "$ABSEIL_DIR/BUILD.bazel" ]; }
benchmark_ready() { [ -f "$BENCHMARK_DIR/include/benchmark/benchmark.h" ]; }

if [ "${1:-}" = "--check" ]; then
  rc=0
  m=$(missing_packages)
  [ -z "$m" ] || { say "missing packages:" $m; rc=1; }
  abseil_ready || { say "missing Abseil source at $ABSEIL_DIR"; rc=1; }
  benchmark_ready || { say "missing Google Benchmark source at $BENCHMARK_DIR"; rc=1; }
  [ $rc = 0 ] && say "everything is installed"
  exit $rc
fi

if [ "$(id -u)" != 0 ]; then
  echo "setup: run as root (sudo $0)" >&2
  exit 1
fi

m=$(missing_packages)
if [ -n "$m" ]; then
  say "installing:" $m
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $m >/dev/null
fi

# Sources that are built in-tree, for Linux and Win32 alike:
#  - Abseil: Debian ships no mingw build of it, and the system libabsl must
#    never meet a source-built Abseil in one binary (different inline
#    namespaces), so one Abseil is built from Debian's source package.
#  - Google Benchmark: the Win32 benchmarks need a mingw build of it
#    (Linux uses Debian's libbenchmark-dev).
# apt-get source needs a deb-src entry; a private apt configuration adds it
# for the same archive the machine already uses, without touching /etc.
work=""
apt_private=()
prepare_apt_source() {
  [ -n "$work" ] && return 0
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/parts" "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
  shopt -s nullglob
  local n=0 f
  for f in /etc/apt/sources.list.d/*.sources; do
    sed -E 's/^Types:.*/Types: deb-src/' "$f" >"$work/parts/src$((n++)).sources"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -nE 's/^deb[[:space:]]/deb-src /p' "$f" >"$work/parts/src$((n++)).list"
  done
  shopt -u nullglob
  apt_private=(
    -o Dir::Etc::SourceList=/dev/null
    -o Dir::Etc::SourceParts="$work/parts"
    -o Dir::State::Lists="$work/lists"
    -o Dir::Cache="$work/cache"
    -o APT::Sandbox::User=root
  )
  apt-get "${apt_private[@]}" update -qq
}

# fetch_source PACKAGE VERSION DEST: Debian's source package PACKAGE at
# upstream VERSION, unpacked to DEST without its debian/ folder.
fetch_source() {
  local package=$1 upstream=$2 dest=$3 version
  say "fetching ${package} ${upstream} source (Debian source package '${package}')"
  prepare_apt_source
  version=$(apt-cache "${apt_private[@]}" showsrc "$package" |
    sed -n 's/^Version: //p' | grep "^${upstream}-" | sort -V | tail -1)
  [ -n "$version" ] || { echo "setup: no ${package} ${upstream} source package found" >&2; exit 1; }
  rm -rf "$work/src" && mkdir -p "$work/src"
  (cd "$work/src" && apt-get "${apt_private[@]}" source -qq "${package}=${version}" >/dev/null)
  mkdir -p "$(dirname "$dest")"
  rm -rf "$dest.tmp"
  mv "$work/src/${package}-${upstream}" "$dest.tmp"
  rm -rf "$dest.tmp/debian"
  chmod -R a+rX "$dest.tmp"
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
  say "${package} source in $dest"
}

abseil_ready || fetch_source abseil "$ABSEIL_VERSION" "$ABSEIL_DIR"
benchmark_ready || fetch_source benchmark "$BENCHMARK_VERSION" "$BENCHMARK_DIR"

# field NAME VERSION: "NAME VERSION", or "NAME: not found" when VERSION is
# empty.
field() {
  if [ -n "$2" ]; then printf '%s %s' "$1" "$2"; else printf '%s: not found' "$1"; fi
}

# The versions installed. Wine is looked up as tools/wine/run.sh does it:
# Debian installs it off PATH, as /usr/lib/wine/wine64.
bazel_version=$(dpkg-query -W -f='${Version}' bazel-bootstrap 2>/dev/null || true)
mingw_version=$(x86_64-w64-mingw32-g++-posix -dumpversion 2>/dev/null || true)
wine=/usr/lib/wine/wine64
[ -x "$wine" ] || wine=$(command -v wine64 || command -v wine || true)
wine_version=$([ -z "$wine" ] || "$wine" --version 2>/dev/null || true)

say "ready: $(field bazel "$bazel_version"), $(field mingw-w64 "$mingw_version"), $(field wine "${wine_version#wine-}"), Abseil ${ABSEIL_VERSION}, Google Benchmark ${BENCHMARK_VERSION} source"
