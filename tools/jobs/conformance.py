#!/usr/bin/env python3
"""The conformance report: every conformance case on every backend, side by side.

    bazel run //tools:conformance                       # print the table
    bazel run //tools:conformance -- --out report       # also report.md, report.json
    bazel run //tools:conformance -- --backends fork,threads

Runs the conformance suite's test binaries (tests/conformance): the Linux
binary for posix-fork, posix-spawn and posix-forkserver, the mingw-w64
binary under Wine for win32, the binary linked with the threads backend,
and for mpi the Pool suite linked with //:mp_mpi, run under mpirun with 4
ranks over shared memory (tests/conformance/mpi_test.sh). Each binary runs
once, with GoogleTest's XML; a case missing from the XML (the binary crashed
or hung) is run again on its own, so one broken case cannot hide the others.
While they run, stderr shows each backend's cases done of its total and its
failures so far (on a terminal one line, rewritten in place; otherwise a
line when a backend starts or ends and one every 10 s); after the report,
where the time went. The report itself is stdout's.

Every cell is one of:
  pass  the case passed;
  diff  a documented difference: the case was skipped on that backend with
        a "documented difference" reason (MP_SKIP_ON_THREADS in backends.h);
  FAIL  it failed, crashed, timed out, or was skipped for no documented
        reason. The first line of why follows the table;
  n/a   the case does not apply to that backend (mpi runs the Pool cases
        alone: the other primitives do not cross hosts).
The exit status is 0 when no cell is FAIL.
"""

import argparse
import datetime
import json
import os
import platform
import re
import selectors
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

BACKENDS = ["fork", "spawn", "forkserver", "win32", "threads", "mpi"]
# Test binary (relative to the runfiles root) -> the backends it runs.
BINARIES = [
    ("tests/conformance/posix", ["fork", "spawn", "forkserver"]),
    ("tests/conformance/win32", ["win32"]),
    ("tests/conformance/threads", ["threads"]),
    ("tests/conformance/mpi_bin", ["mpi"]),
]
# How a binary is run, if not as itself: the launcher's path (relative to
# the runfiles root), then the binary, then these arguments, then the
# binary's own. Its cases are listed by running the binary alone.
LAUNCHERS = {
    "tests/conformance/mpi_bin": ("tests/conformance/mpi_test.sh", ["shm"]),
}
# Backends that run some suites only: the rest are not applicable there.
SUITES_OF = {"mpi": {"PoolTest"}}
PRIMITIVES = ["Process", "Lock", "Pipe", "Queue", "Other sync", "Handles",
              "Signals", "Hostile peer", "Pool", "Shared memory"]
DIFF_MARK = "documented difference"
# GoogleTest's lines for a case's start and end, e.g.
# "[       OK ] Conformance/PipeTest/fork.Works (2 ms)".
CASE_LINE = re.compile(r"\[ *(RUN|OK|FAILED|SKIPPED) *\] (\S+)")
PLAIN_EVERY = 10  # seconds between progress lines when stderr is no terminal


def primitive(suite, case):
    if suite in ("ProcessTest", "StartTest", "StdioTest"):
        return "Process"
    if suite == "PipeTest":
        return "Pipe"
    if suite == "QueueTest":
        return "Queue"
    if suite in ("HandlesTest", "StrayTest"):
        return "Handles"
    if suite == "SyncTest":
        if case.startswith(("Lock", "RLock", "Guard")):
            return "Lock"
        return "Other sync"
    if suite == "HostilePeerTest":
        return "Hostile peer"
    if suite == "PoolTest":
        return "Pool"
    if suite == "SharedMemoryTest":
        return "Shared memory"
    return "Signals"


def split_name(full):
    """'Conformance/PipeTest/fork.Case' or suite 'Conformance/PipeTest/fork'."""
    parts = full.split("/")
    if len(parts) != 3 or parts[0] != "Conformance":
        return None
    return parts[1], parts[2]


def first_line_of_failure(message):
    lines = [l.strip() for l in (message or "").splitlines() if l.strip()]
    if not lines:
        return "failed (no message)"
    location = lines[0].split("/")[-1]
    if len(lines) > 1:
        return f"{location}: {lines[1]}"
    return location


def parse_xml(path):
    """{(suite, backend, case): (status, why)} from one GoogleTest XML file."""
    results = {}
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return results
    for suite in root.iter("testsuite"):
        name = split_name(suite.get("name", ""))
        if name is None:
            continue
        group, backend = name
        for tc in suite.iter("testcase"):
            case = tc.get("name")
            failures = tc.findall("failure")
            skipped = tc.find("skipped")
            if failures:
                status = ("fail", first_line_of_failure(failures[0].get("message")))
            elif skipped is not None or tc.get("result") == "skipped":
                msg = skipped.get("message", "") if skipped is not None else ""
                if DIFF_MARK in msg:
                    why = msg[msg.index(DIFF_MARK):]
                    why = why.split(":", 1)[1].strip() if ":" in why else why
                    status = ("diff", why)
                else:
                    status = ("fail", "skipped without a documented difference: "
                              + first_line_of_failure(msg))
            elif tc.get("status") == "notrun":
                status = ("fail", "disabled")
            else:
                status = ("pass", "")
            results[(group, backend, case)] = status
    return results


def list_cases(cmd, env, only_filter):
    """The (suite, backend, case) triples a binary would run."""
    flags = ["--gtest_list_tests"]
    if only_filter:
        flags.append(f"--gtest_filter={only_filter}")
    out = subprocess.run(cmd + flags, env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         timeout=300).stdout
    cases, current = [], None
    for line in out.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            current = split_name(line.split()[0].rstrip("."))
        elif current is not None:
            cases.append((current[0], current[1], line.split()[0]))
    return cases


def last_words(text):
    lines = [l for l in (text or "").splitlines() if l.strip()]
    return lines[-1].strip()[:160] if lines else "no output"


def duration(seconds):
    """'7s', '3m05s'."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    return f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    """Each backend's cases done of its total, and failures, while they run.

    Written to `stream`: a line when a backend starts and when it is done;
    between them, on a terminal, one line rewritten in place, otherwise a
    line every PLAIN_EVERY seconds; a backend's failures show there from
    its first. A case counts once it ends in a binary's
    output; a binary's results, when it is done, replace what was counted.
    The methods may be called from any thread.
    """

    def __init__(self, stream, jobs):
        self.stream = stream
        self.tty = stream.isatty()
        self.jobs = dict(jobs)  # binary -> its backends
        self.order = [b for _, bs in jobs for b in bs]
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.started = time.monotonic()
        self.ended = None
        self.total = {}  # backend -> its cases, once listed
        self.since = {}  # backend -> when its cases started
        self.done = {}  # backend -> its wall time, once done
        self.status = {b: {} for b in self.order}  # backend -> {key: status}
        self.busy = {b: 0.0 for b in self.order}  # backend -> its cases' time
        self.binaries = {}  # binary -> its wall time
        self.shown = ""  # the line on the terminal
        self.ticker = threading.Thread(target=self._tick, daemon=True)

    def start(self):
        self.ticker.start()

    def stop(self):
        with self.lock:
            self.ended = time.monotonic()
            self.stopped.set()
            self._clear()
        self.ticker.join()

    def listed(self, rel, cases):
        """The cases binary `rel` is about to run."""
        now = time.monotonic()
        with self.lock:
            for b in self.jobs[rel]:
                self.total[b] = sum(1 for _, backend, _ in cases if backend == b)
                self.since[b] = now
                self._say(f"{b} starts, {self.total[b]} cases")

    def case(self, key, status, seconds):
        """Case `key` ran `seconds` more; status None: it has not ended."""
        backend = key[1]
        with self.lock:
            if backend not in self.busy:
                return
            self.busy[backend] += seconds
            if status:
                self.status[backend][key] = status

    def binary_done(self, rel, results, seconds):
        """Binary `rel` is done, in `seconds`, with `results`."""
        now = time.monotonic()
        with self.lock:
            self.binaries[rel] = seconds
            for b in self.jobs[rel]:
                self.status[b] = {k: s for k, (s, _) in results.items()
                                  if k[1] == b}
                self.done[b] = now - self.since.get(b, now)
                if b not in self.total:
                    self._say(f"{b} done, no case ran")
                    continue
                failed = self._failed(b)
                self._say(f"{b} done, {len(self.status[b])}/{self.total[b]} "
                          f"cases, {failed} failed, {duration(self.done[b])}")

    def timings(self):
        """Where the time went: each backend's cases, each binary, in all."""
        names = self.order + [rel for rel, _ in BINARIES if rel in self.binaries]
        width = max(len(n) for n in names) + 2
        lines = ["", "where the time went (wall time):"]
        for b in self.order:
            lines.append(f"  {b.ljust(width)}{duration(self.busy[b]):>6}  "
                         f"its {len(self.status[b])} cases, one after another")
        for rel, backends in BINARIES:
            if rel in self.binaries:
                lines.append(f"  {rel.ljust(width)}"
                             f"{duration(self.binaries[rel]):>6}  the binary, "
                             f"for {' and '.join(backends)}")
        total = (self.ended or time.monotonic()) - self.started
        lines.append(f"  {'total'.ljust(width)}{duration(total):>6}  "
                     "the binaries side by side")
        return "\n".join(lines) + "\n"

    # The rest runs with self.lock held.

    def _failed(self, backend):
        return sum(1 for s in self.status[backend].values() if s == "fail")

    def _line(self):
        parts = []
        for b in self.order:
            if b in self.done:
                parts.append(f"{b} done")
            elif b not in self.total:
                parts.append(f"{b} starting")
            else:
                part = f"{b} {len(self.status[b])}/{self.total[b]}"
                failed = self._failed(b)
                parts.append(part + (f" {failed} failed" if failed else ""))
        elapsed = duration(time.monotonic() - self.started)
        return f"conformance {elapsed}: " + ", ".join(parts)

    def _show(self):
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except OSError:
            columns = 0
        line = self._line()[:(columns or 80) - 1]
        self.stream.write("\r" + line.ljust(len(self.shown)))
        self.stream.flush()
        self.shown = line

    def _clear(self):
        if self.shown:
            self.stream.write("\r" + " " * len(self.shown) + "\r")
            self.stream.flush()
            self.shown = ""

    def _say(self, text):
        self._clear()
        self.stream.write(f"conformance: {text}\n")
        self.stream.flush()
        if self.tty and not self.stopped.is_set():
            self._show()

    def _tick(self):
        period = 0.5 if self.tty else PLAIN_EVERY
        while not self.stopped.wait(period):
            with self.lock:
                if self.stopped.is_set():
                    break
                if self.tty:
                    self._show()
                else:
                    self.stream.write(self._line() + "\n")
                    self.stream.flush()


class CaseWatcher:
    """Follows one run's output, telling progress each case's end and time."""

    def __init__(self, progress):
        self.progress = progress
        self.current = None  # the case running: its key
        self.since = 0.0  # and when it started
        self.diff = False  # and whether it printed a documented difference

    def line(self, text):
        match = CASE_LINE.match(text)
        if not match:
            if self.current and DIFF_MARK in text:
                self.diff = True
            return
        word, full = match.groups()
        suite, _, case = full.rpartition(".")
        name = split_name(suite)
        if name is None:
            return
        key = (name[0], name[1], case)
        if word == "RUN":
            self.close()
            self.current, self.since, self.diff = key, time.monotonic(), False
        elif key == self.current:
            status = {"OK": "pass", "FAILED": "fail"}.get(word)
            status = status or ("diff" if self.diff else "fail")
            self.progress.case(key, status, time.monotonic() - self.since)
            self.current = None

    def close(self):
        """The case still running has not ended (it crashed or hung)."""
        if self.current:
            self.progress.case(self.current, None, time.monotonic() - self.since)
            self.current = None


def run_watched(args, env, limit, watch):
    """Runs args for at most `limit` seconds, handing `watch` each line of its
    output (stdout and stderr) as it comes.

    Returns (the exit code, or None if it timed out and was killed; the output).
    """
    out, pending, code = [], b"", None
    deadline = time.monotonic() + limit
    with subprocess.Popen(args, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT) as proc, \
            selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                break
            data = os.read(proc.stdout.fileno(), 65536)
            if not data:
                try:
                    code = proc.wait(max(deadline - time.monotonic(), 0))
                except subprocess.TimeoutExpired:
                    pass
                break
            out.append(data)
            *lines, pending = (pending + data).split(b"\n")
            for line in lines:
                watch(line.decode(errors="replace"))
        if code is None:
            proc.kill()
            proc.wait()
    if pending:
        watch(pending.decode(errors="replace"))
    return code, b"".join(out).decode(errors="replace")


def run_binary(root, rel, timeout, only_filter, progress):
    """Runs one test binary; returns (results, cases, problem)."""
    path = os.path.join(root, rel)
    env = dict(os.environ)
    env.update({
        "TEST_SRCDIR": os.path.dirname(root),
        "TEST_WORKSPACE": os.path.basename(root),
        "GTEST_COLOR": "no",
    })
    cmd = [path]
    if not os.path.exists(path):
        return {}, [], f"{rel} was not built"
    run_cmd = cmd
    if rel in LAUNCHERS:
        launcher, launcher_args = LAUNCHERS[rel]
        run_cmd = [os.path.join(root, launcher), path] + launcher_args
    with tempfile.TemporaryDirectory(prefix="mp-conformance-") as tmp:
        env["TEST_TMPDIR"] = tmp
        try:
            cases = list_cases(cmd, env, only_filter)
        except (OSError, subprocess.SubprocessError) as e:
            return {}, [], f"cannot list the cases of {rel}: {e}"
        progress.listed(rel, cases)

        def run(filter_expr, limit):
            xml = os.path.join(tmp, "out.xml")
            if os.path.exists(xml):
                os.remove(xml)
            run_env = dict(env, XML_OUTPUT_FILE=xml)
            args = run_cmd + ([f"--gtest_filter={filter_expr}"] if filter_expr else [])
            watcher = CaseWatcher(progress)
            try:
                code, out = run_watched(args, run_env, limit, watcher.line)
            finally:
                watcher.close()
            if code is None:
                problem = f"timed out after {limit} s: {last_words(out)}"
            elif code not in (0, 1):
                problem = f"exit code {code}: {last_words(out)}"
            else:
                problem = None
            return parse_xml(xml), problem

        results, problem = run(only_filter, timeout)
        missing = [c for c in cases if c not in results]
        for group, backend, case in missing:
            one, why = run(f"Conformance/{group}/{backend}.{case}", min(timeout, 180))
            key = (group, backend, case)
            results[key] = one.get(key, ("fail", why or problem or "did not run"))
            progress.case(key, results[key][0], 0.0)
        return results, cases, None


def collect(root, backends, timeout, only_filter):
    """Runs the binaries side by side, showing progress on stderr.

    Returns (results, order, problems, where the time went).
    """
    jobs = [(rel, bs) for rel, bs in BINARIES if set(bs) & set(backends)]
    progress = Progress(sys.stderr, jobs)

    def run(rel):
        started = time.monotonic()
        res, cases, problem = {}, [], None
        try:
            res, cases, problem = run_binary(root, rel, timeout, only_filter,
                                             progress)
        finally:
            progress.binary_done(rel, res, time.monotonic() - started)
        return res, cases, problem

    results, order, problems = {}, [], []
    progress.start()
    try:
        with ThreadPoolExecutor(max_workers=len(jobs) or 1) as pool:
            futures = [pool.submit(run, rel) for rel, _ in jobs]
            for future in futures:
                res, cases, problem = future.result()
                if problem:
                    problems.append(problem)
                results.update(res)
                order.extend(cases)
    finally:
        progress.stop()
    return results, order, problems, progress.timings()


def build_report(results, order, backends):
    rows, seen = [], set()
    for group, backend, case in order:
        if (group, case) in seen:
            continue
        seen.add((group, case))
        cells = {}
        for b in backends:
            if b in SUITES_OF and group not in SUITES_OF[b]:
                cells[b] = ("n/a", "")
            else:
                cells[b] = results.get((group, b, case), ("fail", "not run"))
        rows.append({"primitive": primitive(group, case), "suite": group,
                     "case": case, "results": cells})
    rows.sort(key=lambda r: PRIMITIVES.index(r["primitive"]))
    summary = {}
    for p in PRIMITIVES + ["Total"]:
        mine = [r for r in rows if p == "Total" or r["primitive"] == p]
        if not mine:
            continue
        summary[p] = {b: {s: sum(1 for r in mine if r["results"][b][0] == s)
                          for s in ("pass", "diff", "fail", "n/a")}
                      for b in backends}
        summary[p]["cases"] = len(mine)
    return rows, summary


def cell_text(status):
    return {"pass": "pass", "diff": "diff", "fail": "FAIL", "n/a": "n/a"}[status]


def count_text(c):
    if c["n/a"] and not (c["pass"] or c["diff"] or c["fail"]):
        return "n/a"
    text = f"{c['pass']} pass"
    if c["diff"]:
        text += f" {c['diff']} diff"
    if c["fail"]:
        text += f" {c['fail']} FAIL"
    if c["n/a"]:
        text += f" {c['n/a']} n/a"
    return text


def notes(rows, backends, status):
    out = []
    for r in rows:
        for b in backends:
            s, why = r["results"][b]
            if s == status:
                out.append((b, f"{r['suite']}.{r['case']}", why))
    return out


def render_text(rows, summary, backends, problems):
    width = max([len(r["case"]) for r in rows] + [20]) + 4
    col = max([len(count_text(summary["Total"][b])) for b in backends] +
              [len(b) for b in backends] + [8]) + 2
    # The backend column of the notes below the table.
    bw = max([len(b) for b in backends] + [8])
    head = "case".ljust(width) + "".join(b.ljust(col) for b in backends)
    lines = ["mp conformance: every case on every backend", "", head,
             "-" * len(head)]
    current = None
    for r in rows:
        if r["primitive"] != current:
            current = r["primitive"]
            lines.append(f"[{current}]")
        lines.append(("  " + r["case"]).ljust(width) +
                     "".join(cell_text(r["results"][b][0]).ljust(col)
                             for b in backends))
    lines += ["", "summary".ljust(width) + "".join(b.ljust(col) for b in backends),
              "-" * len(head)]
    for p, counts in summary.items():
        label = f"{p} ({counts['cases']})"
        lines.append(label.ljust(width) +
                     "".join(count_text(counts[b]).ljust(col) for b in backends))
    diffs = notes(rows, backends, "diff")
    if diffs:
        lines += ["", "documented differences:"]
        lines += [f"  {b:{bw}} {case}: {why}" for b, case, why in diffs]
    fails = notes(rows, backends, "fail")
    if fails:
        lines += ["", "FAILURES (first line of why):"]
        lines += [f"  {b:{bw}} {case}: {why}" for b, case, why in fails]
    for p in problems:
        lines.append(f"problem: {p}")
    total = summary.get("Total")
    n_pass = sum(total[b]["pass"] for b in backends) if total else 0
    n_diff = sum(total[b]["diff"] for b in backends) if total else 0
    n_fail = sum(total[b]["fail"] for b in backends) if total else 0
    n_na = sum(total[b]["n/a"] for b in backends) if total else 0
    lines += ["", f"{n_pass} passed, {n_diff} documented differences, "
              f"{n_fail} failed ({len(rows)} cases x {len(backends)} backends"
              + (f", {n_na} not applicable)" if n_na else ")")]
    return "\n".join(lines) + "\n"


def render_markdown(rows, summary, backends, meta):
    md = ["# mp conformance report", "",
          f"{meta['date']}, {meta['machine']}. `pass`; `diff` = documented "
          "difference (reason below); **FAIL** = failed (first line of why below).",
          "", "| primitive | case | " + " | ".join(backends) + " |",
          "|---|---|" + "---|" * len(backends)]
    for r in rows:
        cells = [("**FAIL**" if r["results"][b][0] == "fail" else r["results"][b][0])
                 for b in backends]
        md.append(f"| {r['primitive']} | {r['case']} | " + " | ".join(cells) + " |")
    md += ["", "## Summary", "", "| primitive | cases | " + " | ".join(backends) + " |",
           "|---|---|" + "---|" * len(backends)]
    for p, counts in summary.items():
        md.append(f"| {p} | {counts['cases']} | " +
                  " | ".join(count_text(counts[b]) for b in backends) + " |")
    for title, status in (("Documented differences", "diff"), ("Failures", "fail")):
        items = notes(rows, backends, status)
        if items:
            md += ["", f"## {title}", ""]
            md += [f"- {b} `{case}`: {why}" for b, case, why in items]
    return "\n".join(md) + "\n"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.getcwd(),
                        help="the runfiles root holding tests/conformance")
    parser.add_argument("--out", help="also write OUT.md and OUT.json")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--filter", help="only cases matching this GoogleTest "
                        "filter, e.g. '*PipeTest*'")
    parser.add_argument("--timeout", type=int, default=900,
                        help="seconds for one test binary's whole run")
    parser.add_argument("--xml", action="append", default=[],
                        help="report on existing GoogleTest XML files instead "
                        "of running the binaries")
    args = parser.parse_args(argv)
    backends = [b for b in args.backends.split(",") if b]
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        parser.error(f"unknown backend(s) {unknown}; known: {BACKENDS}")

    timings = ""
    if args.xml:
        results, order, problems = {}, [], []
        for path in args.xml:
            res = parse_xml(path)
            if not res:
                problems.append(f"{path}: no conformance results")
            results.update(res)
            order.extend(k for k in res if k not in order)
    else:
        results, order, problems, timings = collect(
            args.root, backends, args.timeout, args.filter)
    rows, summary = build_report(results, order, backends)
    if not rows:
        problems.append("no conformance case ran")
    sys.stdout.write(render_text(rows, summary, backends, problems))

    meta = {"date": datetime.date.today().isoformat(),
            "machine": f"{platform.system()} {platform.machine()}, "
                       f"{os.cpu_count()} CPUs"}
    if args.out:
        base = args.out
        for ext in (".md", ".json"):
            if base.endswith(ext):
                base = base[: -len(ext)]
        base = os.path.join(os.environ.get("BUILD_WORKING_DIRECTORY", ""), base)
        with open(base + ".md", "w") as f:
            f.write(render_markdown(rows, summary, backends, meta))
        with open(base + ".json", "w") as f:
            json.dump({"meta": meta, "backends": backends, "cases": [
                dict(r, results={b: {"status": s, "why": w}
                                 for b, (s, w) in r["results"].items()})
                for r in rows], "summary": summary, "problems": problems},
                f, indent=1)
        print(f"wrote {base}.md and {base}.json")
    sys.stdout.flush()
    sys.stderr.write(timings)
    failed = any(r["results"][b][0] == "fail" for r in rows for b in backends)
    return 1 if failed or problems or not rows else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
