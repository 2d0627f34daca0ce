"""Throughput of the fearless runtime against the standard library, on both builds.

Measured in one run, best of ``--repeat`` timings (time.perf_counter), first
on the interpreter running this script, then (unless ``--this-build-only``)
on a free-threaded CPython under ``-X gil=0``, found as ``make test-ft``
finds it (``tools/free_threaded_python.sh`` with ``FT_NO_BUILD``: never
built from here; when none is found the table says so):

1. channel messages/s, one producer thread -> one consumer thread, and four
   producers -> one consumer: ``fearless.channel`` vs ``queue.Queue`` and
   ``queue.SimpleQueue`` doing the same (a sentinel per producer stands in
   for disconnection); the same, one -> one, for a bounded channel
   (``sync_channel(1000)`` vs ``queue.Queue(1000)``);
2. mutex round trips/s, ``with m.lock() as g: g.value += 1`` vs
   ``with lock: box[0] += 1`` on a ``threading.Lock``, in one thread and
   with four threads contending.

Each row prints fearless's rate, the baselines' rates, the ratios and the
target issue 15 sets for the row ("ok" or "MISSED"; contended mutex rows
have none, they are reported).

Run:  python benchmarks/bench_runtime.py [--messages N] [--ops N] [--repeat R]
``main(argv)`` returns 0, so ``benchmarks/run_all.py`` can call it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from fearless import Mutex, RecvError, Sender, channel, sync_channel

ROOT = Path(__file__).resolve().parent.parent
BOUND = 1000  # the bounded rows' capacity

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


def fearless_channel(producers: int, messages: int, bound: int | None = None) -> float:
    tx, rx = channel[int]() if bound is None else sync_channel[int](bound)
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


def fearless_bounded(producers: int, messages: int) -> float:
    return fearless_channel(producers, messages, BOUND)


def queue_bounded(producers: int, messages: int) -> float:
    return queue_channel(producers, messages, queue.Queue(BOUND))


def simplequeue_channel(producers: int, messages: int) -> float:
    return queue_channel(producers, messages, queue.SimpleQueue())


def plain_queue_channel(producers: int, messages: int) -> float:
    return queue_channel(producers, messages, queue.Queue())


def queue_channel(producers: int, messages: int, q: queue.Queue[object] | queue.SimpleQueue[object]) -> float:
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

Bench = Callable[[int, int], float]

#: (row, unit, workers, fearless, first baseline, second baseline or None,
#:  target: (which ratio, minimum with the GIL, minimum without) or None)
ROWS: list[tuple[str, str, int, Bench, tuple[str, Bench], tuple[str, Bench] | None, tuple[int, float, float] | None]] = [
    ("channel 1 producer -> 1 consumer", "msg/s", 1, fearless_channel,
     ("queue.Queue", plain_queue_channel), ("SimpleQueue", simplequeue_channel), (0, 1.0, 1.0)),
    ("channel 4 producers -> 1 consumer", "msg/s", 4, fearless_channel,
     ("queue.Queue", plain_queue_channel), ("SimpleQueue", simplequeue_channel), (0, 1.0, 1.0)),
    (f"sync_channel({BOUND}) 1 -> 1", "msg/s", 1, fearless_bounded,
     (f"Queue({BOUND})", queue_bounded), None, (0, 1.0, 1.0)),
    ("mutex 1 thread", "ops/s", 1, fearless_mutex, ("Lock", stdlib_mutex), None, (0, 0.5, 0.4)),
    ("mutex 4 threads contended", "ops/s", 4, fearless_mutex, ("Lock", stdlib_mutex), None, None),
]
#: The one -> one channel must also reach this much of SimpleQueue with the GIL.
SIMPLEQUEUE_TARGET_WITH_GIL = 0.5


def _best(fn: Bench, workers: int, n: int, repeat: int) -> float:
    """Best rate (operations per second) over ``repeat`` runs."""
    return max(n // workers * workers / fn(workers, n) for _ in range(repeat))


def measure(messages: int, ops: int, repeat: int) -> dict[str, object]:
    """Every row on this interpreter: its description and the rates."""
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    build = (
        f"Python {platform.python_version()} ({'GIL' if gil else 'free-threaded, -X gil=0'}"
        f"{', Py_GIL_DISABLED build' if sysconfig.get_config_var('Py_GIL_DISABLED') else ''})"
    )
    rates = {}
    for name, unit, workers, ours, first, second, _ in ROWS:
        n = messages if unit == "msg/s" else ops
        # Interleaved, so that a burst of load on a shared machine hits all.
        best = [0.0, 0.0, 0.0]
        fns = [ours, first[1]] + ([second[1]] if second else [])
        for _ in range(repeat):
            for i, fn in enumerate(fns):
                best[i] = max(best[i], _best(fn, workers, n, 1))
        rates[name] = best[: len(fns)]
    return {"build": build, "gil": gil, "rates": rates}


def free_threaded(args: argparse.Namespace) -> dict[str, object] | str:
    """The same measurements on a free-threaded CPython under -X gil=0, or
    why there are none."""
    env = dict(os.environ, FT_NO_BUILD="1")
    found = subprocess.run([str(ROOT / "tools" / "free_threaded_python.sh")], capture_output=True, text=True, env=env)
    if found.returncode != 0:
        return "no free-threaded CPython found (make test-ft builds one)"
    # The C hot paths for that interpreter, beside the sources (as make test-ft does)
    subprocess.run([str(ROOT / "tools" / "build_accel.sh"), found.stdout.strip()], check=True)
    with tempfile.TemporaryDirectory() as path:
        os.symlink(ROOT / "runtime", Path(path) / "fearless")  # the runtime/ sources themselves
        run = subprocess.run(
            [found.stdout.strip(), "-X", "gil=0", __file__, "--this-build-only", "--json",
             "--messages", str(args.messages), "--ops", str(args.ops), "--repeat", str(args.repeat)],
            capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=path, PYTHON_GIL="0"),
        )
    if run.returncode != 0:
        return f"the free-threaded run failed: {run.stderr.strip()[-500:]}"
    result: dict[str, object] = json.loads(run.stdout)
    return result


def report(result: dict[str, object]) -> None:
    print(result["build"])
    header = f"  {'benchmark':34} {'unit':6} {'fearless':>11} {'baseline':>11} {'ratio':>6}  {'vs':12} target"
    print(header)
    print("  " + "-" * (len(header) - 2))
    rates = result["rates"]
    assert isinstance(rates, dict)
    for name, unit, _, _, first, second, target in ROWS:
        ours, *bases = rates[name]
        for i, ((base_name, _), base) in enumerate(zip([first] + ([second] if second else []), bases)):
            ratio = ours / base
            need = None
            if target is not None and target[0] == i:
                need = target[1] if result["gil"] else target[2]
            elif base_name == "SimpleQueue" and name.startswith("channel 1 ") and result["gil"]:
                need = SIMPLEQUEUE_TARGET_WITH_GIL
            verdict = "" if need is None else f">= {need:.1f}x {'ok' if ratio >= need else 'MISSED'}"
            label, shown = (name, f"{ours:11,.0f}") if i == 0 else ("", "")
            print(f"  {label:34} {unit if i == 0 else '':6} {shown:>11} {base:11,.0f} {ratio:6.3f}  {base_name:12} {verdict}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200_000, help="messages per channel run")
    parser.add_argument("--ops", type=int, default=200_000, help="lock round trips per mutex run")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the best counts")
    parser.add_argument("--this-build-only", action="store_true", help="do not run the free-threaded build too")
    parser.add_argument("--json", action="store_true", help="print the rates as JSON (for the side-by-side run)")
    args = parser.parse_args(argv)

    here = measure(args.messages, args.ops, args.repeat)
    if args.json:
        print(json.dumps(here))
        return 0
    print(f"best of {args.repeat}; ratio = fearless / baseline (higher is better for fearless)\n")
    report(here)
    if not args.this_build_only:
        print()
        there = free_threaded(args)
        if isinstance(there, str):
            print(f"free-threaded build: {there}")
        else:
            report(there)
    return 0


if __name__ == "__main__":
    sys.exit(main())
