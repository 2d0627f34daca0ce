"""The ownership overlays: declarative ``.pyi`` files that say what the
standard library's functions do to their arguments and what its classes are
to threads.  ``entries`` holds what an overlay declares, ``reader`` parses a
file, ``snapshot`` keeps the parses between runs, ``loading`` puts the
directories together.  The names users and tools need are here."""

from __future__ import annotations

from mypy_ownership.overlays.entries import (
    CLASSMETHOD,
    FUNCTION,
    METHOD,
    PROPERTY,
    STATICMETHOD,
    OverlayClass,
    OverlayError,
    OverlayFunction,
    Overlays,
    ParsedFile,
)
from mypy_ownership.overlays.loading import bundled_overlay_dir, load_overlays, parse_overlay

__all__ = [
    "CLASSMETHOD",
    "FUNCTION",
    "METHOD",
    "PROPERTY",
    "STATICMETHOD",
    "OverlayClass",
    "OverlayError",
    "OverlayFunction",
    "Overlays",
    "ParsedFile",
    "bundled_overlay_dir",
    "load_overlays",
    "parse_overlay",
]
