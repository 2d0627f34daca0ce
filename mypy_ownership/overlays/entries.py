"""The ownership overlays: declarative ``.pyi`` files saying, with the
ownership markers, what standard-library APIs do to their arguments.

An overlay is ordinary stub syntax, one file per module (named by the module
where typeshed *defines* the class or function).  Only the markers on the
parameters matter -- ``self: MutBorrowed[Self]`` says a method mutates its
receiver, ``heap: MutBorrowed[list]`` that a function mutates an argument --
plus what each class says about threads (``class Connection(NotSend):``,
``@unsafe_sync``, the reason in its docstring).  The plugin reads the overlays itself
(:mod:`mypy_ownership.overlays.reader`; they are never given to mypy) and keeps
what it read between runs (:mod:`mypy_ownership.overlays.snapshot`);
docs/overlays.md describes the format.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TypeVar
from types import MappingProxyType

from mypy_ownership.markers import Marker

__all__ = ["OverlayClass", "OverlayError", "OverlayFunction", "Overlays", "ParsedFile", "Unpack"]


class OverlayError(Exception):
    """An overlay file that cannot be read: where, and why."""

    def __init__(self, path: str | os.PathLike[str], line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"

    def __reduce__(self) -> tuple[type[OverlayError], tuple[str, int | None, str]]:
        return (type(self), (self.path, self.line, self.message))  # picklable


FUNCTION = "function"
METHOD = "method"
STATICMETHOD = "staticmethod"
CLASSMETHOD = "classmethod"
PROPERTY = "property"


T = TypeVar("T")

_EMPTY: Mapping[str, object] = MappingProxyType({})


class OverlayFunction:
    """A function or method an overlay declares, with its parameters' markers.

    Plain classes with slots, here and below, not dataclasses: every mypy run
    imports this module, and building a dataclass costs half a millisecond."""

    __slots__ = ("fullname", "params", "kind", "line", "path", "shapes", "any_thread")

    def __init__(
        self,
        fullname: str,
        params: tuple[tuple[str, frozenset[Marker]], ...],
        kind: str = FUNCTION,
        line: int = 0,
        path: str = "",
        shapes: Mapping[str, str] | None = None,
        any_thread: bool = False,
    ) -> None:
        self.fullname = fullname  # "builtins.list.append", "_heapq.heappush"
        # Every parameter in order (self included), with its markers.
        self.params = params
        # FUNCTION, METHOD, STATICMETHOD, CLASSMETHOD or PROPERTY.
        self.kind = kind
        self.line = line
        self.path = path
        # For each marked parameter, the head name of the type inside its
        # markers: ``fn: Owned[Send[Callable[..., object]]]`` -> "Callable".
        self.shapes: Mapping[str, str] = MappingProxyType(dict(shapes)) if shapes else _EMPTY  # type: ignore[assignment]
        # ``@unsafe_sync`` on the method: callable from any thread although
        # its class is not (``asyncio.Future.cancelled`` reads one flag).
        self.any_thread = any_thread

    def __reduce__(self) -> tuple[object, ...]:  # pickled in snapshots; proxies do not pickle
        return (
            OverlayFunction,
            (self.fullname, self.params, self.kind, self.line, self.path, dict(self.shapes), self.any_thread),
        )

    def __repr__(self) -> str:
        return f"OverlayFunction({self.fullname!r}, {self.params!r}, kind={self.kind!r})"

    def markers_of(self, name: str) -> frozenset[Marker]:
        for param, markers in self.params:
            if param == name:
                return markers
        return frozenset()

    def shape_of(self, name: str) -> str | None:
        """What the parameter's declared type is, by its head name
        ("Callable", "tuple", "dict", "object"); None when the parameter is
        unmarked or its type has no head name (a union, ``None``)."""
        return self.shapes.get(name)

    @property
    def self_markers(self) -> frozenset[Marker]:
        """The markers of the receiver; empty for anything but an instance
        method (or property)."""
        if self.kind in (METHOD, PROPERTY) and self.params:
            return self.params[0][1]
        return frozenset()


class OverlayClass:
    """A class an overlay declares, and what it says about threads (see
    docs/overlays.md)."""

    __slots__ = (
        "fullname", "bases", "doc", "line", "path", "thread_bound", "not_sync",
        "unsafe_send", "unsafe_sync", "reason", "help", "send_if",
    )

    def __init__(
        self,
        fullname: str,
        bases: tuple[str, ...],
        doc: str | None,
        line: int = 0,
        path: str = "",
        thread_bound: bool = False,
        not_sync: bool = False,
        unsafe_send: bool = False,
        unsafe_sync: bool = False,
        reason: str | None = None,
        help: str | None = None,
        send_if: Mapping[str, object] | None = None,
    ) -> None:
        self.fullname = fullname
        self.bases = bases  # as written, e.g. ("NotSend",)
        self.doc = doc
        self.line = line
        self.path = path
        self.thread_bound = thread_bound  # a ``NotSend`` base: neither Send nor Sync
        self.not_sync = not_sync  # a ``NotSync`` base
        self.unsafe_send = unsafe_send  # ``@unsafe_send``
        self.unsafe_sync = unsafe_sync  # ``@unsafe_sync``: internally synchronised
        # The docstring's first line, and the text of its ``help:`` line.
        self.reason = reason
        self.help = help
        # ``__send_if__``: keyword arguments that make a call's value Send after all.
        self.send_if: Mapping[str, object] = MappingProxyType(dict(send_if)) if send_if else _EMPTY

    def __reduce__(self) -> tuple[object, ...]:
        return (
            OverlayClass,
            (
                self.fullname, self.bases, self.doc, self.line, self.path, self.thread_bound,
                self.not_sync, self.unsafe_send, self.unsafe_sync, self.reason, self.help,
                dict(self.send_if),
            ),
        )

    def __repr__(self) -> str:
        return f"OverlayClass({self.fullname!r}, bases={self.bases!r})"


# An entry read back from a snapshot: its full name and its values, still
# marshal bytes (see overlay_snapshot).  It is unpacked when first looked up:
# a run looks up a few dozen of the overlays' hundreds of entries.
Packed = tuple[str, bytes]
# How a packed entry is unpacked (see overlay snapshot): given to Overlays by
# whoever loaded the packed entries, so that this module needs no reader.
Unpack = Callable[[str, bytes], T]


class ParsedFile:
    """What one overlay file declares (``sha``: of its bytes, for the digest):
    its entries as parsed, or packed when read back from a snapshot."""

    __slots__ = ("module", "functions", "classes", "sha", "packed_functions", "packed_classes")

    def __init__(
        self,
        module: str,
        functions: tuple[OverlayFunction, ...],
        classes: tuple[OverlayClass, ...],
        sha: str,
        packed_functions: tuple[Packed, ...] = (),
        packed_classes: tuple[Packed, ...] = (),
    ) -> None:
        self.module = module
        self.functions = functions
        self.classes = classes
        self.sha = sha
        self.packed_functions = packed_functions
        self.packed_classes = packed_classes

    def __reduce__(self) -> tuple[object, ...]:
        return (
            ParsedFile,
            (self.module, self.functions, self.classes, self.sha, self.packed_functions, self.packed_classes),
        )


class Overlays:
    """Every overlay entry, by full name (a later directory's entry replaces
    an earlier one's).  Entries may come packed (see ``Packed``): a lookup
    unpacks the one it finds."""

    __slots__ = ("_functions", "_classes", "_digest", "_short_names", "_unpack_function", "_unpack_class")

    def __init__(
        self,
        functions: Mapping[str, OverlayFunction | bytes] | None = None,
        classes: Mapping[str, OverlayClass | bytes] | None = None,
        digest: str = "",
        *,
        unpack_function: Unpack[OverlayFunction] | None = None,
        unpack_class: Unpack[OverlayClass] | None = None,
    ) -> None:
        self._functions: dict[str, OverlayFunction | bytes] = dict(functions or {})
        self._classes: dict[str, OverlayClass | bytes] = dict(classes or {})
        self._digest = digest
        self._unpack_function = unpack_function
        self._unpack_class = unpack_class
        self._short_names = frozenset(name.rpartition(".")[2] for name in self._functions)

    @property
    def functions(self) -> Mapping[str, OverlayFunction]:
        """Every function entry, unpacked (for tools and tests)."""
        return MappingProxyType({name: self._function(name) for name in self._functions})

    @property
    def classes(self) -> Mapping[str, OverlayClass]:
        """Every class entry, unpacked (for tools and tests)."""
        return MappingProxyType({name: self._class(name) for name in self._classes})

    def names_function(self, short_name: str) -> bool:
        """Does any entry end in ``.short_name``?  (Most methods a program
        calls are its own: answered without building their full names.)"""
        return short_name in self._short_names

    def function(self, fullname: str) -> OverlayFunction | None:
        return self._function(fullname) if fullname in self._functions else None

    def class_of(self, fullname: str) -> OverlayClass | None:
        """The class declared under this full name (the *defining* one:
        ``_asyncio.Future``, not ``asyncio.Future``), if any."""
        return self._class(fullname) if fullname in self._classes else None

    def _function(self, fullname: str) -> OverlayFunction:
        found = self._functions[fullname]
        if isinstance(found, bytes):
            assert self._unpack_function is not None, "packed entries come with their unpacker"
            found = self._functions[fullname] = self._unpack_function(fullname, found)
        return found

    def _class(self, fullname: str) -> OverlayClass:
        found = self._classes[fullname]
        if isinstance(found, bytes):
            assert self._unpack_class is not None, "packed entries come with their unpacker"
            found = self._classes[fullname] = self._unpack_class(fullname, found)
        return found

    def send_if_keywords(self) -> frozenset[str]:
        """The keywords some class's ``__send_if__`` names."""
        return frozenset(k for name in self._classes for k in self._class(name).send_if)

    def mutates(self, method_fullname: str) -> bool | None:
        """True when the method is declared ``self: MutBorrowed[...]``, False
        when declared ``self: Borrowed[...]`` (reads only), None when the
        overlays say nothing (not declared, or ``self`` unmarked/``Owned``).
        The name is the *defining* class's: ``builtins.list.append`` but
        ``typing.MutableSequence.clear`` (typeshed's ``list`` inherits it)."""
        func = self.function(method_fullname)
        if func is None:
            return None
        markers = func.self_markers
        if Marker.MUT_BORROWED in markers:
            return True
        if Marker.BORROWED in markers:
            return False
        return None

    def digest(self) -> str:
        """A hash of the overlays' contents (and their order), for mypy's
        cache invalidation."""
        return self._digest
