"""Both implementations of the channels (docs/runtime.md, "How channels are
built"): the C hot path of ``fearless._channel_accel`` where it is built,
and the Python classes everywhere else, which must behave alike: the channel
tests run again, in a subprocess, with ``FEARLESS_PURE_PYTHON=1``.  The
other tests here hold on both and check what the C path adds: arguments,
handles never initialised, the garbage collector seeing the buffered values."""

from __future__ import annotations

import gc
import os
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import fearless
from fearless import RecvError, RecvTimeout, channel, sync_channel

HERE = Path(__file__).resolve().parent
chan_mod = sys.modules["fearless.channel"]


def _accel() -> Any:
    try:
        from fearless import _channel_accel
    except ImportError:
        return None
    return _channel_accel


def _c_runs() -> bool:
    return _accel() is not None and not os.environ.get("FEARLESS_PURE_PYTHON")


def test_the_c_hot_path_is_used_where_it_is_built() -> None:
    accel = _accel()
    if accel is None:
        pytest.skip("no C hot path here (PyPy, or no C compiler at install)")
    if os.environ.get("FEARLESS_PURE_PYTHON"):
        pytest.skip("FEARLESS_PURE_PYTHON is set: the Python classes run")
    assert issubclass(fearless.Sender, accel.SenderBase)
    assert issubclass(fearless.Receiver, accel.ReceiverBase)
    tx, rx = channel[int]()
    assert isinstance(rx._chan, accel.ChanBase)
    # send and recv are the C methods; the rest is the Python classes' own code
    assert fearless.Sender.send is accel.SenderBase.send
    assert fearless.Receiver.recv is accel.ReceiverBase.recv
    assert fearless.Sender.close is chan_mod._PySender.close
    assert fearless.Receiver._recv_locked is chan_mod._PyReceiver._recv_locked
    # the same mixins and markers as the Python classes
    assert issubclass(fearless.Receiver, fearless.NotSync)
    assert fearless.Sender.__doc__ == chan_mod._PySender.__doc__


def test_the_python_classes_pass_the_same_tests(run_pure_python: Callable[[list[str], str], str]) -> None:
    if not _c_runs():
        pytest.skip("only the Python classes run here: the other tests are theirs")
    tests = [
        str(HERE / name)
        for name in ("test_channel.py", "test_channel_builds.py", "test_stress.py", "test_mixins.py", "test_thread.py")
    ]
    run_pure_python(tests, "not mutex and not rwlock")


@pytest.mark.parametrize("bound", [None, 2, 0])
def test_recv_arguments(bound: int | None) -> None:
    tx, rx = channel[int]() if bound is None else sync_channel[int](bound)
    with pytest.raises(RecvTimeout):
        rx.recv(0)
    with pytest.raises(RecvTimeout):
        rx.recv(timeout=0.0)
    with pytest.raises(TypeError):
        rx.recv(1, 2)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        rx.recv(deadline=1)  # type: ignore[call-arg]
    if bound != 0:
        tx.send(7)
        assert rx.recv(timeout=None) == 7


def test_a_bounded_recv_with_a_bad_timeout_raises_even_with_a_value_buffered() -> None:
    # The Python path computes the deadline first: so does the C one.
    tx, rx = sync_channel[int](1)
    tx.send(1)
    with pytest.raises(TypeError):
        rx.recv(timeout="soon")  # type: ignore[arg-type]
    assert rx.recv() == 1


def test_ends_never_initialised_raise_instead_of_crashing() -> None:
    tx = fearless.Sender.__new__(fearless.Sender)
    rx = fearless.Receiver.__new__(fearless.Receiver)
    with pytest.raises(AttributeError):
        tx.send(1)
    with pytest.raises(AttributeError):
        rx.recv(timeout=0)
    tx.close()  # what __del__ does: nothing to close
    rx.close()


def test_a_channel_state_is_initialised_once() -> None:
    if not _c_runs():
        pytest.skip("the Python _Chan is a plain object")
    tx, rx = channel[int]()
    with pytest.raises(RuntimeError):
        rx._chan.__init__(None)
    with pytest.raises(RuntimeError):
        tx.__init__(rx._chan)
    tx.send(1)
    assert rx.recv() == 1


@pytest.mark.parametrize("bound", [None, 3])
def test_buffered_values_that_refer_to_their_channel_are_collected(bound: int | None) -> None:
    # A value buffered in the channel that holds both ends is a reference
    # cycle through the channel's state: the collector must see into it.
    tx, rx = channel[Any]() if bound is None else sync_channel[Any](bound)
    tx.send([tx, rx])
    gone = weakref.ref(rx)
    del tx, rx
    gc.collect()
    assert gone() is None


def test_the_counters_are_the_channels_state() -> None:
    # The Python paths read and write them through the same attributes.
    tx, rx = sync_channel[int](2)
    chan = rx._chan
    tx.send(1)
    tx.send(2)
    assert (chan.pushed, chan.taken, chan.senders, chan.receiver_alive) == (2, 0, 1, True)
    assert rx.recv() == 1
    assert chan.taken == 1 and len(chan.buffer) == 1
    tx2 = tx.clone()
    assert chan.senders == 2
    tx.close()
    tx2.close()
    assert chan.senders == 0
    assert rx.recv() == 2
    with pytest.raises(RecvError):
        rx.recv()
    rx.close()
    assert chan.receiver_alive is False


@pytest.mark.parametrize("bound", [None, 3, 0])
def test_no_reference_is_leaked_on_any_path(bound: int | None) -> None:
    # sys.getrefcount of the handles, their state and a value sent many
    # times stays the same across the fast paths, the paths handed to
    # Python (empty, timeout, closed) and the errors.
    tx, rx = channel[Any]() if bound is None else sync_channel[Any](bound)
    chan = rx._chan
    value = object()

    def round_trips() -> None:
        for _ in range(200):
            if bound != 0:
                tx.send(value)
                assert rx.recv() is value
                tx.send(value)
                assert rx.recv(timeout=1.0) is value
            with pytest.raises(RecvTimeout):
                rx.recv(timeout=0)

    round_trips()  # warm up: caches, interned names
    before = [sys.getrefcount(x) for x in (tx, rx, chan, value)]
    round_trips()
    assert [sys.getrefcount(x) for x in (tx, rx, chan, value)] == before
    other = tx.clone()
    other.close()
    for _ in range(100):
        with pytest.raises(fearless.ClosedError):
            other.send(value)
    del other
    assert [sys.getrefcount(x) for x in (tx, rx, chan, value)] == before
    tx.close()
    for _ in range(100):
        with pytest.raises(RecvError):
            rx.recv()
    assert [sys.getrefcount(x) for x in (tx, rx, chan, value)] == before
    rx.close()
    sender = channel[Any]()[0] if bound is None else sync_channel[Any](bound)[0]
    gc.collect()  # the receiver of that pair is gone: sends fail
    before = sys.getrefcount(value)
    for _ in range(100):
        with pytest.raises(fearless.SendError) as info:
            sender.send(value)
        del info
    assert sys.getrefcount(value) == before
