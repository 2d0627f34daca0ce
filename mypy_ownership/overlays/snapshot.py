"""What an overlay directory declares, kept on disk between mypy runs.

Every mypy run needs the overlays, and parsing them costs about 15 ms: more
than the rest of the plugin's start.  So the parses of a directory are kept
in one snapshot file, stamped the way Python stamps bytecode: each file's
path, modification time and size, plus the same for the reader's own source
(a changed reader makes every snapshot stale) and the Python version (whose
``ast`` decides what parses).  A snapshot that is missing,
stale, unreadable or from another format is parsed again and rewritten; one
that cannot be written is no error.

Where: in mypy's cache directory (``<cache>/mypy_ownership-overlays/``), and
for the bundled overlays also in their own ``__pycache__`` (unless Python was
told not to write bytecode: ``-B``, ``PYTHONDONTWRITEBYTECODE``), so that a
run with a fresh cache still finds them.  The data is :mod:`marshal`'s plain
values (strings, tuples, dicts), never pickled objects: loading it runs no
code.  Each entry is packed in its own bytes and unpacked only when looked
up (``Overlays.function``): a run looks up a few dozen of some five hundred.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any

from mypy_ownership.markers import Marker
from mypy_ownership.overlays.entries import OverlayClass, OverlayError, OverlayFunction, ParsedFile

__all__ = ["read_directory", "unpack_class", "unpack_function"]

# Bump when the snapshot's layout changes.
_FORMAT = 3
_SNAPSHOT_NAME = "mypy_ownership-overlays.snapshot"
_CACHE_SUBDIR = "mypy_ownership-overlays"
_OVERLAYS_DIR = Path(__file__).resolve().parent
# The modules whose change changes what a parse holds.
_READER_SOURCES = (
    _OVERLAYS_DIR / "reader.py",
    _OVERLAYS_DIR / "entries.py",
    _OVERLAYS_DIR.parent / "markers.py",
)

# (format, Python version, the reader's (mtime_ns, size)s, each file's
# (relative path, (mtime_ns, size))): plain values, as marshal writes them.
Stamp = tuple[int, tuple[int, ...], tuple[tuple[int, int], ...], tuple[tuple[str, tuple[int, int]], ...]]

# (file stamp) -> parses, for the processes that load the same directory often
# (the test suite).
_MEMO: dict[str, tuple[Stamp, list[tuple[str, ParsedFile]]]] = {}


def read_directory(
    root: Path, cache_dir: str | os.PathLike[str] | None, *, bundled: bool
) -> list[tuple[str, ParsedFile]]:
    """Every ``*.pyi`` below ``root``, by its path relative to ``root``
    (sorted), with its parse."""
    files = _listing(root)
    # The Python version too: what ``ast`` accepts (``type X = ...``) is its.
    stamp: Stamp = (
        _FORMAT,
        sys.version_info[:2],
        _reader_stamp(),
        tuple((rel, st) for rel, _, _, st in files),
    )
    key = str(root)
    memo = _MEMO.get(key)
    if memo is not None and memo[0] == stamp:
        return memo[1]
    places = _places(root, cache_dir, bundled)
    parses: list[tuple[str, ParsedFile]] | None = None
    for place in places:
        parses = _load(place, stamp)
        if parses is not None:
            break
    if parses is None:
        from mypy_ownership.overlays.reader import parse_overlay  # only for a stale snapshot

        parses = [(rel, parse_overlay(_read(path), module, path)) for rel, module, path, _ in files]
        for place in places:
            if place.writable:
                _store(place.path, stamp, parses)
    _MEMO[key] = (stamp, parses)
    return parses


class _Place:
    __slots__ = ("path", "writable")

    def __init__(self, path: Path, writable: bool) -> None:
        self.path = path
        self.writable = writable


def _places(root: Path, cache_dir: str | os.PathLike[str] | None, bundled: bool) -> list[_Place]:
    places = []
    if bundled:  # first: a fresh mypy cache still finds it
        places.append(_Place(root / "__pycache__" / _SNAPSHOT_NAME, not sys.dont_write_bytecode))
    if cache_dir is not None:
        name = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
        places.append(_Place(Path(cache_dir) / _CACHE_SUBDIR / f"{name}.snapshot", True))
    return places


def _listing(root: Path) -> list[tuple[str, str, Path, tuple[int, int]]]:
    """(relative path, module, path, (mtime_ns, size)) of every overlay file,
    sorted by path."""
    if not root.is_dir():
        raise OverlayError(root, None, "overlay directory does not exist")
    found: list[tuple[tuple[str, ...], Path, tuple[int, int]]] = []
    pending: list[tuple[Path, tuple[str, ...]]] = [(root, ())]
    while pending:
        directory, parts = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as e:
            raise OverlayError(directory, None, f"cannot read: {e.strerror}") from None
        for entry in entries:
            if entry.is_dir() and entry.name != "__pycache__":
                pending.append((Path(entry.path), (*parts, entry.name)))
            elif entry.name.endswith(".pyi") and entry.is_file():
                st = entry.stat()
                found.append(((*parts, entry.name), Path(entry.path), (st.st_mtime_ns, st.st_size)))
    found.sort()
    files = []
    seen: dict[str, Path] = {}
    for parts, path, stat in found:
        module = _module_name(parts, path)
        if module in seen:
            raise OverlayError(path, None, f'module "{module}" is also declared by {seen[module]}')
        seen[module] = path
        files.append(("/".join(parts), module, path, stat))
    return files


def _module_name(parts: tuple[str, ...], path: Path) -> str:
    names = [*parts[:-1], parts[-1][: -len(".pyi")]]
    if names[-1] == "__init__":
        names.pop()
    if not names or not all(name.isidentifier() for name in names):
        raise OverlayError(path, None, "the file's path does not name a module")
    return ".".join(names)


def _reader_stamp() -> tuple[tuple[int, int], ...]:
    stamps = []
    for name in _READER_SOURCES:
        try:
            st = os.stat(name)
        except OSError:
            stamps.append((0, 0))
        else:
            stamps.append((st.st_mtime_ns, st.st_size))
    return tuple(stamps)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise OverlayError(path, None, f"cannot read: {e.strerror}") from None


# --- the file: plain values only ----------------------------------------------


def _load(place: _Place, stamp: Stamp) -> list[tuple[str, ParsedFile]] | None:
    try:
        data = marshal.loads(place.path.read_bytes())
        if data[0] != stamp:
            return None
        return [
            (rel, ParsedFile(module, (), (), sha, functions, classes))
            for rel, (module, sha, functions, classes) in data[1]
        ]
    except Exception:  # absent, truncated, another layout: parse again
        return None


def _store(path: Path, stamp: Stamp, parses: list[tuple[str, ParsedFile]]) -> None:
    """Write atomically (parallel mypy workers may race).  Each entry is its
    own marshal bytes, so that a run unpacks only those it looks up."""
    data = (stamp, [(rel, _packed(parsed)) for rel, parsed in parses])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps(data))
        os.replace(tmp, path)
    except (OSError, ValueError):
        pass


def _packed(parsed: ParsedFile) -> tuple[Any, ...]:
    functions = tuple(
        (
            f.fullname,
            marshal.dumps((
                tuple((name, tuple(sorted(m.value for m in markers))) for name, markers in f.params),
                f.kind, f.line, f.path, dict(f.shapes), f.any_thread,
            )),
        )
        for f in parsed.functions
    )
    classes = tuple(
        (
            c.fullname,
            marshal.dumps((
                c.bases, c.doc, c.line, c.path, c.thread_bound, c.not_sync,
                c.unsafe_send, c.unsafe_sync, c.reason, c.help, dict(c.send_if),
            )),
        )
        for c in parsed.classes
    )
    return (parsed.module, parsed.sha, functions, classes)


_MARKER_SETS: dict[tuple[str, ...], frozenset[Marker]] = {}


def _markers(values: tuple[str, ...]) -> frozenset[Marker]:
    found = _MARKER_SETS.get(values)
    if found is None:
        found = _MARKER_SETS[values] = frozenset(Marker(v) for v in values)
    return found


def unpack_function(fullname: str, data: bytes) -> OverlayFunction:
    params, kind, line, path, shapes, any_thread = marshal.loads(data)
    return OverlayFunction(fullname, tuple((p, _markers(m)) for p, m in params), kind, line, path, shapes, any_thread)


def unpack_class(fullname: str, data: bytes) -> OverlayClass:
    return OverlayClass(fullname, *marshal.loads(data))
