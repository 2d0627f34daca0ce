"""The overlays' on-disk snapshot (mypy_ownership/overlays/snapshot.py): what a
directory declares is read back without parsing while no file changed, is
parsed again when one did, and a bad or unwritable snapshot is never an
error."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from mypy_ownership.overlays import reader as overlay_reader
from mypy_ownership.overlays import snapshot as overlay_snapshot
from mypy_ownership.overlays import Overlays, bundled_overlay_dir, load_overlays

USER_OVERLAY = '''\
from fearless import Borrowed, MutBorrowed, NotSend, Owned, Send

class Conn(NotSend):
    """bound to the thread that opened it

    help: open one per thread
    """
    __send_if__ = {"shared": True}
    def close(self: MutBorrowed[Conn]) -> None: ...

def spawn(fn: Owned[Send[Callable[[], None]]], /, *, name: str = "") -> None: ...
def peek(items: Borrowed[list[int]]) -> int: ...
'''


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts as a new mypy process would: nothing memoised."""
    monkeypatch.setattr(overlay_snapshot, "_MEMO", {})


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The modules parsed from source (rather than read from a snapshot)."""
    seen: list[str] = []
    real = overlay_reader.parse_overlay

    def counting(source: str | bytes, module: str, path: str | os.PathLike[str] = "<overlay>") -> object:
        seen.append(module)
        return real(source, module, path)

    monkeypatch.setattr(overlay_reader, "parse_overlay", counting)
    return seen


def _user_dir(tmp_path: Path) -> Path:
    root = tmp_path / "overlays"
    (root / "pkg").mkdir(parents=True)
    (root / "conn.pyi").write_text(USER_OVERLAY)
    (root / "pkg" / "__init__.pyi").write_text("def f(x: Owned[list[int]]) -> None: ...\n")
    return root


def _touch(path: Path, text: str) -> None:
    """Rewrite a file with a modification time that surely differs."""
    st = path.stat()
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def _same(a: Overlays, b: Overlays) -> None:
    assert a.digest() == b.digest()
    assert sorted(a.functions) == sorted(b.functions)
    assert sorted(a.classes) == sorted(b.classes)
    for name, f in a.functions.items():
        g = b.functions[name]
        assert (f.params, f.kind, f.line, f.path, dict(f.shapes)) == (g.params, g.kind, g.line, g.path, dict(g.shapes))
    for name, c in a.classes.items():
        d = b.classes[name]
        assert c.__reduce__()[1] == d.__reduce__()[1]


def test_the_second_load_reads_the_snapshot_and_gets_the_same_overlays(tmp_path: Path, parses: list[str]) -> None:
    root, cache = _user_dir(tmp_path), tmp_path / "cache"
    first = load_overlays([root], cache_dir=cache)
    assert sorted(parses) == ["conn", "pkg"]
    assert list((cache / "mypy_ownership-overlays").glob("*.snapshot"))
    overlay_snapshot._MEMO.clear()  # a new process
    parses.clear()
    second = load_overlays([root], cache_dir=cache)
    assert parses == []  # nothing parsed
    _same(first, second)
    conn = second.class_of("conn.Conn")
    assert conn is not None and conn.thread_bound and conn.help == "open one per thread"
    assert dict(conn.send_if) == {"shared": True}
    with pytest.raises(TypeError):
        conn.send_if["shared"] = False  # type: ignore[index]  # still read-only
    spawn = second.function("conn.spawn")
    assert spawn is not None and spawn.shape_of("fn") == "Callable"


def test_the_bundled_overlays_read_back_equal_to_a_parse(tmp_path: Path) -> None:
    parsed = load_overlays([bundled_overlay_dir()])
    overlay_snapshot._MEMO.clear()
    cache = tmp_path / "cache"
    load_overlays([bundled_overlay_dir()], cache_dir=cache)  # writes (or reads) a snapshot
    overlay_snapshot._MEMO.clear()
    _same(parsed, load_overlays([bundled_overlay_dir()], cache_dir=cache))


def test_a_snapshot_entry_is_unpacked_when_looked_up_and_kept(tmp_path: Path) -> None:
    root, cache = _user_dir(tmp_path), tmp_path / "cache"
    load_overlays([root], cache_dir=cache)
    overlay_snapshot._MEMO.clear()
    read_back = load_overlays([root], cache_dir=cache)
    first = read_back.function("conn.peek")
    assert first is not None and first is read_back.function("conn.peek")
    conn = read_back.class_of("conn.Conn")
    assert conn is not None and conn is read_back.class_of("conn.Conn")
    assert read_back.function("conn.nothing") is None and read_back.class_of("conn.Nothing") is None
    assert read_back.mutates("conn.Conn.close") is True


def test_an_edited_file_is_parsed_again(tmp_path: Path, parses: list[str]) -> None:
    root, cache = _user_dir(tmp_path), tmp_path / "cache"
    load_overlays([root], cache_dir=cache)
    _touch(root / "pkg" / "__init__.pyi", "def f(x: Borrowed[list[int]]) -> None: ...\n")
    overlay_snapshot._MEMO.clear()
    parses.clear()
    again = load_overlays([root], cache_dir=cache)
    assert sorted(parses) == ["conn", "pkg"]  # the directory's snapshot is stale as a whole
    f = again.function("pkg.f")
    assert f is not None and [m.value for m in f.markers_of("x")] == ["Borrowed"]


def test_an_added_or_removed_file_is_noticed(tmp_path: Path, parses: list[str]) -> None:
    root, cache = _user_dir(tmp_path), tmp_path / "cache"
    load_overlays([root], cache_dir=cache)
    (root / "more.pyi").write_text("def g(x: Owned[list[int]]) -> None: ...\n")
    overlay_snapshot._MEMO.clear()
    assert load_overlays([root], cache_dir=cache).function("more.g") is not None
    (root / "more.pyi").unlink()
    overlay_snapshot._MEMO.clear()
    assert load_overlays([root], cache_dir=cache).function("more.g") is None


def test_a_changed_reader_makes_every_snapshot_stale(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, cache = _user_dir(tmp_path), tmp_path / "cache"
    load_overlays([root], cache_dir=cache)
    monkeypatch.setattr(overlay_snapshot, "_reader_stamp", lambda: ((1, 2), (3, 4), (5, 6)))
    overlay_snapshot._MEMO.clear()
    parses.clear()
    load_overlays([root], cache_dir=cache)
    assert sorted(parses) == ["conn", "pkg"]


def test_another_python_version_parses_again(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot from another Python (a source tree shared by two venvs)
    is not trusted: what parses differs between versions."""
    root, cache = _user_dir(tmp_path), tmp_path / "cache"
    load_overlays([root], cache_dir=cache)
    monkeypatch.setattr(sys, "version_info", (3, 99, 0, "final", 0))
    overlay_snapshot._MEMO.clear()
    parses.clear()
    load_overlays([root], cache_dir=cache)
    assert sorted(parses) == ["conn", "pkg"]


@pytest.mark.parametrize("content", [b"", b"garbage", b"\xe3" + b"\x00" * 20, None])
def test_a_broken_snapshot_is_parsed_again_and_replaced(
    tmp_path: Path, parses: list[str], content: bytes | None
) -> None:
    root, cache = _user_dir(tmp_path), tmp_path / "cache"
    first = load_overlays([root], cache_dir=cache)
    (snapshot,) = (cache / "mypy_ownership-overlays").glob("*.snapshot")
    if content is None:  # a valid marshal of the wrong shape
        import marshal

        content = marshal.dumps({"not": "a snapshot"})
    snapshot.write_bytes(content)
    overlay_snapshot._MEMO.clear()
    parses.clear()
    _same(first, load_overlays([root], cache_dir=cache))
    assert sorted(parses) == ["conn", "pkg"]
    overlay_snapshot._MEMO.clear()
    parses.clear()
    load_overlays([root], cache_dir=cache)
    assert parses == []  # rewritten


def test_an_unwritable_cache_is_no_error(tmp_path: Path, parses: list[str]) -> None:
    root = _user_dir(tmp_path)
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory would be")
    assert load_overlays([root], cache_dir=blocker).function("pkg.f") is not None
    assert parses  # parsed, nothing kept


def test_without_a_cache_dir_nothing_is_written(tmp_path: Path) -> None:
    root = _user_dir(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    load_overlays([root])
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def _bundled_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    stubs = tmp_path / "pkg" / "stubs"
    shutil.copytree(bundled_overlay_dir(), stubs, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr("mypy_ownership.overlays.loading.bundled_overlay_dir", lambda: stubs)
    return stubs


def test_the_bundled_snapshot_is_kept_beside_the_stubs(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stubs = _bundled_copy(tmp_path, monkeypatch)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    load_overlays([stubs], cache_dir=tmp_path / "cache-1")
    assert (stubs / "__pycache__" / "mypy_ownership-overlays.snapshot").is_file()
    # A fresh mypy cache (a cold run) still reads it instead of parsing.
    overlay_snapshot._MEMO.clear()
    parses.clear()
    load_overlays([stubs], cache_dir=tmp_path / "cache-2")
    assert parses == []


def test_no_bytecode_means_no_snapshot_beside_the_stubs(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stubs = _bundled_copy(tmp_path, monkeypatch)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    load_overlays([stubs], cache_dir=tmp_path / "cache")
    assert not (stubs / "__pycache__").exists()
    assert list((tmp_path / "cache" / "mypy_ownership-overlays").glob("*.snapshot"))


def test_a_user_directory_gets_no_pycache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _user_dir(tmp_path)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    load_overlays([root], cache_dir=tmp_path / "cache")
    assert not (root / "__pycache__").exists()


def test_two_directories_keep_two_snapshots(tmp_path: Path, parses: list[str]) -> None:
    base, user, cache = _user_dir(tmp_path), tmp_path / "user", tmp_path / "cache"
    user.mkdir()
    (user / "conn.pyi").write_text("def peek(items: MutBorrowed[list[int]]) -> int: ...\n")
    first = load_overlays([base, user], cache_dir=cache)
    assert len(list((cache / "mypy_ownership-overlays").glob("*.snapshot"))) == 2
    overlay_snapshot._MEMO.clear()
    parses.clear()
    second = load_overlays([base, user], cache_dir=cache)
    assert parses == []
    _same(first, second)
    peek = second.function("conn.peek")
    assert peek is not None and [m.value for m in peek.markers_of("items")] == ["MutBorrowed"]
