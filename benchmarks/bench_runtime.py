"""Throughput of the fearless runtime against the standard library.

Measured in one run, best of ``--repeat`` timings (time.perf_counter):

1. channel messages/s, one producer thread -> one consumer thread, and four
   producers -> one consumer: ``fearless.channel`` vs ``queue.SimpleQueue``
   doing the same (a sentinel per producer stands in for disconnection);
2. mutex round trips/s, ``with m.lock() as g: g.value += 1`` vs
   ``with lock: box[0] += 1`` on a ``threading.Lock``, in one thread and
   with four threads contending.

Run:  python benchmarks/bench_runtime.py [--messages N] [--ops N] [--repeat R]
``main(argv)`` returns 0, so ``benchmarks/run_all.py`` can call it.
"""

from __future__ import annotations

import argparse
import platform
import queue
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Sequence

from fearless import Mutex, RecvError, Sender, channel

_STOP = object()


def _run_threads(targets: list[Callable[[], None]]) -> float:
    """Start every target at once (behind a barrier) and return the wall
    time until the last one finishes."""
    barrier = threading.Barrier(len(targets) + 1)

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            barrier.wait()
            fn()

        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - start


# -- channels ------------------------------------------------------------------


def fearless_channel(producers: int, messages: int) -> float:
    tx, rx = channel[int]()
    per = messages // producers
    senders = [tx.clone() for _ in range(producers)]
    tx.close()

    def produce(sender: Sender[int]) -> Callable[[], None]:
        def run() -> None:
            with sender:
                send = sender.send
                for i in range(per):
                    send(i)

        return run

    received = 0

    def consume() -> None:
        nonlocal received
        recv = rx.recv
        n = 0
        try:
            while True:
                recv()
                n += 1
        except RecvError:
            received = n

    elapsed = _run_threads([consume] + [produce(s) for s in senders])
    del senders
    assert received == per * producers, received
    return elapsed


def simplequeue_channel(producers: int, messages: int) -> float:
    q: queue.SimpleQueue[object] = queue.SimpleQueue()
    per = messages // producers

    def produce() -> None:
        put = q.put
        for i in range(per):
            put(i)
        put(_STOP)

    received = 0

    def consume() -> None:
        nonlocal received
        get = q.get
        n = 0
        stopped = 0
        while stopped < producers:
            if get() is _STOP:
                stopped += 1
            else:
                n += 1
        received = n

    elapsed = _run_threads([consume] + [produce] * producers)
    assert received == per * producers, received
    return elapsed


# -- mutex ------------------------------------------------------------------------


def fearless_mutex(threads: int, ops: int) -> float:
    m = Mutex(0)
    per = ops // threads

    def work() -> None:
        lock = m.lock
        for _ in range(per):
            with lock() as g:
                g.value += 1

    elapsed = _run_threads([work] * threads)
    with m.lock() as g:
        assert g.value == per * threads
    return elapsed


def stdlib_mutex(threads: int, ops: int) -> float:
    lock = threading.Lock()
    box = [0]
    per = ops // threads

    def work() -> None:
        for _ in range(per):
            with lock:
                box[0] += 1

    elapsed = _run_threads([work] * threads)
    assert box[0] == per * threads
    return elapsed


# -- driver -------------------------------------------------------------------------


def _best(fn: Callable[[int, int], float], workers: int, n: int, repeat: int) -> float:
    """Best rate (operations per second) over ``repeat`` runs."""
    return max(n // workers * workers / fn(workers, n) for _ in range(repeat))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200_000, help="messages per channel run")
    parser.add_argument("--ops", type=int, default=200_000, help="lock round trips per mutex run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best counts")
    args = parser.parse_args(argv)

    rows = [
        ("channel 1 producer -> 1 consumer", "msg/s", fearless_channel, simplequeue_channel, 1, args.messages),
        ("channel 4 producers -> 1 consumer", "msg/s", fearless_channel, simplequeue_channel, 4, args.messages),
        ("mutex 1 thread", "ops/s", fearless_mutex, stdlib_mutex, 1, args.ops),
        ("mutex 4 threads contended", "ops/s", fearless_mutex, stdlib_mutex, 4, args.ops),
    ]
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}, "
        f"{'GIL' if gil else 'free-threaded'}"
        f"{', Py_GIL_DISABLED build' if sysconfig.get_config_var('Py_GIL_DISABLED') else ''}), "
        f"best of {args.repeat}"
    )
    header = f"{'benchmark':36} {'unit':6} {'fearless':>12} {'baseline':>12} {'ratio':>7}  baseline is"
    print(header)
    print("-" * len(header))
    for name, unit, ours, theirs, workers, n in rows:
        rate = _best(ours, workers, n, args.repeat)
        base = _best(theirs, workers, n, args.repeat)
        baseline_name = "queue.SimpleQueue" if "channel" in name else "threading.Lock"
        print(f"{name:36} {unit:6} {rate:12,.0f} {base:12,.0f} {rate / base:7.3f}  {baseline_name}")
    print("ratio = fearless / baseline (higher is better for fearless)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
