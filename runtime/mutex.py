"""Locks that own their data: ``Mutex`` and ``RwLock`` (Rust's ``std::sync``).

The protected value is reachable only through a guard, and a guard works only
inside its ``with`` block, in the thread that entered it::

    m = Mutex([])
    with m.lock() as g:
        g.value.append(1)      # or: g.value = new_value

``lock()``/``read()``/``write()`` and the ``try_`` forms return an *unentered*
guard: nothing is acquired until ``__enter__``, so a guard that never reaches
a ``with`` cannot leak a held lock, and every error (poison, would-block,
deadlock) is raised by ``__enter__`` with the lock not held.

Poisoning: an exception escaping a ``with`` block that held a ``Mutex`` (or an
``RwLock`` for writing) marks the lock poisoned; later acquisitions raise
:class:`PoisonError`, whose ``into_inner()`` gives access anyway.

Thread safety: a ``Mutex``'s state changes happen while its own lock is held,
or are single attribute stores (the poison flag); an ``RwLock``'s bookkeeping
is under an internal ``threading.Lock``.  Nothing relies on the GIL.
Do not acquire these locks from ``__del__`` methods: a finalizer can run in
the middle of a locked section of the same thread.
"""

from __future__ import annotations

import threading
from threading import get_ident
from types import TracebackType
from typing import TYPE_CHECKING, Generic, NoReturn, TypeVar

from typing_extensions import Self

from ._mixins import NoCopy, WithBlock
from .errors import DeadGuardError, DeadlockError, PoisonError, ThreadBoundError, WouldBlock
from .markers import NotSend, Owned, Send

__all__ = [
    "Mutex",
    "MutexGuard",
    "RwLock",
    "RwLockReadGuard",
    "RwLockWriteGuard",
]

T = TypeVar("T")
L = TypeVar("L")

# Guard states.
_NEW, _HELD, _DEAD = 0, 1, 2


def _dead_guard(state: int, thread: int | None) -> NoReturn:
    if state == _NEW:
        raise DeadGuardError("the guard is not entered: use it as `with m.lock() as g:`")
    if state == _DEAD:
        raise DeadGuardError("the guard's with block has ended: the lock is released")
    raise ThreadBoundError(f"the guard belongs to thread {thread}, not {get_ident()}")


class _Guard(NotSend, NoCopy, WithBlock, Generic[L]):
    """What a guard of any lock ``L`` is: the lock, how it acquires it
    (blocking or not, honouring the poison flag or not, as for
    ``PoisonError.into_inner``) and its life cycle: new, held (entered, by
    one thread), dead (its block ended)."""

    __slots__ = ("_lock", "_blocking", "_ignore_poison", "_state", "_thread")

    def __init__(self, lock: L, blocking: bool, ignore_poison: bool) -> None:
        self._lock = lock
        self._blocking = blocking
        self._ignore_poison = ignore_poison
        self._state = _NEW
        self._thread: int | None = None

    def _check(self) -> None:
        """Raise unless this guard holds its lock for the calling thread."""
        if self._state != _HELD or self._thread != get_ident():
            _dead_guard(self._state, self._thread)

    def __repr__(self) -> str:
        state = ("new", "held", "dead")[self._state]
        return f"<{type(self).__name__} {state} at {id(self):#x}>"


class Mutex(NoCopy, Generic[T]):
    """Mutual exclusion around one value, which it owns.

    ``Mutex(value)`` moves ``value`` in; afterwards it is reachable only
    through a guard from :meth:`lock`/:meth:`try_lock`.  Not re-entrant: a
    thread that holds the lock and calls ``lock()`` again gets
    :class:`DeadlockError` (Rust: may deadlock or panic).  Fairness is
    that of ``threading.Lock`` (none guaranteed).
    """

    __slots__ = ("_lock", "_value", "_poisoned", "_owner")

    def __init__(self, value: Owned[Send[T]]) -> None:
        self._lock = threading.Lock()
        self._value = value
        self._poisoned = False
        # Ident of the holding thread, None when free.  Written only by the
        # holder, so `_owner == get_ident()` is reliable without a lock: only
        # this thread ever stores its own ident there.
        self._owner: int | None = None

    def lock(self) -> MutexGuard[T]:
        """A guard for ``with``; entering it blocks until the lock is free.

        ``__enter__`` raises :class:`PoisonError` if the mutex is poisoned
        (the lock is released again before raising) and
        :class:`DeadlockError` if this thread already holds the lock.
        """
        return MutexGuard(self, True, False)

    def try_lock(self) -> MutexGuard[T]:
        """A guard for ``with`` whose entering never blocks.

        ``__enter__`` raises :class:`WouldBlock` if the lock is held (also
        by this thread) and :class:`PoisonError` if the mutex is poisoned.
        """
        return MutexGuard(self, False, False)

    def is_poisoned(self) -> bool:
        """Whether an exception escaped a block that held the lock (and
        :meth:`clear_poison` was not called since).  Never blocks."""
        return self._poisoned

    def clear_poison(self) -> None:
        """Mark the data as repaired: later acquisitions succeed again.
        Never blocks; may be called with or without the lock held."""
        self._poisoned = False

    def __repr__(self) -> str:
        state = "poisoned" if self._poisoned else "locked" if self._owner is not None else "unlocked"
        return f"<Mutex {state} at {id(self):#x}>"


class MutexGuard(_Guard[Mutex[T]], Generic[T]):
    """Access to a :class:`Mutex`'s value while its lock is held.

    Obtained from ``Mutex.lock()``/``try_lock()``/``PoisonError.into_inner()``
    and usable once, as a ``with`` context.  Inside the block, ``value``
    reads and assigns the protected value; before the block and after it
    every access raises :class:`DeadGuardError`, and from another thread
    :class:`ThreadBoundError` (Rust: ``MutexGuard`` is ``!Send``).
    Entering it twice raises :class:`DeadGuardError`.
    """

    __slots__ = ()

    # The hot path: __enter__/__exit__/value are written out here rather than
    # through WithBlock's hooks and _Guard._check (one call fewer each), the
    # state is one attribute read (``_thread`` is the holder's ident while
    # held, None otherwise), poisoning one more.

    def __enter__(self) -> Self:
        m = self._lock
        lock = m._lock
        if not lock.acquire(False):
            if not self._blocking:
                raise WouldBlock("the Mutex is locked")
            if m._owner == get_ident():
                raise DeadlockError("this thread already holds the Mutex")
            lock.acquire()
        # The state moves only while the lock is held, so two threads cannot
        # both enter one guard.
        if self._state != _NEW:
            lock.release()
            raise DeadGuardError("a guard can be entered once: call lock() again")
        if m._poisoned and not self._ignore_poison:
            lock.release()
            raise PoisonError(MutexGuard(m, True, True))
        m._owner = self._thread = get_ident()
        self._state = _HELD
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: object, tb: TracebackType | None) -> None:
        if self._state != _HELD:
            return
        m = self._lock
        self._state = _DEAD
        self._thread = None
        if exc_type is not None:
            m._poisoned = True  # the value may be half-updated
        m._owner = None
        m._lock.release()

    @property
    def value(self) -> T:
        """The protected value.  Raises :class:`DeadGuardError` outside the
        ``with`` block, :class:`ThreadBoundError` from another thread."""
        if self._thread != get_ident():
            _dead_guard(self._state, self._thread)
        return self._lock._value

    @value.setter
    def value(self, new: T) -> None:
        if self._thread != get_ident():
            _dead_guard(self._state, self._thread)
        self._lock._value = new


class RwLock(NoCopy, Generic[T]):
    """A reader-writer lock that owns its value.

    :meth:`read` guards share the lock with other readers and give read-only
    access; a :meth:`write` guard is exclusive and can assign the value.

    Policy: writer preference.  While a writer holds or waits for the lock,
    new readers wait, so a stream of readers cannot starve a writer; a
    continuous stream of writers can starve readers.  Exception: a thread
    that already holds a read guard gets another one at once (recursive
    reads do not deadlock behind a waiting writer).

    Raises :class:`DeadlockError` instead of deadlocking when a thread that
    holds the write lock asks for any guard, or one that holds a read lock
    asks for the write lock.  Poisoning: only an exception escaping a
    *write* block poisons; afterwards ``read()`` and ``write()`` both raise
    :class:`PoisonError` (like Rust).
    """

    __slots__ = (
        "_mutex",
        "_readers_ok",
        "_writer_ok",
        "_readers",
        "_writer",
        "_waiting_writers",
        "_value",
        "_poisoned",
    )

    def __init__(self, value: Owned[Send[T]]) -> None:
        self._mutex = threading.Lock()  # guards all bookkeeping below
        self._readers_ok = threading.Condition(self._mutex)
        self._writer_ok = threading.Condition(self._mutex)
        self._readers: dict[int, int] = {}  # thread ident -> read guards held
        self._writer: int | None = None  # thread ident of the writer
        self._waiting_writers = 0
        self._value = value
        self._poisoned = False

    def read(self) -> RwLockReadGuard[T]:
        """A shared guard for ``with``.  Entering blocks while a writer holds
        or waits for the lock (not if this thread already reads).
        ``__enter__`` raises :class:`PoisonError` (lock not held) if poisoned,
        :class:`DeadlockError` if this thread holds the write lock."""
        return RwLockReadGuard(self, True, False)

    def try_read(self) -> RwLockReadGuard[T]:
        """Like :meth:`read`, but ``__enter__`` raises :class:`WouldBlock`
        instead of blocking."""
        return RwLockReadGuard(self, False, False)

    def write(self) -> RwLockWriteGuard[T]:
        """An exclusive guard for ``with``.  Entering blocks until no reader
        and no writer holds the lock.  ``__enter__`` raises
        :class:`PoisonError` (lock not held) if poisoned,
        :class:`DeadlockError` if this thread holds any guard of this lock."""
        return RwLockWriteGuard(self, True, False)

    def try_write(self) -> RwLockWriteGuard[T]:
        """Like :meth:`write`, but ``__enter__`` raises :class:`WouldBlock`
        instead of blocking."""
        return RwLockWriteGuard(self, False, False)

    def is_poisoned(self) -> bool:
        """Whether an exception escaped a write block (and
        :meth:`clear_poison` was not called since).  Never blocks."""
        return self._poisoned

    def clear_poison(self) -> None:
        """Mark the data as repaired.  Never blocks."""
        self._poisoned = False

    # -- bookkeeping, called by the guards ----------------------------------
    # Every guard state change happens here, under self._mutex, so a guard
    # (thread-bound, but nothing stops a buggy program from sharing one)
    # cannot be entered or exited twice.

    def _wake(self) -> None:
        # Lock held.  Let in whoever may proceed now; extra wake-ups are
        # harmless (every waiter re-checks its condition).
        if self._writer is None:
            if self._waiting_writers:
                if not self._readers:
                    self._writer_ok.notify()
            else:
                self._readers_ok.notify_all()

    def _acquire_read(self, guard: _RwGuard[T]) -> None:
        me = get_ident()
        with self._mutex:
            if guard._state != _NEW:
                raise DeadGuardError("a guard can be entered once: call read() again")
            if self._writer == me:
                raise DeadlockError("this thread holds the write lock")
            held = self._readers.get(me, 0)
            if held == 0:
                while self._writer is not None or self._waiting_writers:
                    if not guard._blocking:
                        raise WouldBlock("the RwLock is written or a writer waits")
                    self._readers_ok.wait()
            if self._poisoned and not guard._ignore_poison:
                raise PoisonError(RwLockReadGuard(self, True, True))
            self._readers[me] = held + 1
            guard._thread = me
            guard._state = _HELD

    def _acquire_write(self, guard: _RwGuard[T]) -> None:
        me = get_ident()
        with self._mutex:
            if guard._state != _NEW:
                raise DeadGuardError("a guard can be entered once: call write() again")
            if self._writer == me or me in self._readers:
                raise DeadlockError("this thread already holds this RwLock")
            if self._writer is not None or self._readers:
                if not guard._blocking:
                    raise WouldBlock("the RwLock is held")
                self._waiting_writers += 1
                try:
                    while self._writer is not None or self._readers:
                        self._writer_ok.wait()
                except BaseException:
                    # Interrupted: we may have swallowed a wake-up, and
                    # readers may be waiting only because we were.
                    self._waiting_writers -= 1
                    self._wake()
                    raise
                self._waiting_writers -= 1
            if self._poisoned and not guard._ignore_poison:
                self._wake()  # we are not taking it after all
                raise PoisonError(RwLockWriteGuard(self, True, True))
            self._writer = me
            guard._thread = me
            guard._state = _HELD

    def _release(self, guard: _RwGuard[T], write: bool, poison: bool) -> None:
        with self._mutex:
            if guard._state != _HELD:
                return
            guard._state = _DEAD
            if write:
                self._writer = None
                if poison:
                    self._poisoned = True  # the value may be half-updated
            else:
                assert guard._thread is not None
                held = self._readers[guard._thread] - 1
                if held:
                    self._readers[guard._thread] = held
                else:
                    del self._readers[guard._thread]
            self._wake()

    def __repr__(self) -> str:
        state = "poisoned" if self._poisoned else "unpoisoned"
        return f"<RwLock {state} at {id(self):#x}>"


class _RwGuard(_Guard[RwLock[T]], Generic[T]):
    """What the two guards of an :class:`RwLock` share: reading its value."""

    __slots__ = ()

    @property
    def value(self) -> T:
        """The protected value.  Raises :class:`DeadGuardError` outside the
        ``with`` block, :class:`ThreadBoundError` from another thread."""
        self._check()
        return self._lock._value


class RwLockReadGuard(_RwGuard[T]):
    """Shared, read-only access to an :class:`RwLock`'s value inside a
    ``with`` block.  ``value`` has no setter (assigning raises
    ``AttributeError``; mypy reports it).  Nothing stops mutating the value
    object itself through it: don't (Rust: ``&T``).  Same life-cycle rules
    as :class:`MutexGuard`.  An exception escaping a read block does not
    poison the lock (a reader cannot have half-updated anything)."""

    __slots__ = ()

    def _enter(self) -> None:
        self._lock._acquire_read(self)

    def _exit(self, exc_type: type[BaseException] | None, exc: BaseException | None) -> None:
        self._lock._release(self, False, False)


class RwLockWriteGuard(_RwGuard[T]):
    """Exclusive access to an :class:`RwLock`'s value inside a ``with``
    block: ``value`` reads and assigns.  An exception escaping the block
    poisons the lock.  Same life-cycle rules as :class:`MutexGuard`."""

    __slots__ = ()

    @property
    def value(self) -> T:
        """The protected value (read and assign).  Raises
        :class:`DeadGuardError` outside the ``with`` block,
        :class:`ThreadBoundError` from another thread."""
        self._check()
        return self._lock._value

    @value.setter
    def value(self, new: T) -> None:
        self._check()
        self._lock._value = new

    def _enter(self) -> None:
        self._lock._acquire_write(self)

    def _exit(self, exc_type: type[BaseException] | None, exc: BaseException | None) -> None:
        self._lock._release(self, True, exc_type is not None)


# -- the C hot path ---------------------------------------------------------------
#
# ``_mutex_accel`` (runtime/_mutex_accel.c, built when the package is
# installed, optional) holds ``Mutex`` and ``MutexGuard``'s fields and methods
# in C: a round trip ``with m.lock() as g: g.value += 1`` runs no Python frame.
# Where it is there (compiled for this interpreter, with or without the GIL)
# the two names are rebound to classes over its types, with the same mixins,
# docs and behaviour as the Python classes above, which run everywhere else
# (PyPy, no compiler at install) and with FEARLESS_PURE_PYTHON=1 set.  Type
# checkers read the Python classes.

if not TYPE_CHECKING:
    import os as _os

    try:
        from . import _mutex_accel
    except ImportError:
        _mutex_accel = None
    if _mutex_accel is not None and not _os.environ.get("FEARLESS_PURE_PYTHON"):
        _PyMutex, _PyMutexGuard = Mutex, MutexGuard

        class Mutex(_mutex_accel.MutexBase, NoCopy, Generic[T]):
            __slots__ = ()
            __doc__ = _PyMutex.__doc__

        class MutexGuard(_mutex_accel.MutexGuardBase, NotSend, NoCopy, WithBlock, Generic[T]):
            __slots__ = ()
            __doc__ = _PyMutexGuard.__doc__

        _mutex_accel.register(
            guard_type=MutexGuard,
            poison_error=PoisonError,
            dead_guard_error=DeadGuardError,
            thread_bound_error=ThreadBoundError,
            would_block=WouldBlock,
            deadlock_error=DeadlockError,
            allocate_lock=threading.Lock,
        )
