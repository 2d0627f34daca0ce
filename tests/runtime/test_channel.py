"""Channels with real threads: nothing lost, nothing duplicated, FIFO per
producer, disconnection both ways, bounded and rendezvous blocking."""

from __future__ import annotations

import copy
import gc
import pickle
import signal
import sys
import threading
import time
import weakref
from collections import Counter
from typing import Any

import pytest

from fearless import (
    ClosedError,
    Empty,
    Full,
    Receiver,
    RecvError,
    RecvTimeout,
    Sender,
    SendError,
    channel,
    spawn,
    sync_channel,
)
from fearless._waits import FREE_THREADED
from fearless.channel import _WAKE, _WaitQueue
from fearless.channel import _drain as _drain_queue

PRODUCERS = 8
PER_PRODUCER = 10_000
DEADLINE = 10.0


def _make(bound: int | None) -> Any:
    """An unbounded channel (bound None: the lock-free SimpleQueue design)
    or a bounded one (the locked design)."""
    return channel[Any]() if bound is None else sync_channel[Any](bound)


def _parked(thread: threading.Thread) -> bool:
    """Whether ``thread`` is blocked waiting in a channel: parked on a bounded
    channel's wait queue, or in an unbounded channel's queue."""
    return thread.ident is not None and (_blocked_in(thread.ident, "_park") or _blocked_in(thread.ident, "_wait"))


def _drain(rx: Receiver[Any]) -> list[Any]:
    """``list(rx)``, but a missing disconnection fails instead of hanging."""
    out = []
    while True:
        try:
            out.append(rx.recv(timeout=DEADLINE))
        except RecvError:
            return out


def _produce(tx: Sender[tuple[int, int]], pid: int, n: int) -> None:
    with tx:
        for i in range(n):
            tx.send((pid, i))


def _check_stream(received: list[tuple[int, int]], producers: int, n: int) -> None:
    # Exact multiset: every message once, none invented.
    expected = Counter((p, i) for p in range(producers) for i in range(n))
    assert Counter(received) == expected
    # FIFO per producer.
    last = dict.fromkeys(range(producers), -1)
    for pid, i in received:
        assert i == last[pid] + 1, f"producer {pid}: {i} after {last[pid]}"
        last[pid] = i


def test_many_producers_unbounded_exact_and_fifo(threads: Any) -> None:
    tx, rx = channel[tuple[int, int]]()
    for pid in range(PRODUCERS):
        threads.start(_produce, tx.clone(), pid, PER_PRODUCER)
    tx.close()
    received = _drain(rx)  # ends when the last producer closes its Sender
    threads.join_all()
    _check_stream(received, PRODUCERS, PER_PRODUCER)


def test_many_producers_bounded_exact_and_fifo(threads: Any) -> None:
    tx, rx = sync_channel[tuple[int, int]](4)
    for pid in range(4):
        threads.start(_produce, tx.clone(), pid, 5_000)
    del tx  # garbage collection closes it, like close()
    received = _drain(rx)
    threads.join_all()
    _check_stream(received, 4, 5_000)


def test_many_producers_rendezvous_exact(threads: Any) -> None:
    tx, rx = sync_channel[tuple[int, int]](0)
    for pid in range(4):
        threads.start(_produce, tx.clone(), pid, 500)
    tx.close()
    received = _drain(rx)
    threads.join_all()
    _check_stream(received, 4, 500)


def test_consumer_in_thread_with_timeouts(threads: Any) -> None:
    tx, rx = channel[int]()

    def consume() -> list[int]:
        out = []
        while True:
            try:
                out.append(rx.recv(timeout=10))
            except RecvError:
                return out

    threads.start(consume)
    with tx:
        for i in range(1000):
            tx.send(i)
    threads.join_all()
    assert threads.results[0] == list(range(1000))


# -- disconnection: senders gone ----------------------------------------------


def test_recv_drains_buffer_then_raises_after_close() -> None:
    tx, rx = channel[int]()
    for i in range(3):
        tx.send(i)
    tx.close()
    assert [rx.recv(), rx.recv(), rx.recv()] == [0, 1, 2]
    with pytest.raises(RecvError):
        rx.recv()
    with pytest.raises(RecvError):
        rx.try_recv()
    with pytest.raises(RecvError):
        rx.recv(timeout=10)


def test_disconnect_needs_every_clone_closed() -> None:
    tx, rx = channel[int]()
    tx2 = tx.clone()
    tx.close()
    with pytest.raises(Empty):
        rx.try_recv()  # tx2 still open
    tx2.send(7)
    tx2.close()
    assert rx.recv() == 7
    with pytest.raises(RecvError):
        rx.recv()


def test_close_is_idempotent() -> None:
    tx, rx = channel[int]()
    tx2 = tx.clone()
    tx.close()
    tx.close()
    with tx:
        pass
    # A double-counted close would have disconnected the channel.
    with pytest.raises(Empty):
        rx.try_recv()
    tx2.close()
    with pytest.raises(RecvError):
        rx.try_recv()


def test_sender_garbage_collected_disconnects() -> None:
    tx, rx = channel[int]()
    tx.send(1)
    del tx
    assert rx.recv() == 1
    with pytest.raises(RecvError):
        rx.recv(timeout=10)


def test_sender_in_reference_cycle_collected_disconnects() -> None:
    tx, rx = channel[int]()
    cycle: list[Any] = [tx]
    cycle.append(cycle)
    del tx, cycle
    gc.collect()
    with pytest.raises(RecvError):
        rx.recv(timeout=10)


@pytest.mark.parametrize("bound", [None, 1])
def test_blocked_recv_wakes_on_disconnect(threads: Any, wait_until: Any, bound: int | None) -> None:
    tx, rx = _make(bound)
    t = threads.start(rx.recv)
    wait_until(lambda: _parked(t))
    tx.close()
    with pytest.raises(RecvError):
        threads.join_all()


def test_iteration_ends_at_disconnection(threads: Any) -> None:
    tx, rx = channel[str]()

    def produce(tx: Sender[str]) -> None:
        with tx:
            for word in ["a", "b", "c"]:
                tx.send(word)

    threads.start(produce, tx)
    del tx
    threads.join_all()
    assert list(rx) == ["a", "b", "c"]  # the producer has finished: cannot hang
    threads.join_all()


# -- finalizers inside critical sections ----------------------------------------


def _in_thread(threads: Any, fn: Any) -> Any:
    # A deadlock fails the test (join timeout) instead of hanging it.
    threads.start(fn)
    threads.join_all()
    return threads.results[0]


def _blocked_in(ident: int, function: str) -> bool:
    """Whether thread ``ident`` is inside a call of ``function`` (its frames
    from the top down to the test function), i.e. blocked there."""
    frame = sys._current_frames().get(ident)
    while frame is not None and not frame.f_code.co_name.startswith("test_"):
        if frame.f_code.co_name == function:
            return True
        frame = frame.f_back
    return False


def test_finalizer_inside_locked_section_does_not_deadlock(threads: Any) -> None:
    # The thread that creates the Sender drops it: its finalizer runs at
    # once on both builds, here inside the channel's critical section.
    made: list[Receiver[int]] = []

    def drop_while_locked() -> int:
        tx, rx = channel[int]()
        made.append(rx)
        chan = rx._chan
        with chan.lock:
            # As if a GC pass ran here and collected the last Sender.
            del tx
            return chan.senders

    try:
        assert _in_thread(threads, drop_while_locked) == 0
    except BaseException:
        if made:
            # The thread is stuck holding the lock: detach the receiver so
            # its finalizer does not hang the interpreter at exit.
            del made[0]._chan
        raise
    with pytest.raises(RecvError):
        made[0].recv(timeout=10)


def test_sender_dropped_by_another_thread_while_locked(threads: Any) -> None:
    # What each build guarantees when the last reference to a Sender is
    # dropped by a thread other than the one that created it (here inside
    # the channel's critical section).  With the GIL: closed at once, in the
    # dropping thread.  Free-threaded: queued for the creating thread, closed
    # when that thread runs Python code again (fearless._waits).
    tx, rx = channel[int]()
    chan = rx._chan

    def drop_while_locked() -> int:
        nonlocal tx
        with chan.lock:
            del tx
            return chan.senders

    seen = _in_thread(threads, drop_while_locked)
    if not FREE_THREADED:
        assert seen == 0
    else:
        assert seen in (0, 1)  # 0 only if a GC pass merged it meanwhile
    with pytest.raises(RecvError):  # this thread runs Python code: closed
        rx.recv(timeout=10)


def test_sender_dropped_by_another_thread_closes_while_creator_waits(threads: Any, wait_until: Any) -> None:
    # The creator of the Sender is the thread blocked in recv: on a
    # free-threaded build the wait returns to Python code in slices, which
    # finalizes the Sender queued for it; with the GIL it closes at once.
    tx, rx = channel[int]()
    holder: list[Sender[int]] = [tx]  # a reference this thread counted
    del tx
    me = threading.get_ident()

    def drop_once_parked() -> None:
        wait_until(lambda: _blocked_in(me, "_wait"))  # the unbounded channel's wait
        time.sleep(0.1)  # from parking to blocked in C
        holder.clear()  # the last reference goes in another thread
        # Closed while the creator is still parked (its recv would otherwise
        # finalize the Sender only when its own timeout returns it to Python).
        wait_until(lambda: rx._chan.senders == 0)

    threads.start(drop_once_parked)
    with pytest.raises(RecvError):
        rx.recv(timeout=3 * DEADLINE)
    threads.join_all()


def test_sender_dropped_by_another_thread_closes_while_creator_joins(wait_until: Any) -> None:
    # The creator is blocked in JoinHandle.join on the consumer: joins are
    # sliced as well, so the consumer sees the disconnection.
    tx, rx = channel[int]()
    holder: list[Sender[int]] = [tx]
    del tx
    consumer = spawn(_drain, rx)
    del rx
    me = threading.get_ident()

    def drop_once_joining() -> None:
        wait_until(lambda: _blocked_in(me, "join"))
        time.sleep(0.1)  # from the call to blocked in C
        holder.clear()  # the last reference goes in another thread

    dropper = spawn(drop_once_joining)
    assert consumer.join(timeout=DEADLINE) == []
    dropper.join(timeout=DEADLINE)


def test_receiver_dropped_by_another_thread_while_creator_sends(threads: Any, wait_until: Any) -> None:
    # The same for a Receiver: its creator is blocked in send on a full
    # channel when another thread drops the last reference.
    tx, rx = sync_channel[int](1)
    tx.send(0)
    holder: list[Receiver[int]] = [rx]
    del rx
    me = threading.get_ident()

    def drop_once_parked() -> None:
        wait_until(lambda: _blocked_in(me, "_park"))
        time.sleep(0.1)  # from parking to blocked in C
        chan = holder[0]._chan
        holder.clear()
        try:
            wait_until(lambda: not chan.receiver_alive)  # while the creator is parked
        except BaseException:
            Receiver(chan).close()  # release the blocked send, then fail
            raise

    threads.start(drop_once_parked)
    with pytest.raises(SendError):
        tx.send(1)
    threads.join_all()


@pytest.mark.parametrize("when", ["before registering", "after registering", "before waiting on the queue"])
def test_finalizer_while_recv_parks_is_not_a_lost_wakeup(
    threads: Any, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    # recv checked the state and is about to block when the last Sender's
    # finalizer runs in the same thread (GC during an allocation).  A bounded
    # channel registers a waiter (the GC comes before or after that); an
    # unbounded one found its queue empty and is entering the wait.  The
    # Sender is created by that thread, so its finalizer runs at once on
    # both builds.
    holder: list[Sender[int]] = []
    if when == "before waiting on the queue":
        wait = Receiver._wait

        def wait_with_gc(self: Receiver[int], timeout: float | None) -> Any:
            holder.clear()
            return wait(self, timeout)

        monkeypatch.setattr(Receiver, "_wait", wait_with_gc)
    else:
        register = _WaitQueue.register

        def register_with_gc(self: _WaitQueue) -> Any:
            if when == "before registering":
                holder.clear()
            waiter = register(self)
            if when == "after registering":
                holder.clear()
            return waiter

        monkeypatch.setattr(_WaitQueue, "register", register_with_gc)

    def recv() -> str:
        tx, rx = channel[int]() if when == "before waiting on the queue" else sync_channel[int](1)
        holder.append(tx)
        del tx
        try:
            rx.recv()
        except RecvError:
            return "disconnected"
        return "value?"

    assert _in_thread(threads, recv) == "disconnected"


# -- disconnection: receiver gone -------------------------------------------------


def test_send_after_receiver_closed_returns_value() -> None:
    tx, rx = channel[list[int]]()
    tx.send([0])
    rx.close()
    payload = [1, 2, 3]
    with pytest.raises(SendError) as info:
        tx.send(payload)
    assert info.value.value is payload
    with pytest.raises(SendError):
        tx.try_send(payload)


def test_send_after_receiver_with_block_returns_value() -> None:
    tx, rx = sync_channel[str](3)
    with rx:
        pass
    with pytest.raises(SendError) as info:
        tx.send("x")
    assert info.value.value == "x"


def test_send_after_receiver_garbage_collected() -> None:
    tx, rx = channel[object]()
    del rx
    gc.collect()
    obj = object()
    with pytest.raises(SendError) as info:
        tx.send(obj)
    assert info.value.value is obj


class _Droppable:
    pass


def test_send_racing_the_receivers_close_drops_its_value() -> None:
    # Deterministic form of the race below: the receiver closes between the
    # send's check and its put.  The send returns (it came first) and drops
    # its late value itself, as the close would have.
    tx, rx = channel[_Droppable]()
    queue = rx._chan.queue
    put = tx._put
    assert put is not None

    def close_then_put(value: _Droppable) -> None:
        rx.close()
        put(value)

    tx._put = close_then_put
    dropped: list[bool] = []
    value = _Droppable()
    weakref.finalize(value, dropped.append, True)
    tx.send(value)
    del value
    gc.collect()  # a free-threaded build may finalize it only at a GC pass
    assert dropped == [True]
    assert all(v is _WAKE for v in _drain_queue(queue))
    with pytest.raises(SendError):  # and later sends see the closed receiver
        tx.send(_Droppable())


def test_sends_racing_the_receivers_close_leave_nothing_behind(threads: Any) -> None:
    # Unbounded sends do not take the channel lock: a send that passed its
    # check just before the receiver closed puts its value after the close
    # drained the queue, and must drop it itself.  Every value ends exactly
    # one way (received, handed back in SendError, or dropped with the
    # closed receiver) and the queue keeps no value, only wake-up tokens.
    for _ in range(20):
        tx, rx = channel[tuple[int, int]]()
        returned: list[tuple[int, int]] = []

        def produce(tx: Sender[tuple[int, int]], pid: int) -> None:
            with tx:
                for i in range(2_000):
                    try:
                        tx.send((pid, i))
                    except SendError as err:
                        returned.append(err.value)

        for pid in range(4):
            threads.start(produce, tx.clone(), pid)
        tx.close()
        received = [rx.recv(timeout=DEADLINE) for _ in range(500)]
        rx.close()
        threads.join_all()
        queue = rx._chan.queue
        left = _drain_queue(queue)
        assert all(v is _WAKE for v in left)  # no value stayed behind
        assert left  # the close's token (a recv blocked elsewhere would wake)
        assert not set(received) & set(returned)
        assert len(set(received)) == len(received) == 500


def test_blocked_bounded_send_wakes_with_send_error(threads: Any, wait_until: Any) -> None:
    tx, rx = sync_channel[int](1)
    tx.send(1)  # full now

    def blocked_send() -> int:
        try:
            tx.send(2)
        except SendError as err:
            return err.value  # type: ignore[no-any-return]
        return -1

    threads.start(blocked_send)
    wait_until(lambda: len(rx._chan.send_waiters) == 1)
    rx.close()
    threads.join_all()
    assert threads.results[0] == 2


def test_rendezvous_send_fails_if_receiver_closes_before_taking(threads: Any, wait_until: Any) -> None:
    tx, rx = sync_channel[str](0)

    def send() -> str:
        try:
            tx.send("hello")
        except SendError as err:
            return f"returned {err.value}"
        return "delivered?"

    threads.start(send)
    wait_until(lambda: len(rx._chan.handoff_waiters) == 1)  # value offered
    rx.close()
    threads.join_all()
    assert threads.results[0] == "returned hello"


# -- bounded and rendezvous blocking ---------------------------------------------


def test_bounded_send_blocks_while_full(threads: Any, wait_until: Any) -> None:
    tx, rx = sync_channel[int](2)
    tx.send(0)
    tx.send(1)
    t = threads.start(tx.send, 2)
    wait_until(lambda: len(rx._chan.send_waiters) == 1)
    assert t.is_alive()  # parked: the buffer is full
    assert len(rx._chan.buffer) == 2
    assert rx.recv() == 0  # makes room
    threads.join_all()
    assert [rx.recv(), rx.recv()] == [1, 2]


def test_rendezvous_send_returns_only_after_take(threads: Any, wait_until: Any) -> None:
    tx, rx = sync_channel[int](0)
    t = threads.start(tx.send, 42)
    wait_until(lambda: len(rx._chan.handoff_waiters) == 1)
    assert t.is_alive()  # offered but not taken: send has not returned
    assert rx.recv() == 42
    threads.join_all()


def test_rendezvous_try_send(threads: Any, wait_until: Any) -> None:
    tx, rx = sync_channel[int](0)
    with pytest.raises(Full) as info:
        tx.try_send(1)  # nobody is waiting in recv
    assert info.value.value == 1
    threads.start(rx.recv)
    wait_until(lambda: len(rx._chan.recv_waiters) == 1)
    tx.try_send(2)
    threads.join_all()
    assert threads.results[0] == 2


def test_bounded_try_send_full() -> None:
    tx, rx = sync_channel[int](1)
    tx.try_send(1)
    with pytest.raises(Full) as info:
        tx.try_send(2)
    assert info.value.value == 2
    assert rx.recv() == 1
    tx.try_send(3)
    assert rx.try_recv() == 3


def test_unbounded_try_send_never_full() -> None:
    tx, rx = channel[int]()
    for i in range(100):
        tx.try_send(i)
    assert [rx.try_recv() for _ in range(100)] == list(range(100))


def test_negative_bound_rejected() -> None:
    with pytest.raises(ValueError):
        sync_channel[int](-1)


# -- try_recv, timeouts, closed handles -----------------------------------------------


def test_try_recv() -> None:
    tx, rx = channel[int]()
    with pytest.raises(Empty):
        rx.try_recv()
    tx.send(5)
    assert rx.try_recv() == 5
    with pytest.raises(Empty):
        rx.try_recv()


@pytest.mark.parametrize("bound", [None, 1])
def test_recv_timeout_then_channel_still_works(bound: int | None) -> None:
    tx, rx = _make(bound)
    with pytest.raises(RecvTimeout) as info:
        rx.recv(timeout=0.05)
    assert isinstance(info.value, TimeoutError)
    with pytest.raises(RecvTimeout):
        rx.recv(timeout=0)
    tx.send(1)
    assert rx.recv(timeout=0) == 1
    if bound is not None:
        assert len(rx._chan.recv_waiters) == 0  # the timed-out waiter was removed


def test_closed_handles_raise() -> None:
    tx, rx = channel[int]()
    keep = tx.clone()
    tx.close()
    assert tx.closed
    with pytest.raises(ClosedError):
        tx.send(1)
    with pytest.raises(ClosedError):
        tx.clone()
    rx.close()
    assert rx.closed
    with pytest.raises(ClosedError):
        rx.recv()
    with pytest.raises(ClosedError):
        rx.try_recv()
    keep.close()


@pytest.mark.parametrize("bound", [None, 1])
def test_receiver_closed_while_another_thread_receives(threads: Any, wait_until: Any, bound: int | None) -> None:
    tx, rx = _make(bound)
    t = threads.start(rx.recv)
    wait_until(lambda: _parked(t))
    rx.close()
    with pytest.raises(ClosedError):
        threads.join_all()


def test_receiver_cannot_be_cloned_or_copied() -> None:
    tx, rx = channel[int]()
    assert not hasattr(rx, "clone")
    with pytest.raises(TypeError):
        copy.copy(rx)
    with pytest.raises(TypeError):
        pickle.dumps(rx)


def test_copying_a_sender_counts_it() -> None:
    tx, rx = channel[int]()
    tx2 = copy.copy(tx)
    assert isinstance(tx2, Sender) and tx2 is not tx
    tx.close()
    tx2.send(1)  # still connected
    tx2.close()
    assert rx.recv() == 1
    with pytest.raises(RecvError):
        rx.recv()


def test_channel_is_a_tuple_of_ends() -> None:
    pair = channel[int]()
    assert isinstance(pair, tuple) and len(pair) == 2
    assert isinstance(pair[0], Sender) and isinstance(pair[1], Receiver)
    untyped_tx, untyped_rx = channel()  # the type argument is optional at run time
    untyped_tx.send("x")
    assert untyped_rx.recv() == "x"


class _Interrupt(Exception):
    pass


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX interval timers")
@pytest.mark.parametrize("bound", [None, 1])
def test_recv_interrupted_by_signal_leaves_channel_usable(bound: int | None) -> None:
    # A signal handler raising in a blocked recv (like Ctrl-C) must leave
    # no stale waiter behind and the lock free.
    tx, rx = _make(bound)

    def handler(signum: int, frame: Any) -> None:
        raise _Interrupt

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(_Interrupt):
            rx.recv(timeout=DEADLINE)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if bound is not None:
        assert len(rx._chan.recv_waiters) == 0
    tx.send(1)
    assert rx.recv(timeout=DEADLINE) == 1
