"""Recognising the ownership markers (``Owned``, ``Borrowed``, ...) in types.

mypy keeps a marker in a *declared* signature as a ``TypeAliasType`` whose
alias is ``fearless.markers.Owned`` (and so on), also for modules read from
the incremental cache.  Markers nest: ``Owned[Send[T]]`` is two aliases.
"""

from __future__ import annotations

from enum import Enum

from mypy.types import Type, TypeAliasType

MARKERS_MODULE = "fearless.markers"


class Marker(Enum):
    OWNED = "Owned"
    BORROWED = "Borrowed"
    MUT_BORROWED = "MutBorrowed"
    SEND = "Send"
    SYNC = "Sync"

    @property
    def fullname(self) -> str:
        return f"{MARKERS_MODULE}.{self.value}"


MARKER_BY_FULLNAME = {marker.fullname: marker for marker in Marker}


def markers_of(typ: Type | None) -> frozenset[Marker]:
    """The markers wrapped around ``typ``, outermost first, as a set."""
    found: set[Marker] = set()
    while isinstance(typ, TypeAliasType) and typ.alias is not None:
        marker = MARKER_BY_FULLNAME.get(typ.alias.fullname)
        if marker is None or len(typ.args) != 1:
            break
        found.add(marker)
        typ = typ.args[0]
    return frozenset(found)


def has_marker(typ: Type) -> bool:
    """Is ``typ`` wrapped in a marker?  (``markers_of`` without building a
    set: asked for every parameter of every function the program calls.)"""
    return (
        isinstance(typ, TypeAliasType)
        and typ.alias is not None
        and typ.alias.fullname in MARKER_BY_FULLNAME
        and len(typ.args) == 1
    )


def strip_markers(typ: Type) -> Type:
    """``typ`` without the markers wrapped around it."""
    while (
        isinstance(typ, TypeAliasType)
        and typ.alias is not None
        and typ.alias.fullname in MARKER_BY_FULLNAME
        and len(typ.args) == 1
    ):
        typ = typ.args[0]
    return typ
