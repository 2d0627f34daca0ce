"""Both implementations of ``Mutex`` (docs/runtime.md, "The C hot path"):
the C types of ``fearless._mutex_accel`` where they are built, and the
Python classes everywhere else, which must behave alike: the Mutex tests run
again, in a subprocess, with ``FEARLESS_PURE_PYTHON=1``."""

from __future__ import annotations

import os
from collections.abc import Callable
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


def test_the_python_classes_pass_the_same_tests(run_pure_python: Callable[[list[str], str], str]) -> None:
    if _accel() is None or os.environ.get("FEARLESS_PURE_PYTHON"):
        pytest.skip("only the Python classes run here: the other tests are theirs")
    tests = [str(HERE / "test_mutex.py"), str(HERE / "test_mixins.py"), str(HERE / "test_stress.py")]
    run_pure_python(tests, "mutex or Mutex or copy")


def test_a_mutex_never_initialised_raises_instead_of_crashing() -> None:
    m = fearless.Mutex.__new__(fearless.Mutex)
    with pytest.raises((TypeError, AttributeError)):  # C: TypeError; Python: no _lock yet
        with m.lock():
            pass
