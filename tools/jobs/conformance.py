#!/usr/bin/env python3
"""The conformance report: every conformance case on every backend, side by side.

    bazel run //tools:conformance                       # print the table
    bazel run //tools:conformance -- --out report       # also report.md, report.json
    bazel run //tools:conformance -- --backends fork,threads

Runs the conformance suite's test binaries (tests/conformance): the Linux
binary for posix-fork and posix-spawn, the mingw-w64 binary under Wine for
win32, and the binary linked with the threads backend. Each binary runs
once, with GoogleTest's XML; a case missing from the XML (the binary crashed
or hung) is run again on its own, so one broken case cannot hide the others.

Every cell is one of:
  pass  the case passed;
  diff  a documented difference: the case was skipped on that backend with
        a "documented difference" reason (MP_SKIP_ON_THREADS in backends.h);
  FAIL  it failed, crashed, timed out, or was skipped for no documented
        reason. The first line of why follows the table.
The exit status is 0 when no cell is FAIL.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

BACKENDS = ["fork", "spawn", "win32", "threads"]
# Test binary (relative to the runfiles root) -> the backends it runs.
BINARIES = [
    ("tests/conformance/posix", ["fork", "spawn"]),
    ("tests/conformance/win32", ["win32"]),
    ("tests/conformance/threads", ["threads"]),
]
PRIMITIVES = ["Process", "Lock", "Pipe", "Queue", "Other sync", "Handles",
              "Signals", "Hostile peer", "Pool", "Shared memory"]
DIFF_MARK = "documented difference"


def primitive(suite, case):
    if suite in ("ProcessTest", "StartTest"):
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


def run_binary(root, rel, timeout, only_filter=None):
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
    with tempfile.TemporaryDirectory(prefix="mp-conformance-") as tmp:
        env["TEST_TMPDIR"] = tmp
        try:
            cases = list_cases(cmd, env, only_filter)
        except (OSError, subprocess.SubprocessError) as e:
            return {}, [], f"cannot list the cases of {rel}: {e}"

        def run(filter_expr, limit):
            xml = os.path.join(tmp, "out.xml")
            if os.path.exists(xml):
                os.remove(xml)
            run_env = dict(env, XML_OUTPUT_FILE=xml)
            args = cmd + ([f"--gtest_filter={filter_expr}"] if filter_expr else [])
            try:
                proc = subprocess.run(args, env=run_env, text=True,
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, timeout=limit)
                problem = (f"exit code {proc.returncode}: {last_words(proc.stdout)}"
                           if proc.returncode not in (0, 1) else None)
            except subprocess.TimeoutExpired as e:
                out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout
                problem = f"timed out after {limit} s: {last_words(out)}"
            return parse_xml(xml), problem

        results, problem = run(only_filter, timeout)
        missing = [c for c in cases if c not in results]
        for group, backend, case in missing:
            one, why = run(f"Conformance/{group}/{backend}.{case}", min(timeout, 180))
            key = (group, backend, case)
            results[key] = one.get(key, ("fail", why or problem or "did not run"))
        return results, cases, None


def collect(root, backends, timeout, only_filter):
    jobs = [(rel, bs) for rel, bs in BINARIES if set(bs) & set(backends)]
    results, order, problems = {}, [], []
    with ThreadPoolExecutor(max_workers=len(jobs) or 1) as pool:
        futures = [(rel, pool.submit(run_binary, root, rel, timeout, only_filter))
                   for rel, _ in jobs]
        for rel, future in futures:
            res, cases, problem = future.result()
            if problem:
                problems.append(problem)
            results.update(res)
            order.extend(cases)
    return results, order, problems


def build_report(results, order, backends):
    rows, seen = [], set()
    for group, backend, case in order:
        if (group, case) in seen:
            continue
        seen.add((group, case))
        cells = {}
        for b in backends:
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
                          for s in ("pass", "diff", "fail")} for b in backends}
        summary[p]["cases"] = len(mine)
    return rows, summary


def cell_text(status):
    return {"pass": "pass", "diff": "diff", "fail": "FAIL"}[status]


def count_text(c):
    text = f"{c['pass']} pass"
    if c["diff"]:
        text += f" {c['diff']} diff"
    if c["fail"]:
        text += f" {c['fail']} FAIL"
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
    col = max(max(len(count_text(summary["Total"][b])) for b in backends), 8) + 2
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
        lines += [f"  {b:8} {case}: {why}" for b, case, why in diffs]
    fails = notes(rows, backends, "fail")
    if fails:
        lines += ["", "FAILURES (first line of why):"]
        lines += [f"  {b:8} {case}: {why}" for b, case, why in fails]
    for p in problems:
        lines.append(f"problem: {p}")
    total = summary.get("Total")
    n_pass = sum(total[b]["pass"] for b in backends) if total else 0
    n_diff = sum(total[b]["diff"] for b in backends) if total else 0
    n_fail = sum(total[b]["fail"] for b in backends) if total else 0
    lines += ["", f"{n_pass} passed, {n_diff} documented differences, "
              f"{n_fail} failed ({len(rows)} cases x {len(backends)} backends)"]
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

    if args.xml:
        results, order, problems = {}, [], []
        for path in args.xml:
            res = parse_xml(path)
            if not res:
                problems.append(f"{path}: no conformance results")
            results.update(res)
            order.extend(k for k in res if k not in order)
    else:
        results, order, problems = collect(args.root, backends, args.timeout,
                                           args.filter)
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
    failed = any(r["results"][b][0] == "fail" for r in rows for b in backends)
    return 1 if failed or problems or not rows else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
