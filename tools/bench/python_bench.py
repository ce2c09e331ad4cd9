#!/usr/bin/env python3
"""The mp_bench workloads in Python's multiprocessing, for tools/bench/run.py.

Prints one JSON object: workload name -> cost in seconds per unit (per
operation, per byte, or per item), the same units run.py derives from
mp_bench. Run it on its own to see Python's figures.
"""

import ctypes
import json
import multiprocessing as mp
import os
import sys
import threading
import time

QUEUE_ITEMS = 100_000
INCREMENTS = 100_000
POOL_TASKS = 20_000
POOL_MAP_ITEMS = 1_000_000
FILL_BYTES = 64 << 20
FILLS_PER_CHILD = 16


def noop():
    pass


def per_op(fn, min_seconds=1.0, min_ops=20):
    """Seconds per call of fn(), over at least min_seconds and min_ops."""
    ops, start = 0, time.perf_counter()
    while True:
        fn()
        ops += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds and ops >= min_ops:
            return elapsed / ops


def start_join(ctx):
    p = ctx.Process(target=noop)
    p.start()
    p.join()


def thread_create_join():
    t = threading.Thread(target=noop)
    t.start()
    t.join()


def echo(conn, parent_end):
    # Under fork the child inherits the parent's end too; Python leaves
    # closing it to the user, or the child never sees EOF (mp does it).
    parent_end.close()
    try:
        while True:
            conn.send_bytes(conn.recv_bytes())
    except EOFError:
        pass


def pipe_rtt(ctx):
    a, b = ctx.Pipe()
    p = ctx.Process(target=echo, args=(b, a))
    p.start()
    b.close()
    msg = b"x" * 8

    def once():
        a.send_bytes(msg)
        a.recv_bytes()

    cost = per_op(once)
    a.close()
    p.join()
    return cost


def drain(conn, parent_end):
    parent_end.close()
    try:
        while True:
            conn.recv_bytes()
    except EOFError:
        pass


def pipe_oneway(ctx, size):
    r, w = ctx.Pipe(duplex=False)
    p = ctx.Process(target=drain, args=(r, w))
    p.start()
    r.close()
    msg = b"x" * size
    cost = per_op(lambda: w.send_bytes(msg)) / size
    w.close()
    p.join()
    return cost


def produce(q, n):
    for i in range(n):
        q.put(i)


def queue_run(ctx, producers):
    q = ctx.Queue()
    start = time.perf_counter()
    ps = [ctx.Process(target=produce, args=(q, QUEUE_ITEMS // producers))
          for _ in range(producers)]
    for p in ps:
        p.start()
    for _ in range(QUEUE_ITEMS):
        q.get()
    for p in ps:
        p.join()
    return (time.perf_counter() - start) / QUEUE_ITEMS


def lock_uncontended(ctx):
    lock = ctx.Lock()

    def once():
        lock.acquire()
        lock.release()

    return per_op(once)


def increment(lock, counter):
    for _ in range(INCREMENTS):
        with lock:
            counter.value += 1


def lock_contended(ctx):
    lock = ctx.Lock()
    counter = ctx.Value("q", 0, lock=False)
    start = time.perf_counter()
    ps = [ctx.Process(target=increment, args=(lock, counter)) for _ in range(2)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    return (time.perf_counter() - start) / (2 * INCREMENTS)


def add_one(x):
    return x + 1


def pool_items(ctx, run, n):
    """Seconds per item of run(pool, n) on a 2-worker pool made beforehand."""
    with ctx.Pool(2) as pool:
        start = time.perf_counter()
        run(pool, n)
        return (time.perf_counter() - start) / n


def pool_map(pool, n, chunksize=None):
    assert pool.map(add_one, range(n), chunksize)[-1] == n


def pool_apply_async(pool, n):
    results = [pool.apply_async(add_one, (i,)) for i in range(n)]
    for r in results:
        r.get()


def executor_map(ctx, n):
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        list(ex.map(add_one, range(10)))  # workers started
        start = time.perf_counter()
        assert list(ex.map(add_one, range(n)))[-1] == n
        return (time.perf_counter() - start) / n
def fill_in_child(arr, seconds, copy):
    """mp_bench's FillInChild: one untimed fill, then FILLS_PER_CHILD timed."""
    with arr.get_lock():
        view = memoryview(arr.get_obj()).cast("B")
        address = ctypes.addressof(arr.get_obj())
        source = b"\x5a" * len(view) if copy else None
        start = 0.0
        for i in range(FILLS_PER_CHILD + 1):
            if i == 1:
                start = time.perf_counter()
            if copy:
                view[:] = source
            else:
                ctypes.memset(address, i, len(view))
        seconds.value = time.perf_counter() - start


def array_fill_child(ctx, copy):
    """Seconds per byte a child takes to fill a 64 MiB Array (lock=True)."""
    arr = ctx.Array("B", FILL_BYTES)
    seconds = ctx.Value("d", 0.0, lock=False)
    best = None
    for _ in range(5):
        p = ctx.Process(target=fill_in_child, args=(arr, seconds, copy))
        p.start()
        p.join()
        cost = seconds.value / (FILLS_PER_CHILD * FILL_BYTES)
        best = cost if best is None else min(best, cost)
    return best


def add_under_value_lock(value):
    for _ in range(INCREMENTS):
        with value.get_lock():
            value.value += 1


def value_locked_add_contended(ctx):
    """Python's Value(lock=True) incremented by 2 processes: no atomic add."""
    value = ctx.Value("q", 0)
    start = time.perf_counter()
    ps = [ctx.Process(target=add_under_value_lock, args=(value,))
          for _ in range(2)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    return (time.perf_counter() - start) / (2 * INCREMENTS)


def main():
    fork, spawn = mp.get_context("fork"), mp.get_context("spawn")
    forkserver = mp.get_context("forkserver")
    start_join(forkserver)  # starts the server, as mp's benchmark does
    results = {
        "fork_start_join": per_op(lambda: start_join(fork)),
        "spawn_start_join": per_op(lambda: start_join(spawn), min_ops=5),
        "forkserver_start_join": per_op(lambda: start_join(forkserver)),
        "thread_create_join": per_op(thread_create_join),
        "pipe_rtt_8": pipe_rtt(fork),
        "pipe_oneway_65536": pipe_oneway(fork, 64 << 10),
        "pipe_oneway_1048576": pipe_oneway(fork, 1 << 20),
        "queue_1p1c": queue_run(fork, 1),
        "queue_4p1c": queue_run(fork, 4),
        "lock_uncontended": lock_uncontended(fork),
        "lock_contended": lock_contended(fork),
        "pool_map_chunksize_1": pool_items(
            fork, lambda p, n: pool_map(p, n, 1), POOL_TASKS),
        "pool_map_default": pool_items(fork, pool_map, POOL_MAP_ITEMS),
        "pool_apply_async": pool_items(fork, pool_apply_async, POOL_TASKS),
        "executor_map": executor_map(fork, POOL_TASKS // 4),
        "array_fill_child": array_fill_child(fork, False),
        "array_copy_child": array_fill_child(fork, True),
        "value_locked_add_contended": value_locked_add_contended(fork),
    }
    json.dump({"python": sys.version.split()[0], "results": results},
              sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
