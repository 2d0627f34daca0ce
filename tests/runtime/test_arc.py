"""Arc (shared across threads) and Rc (bound to one thread)."""

from __future__ import annotations

import copy
import gc
from typing import Any

import pytest

from fearless import Arc, ClosedError, Mutex, NotSend, Rc, ThreadBoundError


def test_arc_clone_and_count() -> None:
    a = Arc((1, 2))
    assert a.strong_count() == 1
    b = a.clone()
    assert b.value is a.value
    assert a.strong_count() == b.strong_count() == 2
    b.drop()
    b.drop()  # idempotent
    assert a.strong_count() == 1
    with pytest.raises(ClosedError):
        _ = b.value
    with pytest.raises(ClosedError):
        b.clone()


def test_arc_counts_garbage_collected_handles() -> None:
    a = Arc("x")
    b = a.clone()
    c = copy.copy(a)  # a copy is a clone
    assert a.strong_count() == 3
    del b
    assert a.strong_count() == 2
    cycle: list[Any] = [c]
    cycle.append(cycle)
    del c, cycle
    gc.collect()
    assert a.strong_count() == 1


def test_arc_value_is_read_only() -> None:
    a = Arc([1])
    with pytest.raises(AttributeError):
        a.value = [2]  # type: ignore[misc]


def test_arc_count_exact_under_concurrent_clone_and_drop(threads: Any) -> None:
    a = Arc(Mutex(0))

    def work(arc: Arc[Mutex[int]]) -> None:
        for _ in range(5_000):
            c = arc.clone()
            with c.value.lock() as g:
                g.value += 1
            c.drop()
        arc.drop()

    for _ in range(8):
        threads.start(work, a.clone())
    threads.join_all()
    assert a.strong_count() == 1
    with a.value.lock() as g:
        assert g.value == 40_000


def test_rc_same_thread() -> None:
    r = Rc({"k": 1})
    assert isinstance(r, NotSend)
    s = r.clone()
    assert s.value is r.value
    assert r.strong_count() == 2
    s.drop()
    assert r.strong_count() == 1
    t = r.clone()
    del t
    assert r.strong_count() == 1
    with pytest.raises(ClosedError):
        _ = s.value


@pytest.mark.parametrize("use", ["value", "clone", "strong_count", "drop"])
def test_rc_refuses_other_threads(threads: Any, use: str) -> None:
    r = Rc([1, 2])
    clone = r.clone()

    def touch() -> None:
        attr = getattr(clone, use)
        if callable(attr):
            attr()

    threads.start(touch)
    with pytest.raises(ThreadBoundError):
        threads.join_all()
    assert isinstance(ThreadBoundError(), RuntimeError)
    assert r.strong_count() == 2  # the refused calls changed nothing
    assert clone.value == [1, 2]


def test_rc_dropped_by_gc_in_another_thread_is_allowed(threads: Any) -> None:
    r = Rc(0)
    holder = [r.clone()]
    threads.start(holder.clear)  # the last reference dies in another thread
    threads.join_all()
    assert r.strong_count() == 1
