"""Channels: many senders, one receiver, values move from sender to receiver.

``tx, rx = channel[T]()`` makes an unbounded channel, ``sync_channel[T](n)`` a
bounded one (``n == 0``: rendezvous).  Rust's ``std::sync::mpsc``.

Two designs, one state object (``_Chan``):

* **Unbounded** channels carry their values in a ``queue.SimpleQueue``, the
  standard library's C queue: ``send`` is one ``put`` and ``recv`` one
  ``get``, each an atomic C call (safe without the GIL: the queue takes its
  own lock, or critical section, inside the call), and no lock of ours is
  held on that path.  What is not a value travels in the queue too: the
  token ``_WAKE`` is put once the channel is disconnected (last Sender
  closed) or the receiver is closed; such a change is permanent, so a
  ``recv`` that takes the token puts it back (a second ``recv`` blocked in
  another thread wakes as well) and reads the state to see which it was.
  FIFO order puts every value sent before the disconnection ahead of the
  token: buffered values are delivered first.
* **Bounded** channels keep every piece of shared state in the ``_Chan`` and
  read or write it only while its lock is held.

Nothing relies on the GIL.  The lock-free steps of the unbounded path, and
why each is safe:

* ``send`` reads its own ``_put`` (None once this Sender is closed) and the
  channel's ``receiver_alive``, then puts.  A ``close`` of the receiver that
  runs between the check and the put drains the queue *before* our put, so
  after putting ``send`` reads ``receiver_alive`` once more and, if the
  receiver is gone, drains the queue itself: the late value is dropped
  then, as the receiver's close would have dropped it.  (The receiver sets
  the flag before draining; the queue's own lock orders the drain and the
  put, so a put that comes after the drain sees the flag.)
* ``recv`` takes with ``get_nowait`` and blocks, only when the queue is
  empty, in ``_waits.get``; a disconnection at any moment is a ``_WAKE`` in
  the queue, so no wake-up can be lost between a check and the wait.
* The sender count and the flags change under the channel lock (``clone``,
  ``close``), which every such change takes, so they never go back: a
  token, once put, stays true.

Finalizers.  A ``Sender``/``Receiver`` that is garbage-collected closes itself
from ``__del__``, and ``__del__`` can run *in the middle of one of our own
critical sections*, in the same thread: any allocation may start a GC pass
that collects an unreachable ``Sender`` of this very channel.  Two measures
keep that from deadlocking or losing a wake-up:

* the channel lock is an ``RLock``, so the finalizer re-enters it instead of
  waiting for itself.  Its change (one counter decrement, one flag) is made
  with plain attribute operations that allocate nothing, and every critical
  section re-reads the state after anything that could have let a finalizer
  run, so a section interrupted this way still sees a consistent state;
* blocking on a bounded channel uses our own wait queue (``_WaitQueue``)
  rather than ``threading.Condition``: a waiter registers *before* its last
  check of the state.  A finalizer that runs before the registration is seen
  by the check; one that runs after it releases the waiter, so the wait
  returns at once.  With a Condition, a finalizer running between the check
  and ``wait()`` would notify nobody and the wait could last forever.  (An
  unbounded channel's wake-up is the ``_WAKE`` token, which cannot be lost.)

Values leaving the channel (a closed receiver's buffer) are dropped *outside*
the lock, so their own finalizers never run while we hold it.

Where ``_channel_accel`` is built, ``send`` and ``recv`` run the steps above
that do not block in C (the end of this module): the same queue calls, the
same lock, the same state; whatever they cannot finish they hand to the
Python methods here (``_send_locked``, ``_recv_locked``, ``_wait``,
``_woken``).
"""

from __future__ import annotations

import threading
from _thread import LockType as _LockType  # the type of threading.Lock()
from collections import deque
from collections.abc import Callable, Iterator
from queue import Empty as _QueueEmpty
from queue import SimpleQueue
from time import monotonic
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar

from . import _waits
from ._mixins import Closing, CopyIsClone, NoCopy
from .errors import ClosedError, Empty, Full, RecvError, RecvTimeout, SendError
from .markers import NotSync, Owned, Send

__all__ = ["channel", "sync_channel", "Sender", "Receiver"]

T = TypeVar("T")


class _WaitQueue(deque[_LockType]):
    """FIFO of parked threads, each blocked on its own private lock.

    Every method must be called with the channel lock held.  ``notify``
    releases a waiter's private lock; releasing needs no channel lock and no
    cooperation from the waiter, which is what makes a wake-up from a
    finalizer safe (see the module docstring).  A ``deque`` itself, so that
    ``if waiters:`` on the hot path costs no Python call.
    """

    __slots__ = ()

    def register(self) -> _LockType:
        waiter = threading.Lock()
        waiter.acquire()
        self.append(waiter)
        return waiter

    def cancel(self, waiter: _LockType) -> bool:
        """Remove ``waiter``; False if it was already notified."""
        try:
            self.remove(waiter)
        except ValueError:
            return False
        return True

    def notify_one(self) -> None:
        if self:
            self.popleft().release()

    def notify_all(self) -> None:
        while self:
            self.popleft().release()


class _Wake:
    """The type of ``_WAKE``: the channel was disconnected or its receiver
    closed (module docstring).  Never a value: a user cannot make one."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<channel wake-up>"


_WAKE: Any = _Wake()


def _drain(queue: SimpleQueue[Any]) -> list[Any]:
    """Take everything out of ``queue`` without blocking (the ``_WAKE``
    tokens included); the caller drops the values outside any lock."""
    taken = []
    try:
        while True:
            taken.append(queue.get_nowait())
    except _QueueEmpty:
        return taken


def _drop_late(chan: _Chan[Any]) -> None:
    """An unbounded ``send`` put its value while the receiver was closing
    (module docstring): drop what the queue holds, as the close would have,
    and put back the token that wakes a ``recv`` blocked on the closed end."""
    assert chan.queue is not None
    dropped = _drain(chan.queue)
    chan.queue.put(_WAKE)
    del dropped  # finalizers run here, no lock held


class _Chan(Generic[T]):
    """State shared by the two ends.  ``queue`` carries an unbounded
    channel's values (lock-free, module docstring); everything else is
    changed only under ``lock``."""

    __slots__ = (
        "lock",
        "queue",
        "buffer",
        "bound",
        "senders",
        "receiver_alive",
        "pushed",
        "taken",
        "recv_waiters",
        "send_waiters",
        "handoff_waiters",
    )

    def __init__(self, bound: int | None) -> None:
        # RLock: a Sender/Receiver finalizer may run inside one of our
        # critical sections, in the same thread (module docstring).
        self.lock = threading.RLock()
        # Unbounded: the values (and _WAKE); bounded: None, values in buffer.
        self.queue: SimpleQueue[T] | None = SimpleQueue() if bound is None else None
        self.buffer: deque[T] = deque()
        self.bound = bound  # None: unbounded; 0: rendezvous
        self.senders = 1
        self.receiver_alive = True
        self.pushed = 0  # values ever appended to buffer
        self.taken = 0  # values ever taken by the receiver
        self.recv_waiters = _WaitQueue()  # receiver waiting for a value
        self.send_waiters = _WaitQueue()  # senders waiting for room
        self.handoff_waiters = _WaitQueue()  # rendezvous senders waiting for take


def _park(chan: _Chan[T], queue: _WaitQueue, waiter: _LockType, deadline: float | None) -> bool:
    """Release the channel lock, block on ``waiter``, take the lock back.

    Returns False if ``deadline`` passed without a notification.  The caller
    registered ``waiter`` and re-checked its predicate while holding the lock.
    On any exit the waiter is gone from the queue; if we were notified but
    leave by an exception, the notification is passed on so that no other
    waiter misses it.
    """
    lock = chan.lock
    lock.release()
    try:
        # In slices on a free-threaded build, so that a Sender or Receiver
        # queued for this thread's finalization closes (see _waits).
        notified = _waits.acquire(waiter, deadline)
    except BaseException:  # e.g. KeyboardInterrupt while blocked
        lock.acquire()
        if not queue.cancel(waiter):
            queue.notify_one()  # we were notified: hand the wake-up on
        raise
    lock.acquire()
    if not notified and not queue.cancel(waiter):
        # Notified between the timeout and cancel(): count it as notified.
        notified = True
    return notified


class Sender(CopyIsClone, Closing, Generic[T]):
    """The sending end of a channel.  Clone it to get more senders.

    A Sender may be moved to another thread and shared between threads
    (every method is thread-safe).  The channel disconnects (for the
    receiver) once every Sender is closed, explicitly with :meth:`close` /
    ``with tx:``, or by being garbage-collected.
    """

    __slots__ = ("_chan", "_closed", "_put", "__weakref__")
    _noun = "a Sender"

    def __init__(self, _chan: _Chan[T]) -> None:
        # Not public: Senders come from channel()/sync_channel()/clone(), which
        # have already counted this one in _chan.senders.
        self._chan = _chan
        self._closed = False
        # The unbounded fast path: the queue's put, None once closed (and
        # always None on a bounded channel).  One read tells both.
        queue = _chan.queue
        self._put: Callable[[T], None] | None = None if queue is None else queue.put

    def send(self, value: Owned[Send[T]]) -> None:
        """Send ``value`` to the receiver, moving it out of the caller.

        Blocks: never on an unbounded channel; on a bounded channel while it
        is full; on a rendezvous channel (bound 0) until the receiver has
        taken this value.

        Raises :class:`SendError` (with ``.value``) if the receiver is gone,
        including when it goes away while this call is blocked; for a
        rendezvous channel, also if it goes away before taking the value.
        Raises :class:`ClosedError` if this Sender was closed.
        """
        put = self._put
        chan = self._chan
        if put is not None and chan.receiver_alive:
            put(value)  # one atomic C call (module docstring)
            if not chan.receiver_alive:
                _drop_late(chan)
            return
        self._send_locked(value)

    def _send_locked(self, value: T) -> None:
        """``send`` on a bounded channel, or on a closed Sender or with the
        receiver gone (any channel): everything under the lock.  (The C hot
        path calls it whenever it cannot finish a send without blocking.)"""
        chan = self._chan
        with chan.lock:
            if self._closed:
                raise ClosedError("send on a closed Sender")
            bound = chan.bound
            if bound is None:
                # Unbounded and open: the fast path saw the receiver gone,
                # which is permanent.
                raise SendError(value)
            capacity = bound if bound > 0 else 1  # rendezvous: one value in flight
            waiter = None
            while chan.receiver_alive and len(chan.buffer) >= capacity:
                waiter = chan.send_waiters.register()
                # Re-check after registering (module docstring).
                if not chan.receiver_alive or len(chan.buffer) < capacity:
                    chan.send_waiters.cancel(waiter)
                    break
                _park(chan, chan.send_waiters, waiter, None)
            if not chan.receiver_alive:
                raise SendError(value)
            chan.buffer.append(value)
            chan.pushed += 1
            ticket = chan.pushed
            if chan.recv_waiters:
                chan.recv_waiters.notify_one()
            if bound == 0:
                # Rendezvous: return only once the receiver took our value.
                while chan.taken < ticket:
                    if not chan.receiver_alive:
                        raise SendError(value)
                    waiter = chan.handoff_waiters.register()
                    if chan.taken >= ticket or not chan.receiver_alive:
                        chan.handoff_waiters.cancel(waiter)
                        continue
                    _park(chan, chan.handoff_waiters, waiter, None)
            elif chan.send_waiters and len(chan.buffer) < bound:
                # Room left: let the next blocked sender in too.
                chan.send_waiters.notify_one()

    def try_send(self, value: Owned[Send[T]]) -> None:
        """Send ``value`` without blocking.

        On an unbounded channel this is :meth:`send`.  On a bounded channel it
        raises :class:`Full` (with ``.value``) when the buffer is full; on a
        rendezvous channel it succeeds only if the receiver is blocked in
        ``recv`` right now (the value is handed to it; the call does not wait
        for the receiver to wake up), else raises :class:`Full`.
        Raises :class:`SendError` if the receiver is gone and
        :class:`ClosedError` if this Sender was closed.  Never blocks.
        """
        if self._put is not None:  # unbounded: never full
            self.send(value)
            return
        chan = self._chan
        with chan.lock:
            if self._closed:
                raise ClosedError("send on a closed Sender")
            if not chan.receiver_alive:
                raise SendError(value)
            bound = chan.bound
            assert bound is not None  # unbounded here means closed: raised above
            if bound == 0:
                if chan.buffer or not chan.recv_waiters:
                    raise Full(value)
            elif len(chan.buffer) >= bound:
                raise Full(value)
            chan.buffer.append(value)
            chan.pushed += 1
            chan.recv_waiters.notify_one()

    def clone(self) -> Sender[T]:
        """Another Sender for the same channel; it keeps the channel connected
        until it is closed too.  Raises :class:`ClosedError` if this Sender
        was closed.  Never blocks (beyond the channel's short internal lock).
        """
        chan = self._chan
        with chan.lock:
            if self._closed:
                raise ClosedError("clone of a closed Sender")
            chan.senders += 1
        return Sender(chan)

    def close(self: Owned[Sender[T]]) -> None:
        """Close this Sender (Rust: drop it).  Idempotent.  When the last
        Sender closes, the channel disconnects: the receiver can still drain
        the buffered values, then ``recv`` raises :class:`RecvError`.
        Never blocks (beyond the channel's short internal lock)."""
        chan = getattr(self, "_chan", None)
        if chan is None:  # __init__ never ran (only reachable from __del__)
            return
        with chan.lock:  # re-entrant: this may run from __del__ (see module doc)
            if self._closed:
                return
            self._closed = True
            self._put = None
            chan.senders -= 1
            if chan.senders == 0:
                if chan.queue is not None:
                    chan.queue.put(_WAKE)  # after every value sent (FIFO)
                else:
                    chan.recv_waiters.notify_all()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called on this Sender."""
        return self._closed

    def __repr__(self) -> str:
        return f"<Sender{' closed' if self._closed else ''} at {id(self):#x}>"


class Receiver(NotSync, NoCopy, Closing, Generic[T]):
    """The receiving end of a channel.  There is exactly one per channel: it
    cannot be cloned.  It may be moved to another thread; it should be used
    by one thread at a time (Rust: ``Send`` but not ``Sync``; at run time its
    methods are nevertheless thread-safe).

    Closing it (:meth:`close`, ``with rx:`` or garbage collection) disconnects
    the channel for the senders: buffered values are dropped, blocked and
    later ``send`` calls raise :class:`SendError`.
    """

    __slots__ = ("_chan", "_closed", "_get", "__weakref__")
    _noun = "a Receiver"
    _unique_because = "a channel has one receiver"

    def __init__(self, _chan: _Chan[T]) -> None:
        self._chan = _chan
        self._closed = False
        # The unbounded fast path: the queue's get_nowait, None once closed
        # (and always None on a bounded channel).
        queue = _chan.queue
        self._get: Callable[[], T] | None = None if queue is None else queue.get_nowait

    def recv(self, timeout: float | None = None) -> T:
        """Take the next value, blocking until one arrives.

        Values sent by one Sender arrive in the order they were sent.  Blocks
        while the channel is empty and some Sender is still open, at most
        ``timeout`` seconds if given.  Raises :class:`RecvError` when the
        channel is empty and every Sender is closed (buffered values are
        always delivered first), :class:`RecvTimeout` when the timeout
        expires, :class:`ClosedError` if this Receiver was closed.
        """
        get = self._get
        if get is not None:
            try:
                value = get()  # one atomic C call (module docstring)
            except _QueueEmpty:
                value = self._wait(timeout)
            if value is not _WAKE:
                return value
            self._woken()
        return self._recv_locked(timeout)

    def _recv_locked(self, timeout: float | None) -> T:
        """``recv`` on a bounded channel, or on a closed Receiver: everything
        under the lock.  (The C hot path calls it whenever it finds nothing
        to take.)"""
        chan = self._chan
        deadline = None if timeout is None else monotonic() + timeout
        with chan.lock:
            if self._closed:
                raise ClosedError("recv on a closed Receiver")
            while True:
                if chan.buffer:
                    return self._take(chan)
                if chan.senders == 0:
                    raise RecvError("the channel is empty and every sender is closed")
                if deadline is not None and deadline <= monotonic():
                    raise RecvTimeout(f"no value within {timeout} s")
                waiter = chan.recv_waiters.register()
                if chan.buffer or chan.senders == 0:  # re-check after registering
                    chan.recv_waiters.cancel(waiter)
                    continue
                _park(chan, chan.recv_waiters, waiter, deadline)
                if self._closed:  # closed by another thread while we waited
                    raise ClosedError("the Receiver was closed during recv")

    def _wait(self, timeout: float | None) -> T:
        """Block until the unbounded channel's queue gives something (a value
        or ``_WAKE``); the wait is sliced on a free-threaded build."""
        queue = self._chan.queue
        assert queue is not None
        deadline = None if timeout is None else monotonic() + timeout
        try:
            return _waits.get(queue, deadline)
        except _QueueEmpty:
            raise RecvTimeout(f"no value within {timeout} s") from None

    def _woken(self) -> NoReturn:
        """``_WAKE`` was taken from the unbounded queue: put it back for any
        other waiter, then raise what the (permanent) state says."""
        chan = self._chan
        assert chan.queue is not None
        chan.queue.put(_WAKE)
        if self._closed:
            raise ClosedError("the Receiver was closed during recv")
        # Disconnected; a value after the token can only come from a send that
        # raced with closing its own Sender in another thread: deliver it
        # next time rather than lose it (the token goes behind it again).
        raise RecvError("the channel is empty and every sender is closed")

    def try_recv(self) -> T:
        """Take the next value without blocking.

        Raises :class:`Empty` if no value is buffered but some Sender is still
        open, :class:`RecvError` if no value is buffered and every Sender is
        closed, :class:`ClosedError` if this Receiver was closed.
        """
        get = self._get
        if get is not None:
            try:
                value = get()
            except _QueueEmpty:
                # The counter only goes down, and reaches 0 before the token
                # is put: 0 here means disconnected (another recv may be
                # holding the token for a moment).
                if self._chan.senders == 0:
                    raise RecvError("the channel is empty and every sender is closed") from None
                raise Empty("no value buffered") from None
            if value is not _WAKE:
                return value
            self._woken()
        chan = self._chan
        with chan.lock:
            if self._closed:
                raise ClosedError("recv on a closed Receiver")
            if chan.buffer:
                return self._take(chan)
            if chan.senders == 0:
                raise RecvError("the channel is empty and every sender is closed")
            raise Empty("no value buffered")

    @staticmethod
    def _take(chan: _Chan[T]) -> T:
        # Lock held, buffer not empty.
        value = chan.buffer.popleft()
        chan.taken += 1
        if chan.bound is not None:
            if chan.send_waiters:
                chan.send_waiters.notify_one()
            if chan.bound == 0:
                chan.handoff_waiters.notify_all()
        return value

    def __iter__(self) -> Iterator[T]:
        """Yield values as :meth:`recv` does; stop when the channel is
        disconnected and drained.  Blocks between values."""
        while True:
            try:
                value = self.recv()
            except RecvError:
                return
            yield value

    def close(self: Owned[Receiver[T]]) -> None:
        """Close the Receiver (Rust: drop it).  Idempotent.  Buffered values
        are dropped; blocked and later sends raise :class:`SendError`.
        Never blocks (beyond the channel's short internal lock)."""
        chan = getattr(self, "_chan", None)
        if chan is None:  # __init__ never ran (only reachable from __del__)
            return
        with chan.lock:  # re-entrant: this may run from __del__
            if self._closed:
                return
            self._closed = True
            self._get = None
            chan.receiver_alive = False  # before the drain (module docstring)
            # Keep the values alive past the lock: dropping them may run
            # arbitrary finalizers, which must not run while we hold it.
            dropped = list(chan.buffer)
            chan.buffer.clear()
            if chan.queue is not None:
                dropped += _drain(chan.queue)
                chan.queue.put(_WAKE)  # a recv blocked in another thread
            chan.send_waiters.notify_all()
            chan.handoff_waiters.notify_all()
            chan.recv_waiters.notify_all()  # a recv in another thread
        del dropped

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called on this Receiver."""
        return self._closed

    def __repr__(self) -> str:
        return f"<Receiver{' closed' if self._closed else ''} at {id(self):#x}>"


class channel(tuple[Sender[T], Receiver[T]], Generic[T]):
    """``tx, rx = channel[T]()``: an unbounded channel of ``T``.

    A tuple ``(Sender[T], Receiver[T])``; unpack it at once: as long as the
    tuple itself is alive it keeps its Sender alive, so the channel cannot
    disconnect by garbage collection.  ``send`` never blocks.
    """

    __slots__ = ()

    def __new__(cls) -> channel[T]:
        chan: _Chan[T] = _Chan(None)
        return tuple.__new__(cls, (Sender(chan), Receiver(chan)))


class sync_channel(tuple[Sender[T], Receiver[T]], Generic[T]):
    """``tx, rx = sync_channel[T](bound)``: a bounded channel of ``T``.

    ``send`` blocks while ``bound`` values are buffered.  With ``bound == 0``
    it is a rendezvous channel: ``send`` returns only once the receiver has
    taken the value.  Raises :class:`ValueError` if ``bound < 0``.
    """

    __slots__ = ()

    def __new__(cls, bound: int) -> sync_channel[T]:
        if bound < 0:
            raise ValueError(f"bound must be >= 0, not {bound}")
        chan: _Chan[T] = _Chan(bound)
        return tuple.__new__(cls, (Sender(chan), Receiver(chan)))


# -- the C hot path ---------------------------------------------------------------
#
# ``_channel_accel`` (runtime/_channel_accel.c, built when the package is
# installed, optional) holds ``_Chan``'s fields and the paths of
# ``Sender.send`` and ``Receiver.recv`` that do not block in C: an unbounded
# channel's ``put``/``get_nowait``, a bounded channel's append or take under
# its lock.  Where it is there (compiled for this interpreter, with or without
# the GIL) the three names are rebound to classes over its types that take
# every other method from the Python classes above, unchanged: ``_send_locked``,
# ``_recv_locked``, ``_wait`` and ``_woken`` (blocking, closing,
# disconnection), ``try_send``, ``try_recv``, ``clone``, ``close``, iteration.
# The Python classes run everywhere else (PyPy, no compiler at install) and
# with FEARLESS_PURE_PYTHON=1 set.  Type checkers read the Python classes.

if not TYPE_CHECKING:
    import os as _os

    try:
        from . import _channel_accel
    except ImportError:
        _channel_accel = None
    if _channel_accel is not None and not _os.environ.get("FEARLESS_PURE_PYTHON"):
        _PyChan, _PySender, _PyReceiver = _Chan, Sender, Receiver

        def _over(base: type, cls: type, c_methods: tuple[str, ...]) -> type:
            """``cls`` again, on the C type ``base``: the same bases, methods,
            properties and docs, less the slots (the C type holds the fields)
            and the methods the C type defines."""
            skip = {"__slots__", "__init__", "__dict__", "__weakref__", *cls.__slots__, *c_methods}
            namespace = {k: v for k, v in vars(cls).items() if k not in skip}
            namespace["__slots__"] = ("__weakref__",) if "__weakref__" in cls.__slots__ else ()
            return type(cls.__name__, (base, *cls.__bases__), namespace)

        class _Chan(_channel_accel.ChanBase, Generic[T]):
            __slots__ = ()
            __doc__ = _PyChan.__doc__

            def __init__(self, bound: int | None) -> None:
                super().__init__(
                    threading.RLock(),
                    SimpleQueue() if bound is None else None,
                    deque(),
                    bound,
                    _WaitQueue(),
                    _WaitQueue(),
                    _WaitQueue(),
                )

        Sender = _over(_channel_accel.SenderBase, _PySender, ("send",))
        Receiver = _over(_channel_accel.ReceiverBase, _PyReceiver, ("recv",))
        _channel_accel.register(drop_late=_drop_late, wake=_WAKE, queue_empty=_QueueEmpty)
