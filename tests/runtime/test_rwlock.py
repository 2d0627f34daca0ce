"""RwLock with real threads: concurrent readers, exclusive writers, writer
preference, poisoning, dead guards."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from fearless import (
    DeadGuardError,
    DeadlockError,
    PoisonError,
    RwLock,
    ThreadBoundError,
    WouldBlock,
)


def test_readers_hold_the_lock_together(threads: Any) -> None:
    rw = RwLock("shared")
    readers = 4
    # Every reader waits inside its read block for all the others: this
    # only completes if they all hold the lock at the same time.
    together = threading.Barrier(readers)

    def read() -> str:
        with rw.read() as g:
            together.wait(timeout=10)
            return g.value

    for _ in range(readers):
        threads.start(read)
    threads.join_all()
    assert list(threads.results.values()) == ["shared"] * readers


def test_writers_exclusive_with_everyone(threads: Any) -> None:
    rw = RwLock(0)
    state = {"readers": 0, "writers": 0}
    state_lock = threading.Lock()
    violations: list[str] = []

    def enter(kind: str) -> None:
        with state_lock:
            state[kind] += 1
            if state["writers"] > 1 or (state["writers"] and state["readers"]):
                violations.append(str(state))

    def leave(kind: str) -> None:
        with state_lock:
            state[kind] -= 1

    def writer() -> None:
        for _ in range(1_000):
            with rw.write() as g:
                enter("writers")
                v = g.value
                time.sleep(0)
                g.value = v + 1
                leave("writers")

    def reader() -> None:
        for _ in range(1_000):
            with rw.read() as g:
                enter("readers")
                _ = g.value
                time.sleep(0)
                leave("readers")

    for _ in range(3):
        threads.start(writer)
        threads.start(reader)
    threads.join_all()
    assert violations == []
    with rw.read() as g:
        assert g.value == 3_000


def test_waiting_writer_blocks_new_readers(threads: Any, wait_until: Any) -> None:
    rw = RwLock(0)
    first = rw.read()
    first.__enter__()
    threads.start(_write, rw, 1)  # waits for the first reader
    wait_until(lambda: rw._waiting_writers == 1)
    probe = type(threads)()  # from another thread: this one already reads
    probe.start(lambda: rw.try_read().__enter__())
    with pytest.raises(WouldBlock):
        probe.join_all()
    threads.start(_read, rw)  # must queue behind the writer
    wait_until(lambda: len(rw._readers_ok._waiters) == 1)  # type: ignore[attr-defined]
    first.__exit__(None, None, None)
    threads.join_all()
    assert threads.results[1] == 1  # the late reader saw the write


def _write(rw: RwLock[int], value: int) -> None:
    with rw.write() as g:
        g.value = value


def _read(rw: RwLock[int]) -> int:
    with rw.read() as g:
        return g.value


def test_recursive_read_does_not_deadlock_behind_waiting_writer(threads: Any, wait_until: Any) -> None:
    rw = RwLock(0)

    def nested_read() -> int:
        with rw.read() as outer:
            wait_until(lambda: rw._waiting_writers == 1)
            with rw.read() as inner:  # a writer waits, but we already read
                return outer.value + inner.value

    threads.start(nested_read)
    wait_until(lambda: rw._readers)
    threads.start(_write, rw, 5)
    threads.join_all()
    assert threads.results[0] == 0
    assert _read(rw) == 5


def test_read_guard_is_read_only() -> None:
    rw = RwLock([1])
    with rw.read() as g:
        with pytest.raises(AttributeError):
            g.value = [2]  # type: ignore[misc]
        assert g.value == [1]


def test_dead_guards_raise(threads: Any) -> None:
    rw = RwLock(1)
    with rw.read() as r:
        pass
    with rw.write() as w:
        pass
    with pytest.raises(DeadGuardError):
        _ = r.value
    with pytest.raises(DeadGuardError):
        _ = w.value
    with pytest.raises(DeadGuardError):
        w.value = 2
    with pytest.raises(DeadGuardError):
        with w:
            pass
    with rw.write() as w:
        threads.start(lambda: w.value)
        with pytest.raises(ThreadBoundError):
            threads.join_all()
    with rw.try_write():  # nothing leaked
        pass


def test_write_exception_poisons_read_exception_does_not() -> None:
    rw = RwLock({"n": 0})
    with pytest.raises(KeyError):
        with rw.read():
            raise KeyError
    assert not rw.is_poisoned()
    with pytest.raises(KeyError):
        with rw.write() as g:
            g.value["n"] = 1
            raise KeyError
    assert rw.is_poisoned()
    with pytest.raises(PoisonError) as info:
        with rw.read():
            pass
    with info.value.into_inner() as r:
        assert r.value == {"n": 1}
    with pytest.raises(PoisonError) as winfo:
        with rw.write():
            pass
    with winfo.value.into_inner() as w:
        w.value = {"n": 0}
    rw.clear_poison()
    assert _read(rw) == {"n": 0}  # type: ignore[arg-type, comparison-overlap]
    assert rw._writer is None and not rw._readers  # nothing leaked


def test_try_write_and_try_read(threads: Any) -> None:
    rw = RwLock(0)
    with rw.read():
        threads.start(lambda: rw.try_write().__enter__())
        with pytest.raises(WouldBlock):
            threads.join_all()
    holding, release = threading.Event(), threading.Event()

    def hold_write() -> None:
        with rw.write():
            holding.set()
            release.wait(10)

    threads2 = type(threads)()
    threads2.start(hold_write)
    holding.wait(10)
    with pytest.raises(WouldBlock):
        with rw.try_read():
            pass
    with pytest.raises(WouldBlock):
        with rw.try_write():
            pass
    release.set()
    threads2.join_all()
    with rw.try_write() as g:
        g.value = 3
    with rw.try_read() as r:
        assert r.value == 3


def test_upgrade_and_reentry_raise_deadlock_error() -> None:
    rw = RwLock(0)
    with rw.read():
        with pytest.raises(DeadlockError):
            with rw.write():
                pass
    with rw.write():
        with pytest.raises(DeadlockError):
            with rw.read():
                pass
        with pytest.raises(DeadlockError):
            with rw.write():
                pass
    assert not rw.is_poisoned()
    with rw.try_write():
        pass


def test_interrupted_writer_lets_readers_in(threads: Any, wait_until: Any) -> None:
    # A writer that stops waiting (here: an exception from its wait) must not
    # leave readers blocked behind it.
    rw = RwLock(0)
    holding, release = threading.Event(), threading.Event()

    def hold_read() -> None:
        with rw.read():
            holding.set()
            release.wait(10)

    threads.start(hold_read)
    holding.wait(10)
    cond = rw._writer_ok
    real_wait = cond.wait

    def interrupted_wait(timeout: float | None = None) -> bool:
        real_wait(0.001)
        raise KeyboardInterrupt

    cond.wait = interrupted_wait  # type: ignore[method-assign]
    try:
        with pytest.raises(KeyboardInterrupt):
            with rw.write():
                pass
    finally:
        cond.wait = real_wait  # type: ignore[method-assign]
    assert rw._waiting_writers == 0
    probe = type(threads)()  # a new reader is not queued behind a ghost writer
    probe.start(_read, rw)
    probe.join_all()
    assert probe.results[0] == 0
    release.set()
    threads.join_all()
    _write(rw, 1)
    assert _read(rw) == 1
