"""Threads: ``spawn`` with a join handle, and ``scope`` for fork-join.

Rust's ``std::thread::spawn``/``JoinHandle`` and ``std::thread::scope``::

    h = spawn(work, 1, 2)          # mypy checks the arguments against work
    result = h.join()              # or re-raises work's exception

    with scope() as s:
        a = s.spawn(left_half, data)
        b = s.spawn(right_half, data)
    # here both threads have finished; an exception in either is raised

Exceptions.  A thread's exception is stored in its handle and re-raised by
``join()``.  Before storing it, the locals of the failed frames are cleared
(``traceback.clear_frames``): in Rust, unwinding drops everything the thread
owned, and here too a ``Sender`` that the thread held must close so that its
receiver sees the disconnection instead of waiting forever.  The traceback
(file, line, function) is kept.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar

from . import _waits
from ._mixins import WithBlock
from .errors import ClosedError, DeadlockError, JoinTimeout
from .markers import Owned, Send

__all__ = ["spawn", "JoinHandle", "scope", "Scope"]

P = ParamSpec("P")
R = TypeVar("R")


def _release_frames(exc: BaseException) -> None:
    """Clear the locals of every finished frame reachable from ``exc``'s
    traceback, its chained exceptions and group members."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if e.__traceback__ is not None:
            traceback.clear_frames(e.__traceback__)
        for nxt in (e.__cause__, e.__context__):
            if nxt is not None:
                todo.append(nxt)
        if sys.version_info >= (3, 11) and isinstance(e, BaseExceptionGroup):
            todo.extend(e.exceptions)


class JoinHandle(Generic[R]):
    """A spawned thread, and the way to get its result.

    Thread-safe: may be moved to and shared with other threads; several
    threads may join it (each gets the same result or exception).
    """

    __slots__ = ("_thread", "_result", "_exc", "_tb", "_observed", "__weakref__")

    def __init__(self, fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        # Not public: use spawn() / Scope.spawn().
        self._result: R | None = None
        self._exc: BaseException | None = None
        self._tb: TracebackType | None = None
        self._observed = False  # join() has raised the exception at least once
        name = getattr(fn, "__qualname__", None) or type(fn).__name__
        # threading.Thread drops target and args when the thread ends, so
        # whatever the thread owned is released then, not when the handle is.
        self._thread = threading.Thread(target=self._run, args=(fn, args, kwargs), name=f"fearless:{name}")

    def _run(self, fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # re-raised by join(); SystemExit too
            del fn, args, kwargs
            # Drop our own frame (it holds fn and its arguments) and free
            # the locals of the others; see the module docstring.
            tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
            exc.__traceback__ = tb
            _release_frames(exc)
            if sys.version_info >= (3, 11):
                exc.add_note(f"(raised in thread {threading.current_thread().name!r}, re-raised by join)")
            self._tb = tb
            self._exc = exc
        else:
            self._result = result
        # Publication: the writes above happen-before any join() returns,
        # because Thread.join() waits on a lock released after _run returns.

    def join(self: Owned[JoinHandle[R]], timeout: float | None = None) -> R:
        """Wait for the thread to finish; return its result or re-raise its
        exception (the same object, with the thread's traceback).

        Blocks until the thread ends, at most ``timeout`` seconds if given:
        then raises :class:`JoinTimeout` (the thread keeps running and can be
        joined again).  Raises :class:`DeadlockError` when a thread joins
        itself.  May be called again: the result is kept.
        """
        thread = self._thread
        if thread.ident == threading.get_ident():
            raise DeadlockError("a thread cannot join itself")
        _waits.join(thread, timeout)  # in slices on a free-threaded build
        if thread.is_alive():
            raise JoinTimeout(f"thread {thread.name!r} still running after {timeout} s")
        exc = self._exc
        if exc is not None:
            self._observed = True
            raise exc.with_traceback(self._tb)
        return self._result  # type: ignore[return-value]  # set when no exception

    def is_finished(self) -> bool:
        """Whether the thread has finished (``join`` would not block).
        Never blocks."""
        return not self._thread.is_alive()

    @property
    def name(self) -> str:
        """The thread's name (``fearless:<function qualname>``)."""
        return self._thread.name

    def __repr__(self) -> str:
        state = "finished" if self.is_finished() else "running"
        return f"<JoinHandle {self.name!r} {state}>"


def spawn(fn: Owned[Send[Callable[P, R]]], /, *args: P.args, **kwargs: P.kwargs) -> JoinHandle[R]:
    """Start ``fn(*args, **kwargs)`` in a new thread and return its handle.

    The thread is not a daemon (the interpreter waits for it at exit) and
    runs detached: if nobody joins it, its result and its exception are
    silently dropped.  Never blocks.  Raises ``RuntimeError`` if a thread
    cannot be started (e.g. during interpreter shutdown).
    """
    handle = JoinHandle(fn, args, kwargs)
    handle._thread.start()
    return handle


_NEW, _OPEN, _CLOSED = 0, 1, 2


class Scope(WithBlock):
    """A fork-join scope: every thread spawned in it is joined when its
    ``with`` block ends.  Get one from :func:`scope`.

    Thread-safe: scoped threads may spawn more threads in the same scope;
    those are joined too.
    """

    __slots__ = ("_lock", "_handles", "_state")

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards _handles and _state
        self._handles: list[JoinHandle[Any]] = []
        self._state = _NEW

    def spawn(self, fn: Send[Callable[P, R]], /, *args: P.args, **kwargs: P.kwargs) -> JoinHandle[R]:
        """Start ``fn(*args, **kwargs)`` in a thread that the scope will
        join.  The handle's ``join`` may also be used inside the block; an
        exception it delivers counts as handled.  Raises
        :class:`ClosedError` outside the ``with`` block.  Never blocks.
        """
        handle = JoinHandle(fn, args, kwargs)
        with self._lock:
            if self._state != _OPEN:
                raise ClosedError("spawn on a scope outside its with block")
            # Start under the lock: once __exit__ has seen the list complete
            # and closed the scope, no thread can appear unjoined.
            handle._thread.start()
            self._handles.append(handle)
        return handle

    def _enter(self) -> None:
        with self._lock:
            if self._state != _NEW:
                raise ClosedError("a scope can be entered once")
            self._state = _OPEN

    def _exit(self, exc_type: type[BaseException] | None, exc: BaseException | None) -> None:
        """Join every thread of the scope (blocks until all are finished),
        also when the block raised.  Then raise: if exactly one exception is
        pending in total (the block's, or one thread's that no ``join``
        delivered), that exception; if several, a ``BaseExceptionGroup``
        (an ``ExceptionGroup`` when they are all ``Exception``) of the
        block's exception first, then the threads' in spawn order (Python
        3.10, which has no groups: the first of them).
        A ``KeyboardInterrupt`` while waiting stops the waiting (the threads
        keep running) and propagates."""
        i = 0
        try:
            while True:
                with self._lock:
                    if i == len(self._handles):
                        self._state = _CLOSED
                        break
                    handle = self._handles[i]
                i += 1
                _waits.join(handle._thread, None)
        finally:
            with self._lock:
                self._state = _CLOSED
        failures: list[BaseException] = [exc] if exc is not None else []
        for handle in self._handles:
            if handle._exc is not None and not handle._observed:
                handle._observed = True
                failures.append(handle._exc.with_traceback(handle._tb))
        if len(failures) == 0 or (len(failures) == 1 and exc is not None):
            return  # nothing, or only the block's exception: let it propagate
        if len(failures) == 1:
            raise failures[0]
        # `from None`: the block's exception is inside the group, no need to
        # print it a second time as the group's context.
        if sys.version_info >= (3, 11):
            raise BaseExceptionGroup(f"{len(failures)} exceptions in a thread scope", failures) from None
        raise failures[0]  # Python 3.10 has no exception groups: the first one


def scope() -> Scope:
    """A new :class:`Scope`, to be used as ``with scope() as s:``."""
    return Scope()
