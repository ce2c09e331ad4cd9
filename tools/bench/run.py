#!/usr/bin/env python3
"""Runs mp's benchmarks and Python's in one go and prints one table.

    python3 tools/bench/run.py            # from the repository root
    python3 tools/bench/run.py --reps 7   # more repetitions (default 5)
    python3 tools/bench/run.py --quick    # 2 short repetitions, noisier
    python3 tools/bench/run.py --no-win32 # skip the Win32 rows (Wine)

The Win32 rows build //tools/bench:win32_bench with mingw-w64 and run it
under Wine (tools/wine/run.sh): mp's Win32 backend against raw CreateProcessW,
a raw named pipe and a raw event, in the same binary.

The MPI rows build //tools/bench:mpi_bench (the Pool on MPI, //:mp_mpi) and
run it under mpirun with 3 ranks (2 worker ranks, one worker each), once
over shared memory and once over TCP on the loopback interface; their
mp/raw column is the MPI pool's cost over the local Pool's for the same
workload (mp_bench, same repetition). --no-mpi skips them.

Each repetition is one pass of mp_bench (its benchmarks in a new random
order each time, mp's beside their raw twins), then Python's workloads, then
the Win32 benchmarks, so that a drift of the machine hits mp, its raw
baseline and Python alike. A ratio is taken within each repetition; the
table shows its median and, in brackets, its spread (min-max over the
repetitions). A target counts as met only if the whole spread meets it.

Columns: mp's figure (the median); mp/raw, mp's cost over the raw OS call's
for the same work (1.00 = no overhead; lower is better); Python/mp,
Python's cost over mp's (higher means mp is faster); the target from the
issue, and whether it is met. Costs are seconds per operation, per byte or
per item, measured in this run on this machine: compare ratios, not
absolute times.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# (row, benchmark, raw benchmark(s) or None, python key or None, unit, target)
# Several raw benchmarks: the fastest is the baseline. target: ("mp/raw",
# max) or ("python/mp", min), or ("items/s", min) for a row of items whose
# target is a rate of its own (no raw or Python figure beside it), or None.
# A raw benchmark "<name>#mp_over_raw" is a ratio the benchmark measured
# itself (BM_ForkStartJoinPaired: mp and raw taking turns start by start,
# the finest interleaving there is); "<name>#mp" is its mp figure.
ROWS = [
    ("fork start+join", "BM_ForkStartJoinPaired#mp",
     "BM_ForkStartJoinPaired#mp_over_raw", "fork_start_join", "op",
     ("mp/raw", 1.25)),
    ("spawn start+join", "BM_MpSpawnStartJoin", "BM_RawPosixSpawnSelf",
     "spawn_start_join", "op", ("mp/raw", 1.5)),
    # Against mp's own fork start+join (not a raw call): forkserver's cost
    # over fork's, the target Python's forkserver sets itself.
    ("forkserver start+join (mp/raw: vs mp fork)", "BM_MpForkserverStartJoin",
     "BM_MpForkStartJoin", "forkserver_start_join", "op", ("mp/raw", 2.0)),
    ("thread create+join", "BM_ThreadCreateJoin", None,
     "thread_create_join", "op", None),
    ("Pipe round trip, 8 B", "BM_MpPipeRtt8", "BM_RawSocketpairRtt8",
     "pipe_rtt_8", "op", ("mp/raw", 1.3)),
    ("Pipe one-way, 64 KiB", "BM_MpPipeOneWay/65536",
     ("BM_RawSocketpairOneWay/65536", "BM_RawBigSocketpairOneWay/65536",
      "BM_RawBigPipeOneWay/65536"), "pipe_oneway_65536", "byte", None),
    ("Pipe one-way, 1 MiB", "BM_MpPipeOneWay/1048576",
     ("BM_RawSocketpairOneWay/1048576", "BM_RawBigSocketpairOneWay/1048576",
      "BM_RawBigPipeOneWay/1048576"), "pipe_oneway_1048576", "byte",
     ("mp/raw", 1.25)),
    ("Queue 1 producer/1 consumer", "BM_MpQueue/1", None, "queue_1p1c",
     "item", ("python/mp", 20.0)),
    ("Queue 4 producers/1 consumer", "BM_MpQueue/4", None, "queue_4p1c",
     "item", None),
    ("peer: Boost.Interprocess message_queue 1P/1C", "BM_BoostMessageQueue/1",
     None, None, "item", None),
    ("peer: Boost.Interprocess message_queue 4P/1C", "BM_BoostMessageQueue/4",
     None, None, "item", None),
    # Every core busy with a nice-19 spinner (mp_bench's Hog): a side that
    # spins while its peer has no core to run on shows here.
    ("Queue 1P/1C, every core busy", "BM_MpQueueHogged", None, None, "item",
     None),
    ("peer: Boost message_queue 1P/1C, every core busy",
     "BM_BoostMessageQueueHogged", None, None, "item", None),
    ("Lock uncontended", "BM_MpLockUncontended",
     "BM_RawRobustMutexUncontended", "lock_uncontended", "op",
     ("mp/raw", 1.5)),
    ("Lock contended (2 processes)", "BM_MpLockContended",
     "BM_RawRobustMutexContended", "lock_contended", "item", ("mp/raw", 2.0)),
    ("Lock contended (2 processes), every core busy",
     "BM_MpLockContendedHogged", "BM_RawRobustMutexContendedHogged", None,
     "item", None),
    # Pool: 2 workers, f(x) = x + 1 (Python: Pool(2), fork).
    ("Pool Submit+Get (vs apply_async+get)", "BM_MpPoolSubmitGet", None,
     "pool_apply_async", "item", ("python/mp", 20.0)),
    ("Pool Submit+Get (vs ProcessPoolExecutor.map)", "BM_MpPoolSubmitGet",
     None, "executor_map", "item", None),
    ("Pool Map, chunksize 1", "BM_MpPoolMap/1/20000", None,
     "pool_map_chunksize_1", "item", ("python/mp", 20.0)),
    ("Pool Map, default chunksize", "BM_MpPoolMap/0/1000000", None,
     "pool_map_default", "item", ("python/mp", 2.0)),
    ("Pool worker death -> replacement serving (fork)",
     "BM_MpPoolWorkerDeath/0", None, None, "op", None),
    ("Pool worker death -> replacement serving (spawn)",
     "BM_MpPoolWorkerDeath/1", None, None, "op", None),
    # A child's fills of a 64 MiB Array, timed in the child: ≥ 0.9x the
    # speed of the same fill of private memory in one process.
    ("Array fill by a child, 64 MiB (memset)", "BM_MpArrayFillByChild/0",
     "BM_RawFill/0", "array_fill_child", "byte", ("mp/raw", 1.11)),
    ("Array fill by a child, 64 MiB (memcpy)", "BM_MpArrayFillByChild/1",
     "BM_RawFill/1", "array_copy_child", "byte", ("mp/raw", 1.11)),
    # Python has no atomic add: its figure is Value(lock=True) incremented
    # under get_lock().
    ("Value FetchAdd contended (2 processes)", "BM_MpValueFetchAddContended",
     "BM_RawAtomicFetchAddContended", "value_locked_add_contended", "item",
     ("mp/raw", 1.1)),
    ("Pool round trip, one task at a time", "BM_MpPoolRoundTrip", None,
     None, "op", None),
    # The Pool on MPI (mpi_bench under mpirun, 2 worker ranks): mp/raw is
    # its cost over the local Pool's (2 workers) for the same workload.
    ("MPI Pool Submit+Get, shared memory (mp/raw: vs local Pool)",
     "shm:BM_MpiPoolSubmitGet", "BM_MpPoolSubmitGet", "pool_apply_async",
     "item", None),
    ("MPI Pool Submit+Get, TCP loopback (mp/raw: vs local Pool)",
     "tcp:BM_MpiPoolSubmitGet", "BM_MpPoolSubmitGet", "pool_apply_async",
     "item", None),
    ("MPI Pool Map, chunksize 1, shared memory (mp/raw: vs local Pool)",
     "shm:BM_MpiPoolMap/1/20000", "BM_MpPoolMap/1/20000",
     "pool_map_chunksize_1", "item", None),
    ("MPI Pool Map, chunksize 1, TCP loopback (mp/raw: vs local Pool)",
     "tcp:BM_MpiPoolMap/1/20000", "BM_MpPoolMap/1/20000",
     "pool_map_chunksize_1", "item", None),
    ("MPI Pool round trip, shared memory (mp/raw: vs local Pool)",
     "shm:BM_MpiPoolRoundTrip", "BM_MpPoolRoundTrip", None, "op", None),
    ("MPI Pool round trip, TCP loopback (mp/raw: vs local Pool)",
     "tcp:BM_MpiPoolRoundTrip", "BM_MpPoolRoundTrip", None, "op", None),
    # Win32 backend, cross-built and run under Wine (no Python there).
    ("win32 (Wine): spawn start+join", "BM_Win32MpSpawnStartJoin",
     "BM_Win32RawCreateProcess", None, "op", ("mp/raw", 1.5)),
    ("win32 (Wine): Pipe round trip, 8 B", "BM_Win32MpPipeRtt8",
     "BM_Win32RawNamedPipeRtt8", None, "op", ("mp/raw", 1.3)),
    ("win32 (Wine): Lock uncontended", "BM_Win32MpLockUncontended",
     "BM_Win32RawInterlockedLock", None, "op", ("mp/raw", 3.0)),
    ("win32 (Wine): Queue 1 producer/1 consumer", "BM_Win32MpQueue", None,
     None, "item", ("items/s", 1e6)),
    # Two threads play ping-pong, an iteration is two wake-ups: mp::Wait on
    # a pipe, then receive and answer, against WaitForSingleObject on an
    # auto-reset event that the other thread sets.
    ("win32 (Wine): Wait wake-up on a Pipe (ping-pong)", "BM_Win32MpWaitWake",
     "BM_Win32RawEventWake", None, "op", None),
]

SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def run_benchmarks(command, quick, env=None):
    """Runs a Google Benchmark binary (`command`) once, its benchmarks in a
    random order, and returns its JSON."""
    out = os.path.join(ROOT, "bazel-bench.json")
    args = command + ["--benchmark_out_format=json", "--benchmark_out=" + out,
                      "--benchmark_enable_random_interleaving=true"]
    if quick:
        args.append("--benchmark_min_time=0.05")
    subprocess.run(args, cwd=ROOT, check=True, stdout=sys.stderr, env=env)
    with open(out) as f:
        data = json.load(f)
    os.remove(out)
    return data


def build(flags, target, path):
    """Builds `target` with `flags`; returns the path of its output `path`
    under that configuration's bazel-bin."""
    subprocess.run(["bazel", "build"] + flags + [target], cwd=ROOT, check=True,
                   stdout=sys.stderr)
    bin_dir = subprocess.run(["bazel", "info"] + flags + ["bazel-bin"],
                             cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout.strip()
    return os.path.join(bin_dir, path)


def build_mp_bench():
    """Builds mp_bench optimised; returns the command that runs it."""
    return [build(["-c", "opt"], "//tools/bench:mp_bench",
                  "tools/bench/mp_bench"), "--benchmark_format=console"]


# mpirun's options for each MPI transport, on this machine alone.
MPI_TRANSPORTS = {
    "shm": ["--mca", "btl", "vader,self"],
    "tcp": ["--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", "lo"],
}


def build_mpi_bench():
    """Builds mpi_bench optimised; returns {transport: command} running it
    under mpirun with 3 ranks."""
    flags = ["-c", "opt"]
    subprocess.run(["bazel", "build"] + flags + ["//tools/bench:mpi_bench"],
                   cwd=ROOT, check=True, stdout=sys.stderr)
    bin_dir = subprocess.run(["bazel", "info"] + flags + ["bazel-bin"],
                             cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout.strip()
    binary = os.path.join(bin_dir, "tools/bench/mpi_bench")
    base = ["mpirun", "--oversubscribe", "--bind-to", "none", "-np", "3",
            "--mca", "pml", "ob1", "--mca", "oob_tcp_if_include", "lo"]
    return {t: base + mca + [binary, "--benchmark_format=console"]
            for t, mca in MPI_TRANSPORTS.items()}


def mpi_env():
    """The environment for mpirun: Open MPI refuses to run as root unless
    told it may (for this run only)."""
    env = dict(os.environ)
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    return env


def build_win32_bench():
    """Builds win32_bench with mingw-w64; returns the command that runs it
    under Wine."""
    return [os.path.join(ROOT, "tools/wine/run.sh"),
            build(["--config=win32", "-c", "opt"], "//tools/bench:win32_bench",
                  "tools/bench/win32_bench.exe")]


# Counters a benchmark may report beside its cost, kept under
# "<benchmark>#<counter>": page faults per start (mp_bench's FaultCounter).
COUNTERS = ("parent_faults", "child_faults")

# Rows whose page faults per start come from other benchmarks than their
# figure (a paired benchmark counts both sides' faults together).
FAULTS_FROM = {
    "BM_ForkStartJoinPaired#mp": ("BM_MpForkStartJoin", "BM_RawForkWaitpid"),
}


def parse_costs(data):
    costs = {}
    for b in data["benchmarks"]:
        name = b["run_name"]
        for suffix in ("/real_time", "/manual_time"):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
        for counter in COUNTERS:
            if counter in b:
                costs[name + "#" + counter] = b[counter]
        if "mp_over_raw" in b:  # a paired benchmark (see ROWS)
            costs[name + "#mp_over_raw"] = b["mp_over_raw"]
            costs[name + "#mp"] = b["mp_us"] * SECONDS["us"]
        if "bytes_per_second" in b:
            costs[name] = 1.0 / b["bytes_per_second"]
        elif "items_per_second" in b:
            costs[name] = 1.0 / b["items_per_second"]
        else:
            costs[name] = b["real_time"] * SECONDS[b["time_unit"]]
    return costs


def python_costs():
    r = subprocess.run([sys.executable, os.path.join(HERE, "python_bench.py")],
                       check=True, capture_output=True, text=True)
    return json.loads(r.stdout)


def figure(cost, unit):
    if unit == "byte":
        return "%.2f GB/s" % (1e-9 / cost)
    if unit == "item":
        if cost > 1e-5:  # under 100 k items/s
            return "%.1f k items/s" % (1e-3 / cost)
        return "%.2f M items/s" % (1e-6 / cost)
    for suffix, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if cost >= scale:
            return "%.1f %s" % (cost / scale, suffix)
    return "%.1f ns" % (cost / 1e-9)


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def spread_text(values):
    """The median and, with several values, the spread: "1.10 (1.05-1.20)"."""
    if len(values) == 1:
        return "%.2f" % values[0]
    return "%.2f (%.2f–%.2f)" % (median(values), min(values), max(values))


def row_line(row, mp_name, raw_name, py_key, unit, target, passes):
    """One table line from the repetitions: each a (mp costs, Python
    results) pair measured together."""
    costs, mp_raw, py_mp = [], [], []
    for mp, py in passes:
        cost = mp.get(mp_name)
        if cost is None:
            continue
        costs.append(cost)
        if isinstance(raw_name, tuple):  # the fastest raw channel
            raws = [mp[r] for r in raw_name if r in mp]
            raw = min(raws) if raws else None
        elif raw_name and raw_name.endswith("#mp_over_raw"):
            if raw_name in mp:
                mp_raw.append(mp[raw_name])
            raw = None
        else:
            raw = mp.get(raw_name) if raw_name else None
        if raw:
            mp_raw.append(cost / raw)
        if py_key and py is not None and py_key in py:
            py_mp.append(py[py_key] / cost)
    if not costs:
        return "| %s | missing | | | | |" % row
    faults = ""
    faults_mp, faults_raw = FAULTS_FROM.get(mp_name, (mp_name, raw_name))
    if passes and faults_mp + "#parent_faults" in passes[0][0]:
        def per_start(name):
            return "%.0f+%.0f" % (
                median([p[0][name + "#parent_faults"] for p in passes]),
                median([p[0][name + "#child_faults"] for p in passes]))
        faults = " (page faults per start, parent+child: %s" % per_start(
            faults_mp)
        if faults_raw and not isinstance(faults_raw, tuple) and (
                faults_raw + "#parent_faults" in passes[0][0]):
            faults += ", raw %s" % per_start(faults_raw)
        faults += ")"

    met = ""
    target_text = ""
    if target is not None:
        kind, bound = target
        values = {"mp/raw": mp_raw, "python/mp": py_mp,
                  "items/s": [1.0 / c for c in costs]}[kind]
        ok = bool(values) and all(
            v <= bound if kind == "mp/raw" else v >= bound for v in values)
        met = "yes" if ok else "**no**"
        if kind == "items/s":
            target_text = "≥ %s" % figure(1.0 / bound, "item")
        else:
            target_text = "%s %s %.2f" % (
                kind, "≤" if kind == "mp/raw" else "≥", bound)
    return "| %s | %s | %s | %s | %s | %s |" % (
        row, figure(median(costs), unit) + faults,
        spread_text(mp_raw) if mp_raw else "",
        spread_text(py_mp) if py_mp else "", target_text, met)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5,
                        help="repetitions (default 5; --quick: 2)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", help="also write the table here (Markdown)")
    parser.add_argument("--no-win32", action="store_true",
                        help="skip the Win32 rows (cross-build, Wine)")
    parser.add_argument("--no-mpi", action="store_true",
                        help="skip the MPI rows (mpirun)")
    args = parser.parse_args()
    reps = 2 if args.quick and args.reps == 5 else max(1, args.reps)

    mp_command = build_mp_bench()
    win32_command = None if args.no_win32 else build_win32_bench()
    mpi_commands = {} if args.no_mpi else build_mpi_bench()
    passes = []
    context, python_version = {}, "?"
    for rep in range(reps):
        print("run.py: repetition %d of %d" % (rep + 1, reps), file=sys.stderr)
        data = run_benchmarks(mp_command, args.quick)
        context = data.get("context", context)
        mp = parse_costs(data)
        py = python_costs()
        python_version = py["python"]
        if win32_command is not None:
            mp.update(parse_costs(run_benchmarks(win32_command, args.quick)))
        for transport, command in mpi_commands.items():
            costs = parse_costs(run_benchmarks(command, args.quick, mpi_env()))
            mp.update({transport + ":" + k: v for k, v in costs.items()})
        passes.append((mp, py["results"]))
    lines = [
        "mp benchmarks, %s, %s, %d CPUs, Python %s, %d repetitions" % (
            time.strftime("%Y-%m-%d"), platform.platform(),
            context.get("num_cpus", os.cpu_count()), python_version, reps),
        "",
        "| workload | figure | mp/raw | Python/mp | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in ROWS:
        if win32_command is None and row[0].startswith("win32"):
            continue
        if not mpi_commands and row[0].startswith("MPI"):
            continue
        lines.append(row_line(*row, passes))
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
