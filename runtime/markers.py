"""Ownership and thread-safety markers.

The parameter markers are generic type aliases whose value is the bare type
variable: to mypy (and to other checkers) ``Owned[list[int]]`` *is*
``list[int]``, so code that uses them type-checks exactly as before.  mypy keeps
the alias in the declared signature, also when the module comes from the
incremental cache, and that is where the ``mypy_ownership`` plugin reads them.
At run time they cost nothing: subscripting an alias builds a tiny object once,
when the annotation is evaluated.
"""

from __future__ import annotations

from typing import TypeVar

from typing_extensions import TypeAliasType

__all__ = [
    "Owned",
    "Borrowed",
    "MutBorrowed",
    "Send",
    "Sync",
    "NotSend",
    "NotSync",
    "unsafe_send",
    "unsafe_sync",
]

_T = TypeVar("_T")
_C = TypeVar("_C", bound=type)

#: The callee takes ownership: the caller's variable is moved and may not be
#: used again until it is rebound (Rust's pass-by-value).
Owned = TypeAliasType("Owned", _T, type_params=(_T,))

#: A shared borrow: the callee may read the value, must not mutate it and must
#: not keep it after it returns (Rust's ``&T``).
Borrowed = TypeAliasType("Borrowed", _T, type_params=(_T,))

#: An exclusive borrow: the callee may mutate the value, nobody else may touch
#: it during the call, and the callee must not keep it (Rust's ``&mut T``).
MutBorrowed = TypeAliasType("MutBorrowed", _T, type_params=(_T,))

#: The value crosses into another thread: its type must be safe to send.
Send = TypeAliasType("Send", _T, type_params=(_T,))

#: The value is shared with other threads: its type must be safe to share.
Sync = TypeAliasType("Sync", _T, type_params=(_T,))


class NotSend:
    """Base class that opts a class out of ``Send``: its instances are bound
    to the thread that made them (like Rust's ``Rc`` or a raw pointer)."""

    __slots__ = ()


class NotSync:
    """Base class that opts a class out of ``Sync``: its instances may move to
    another thread but must not be used from two threads at once."""

    __slots__ = ()


def unsafe_send(cls: _C) -> _C:
    """Trust me: instances of ``cls`` may be sent to another thread.

    This is Rust's ``unsafe impl Send``: the checker stops deriving ``Send``
    for the class and believes you.  Use it only for a class whose thread
    affinity you have verified by hand.
    """
    cls.__fearless_send__ = True  # type: ignore[attr-defined]
    return cls


def unsafe_sync(cls: _C) -> _C:
    """Trust me: instances of ``cls`` may be used from several threads at once.

    This is Rust's ``unsafe impl Sync``: the class synchronises itself
    internally (a lock around every access, or only atomic state) and the
    checker believes you.
    """
    cls.__fearless_sync__ = True  # type: ignore[attr-defined]
    return cls


def _ownership_checkpoint() -> None:
    """A no-op the ``mypy_ownership`` plugin places (in mypy's view of the
    code only, never in the source) at the top of every function that takes a
    borrowed parameter, so that it is called back when mypy checks that body.
    It is never called at run time."""
