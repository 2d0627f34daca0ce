"""Mutex with real threads: exact counts, exclusion, poisoning, dead guards."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

import pytest

from fearless import (
    DeadGuardError,
    DeadlockError,
    Mutex,
    MutexGuard,
    NotSend,
    PoisonError,
    ThreadBoundError,
    WouldBlock,
)

THREADS = 8
INCREMENTS = 10_000


def test_exact_counter_under_contention(threads: Any) -> None:
    m = Mutex(0)
    start = threading.Barrier(THREADS)

    def work() -> None:
        start.wait(timeout=10)
        for i in range(INCREMENTS):
            with m.lock() as g:
                v = g.value
                if i % 64 == 0:
                    time.sleep(0)  # invite a thread switch inside the section
                g.value = v + 1

    for _ in range(THREADS):
        threads.start(work)
    threads.join_all()
    with m.lock() as g:
        assert g.value == THREADS * INCREMENTS


def test_at_most_one_holder(threads: Any) -> None:
    m = Mutex([0])  # [holders right now]
    seen: list[int] = []

    def work() -> None:
        for _ in range(2_000):
            with m.lock() as g:
                g.value[0] += 1
                time.sleep(0)
                seen.append(g.value[0])
                g.value[0] -= 1

    for _ in range(4):
        threads.start(work)
    threads.join_all()
    assert len(seen) == 8_000
    assert set(seen) == {1}


def test_guard_reads_and_assigns() -> None:
    m = Mutex([1])
    with m.lock() as g:
        g.value.append(2)
        g.value = g.value + [3]
    with m.lock() as g:
        assert g.value == [1, 2, 3]


def test_dead_guard_raises_after_block() -> None:
    m = Mutex("data")
    with m.lock() as g:
        pass
    with pytest.raises(DeadGuardError):
        _ = g.value
    with pytest.raises(DeadGuardError):
        g.value = "other"
    assert isinstance(DeadGuardError(), RuntimeError)
    with m.lock() as g2:
        assert g2.value == "data"  # the failed assignment changed nothing


def test_guard_unusable_before_entering_and_single_use() -> None:
    m = Mutex(1)
    g = m.lock()
    with pytest.raises(DeadGuardError):
        _ = g.value
    with g:
        pass
    with pytest.raises(DeadGuardError):
        with g:
            pass
    with m.try_lock():  # the failed re-entry did not leave the lock held
        pass


def test_guard_bound_to_locking_thread(threads: Any) -> None:
    m = Mutex(1)
    with m.lock() as g:
        threads.start(lambda: g.value)
        with pytest.raises(ThreadBoundError):
            threads.join_all()
    assert isinstance(g, NotSend)


def test_poisoning_and_recovery(threads: Any) -> None:
    m = Mutex([1, 2])
    with pytest.raises(ZeroDivisionError):
        with m.lock() as g:
            g.value.append(3)
            1 / 0
    assert m.is_poisoned()
    assert not m._lock.locked()
    # Another thread can take the lock (and is refused).
    threads.start(lambda: m.lock().__enter__())
    with pytest.raises(PoisonError):
        threads.join_all()
    assert not m._lock.locked()  # refusing did not leak the lock
    with pytest.raises(PoisonError) as info:
        with m.lock():
            pytest.fail("entered a poisoned mutex")
    assert not m._lock.locked()  # raising did not leak the lock
    with info.value.into_inner() as g:
        assert g.value == [1, 2, 3]  # the half-done update is visible
        g.value = [1, 2]
    assert m.is_poisoned()  # recovery does not clear it by itself
    m.clear_poison()
    with m.lock() as g:
        assert g.value == [1, 2]


def test_poisoned_try_lock_raises_poison_not_wouldblock() -> None:
    m = Mutex(0)
    with pytest.raises(KeyError):
        with m.lock():
            raise KeyError
    with pytest.raises(PoisonError):
        with m.try_lock():
            pass
    assert not m._lock.locked()  # never leaked


def test_exception_in_recovery_guard_poisons_again() -> None:
    m = Mutex(0)
    with pytest.raises(ValueError):
        with m.lock():
            raise ValueError
    m.clear_poison()
    assert not m.is_poisoned()
    try:
        with m.lock():
            pass
    except PoisonError:  # pragma: no cover
        pytest.fail("clear_poison did not clear")
    with pytest.raises(ValueError):
        with m.lock():
            raise ValueError
    with pytest.raises(PoisonError) as info:
        with m.lock():
            pass
    with pytest.raises(OSError):
        with info.value.into_inner():
            raise OSError
    assert m.is_poisoned()


def test_try_lock(threads: Any, wait_until: Any) -> None:
    m = Mutex(0)
    with m.try_lock() as g:
        g.value = 1
        with pytest.raises(WouldBlock):  # held by this thread
            with m.try_lock():
                pass
    release = threading.Event()
    holding = threading.Event()

    def hold() -> None:
        with m.lock():
            holding.set()
            release.wait(10)

    threads.start(hold)
    holding.wait(10)
    with pytest.raises(WouldBlock):
        with m.try_lock():
            pass
    release.set()
    threads.join_all()
    with m.try_lock() as g:
        assert g.value == 1
    assert not m.is_poisoned()  # the WouldBlock was caught inside the block


def test_relock_in_same_thread_raises_deadlock_error() -> None:
    m = Mutex(0)
    with m.lock():
        with pytest.raises(DeadlockError):
            with m.lock():
                pass
    assert not m.is_poisoned()
    with m.try_lock():
        pass


def test_mutex_cannot_be_copied() -> None:
    m = Mutex(0)
    with pytest.raises(TypeError):
        copy.copy(m)
    with m.lock() as g:
        with pytest.raises(TypeError):
            copy.copy(g)
    assert isinstance(g, MutexGuard)
