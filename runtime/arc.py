"""Shared ownership: ``Arc`` (any thread) and ``Rc`` (one thread).

Python's garbage collector already keeps shared values alive; what these
types add is Rust's *ownership discipline*: the value is reachable only
through a handle, read-only (``value`` has no setter; put a ``Mutex`` inside
for shared mutation), ``clone()`` makes a new owner and ``strong_count()``
tells how many handles are alive.  ``Rc`` additionally refuses to be used
outside the thread that created it.

Counting: a handle counts from its creation until it is garbage-collected or
:meth:`drop` is called.  The count is kept under a small lock in both types:
even an ``Rc``'s finalizer can run in any thread (the cyclic GC runs where it
happens to be triggered), so its decrement needs synchronisation too.  No
critical section allocates a GC-tracked object, so no finalizer can run while
the count lock is held (a finalizer taking that lock again in the same
thread would otherwise deadlock).
"""

from __future__ import annotations

import threading
from threading import get_ident
from typing import Generic, TypeVar

from ._mixins import CopyIsClone
from .errors import ClosedError, ThreadBoundError
from .markers import NotSend, Owned, Send, Sync

__all__ = ["Arc", "Rc"]

T = TypeVar("T")


class _Box(Generic[T]):
    """The shared allocation: the value and its strong count."""

    __slots__ = ("value", "count", "lock")

    def __init__(self, value: T) -> None:
        self.value = value
        self.count = 1
        self.lock = threading.Lock()


def _release(handle: Arc[T] | Rc[T]) -> None:
    """The end of ``handle``'s count (``drop`` and finalizers, in any
    thread): the strong count shrinks by one, once.  Idempotent."""
    box = getattr(handle, "_box", None)
    if box is None:  # __init__ never ran
        return
    with box.lock:
        if not handle._alive:
            return
        handle._alive = False
        box.count -= 1


class Arc(CopyIsClone, Generic[T]):
    """Atomically reference-counted shared ownership (Rust's ``Arc<T>``).

    ``Arc(value)`` moves ``value`` in.  Handles can be cloned, sent and
    shared between threads; every method is thread-safe and never blocks
    (beyond the count's short internal lock).  The value must itself be safe
    to share (``Sync``): immutable data, or a ``Mutex``/``RwLock``.
    """

    __slots__ = ("_box", "_alive", "__weakref__")
    _noun = "an Arc"

    def __init__(self, value: Owned[Sync[Send[T]]]) -> None:
        self._box = _Box(value)
        self._alive = True

    @classmethod
    def _from_box(cls, box: _Box[T]) -> Arc[T]:
        # The caller has already counted the new handle.
        new = cls.__new__(cls)
        new._box = box
        new._alive = True
        return new

    @property
    def value(self) -> T:
        """The shared value (read-only).  Raises :class:`ClosedError` after
        :meth:`drop`."""
        if not self._alive:
            raise ClosedError("use of a dropped Arc")
        return self._box.value

    def clone(self) -> Arc[T]:
        """A new handle to the same value; the strong count grows by one.
        Raises :class:`ClosedError` after :meth:`drop`."""
        box = self._box
        with box.lock:
            if not self._alive:
                raise ClosedError("clone of a dropped Arc")
            box.count += 1
        return Arc._from_box(box)

    def strong_count(self) -> int:
        """How many live handles share the value (this one included).  A
        snapshot: other threads may clone or drop concurrently."""
        return self._box.count

    def drop(self) -> None:
        """Give up this handle now (Rust: ``drop(arc)``) instead of waiting
        for garbage collection.  Idempotent.  Later ``value``/``clone`` on
        this handle raise :class:`ClosedError`."""
        _release(self)

    def __del__(self) -> None:
        self.drop()

    def __repr__(self) -> str:
        return f"<Arc strong_count={self._box.count} at {id(self):#x}>"


class Rc(NotSend, CopyIsClone, Generic[T]):
    """Reference-counted shared ownership bound to one thread (Rust's
    ``Rc<T>``, which is neither ``Send`` nor ``Sync``).

    Same API as :class:`Arc`.  Every use (``value``, ``clone``,
    ``strong_count``, ``drop``) from a thread other than the creating one
    raises :class:`ThreadBoundError`; clones are bound to the same thread.
    Garbage collection may drop a handle in any thread; that is allowed.
    """

    __slots__ = ("_box", "_alive", "_thread", "__weakref__")
    _noun = "an Rc"

    def __init__(self, value: Owned[T]) -> None:
        self._box = _Box(value)
        self._alive = True
        self._thread = get_ident()

    def _check(self) -> None:
        if self._thread != get_ident():
            raise ThreadBoundError(f"Rc belongs to thread {self._thread}, used from {get_ident()}")
        if not self._alive:
            raise ClosedError("use of a dropped Rc")

    @property
    def value(self) -> T:
        """The shared value (read-only).  Raises :class:`ThreadBoundError`
        from another thread, :class:`ClosedError` after :meth:`drop`."""
        self._check()
        return self._box.value

    def clone(self) -> Rc[T]:
        """A new handle to the same value, bound to the same thread.  Raises
        :class:`ThreadBoundError` from another thread, :class:`ClosedError`
        after :meth:`drop`."""
        self._check()
        box = self._box
        with box.lock:
            box.count += 1
        new = Rc.__new__(Rc)
        new._box = box
        new._alive = True
        new._thread = self._thread
        return new

    def strong_count(self) -> int:
        """How many live handles share the value.  Raises
        :class:`ThreadBoundError` from another thread."""
        if self._thread != get_ident():
            raise ThreadBoundError(f"Rc belongs to thread {self._thread}, used from {get_ident()}")
        return self._box.count

    def drop(self) -> None:
        """Give up this handle now.  Idempotent.  Raises
        :class:`ThreadBoundError` from another thread."""
        if self._thread != get_ident():
            raise ThreadBoundError(f"Rc belongs to thread {self._thread}, used from {get_ident()}")
        _release(self)

    def __del__(self) -> None:
        _release(self)  # from any thread: the GC runs wherever it is triggered

    def __repr__(self) -> str:
        return f"<Rc at {id(self):#x}>"
