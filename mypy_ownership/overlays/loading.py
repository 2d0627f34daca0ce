"""Loading the overlays: the bundled directory and the user's, read (or
taken from their snapshots) and put together into one :class:`Overlays`."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from mypy_ownership.overlays.entries import OverlayClass, OverlayFunction, Overlays, ParsedFile
from mypy_ownership.overlays.snapshot import read_directory, unpack_class, unpack_function

__all__ = ["bundled_overlay_dir", "load_overlays", "parse_overlay"]

# The plugin's package directory (this module is one level below it).
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def bundled_overlay_dir() -> Path:
    """The overlays shipped with the plugin.

    Installed, they are package data beside this module
    (``mypy_ownership/stubs``); in the source tree -- and from the editable
    install, whose links resolve into it -- they are ``<repo>/stubs``.
    """
    installed = _PACKAGE_DIR / "stubs"
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / "stubs"


def load_overlays(
    directories: Sequence[str | os.PathLike[str]], cache_dir: str | os.PathLike[str] | None = None
) -> Overlays:
    """Read every ``*.pyi`` below each directory.  An entry (a function or a
    class, by full name) in a later directory replaces the same entry from an
    earlier one; everything else accumulates.

    What a directory declares is kept between runs (see overlays.snapshot):
    in ``cache_dir`` (mypy's cache), and for the bundled overlays also beside
    them, as Python keeps bytecode; parsing every file costs a mypy run tens
    of milliseconds, reading the snapshot back well under one."""
    functions: dict[str, OverlayFunction | bytes] = {}
    classes: dict[str, OverlayClass | bytes] = {}
    digest = hashlib.sha256()
    bundled = bundled_overlay_dir()
    for index, directory in enumerate(directories):
        root = Path(directory)
        for relative, parsed in read_directory(root, cache_dir, bundled=root == bundled):
            digest.update(f"{index}\0{relative}\0{parsed.sha}\n".encode())
            for func in parsed.functions:
                functions[func.fullname] = func
            functions.update(parsed.packed_functions)
            for cls in parsed.classes:
                classes[cls.fullname] = cls
            classes.update(parsed.packed_classes)
    return Overlays(
        functions, classes, digest.hexdigest()[:16], unpack_function=unpack_function, unpack_class=unpack_class
    )


def parse_overlay(source: str | bytes, module: str, path: str | os.PathLike[str] = "<overlay>") -> ParsedFile:
    """Parse one overlay file's text as module ``module`` (the reader is
    imported here: a run whose snapshots are fresh never needs it)."""
    from mypy_ownership.overlays.reader import parse_overlay as parse

    return parse(source, module, path)
