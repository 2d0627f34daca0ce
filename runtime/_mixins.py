"""Small mixins for what the primitives do alike: copying, pickling, ``with``.

Each mixin is one rule, written once; a primitive says which rules it follows
by its bases (the way Trio's ``_sync`` lets small primitives share small
mixins).  The rules:

* :class:`CopyIsClone`: ``copy.copy``/``copy.deepcopy`` make a new counted
  handle (``Arc``, ``Rc``, ``Sender``); a plain copy would share the value
  without being counted.
* :class:`NoCopy`: copying raises ``TypeError`` (``Receiver``, the locks and
  their guards): there must stay exactly one.
* both refuse pickling (:class:`Unpicklable`): a handle stands for a count, a
  lock or a channel in this process, which bytes cannot carry.
* :class:`WithBlock`: ``with x as y:`` binds ``x`` itself, entering and
  leaving run the class's hooks (the lock guards, ``Scope``).
* :class:`Closing`: the end of a ``with`` block and garbage collection both
  close the handle (``Sender``, ``Receiver``).

The mixins hold no state (``__slots__ = ()``); a class that uses one defines
the methods it declares (``clone``, ``close``, the hooks).
"""

from __future__ import annotations

from types import TracebackType
from typing import ClassVar, NoReturn

from typing_extensions import Self

__all__ = ["Unpicklable", "CopyIsClone", "NoCopy", "WithBlock", "Closing"]


class Unpicklable:
    """Pickling raises ``TypeError``."""

    __slots__ = ()

    #: How messages name an instance, article included ("a Sender"); empty:
    #: by the name of its class alone ("Mutex cannot be pickled").
    _noun: ClassVar[str] = ""

    def _named(self) -> str:
        return self._noun or type(self).__name__

    def __reduce__(self) -> NoReturn:
        raise TypeError(f"{self._named()} cannot be pickled")


class CopyIsClone(Unpicklable):
    """``copy.copy`` and ``copy.deepcopy`` are ``clone()``: a new handle that
    is counted like any other (a deep copy shares the value too: shared
    ownership is what the handle is for)."""

    __slots__ = ()

    def clone(self) -> Self:
        """A new handle to the same value (defined by each class)."""
        raise NotImplementedError

    def __copy__(self) -> Self:
        return self.clone()

    def __deepcopy__(self, memo: object) -> Self:
        return self.clone()


class NoCopy(Unpicklable):
    """``copy.copy`` and ``copy.deepcopy`` raise ``TypeError``: a copy would
    duplicate what must stay unique (a lock, a guard, a channel's receiver).
    The ``NoReturn`` of ``__copy__`` is also what tells the ``mypy_ownership``
    plugin that the value cannot be copied."""

    __slots__ = ()

    #: Why, appended to the message ("a channel has one receiver"); may be empty.
    _unique_because: ClassVar[str] = ""

    def __copy__(self) -> NoReturn:
        because = f": {self._unique_because}" if self._unique_because else ""
        raise TypeError(f"{self._named()} cannot be copied{because}")

    def __deepcopy__(self, memo: object) -> NoReturn:
        self.__copy__()


class WithBlock:
    """A context manager that is its own target: ``with x as y:`` binds ``x``.

    ``__enter__`` runs :meth:`_enter`, ``__exit__`` runs :meth:`_exit`; what
    either hook raises propagates.  ``__exit__`` never suppresses the block's
    exception (it returns None)."""

    __slots__ = ()

    def _enter(self) -> None:
        """What entering does before the block starts; nothing by default."""

    def _exit(self, exc_type: type[BaseException] | None, exc: BaseException | None) -> None:
        """What leaving does; ``exc_type``/``exc`` are the block's exception
        (None when it ended normally).  Nothing by default."""

    def __enter__(self) -> Self:
        self._enter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._exit(exc_type, exc)


class Closing(WithBlock):
    """A handle that closes at the end of its ``with`` block (which does not
    close it on entry) and when it is garbage-collected (Rust: dropped)."""

    __slots__ = ()

    def close(self) -> None:
        """Close the handle; idempotent (defined by each class)."""
        raise NotImplementedError

    def _exit(self, exc_type: type[BaseException] | None, exc: BaseException | None) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
