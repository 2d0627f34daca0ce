"""Every exception the ``fearless`` runtime raises.

They all derive from :class:`FearlessError`.  Misuse of a handle (a dead guard,
a closed sender, an ``Rc`` touched from the wrong thread) is a bug in the
calling program, so those errors also derive from :class:`RuntimeError`;
timeouts also derive from :class:`TimeoutError`, so ``except TimeoutError``
catches them.  Conditions that a correct program must expect (the other end
of a channel went away, a lock was poisoned, a non-blocking call found the
resource busy) derive from :class:`FearlessError` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

_T = TypeVar("_T")
_G = TypeVar("_G")

__all__ = [
    "FearlessError",
    "SendError",
    "Full",
    "RecvError",
    "Empty",
    "RecvTimeout",
    "ClosedError",
    "PoisonError",
    "WouldBlock",
    "DeadGuardError",
    "DeadlockError",
    "ThreadBoundError",
    "JoinTimeout",
]


class FearlessError(Exception):
    """Base class of every exception raised by ``fearless``."""


# -- channels ----------------------------------------------------------------


class SendError(FearlessError, Generic[_T]):
    """The receiver is gone (closed or garbage-collected): the value was not
    delivered.

    ``value`` is the value that was passed to ``send``, handed back so that
    nothing is lost (Rust's ``SendError(T)``).
    """

    def __init__(self, value: _T) -> None:
        super().__init__("sending on a channel whose receiver is gone")
        self.value: _T = value


class Full(FearlessError, Generic[_T]):
    """``try_send`` on a bounded channel found no room (or, for a rendezvous
    channel, no receiver waiting).  ``value`` is the unsent value."""

    def __init__(self, value: _T) -> None:
        super().__init__("the channel is full")
        self.value: _T = value


class RecvError(FearlessError):
    """The channel is empty and disconnected: every sender is closed or
    garbage-collected, so no value can ever arrive."""


class Empty(FearlessError):
    """``try_recv`` found no buffered value, but the channel is still
    connected (a value may arrive later)."""


class RecvTimeout(FearlessError, TimeoutError):
    """``recv(timeout=...)`` waited the whole timeout and no value arrived."""


class ClosedError(FearlessError, RuntimeError):
    """A handle was used after it was closed: ``send``/``clone`` on a closed
    ``Sender``, ``recv`` on a closed ``Receiver``, ``spawn`` on a finished
    ``Scope``.  In Rust this would not compile (use after move)."""


# -- locks -------------------------------------------------------------------


class PoisonError(FearlessError, Generic[_G]):
    """The lock is poisoned: an exception escaped a block that held it
    (for an ``RwLock``: a block that held it for writing), so the protected
    data may be half-updated.

    The lock is *not* held when this is raised.  ``into_inner()`` returns a
    guard context that acquires the lock again ignoring the poison, so the
    data can be inspected and repaired (then call ``clear_poison()`` on the
    lock)::

        try:
            with m.lock() as g: ...
        except PoisonError as err:
            with err.into_inner() as g:
                g.value = repair(g.value)
            m.clear_poison()
    """

    def __init__(self, recover: AbstractContextManager[_G]) -> None:
        super().__init__("the lock is poisoned: a previous holder raised")
        self._recover = recover

    def into_inner(self) -> AbstractContextManager[_G]:
        """A guard context that ignores the poison.  Entering it blocks until
        the lock is acquired (like the call that raised this error); it does
        not clear the poison flag."""
        return self._recover


class WouldBlock(FearlessError):
    """``try_lock``/``try_read``/``try_write`` found the lock held."""


class DeadGuardError(FearlessError, RuntimeError):
    """A lock guard was used while it did not hold the lock: before its
    ``with`` block was entered, or after the block ended."""


class DeadlockError(FearlessError, RuntimeError):
    """The calling thread already holds this lock (or, for ``join``, is the
    thread being joined): blocking would wait for itself forever."""


# -- threads -----------------------------------------------------------------


class ThreadBoundError(FearlessError, RuntimeError):
    """A thread-bound object (``Rc``, a lock guard) was used from a thread
    other than the one that owns it (Rust: the type is ``!Send``)."""


class JoinTimeout(FearlessError, TimeoutError):
    """``join(timeout=...)`` returned before the thread finished.  The thread
    keeps running and can be joined again."""
