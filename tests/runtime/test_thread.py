"""spawn / JoinHandle / scope with real threads."""

from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import Any

import pytest

from fearless import (
    ClosedError,
    DeadlockError,
    JoinHandle,
    JoinTimeout,
    Mutex,
    RecvError,
    Sender,
    channel,
    scope,
    spawn,
)

DEADLINE = 10.0

needs_groups = pytest.mark.skipif(sys.version_info < (3, 11), reason="exception groups and notes are 3.11+")


def _add(a: int, b: int = 0) -> int:
    return a + b


def _fail(message: str) -> None:
    raise ValueError(message)


def test_join_returns_result() -> None:
    h = spawn(_add, 2, b=3)
    assert h.join(timeout=DEADLINE) == 5
    assert h.join(timeout=DEADLINE) == 5  # the result is kept
    assert h.is_finished()


@needs_groups
def test_join_reraises_with_thread_traceback() -> None:
    h = spawn(_fail, "boom")
    tracebacks = []
    for _ in range(2):  # every join raises the same exception
        with pytest.raises(ValueError, match="boom") as info:
            h.join(timeout=DEADLINE)
        names = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
        assert names[-1] == "_fail"  # the frame that raised, in the thread
        assert "_run" not in names  # fearless's own wrapper frame is cut
        assert info.value.__notes__ == ["(raised in thread 'fearless:_fail', re-raised by join)"]
        tracebacks.append(names)
    assert tracebacks[0] == tracebacks[1]  # repeated joins do not pile up frames


def test_join_timeout_then_join_again() -> None:
    go = threading.Event()
    h = spawn(lambda: go.wait(DEADLINE) and "done")
    with pytest.raises(JoinTimeout) as info:
        h.join(timeout=0.01)
    assert isinstance(info.value, TimeoutError)
    assert not h.is_finished()
    go.set()
    assert h.join(timeout=DEADLINE) == "done"
    assert h.is_finished()


def test_thread_cannot_join_itself() -> None:
    box: list[JoinHandle[Any]] = []
    ready = threading.Event()

    def join_self() -> str:
        ready.wait(DEADLINE)
        try:
            box[0].join(timeout=DEADLINE)
        except DeadlockError:
            return "refused"
        return "joined?"

    box.append(spawn(join_self))
    ready.set()
    assert box[0].join(timeout=DEADLINE) == "refused"


def test_failed_thread_releases_what_it_owned() -> None:
    # The producer dies holding its Sender: as in Rust's unwinding, the
    # Sender must be released so the consumer sees the disconnection
    # instead of waiting forever (the traceback would otherwise keep it).
    tx, rx = channel[int]()

    def produce(tx: Sender[int]) -> None:
        sender = tx  # a local in the failing frame
        sender.send(1)
        raise RuntimeError("producer died")

    h = spawn(produce, tx)
    del tx
    assert rx.recv(timeout=DEADLINE) == 1
    with pytest.raises(RecvError):
        rx.recv(timeout=DEADLINE)
    with pytest.raises(RuntimeError, match="producer died"):
        h.join(timeout=DEADLINE)


def test_spawn_many_exact_count() -> None:
    m = Mutex(0)

    def bump(n: int) -> int:
        for _ in range(n):
            with m.lock() as g:
                g.value += 1
        return n

    handles = [spawn(bump, 1_000) for _ in range(8)]
    assert sum(h.join(timeout=DEADLINE) for h in handles) == 8_000
    with m.lock() as g:
        assert g.value == 8_000


# -- scope ---------------------------------------------------------------------


def test_scope_joins_every_thread() -> None:
    results = [0] * 8
    gate = threading.Event()

    def work(i: int) -> None:
        gate.wait(DEADLINE)
        results[i] = i * i

    with scope() as s:
        handles = [s.spawn(work, i) for i in range(8)]
        gate.set()
    assert all(h.is_finished() for h in handles)
    assert results == [i * i for i in range(8)]


def test_scoped_join_inside_block() -> None:
    with scope() as s:
        h = s.spawn(_add, 1, 2)
        assert h.join(timeout=DEADLINE) == 3


def test_scope_reraises_single_thread_exception() -> None:
    with pytest.raises(ValueError, match="only"):
        with scope() as s:
            s.spawn(_fail, "only")
            s.spawn(_add, 1)


@needs_groups
def test_scope_groups_several_exceptions() -> None:
    with pytest.raises(ExceptionGroup) as info:  # noqa: F821 (3.11+)
        with scope() as s:
            s.spawn(_fail, "first")
            s.spawn(_fail, "second")
    messages = sorted(str(e) for e in info.value.exceptions)
    assert messages == ["first", "second"]


def test_scope_body_exception_waits_for_threads() -> None:
    gate = threading.Event()
    done: list[str] = []

    def slow() -> None:
        gate.wait(DEADLINE)
        done.append("finished")

    with pytest.raises(KeyError):
        with scope() as s:
            h = s.spawn(slow)
            gate.set()
            raise KeyError("body")
    assert h.is_finished()
    assert done == ["finished"]


@needs_groups
def test_scope_body_and_thread_exceptions_grouped() -> None:
    with pytest.raises(ExceptionGroup) as info:  # noqa: F821 (3.11+)
        with scope() as s:
            s.spawn(_fail, "thread")
            raise KeyError("body")
    kinds = [type(e) for e in info.value.exceptions]
    assert kinds == [KeyError, ValueError]  # the block's first


def test_exception_delivered_by_join_counts_as_handled() -> None:
    with scope() as s:
        h = s.spawn(_fail, "handled")
        with pytest.raises(ValueError):
            h.join(timeout=DEADLINE)
    # reaching here: the scope did not raise it again


def test_scoped_threads_can_spawn_in_the_scope() -> None:
    results: list[int] = []
    lock = threading.Lock()

    def leaf(i: int) -> None:
        with lock:
            results.append(i)

    with scope() as s:

        def parent() -> None:
            for i in range(5):
                s.spawn(leaf, i)

        s.spawn(parent)
    assert sorted(results) == [0, 1, 2, 3, 4]


def test_spawn_outside_scope_block_raises() -> None:
    s = scope()
    with pytest.raises(ClosedError):
        s.spawn(_add, 1)
    with s:
        pass
    with pytest.raises(ClosedError):
        s.spawn(_add, 1)
    with pytest.raises(ClosedError):
        with s:
            pass


def test_scope_end_finalizes_what_the_waiting_thread_created(wait_until: Any) -> None:
    # A Sender created by this thread is dropped by a scoped thread while
    # this thread waits at the end of the scope for the consumer: on a
    # free-threaded build the wait is sliced (fearless._waits), so the
    # Sender, queued for this thread, closes and the consumer ends.
    tx, rx = channel[int]()
    holder: list[Sender[int]] = [tx]
    del tx
    me = threading.get_ident()
    chan = rx._chan

    def consume(rx: Any) -> int:
        n = 0
        try:
            while True:
                rx.recv(timeout=3 * DEADLINE)
                n += 1
        except RecvError:
            return n

    def drop_while_scope_waits() -> None:
        wait_until(lambda: _frame_named(me, "_exit"))
        time.sleep(0.1)  # from the call to blocked in C
        holder.clear()
        # While this thread waits (the consumer's own timeout ends it if not).
        wait_until(lambda: chan.senders == 0)

    with scope() as s:
        c = s.spawn(consume, rx)
        del rx
        s.spawn(drop_while_scope_waits)
    assert c.join() == 0


def _frame_named(ident: int, function: str) -> bool:
    frame = sys._current_frames().get(ident)
    while frame is not None:
        if frame.f_code.co_name == function:
            return True
        frame = frame.f_back
    return False
