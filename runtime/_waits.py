"""Blocking waits that let a free-threaded CPython finish delayed finalizations.

With the GIL, an object is finalized the moment its last reference goes.  A
free-threaded build (``Py_GIL_DISABLED``) counts references *biased* towards
the thread that created the object: when another thread drops a reference that
the creator counted (one it stored in a tuple, a list, a closure cell, a
thread's arguments), the object is queued for its creator, and it is finalized
only when that thread next runs Python code (its eval loop merges the queue),
when that thread exits, or at a garbage-collection pass.

A thread blocked in C, on a lock or in ``Thread.join``, runs no Python code.
So a ``Sender`` created by a thread that is now blocked in ``recv`` on the same
channel, and dropped by the producer it was given to, would never close: the
receiver would wait forever for a disconnection that only it can finalize.
On a free-threaded build every blocking wait of the runtime therefore waits in
slices of :data:`SLICE` seconds and returns to Python code between two slices,
which finalizes what was queued for the waiting thread.  With the GIL the wait
is one call, as before.
"""

from __future__ import annotations

import sysconfig
import threading
from _thread import LockType
from queue import Empty, SimpleQueue
from time import monotonic
from typing import TypeVar

__all__ = ["FREE_THREADED", "SLICE", "acquire", "get", "join"]

T = TypeVar("T")

#: Whether this interpreter was built without the GIL.  Its reference counting
#: is biased even when run with ``-X gil=1``, so this is the build, not the mode.
FREE_THREADED: bool = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

#: Longest time a blocked thread of a free-threaded build goes without running
#: Python code: the delay it may add to a finalization queued for it.
SLICE = 0.05


def acquire(lock: LockType, deadline: float | None) -> bool:
    """``lock.acquire()``, until ``deadline`` (``time.monotonic``) if given.

    Returns whether the lock was acquired.  On a free-threaded build the wait
    is cut into slices (module docstring); the result is the same.
    """
    if not FREE_THREADED:
        if deadline is None:
            return lock.acquire()
        remaining = deadline - monotonic()
        return lock.acquire(timeout=remaining) if remaining > 0 else lock.acquire(False)
    while True:
        if deadline is None:
            if lock.acquire(timeout=SLICE):
                return True
        else:
            remaining = deadline - monotonic()
            if remaining <= 0:
                return lock.acquire(False)
            if lock.acquire(timeout=min(remaining, SLICE)):
                return True
        # Back in Python code: the eval loop finalizes what was queued for us.


def get(queue: SimpleQueue[T], deadline: float | None) -> T:
    """``queue.get()``, until ``deadline`` (``time.monotonic``) if given.

    Raises ``queue.Empty`` when the deadline passes with nothing taken.  On a
    free-threaded build the wait is cut into slices (module docstring).
    """
    while True:
        if deadline is None:
            if not FREE_THREADED:
                return queue.get()
            timeout = SLICE
        else:
            timeout = deadline - monotonic()
            if timeout <= 0:
                return queue.get(False)
            if FREE_THREADED and timeout > SLICE:
                timeout = SLICE
        try:
            return queue.get(True, timeout)
        except Empty:
            if deadline is not None and monotonic() >= deadline:
                raise
        # Back in Python code: the eval loop finalizes what was queued for us.


def join(thread: threading.Thread, timeout: float | None) -> None:
    """``thread.join(timeout)``, in slices on a free-threaded build."""
    if not FREE_THREADED:
        thread.join(timeout)
        return
    deadline = None if timeout is None else monotonic() + timeout
    while thread.is_alive():
        if deadline is None:
            thread.join(SLICE)
        else:
            remaining = deadline - monotonic()
            if remaining <= 0:
                return
            thread.join(min(remaining, SLICE))
