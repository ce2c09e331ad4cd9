#!/usr/bin/env python3
"""One mp, two build systems: fails when a source file is in one build and
not the other.

The Bazel build's files are what `bazel query` finds under //:mp,
//:mp_threads, //:mp_mpi and //tests/conformance (every backend, since a
query takes every branch of a select()); the CMake build's are the lists of
cmake/sources.cmake (`cmake -P cmake/sources.cmake` prints them; the MPI
pool's list, MP_MPI_SRCS, is named there but built by Bazel alone). Files on
disk in the folders those builds cover that neither names are reported too.
Each problem is one line naming the file, the build that has it, the build
that lacks it and where to add it. Run from anywhere inside the tree:

    tools/check_build_parity.py

Exit status: 0 when both builds name the same files, 1 when they differ, 2
when a build could not be read.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BAZEL_ROOTS = "//:mp + //:mp_threads + //:mp_mpi + //tests/conformance:all"
# The folders (and files) the two builds share.
COVERED = ["api", "posix", "win32", "platform/threads", "mpi",
           "tests/conformance", "tests/mp_test_main.cc"]
SOURCE_EXTENSIONS = (".cc", ".h")


def cmake_files():
    """{path: list name} from cmake/sources.cmake."""
    run = subprocess.run(["cmake", "-P", "cmake/sources.cmake"], cwd=ROOT,
                         capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit("check_build_parity: cmake -P cmake/sources.cmake failed:\n" +
                 run.stderr)
    files = {}
    for line in (run.stderr + run.stdout).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("MP_"):
            files[parts[1]] = parts[0]
    return files


def bazel(*args):
    run = subprocess.run(["bazel", "query", "--noshow_progress"] + list(args),
                         cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        print("check_build_parity: bazel query failed:\n" + run.stderr,
              file=sys.stderr)
        sys.exit(2)
    return run.stdout.split()


def label_to_path(label):
    package, _, name = label[2:].partition(":")
    return f"{package}/{name}" if package else name


def bazel_files():
    labels = bazel(f'kind("source file", deps({BAZEL_ROOTS}))')
    return {label_to_path(l) for l in labels
            if l.startswith("//") and l.endswith(SOURCE_EXTENSIONS)}


def bazel_owners(path):
    """The rules of the Bazel build that name `path`."""
    # A path names its file whatever package owns it (//api:internal/x.h).
    rules = bazel(f"rdeps({BAZEL_ROOTS}, {path}, 1) except {path}")
    return ", ".join(rules) or "?"


def disk_files():
    found = set()
    for entry in COVERED:
        full = os.path.join(ROOT, entry)
        if os.path.isfile(full):
            found.add(entry)
            continue
        for folder, _, names in os.walk(full):
            for name in names:
                if name.endswith(SOURCE_EXTENSIONS):
                    found.add(os.path.relpath(os.path.join(folder, name), ROOT))
    return found


def cmake_list_for(path):
    """The list of cmake/sources.cmake a file at `path` belongs in."""
    if path == "api/internal/one_backend.cc":
        return "MP_ONE_BACKEND_SRCS"
    if path == "api/mpi_pool.h" or path.startswith("mpi/"):
        return "MP_MPI_SRCS"
    if path.startswith("api/"):
        return "MP_HDRS" if path.endswith(".h") else "MP_COMMON_SRCS"
    if path.startswith("posix/linux"):
        return "MP_LINUX_SRCS"
    for prefix, name in [("posix/", "MP_POSIX_SRCS"),
                         ("win32/", "MP_WIN32_SRCS"),
                         ("platform/threads/", "MP_THREADS_SRCS"),
                         ("tests/conformance/", "MP_CONFORMANCE_SRCS"),
                         ("tests/", "MP_TEST_MAIN_SRCS")]:
        if path.startswith(prefix):
            return name
    return "the matching list"


def main():
    cmake = cmake_files()
    bazel_set = bazel_files()
    problems = []
    for path in sorted(bazel_set - set(cmake)):
        problems.append(
            f"{path}: in the Bazel build ({bazel_owners(path)}) but not in the "
            f"CMake build: add it to {cmake_list_for(path)} in "
            f"cmake/sources.cmake")
    for path in sorted(set(cmake) - bazel_set):
        where = os.path.dirname(path) or "."
        missing = "" if os.path.exists(os.path.join(ROOT, path)) else \
            " (and it is not on disk)"
        problems.append(
            f"{path}: in the CMake build ({cmake[path]} in cmake/sources.cmake)"
            f"{missing} but not in the Bazel build: add it to a rule of "
            f"{where}/BUILD, or remove it from {cmake[path]}")
    for path in sorted(disk_files() - bazel_set - set(cmake)):
        problems.append(
            f"{path}: on disk but in neither build: add it to a rule of "
            f"{os.path.dirname(path)}/BUILD and to {cmake_list_for(path)} in "
            f"cmake/sources.cmake, or delete it")
    for p in problems:
        print("check_build_parity: " + p)
    if problems:
        print(f"check_build_parity: FAILED, {len(problems)} file(s) differ "
              "between the Bazel and the CMake build")
        return 1
    print(f"check_build_parity: ok, both builds name the same {len(bazel_set)} "
          "source files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
