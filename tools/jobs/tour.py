#!/usr/bin/env python3
"""The seed tour: runs the seed's programs, ported to mp, and says what each shows.

    bazel run //tools:tour                  # fork (the Linux default)
    bazel run //tools:tour -- --method spawn

The seed (../shared/seed, summarised in README.md) is a lesson on processes,
threads and Python's multiprocessing. Each of its programs is ported one to
one in tools/examples/seed_*.cc; this tour runs them, prints their output,
and under it one line of explanation computed from that output (the pids,
the order of lines, the exit codes), so the explanation is about this run.
The exit status is non-zero if a program failed or did not show what the
seed says it shows.
"""

import argparse
import os
import re
import subprocess
import sys

failures = []


def run(root, program, method):
    path = os.path.join(root, "tools/examples", program)
    args = [path] + ([method] if method else [])
    try:
        proc = subprocess.run(args, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=120)
        out, code = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired:
        out, code = "", "timeout"
    return out, code


def show(title, seed_section, out, code, explain):
    print(f"=== {title}  (seed {seed_section})")
    for line in out.splitlines():
        print(f"    | {line}")
    try:
        text, ok = explain(out)
    except (ValueError, IndexError, AttributeError) as e:
        text, ok = f"unexpected output ({e})", False
    if code != 0:
        text, ok = f"exited with {code}. " + text, False
    print(("  > " if ok else "  ! ") + text)
    print()
    if not ok:
        failures.append(title)


def lines(out, pattern):
    return [m for m in (re.match(pattern, l) for l in out.splitlines()) if m]


def explain_function(out):
    main = lines(out, r"^main1 (\d+)$")[0].group(1)
    start = lines(out, r"^start (\d+)$")[0].group(1)
    end = lines(out, r"^end (\d+) (\d+)$")[0]
    ok = end.group(2) == main and start != main
    order = out.splitlines()
    first = order.index(f"main1 {main}") < order.index(f"start {start}")
    return (f"The child (pid {start}) reports parent pid {end.group(2)}: main's "
            f"pid is {main}. main's lines come "
            f"{'first' if first else 'interleaved'}: start() returns at once "
            "and does not wait for the child.", ok)


def explain_class(out):
    text = out.splitlines()
    n1 = len(lines(out, r"^MYserver1 x=1 y=2$"))
    n2 = len(lines(out, r"^MYserver2222$"))
    ended = [i for i, l in enumerate(text) if l.startswith("main code ends")][0]
    last_daemon = max(i for i, l in enumerate(text) if l.startswith("MYserver1"))
    ok = (n1 >= 1 and n2 == 5 and last_daemon < ended and
          text[-1].startswith("all children done"))
    return (f"Process subclasses: run() saw its constructor arguments (x=1 y=2) "
            f"in the child; the daemon MYserver1 printed {n1} times and stopped "
            f"when main's code ended; main then waited for MYserver2's {n2} "
            "rounds.", ok)


def explain_join_ten(out):
    order = [m.group(1) for m in lines(out, r"^start (\d)$")]
    ok = sorted(order) == [str(i) for i in range(10)] and \
        out.splitlines()[-1] == "hahhahaha"
    return (f"Ten children were started before the first join; they printed in "
            f"the order the OS ran them ({' '.join(order)}), and the parent's "
            "line is last because it joined all ten first.", ok)


def explain_daemon(out):
    text = out.splitlines()
    end = text.index("main code ends")
    son1 = [i for i, l in enumerate(text) if l == "son1 alive"]
    son2 = len([l for l in text if l == "son2222"])
    ok = son1 and max(son1) < end and son2 == 5 and text[-1] == "main process ends"
    return (f"son1 (daemon) printed {len(son1)} times, all before main's code "
            f"ended, then was terminated; son2 (not a daemon) finished its {son2} "
            "rounds before the main process ended.", ok)


def explain_is_alive(out):
    ok = ("is_alive after start: True" in out and
          "is_alive after join: False" in out)
    return "IsAlive() is true after Start() and false after Join().", ok


def explain_terminate(out):
    right = lines(out, r"^right after terminate: (True|False)$")[0].group(1)
    ok = "a moment later: False" in out and "exit code: -15" in out
    return (f"Terminate() is asynchronous: straight after it IsAlive() said "
            f"{right}; a moment later False. The exit code -15 is SIGTERM.", ok)


def compare_threads(processes, threads):
    def value(out, pattern):
        return lines(out, pattern)[0].group(1)
    g_p = value(processes, r"^global seen by main after the child set it: (\d)$")
    g_t = value(threads, r"^global seen by main after the child set it: (\d)$")
    us_p = int(value(processes, r"^start\+join of one empty child: (\d+) us"))
    us_t = int(value(threads, r"^start\+join of one empty child: (\d+) us"))
    ok = g_p == "0" and g_t == "1"
    ratio = us_p / max(us_t, 1)
    return (f"The same source: a child process set its own copy of the global "
            f"(main still sees {g_p}); a child thread set main's (main sees "
            f"{g_t}). Start+join: {us_p} us for a process, {us_t} us for a "
            f"thread ({ratio:.0f}x): threads are the cheaper unit, processes "
            "the isolated one.", ok)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.getcwd())
    parser.add_argument("--method", choices=["fork", "spawn"], default="fork")
    args = parser.parse_args(argv)
    m = args.method
    print(f"The seed's programs on mp, start method {m}.\n")
    tour = [
        ("seed_function", "Process(target=f): pids and parent pids", "3",
         explain_function),
        ("seed_class", "subclassing Process", "3", explain_class),
        ("seed_join_ten", "start ten, then join ten", "6", explain_join_ten),
        ("seed_daemon", "daemon ends with main's code", "7", explain_daemon),
        ("seed_is_alive", "is_alive()", "8", explain_is_alive),
        ("seed_terminate", "terminate() is asynchronous", "9",
         explain_terminate),
    ]
    for program, title, section, explain in tour:
        out, code = run(args.root, program, m)
        show(title, section, out, code, explain)

    processes, code_p = run(args.root, "seed_threads_vs_processes", m)
    threads, code_t = run(args.root, "seed_threads_vs_processes_on_threads", "")
    show("threads versus processes", "1-2",
         "[on processes]\n" + processes + "[on the threads backend]\n" + threads,
         code_p or code_t, lambda _: compare_threads(processes, threads))

    if failures:
        print(f"{len(failures)} program(s) did not show what the seed says: "
              + ", ".join(failures))
        return 1
    print("Every program showed what the seed says.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
