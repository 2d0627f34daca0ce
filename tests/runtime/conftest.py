"""Helpers for the runtime tests.

No test asserts on timing.  Timeouts appear only as deadlock guards: a test
that would hang fails after DEADLINE seconds instead.
"""

from __future__ import annotations

import faulthandler
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

DEADLINE = 10.0


def _run_pure_python(tests: list[str], keyword: str) -> str:
    """Run the test files ``tests`` (``-k keyword``) in a subprocess with
    ``FEARLESS_PURE_PYTHON=1`` (the Python classes instead of the C hot
    paths; checked first: no class of ``fearless`` has a C base then); fail
    unless some ran and all passed.  Returns pytest's output."""
    env = {**os.environ, "FEARLESS_PURE_PYTHON": "1"}
    check = (
        "import fearless, sys; sys.exit(any(c.__module__.endswith('_accel') "
        "for name in fearless.__all__ for c in getattr(getattr(fearless, name), '__mro__', ())))"
    )
    assert subprocess.run([sys.executable, "-c", check], env=env).returncode == 0, "FEARLESS_PURE_PYTHON left C in"
    # The run holds many tests, each under its own watchdog in the
    # subprocess, and is bounded by ``timeout``: this test's own watchdog
    # (one test's worth, WATCHDOG) would kill it on a loaded machine, and
    # with it the whole pytest process, its report unwritten.
    faulthandler.cancel_dump_traceback_later()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *tests, "-k", keyword],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        faulthandler.dump_traceback_later(WATCHDOG, exit=True, file=sys.__stderr__ or sys.stderr)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and " failed" not in proc.stdout
    return proc.stdout


def _wait_until(pred: Callable[[], bool], timeout: float = DEADLINE) -> None:
    """Poll until ``pred()`` is true; fail the test after ``timeout`` s."""
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            pytest.fail(f"condition not reached within {timeout} s: {pred}")
        time.sleep(0.001)


class Threads:
    """Plain ``threading`` threads (independent of ``fearless.spawn``) whose
    exceptions are collected and re-raised by ``join_all``."""

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []
        self.results: dict[int, Any] = {}

    def start(self, fn: Callable[..., Any], *args: Any) -> threading.Thread:
        index = len(self._threads)

        def run() -> None:
            try:
                self.results[index] = fn(*args)
            except BaseException as exc:  # reported by join_all
                self.errors.append(exc)

        t = threading.Thread(target=run, daemon=True)
        self._threads.append(t)
        t.start()
        return t

    def join_all(self, timeout: float = DEADLINE) -> None:
        end = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, end - time.monotonic()))
            if t.is_alive():
                pytest.fail("a thread is still running: deadlock?")
        if self.errors:
            raise self.errors[0]


WATCHDOG = 60.0


@pytest.fixture(autouse=True)
def _watchdog() -> Iterator[None]:
    """Last-resort deadlock guard: a test still running after WATCHDOG s
    dumps every thread's stack and kills the process (a failure, not a
    hang).  Tests normally fail much earlier, through DEADLINE."""
    faulthandler.dump_traceback_later(WATCHDOG, exit=True, file=sys.__stderr__ or sys.stderr)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def wait_until() -> Callable[..., None]:
    return _wait_until


@pytest.fixture
def threads() -> Iterator[Threads]:
    ts = Threads()
    yield ts
    # Do not leak running threads into the next test (they are daemons, so a
    # stuck one cannot hang the interpreter either).
    for t in ts._threads:
        t.join(DEADLINE)


@pytest.fixture
def run_pure_python() -> Callable[[list[str], str], str]:
    """``run_pure_python(test_files, keyword)``: those tests again, in a
    subprocess, with FEARLESS_PURE_PYTHON=1 (see ``_run_pure_python``)."""
    return _run_pure_python
