"""Channels: many senders, one receiver, values move from sender to receiver.

``tx, rx = channel[T]()`` makes an unbounded channel, ``sync_channel[T](n)`` a
bounded one (``n == 0``: rendezvous).  Rust's ``std::sync::mpsc``.

Thread safety: every piece of shared state lives in one ``_Chan`` object and
is read or written only while its lock is held; nothing relies on the GIL.

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
* blocking uses our own wait queue (``_WaitQueue``) rather than
  ``threading.Condition``: a waiter registers *before* its last check of the
  state.  A finalizer that runs before the registration is seen by the
  check; one that runs after it releases the waiter, so the wait returns at
  once.  With a Condition, a finalizer running between the check and
  ``wait()`` would notify nobody and the wait could last forever.

Values leaving the channel (a closed receiver's buffer) are dropped *outside*
the lock, so their own finalizers never run while we hold it.
"""

from __future__ import annotations

import threading
from _thread import LockType as _LockType  # the type of threading.Lock()
from collections import deque
from collections.abc import Iterator
from time import monotonic
from typing import Generic, TypeVar

from . import _waits
from ._mixins import Closing, CopyIsClone, NoCopy
from .errors import ClosedError, Empty, Full, RecvError, RecvTimeout, SendError
from .markers import NotSync, Owned, Send

__all__ = ["channel", "sync_channel", "Sender", "Receiver"]

T = TypeVar("T")


class _WaitQueue:
    """FIFO of parked threads, each blocked on its own private lock.

    Every method must be called with the channel lock held.  ``notify``
    releases a waiter's private lock; releasing needs no channel lock and no
    cooperation from the waiter, which is what makes a wake-up from a
    finalizer safe (see the module docstring).
    """

    __slots__ = ("_waiters",)

    def __init__(self) -> None:
        self._waiters: deque[_LockType] = deque()

    def __bool__(self) -> bool:
        return bool(self._waiters)

    def __len__(self) -> int:
        return len(self._waiters)

    def register(self) -> _LockType:
        waiter = threading.Lock()
        waiter.acquire()
        self._waiters.append(waiter)
        return waiter

    def cancel(self, waiter: _LockType) -> bool:
        """Remove ``waiter``; False if it was already notified."""
        try:
            self._waiters.remove(waiter)
        except ValueError:
            return False
        return True

    def notify_one(self) -> None:
        if self._waiters:
            self._waiters.popleft().release()

    def notify_all(self) -> None:
        waiters = self._waiters
        while waiters:
            waiters.popleft().release()


class _Chan(Generic[T]):
    """State shared by the two ends.  Guarded by ``lock``."""

    __slots__ = (
        "lock",
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

    __slots__ = ("_chan", "_closed", "__weakref__")
    _noun = "a Sender"

    def __init__(self, _chan: _Chan[T]) -> None:
        # Not public: Senders come from channel()/sync_channel()/clone(), which
        # have already counted this one in _chan.senders.
        self._chan = _chan
        self._closed = False

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
        chan = self._chan
        with chan.lock:
            if self._closed:
                raise ClosedError("send on a closed Sender")
            bound = chan.bound
            if bound is not None:
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
            elif bound is not None and chan.send_waiters and len(chan.buffer) < bound:
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
        chan = self._chan
        with chan.lock:
            if self._closed:
                raise ClosedError("send on a closed Sender")
            if not chan.receiver_alive:
                raise SendError(value)
            bound = chan.bound
            if bound is not None:
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
            chan.senders -= 1
            if chan.senders == 0:
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

    __slots__ = ("_chan", "_closed", "__weakref__")
    _noun = "a Receiver"
    _unique_because = "a channel has one receiver"

    def __init__(self, _chan: _Chan[T]) -> None:
        self._chan = _chan
        self._closed = False

    def recv(self, timeout: float | None = None) -> T:
        """Take the next value, blocking until one arrives.

        Values sent by one Sender arrive in the order they were sent.  Blocks
        while the channel is empty and some Sender is still open, at most
        ``timeout`` seconds if given.  Raises :class:`RecvError` when the
        channel is empty and every Sender is closed (buffered values are
        always delivered first), :class:`RecvTimeout` when the timeout
        expires, :class:`ClosedError` if this Receiver was closed.
        """
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

    def try_recv(self) -> T:
        """Take the next value without blocking.

        Raises :class:`Empty` if no value is buffered but some Sender is still
        open, :class:`RecvError` if no value is buffered and every Sender is
        closed, :class:`ClosedError` if this Receiver was closed.
        """
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
            chan.receiver_alive = False
            # Keep the values alive past the lock: dropping them may run
            # arbitrary finalizers, which must not run while we hold it.
            dropped = list(chan.buffer)
            chan.buffer.clear()
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
