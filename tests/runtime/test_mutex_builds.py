"""Both implementations of ``Mutex`` (docs/runtime.md, "The C hot path"):
the C types of ``fearless._mutex_accel`` where they are built, and the
Python classes everywhere else, which must behave alike: the Mutex tests run
again, in a subprocess, with ``FEARLESS_PURE_PYTHON=1``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import fearless

HERE = Path(__file__).resolve().parent


def _accel() -> object | None:
    try:
        from fearless import _mutex_accel
    except ImportError:
        return None
    return _mutex_accel


def test_the_c_hot_path_is_used_where_it_is_built() -> None:
    accel = _accel()
    if accel is None:
        pytest.skip("no C hot path here (a free-threaded build, PyPy, or no C compiler at install)")
    if os.environ.get("FEARLESS_PURE_PYTHON"):
        pytest.skip("FEARLESS_PURE_PYTHON is set: the Python classes run")
    assert issubclass(fearless.Mutex, accel.MutexBase)  # type: ignore[attr-defined]
    assert issubclass(fearless.MutexGuard, accel.MutexGuardBase)  # type: ignore[attr-defined]
    # the same mixins as the Python classes
    assert issubclass(fearless.MutexGuard, fearless.NotSend)


def test_the_python_classes_pass_the_same_tests() -> None:
    if _accel() is None or os.environ.get("FEARLESS_PURE_PYTHON"):
        pytest.skip("only the Python classes run here: the other tests are theirs")
    env = {**os.environ, "FEARLESS_PURE_PYTHON": "1"}
    check = "import fearless, sys; sys.exit(any(c.__module__ == 'fearless._mutex_accel' for c in fearless.Mutex.__mro__))"
    assert subprocess.run([sys.executable, "-c", check], env=env).returncode == 0, "FEARLESS_PURE_PYTHON left C in"
    tests = [str(HERE / "test_mutex.py"), str(HERE / "test_mixins.py"), str(HERE / "test_stress.py")]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *tests, "-k", "mutex or Mutex or copy"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout


def test_a_mutex_never_initialised_raises_instead_of_crashing() -> None:
    m = fearless.Mutex.__new__(fearless.Mutex)
    with pytest.raises((TypeError, AttributeError)):  # C: TypeError; Python: no _lock yet
        with m.lock():
            pass
