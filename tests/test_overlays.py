"""The ownership overlays (stubs/) and their loader (mypy_ownership/overlays.py).

Fast: no mypy run.  The coverage tests read typeshed's own stubs (the copy
inside the installed mypy) with ``ast`` and check that every class the
overlays declare declares *every* public method typeshed defines on it --
the overlays cover whole APIs, not samples.
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Iterator
from pathlib import Path

import mypy
import pytest

from mypy_ownership import overlays as overlays_module
from mypy_ownership.markers import Marker
from mypy_ownership.overlays import (
    CLASSMETHOD,
    FUNCTION,
    STATICMETHOD,
    OverlayError,
    Overlays,
    bundled_overlay_dir,
    load_overlays,
)

REPO = Path(__file__).resolve().parents[1]
TYPESHED = Path(mypy.__file__).resolve().parent / "typeshed" / "stdlib"

OWNED, BORROWED, MUT, SEND, SYNC = (
    Marker.OWNED,
    Marker.BORROWED,
    Marker.MUT_BORROWED,
    Marker.SEND,
    Marker.SYNC,
)


@pytest.fixture(scope="module")
def bundled() -> Overlays:
    return load_overlays([bundled_overlay_dir()])


# --- the bundled overlays ---------------------------------------------------


def test_bundled_dir_is_the_repository_stubs_in_the_source_tree() -> None:
    assert bundled_overlay_dir().resolve() == (REPO / "stubs").resolve()


def test_bundled_dir_prefers_the_installed_package_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site-packages" / "mypy_ownership"
    (package / "stubs").mkdir(parents=True)
    monkeypatch.setattr(overlays_module, "_PACKAGE_DIR", package)
    assert bundled_overlay_dir() == package / "stubs"
    (package / "stubs").rmdir()
    assert bundled_overlay_dir() == tmp_path / "site-packages" / "stubs"


def test_every_bundled_file_loads(bundled: Overlays) -> None:
    files = sorted(bundled_overlay_dir().rglob("*.pyi"))
    assert files
    # Each file contributes something.
    paths = {f.path for f in bundled.functions.values()} | {c.path for c in bundled.classes.values()}
    assert {str(f) for f in files} <= paths


REQUIRED_CLASSES = [
    "builtins.list",
    "builtins.dict",
    "builtins.set",
    "builtins.bytearray",
    "typing.MutableSequence",
    "typing.MutableMapping",
    "typing.MutableSet",
    "collections.deque",
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.Counter",
    "collections.ChainMap",
    "array.array",
]


@pytest.mark.parametrize("fullname", REQUIRED_CLASSES)
def test_required_class_is_declared(bundled: Overlays, fullname: str) -> None:
    assert fullname in bundled.classes


# Methods typeshed defines on a declared class that the overlay leaves out on
# purpose, with the reason.  Private names (``_x``, not dunders) are left out
# by rule.  Keep this short.
IGNORED: dict[str, str] = {}

# Methods an overlay declares although typeshed does not define them on that
# class, with the reason.
EXTRA: dict[str, str] = {
    "collections.defaultdict.__getitem__": "inserts default_factory() on a miss;"
    " typeshed inherits it from dict",
}


@functools.cache
def _typeshed_module(module: str) -> ast.Module:
    base = TYPESHED.joinpath(*module.split("."))
    for path in (base.with_suffix(".pyi"), base / "__init__.pyi"):
        if path.is_file():
            return ast.parse(path.read_text(), filename=str(path))
    raise AssertionError(f"typeshed has no module {module}")


def _flatten(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements, with both branches of every ``if sys.version_info ...``."""
    for stmt in body:
        if isinstance(stmt, ast.If):
            yield from _flatten(stmt.body)
            yield from _flatten(stmt.orelse)
        else:
            yield stmt


def _public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _typeshed_methods(class_fullname: str) -> set[str]:
    module, _, name = class_fullname.rpartition(".")
    tree = _typeshed_module(module)
    found = [s for s in _flatten(tree.body) if isinstance(s, ast.ClassDef) and s.name == name]
    assert found, f"typeshed's {module} defines no class {name}"
    methods: set[str] = set()
    for cls in found:
        for stmt in _flatten(cls.body):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                methods.add(stmt.name)
            elif (  # ``__copy__ = copy``
                isinstance(stmt, ast.Assign)
                and isinstance(stmt.value, ast.Name)
                and all(isinstance(t, ast.Name) for t in stmt.targets)
            ):
                methods.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
    return {m for m in methods if _public(m)}


def _declared_methods(overlays: Overlays, class_fullname: str) -> set[str]:
    prefix = class_fullname + "."
    return {
        name[len(prefix):]
        for name in overlays.functions
        if name.startswith(prefix) and "." not in name[len(prefix):]
    }


def _bundled_class_names() -> list[str]:
    return sorted(load_overlays([bundled_overlay_dir()]).classes)


@pytest.mark.parametrize("class_fullname", _bundled_class_names())
def test_class_declares_every_method_typeshed_defines(bundled: Overlays, class_fullname: str) -> None:
    typeshed = _typeshed_methods(class_fullname)
    declared = _declared_methods(bundled, class_fullname)
    missing = {
        m for m in typeshed - declared if f"{class_fullname}.{m}" not in IGNORED
    }
    assert not missing, f"{class_fullname}: declare {sorted(missing)}"
    unknown = {m for m in declared - typeshed if f"{class_fullname}.{m}" not in EXTRA}
    assert not unknown, (
        f"{class_fullname}: typeshed defines no {sorted(unknown)} on this class"
        " (the defining class decides the full name)"
    )


@pytest.mark.parametrize("class_fullname", _bundled_class_names())
def test_every_declared_method_says_whether_it_mutates(bundled: Overlays, class_fullname: str) -> None:
    for method in _declared_methods(bundled, class_fullname):
        func = bundled.functions[f"{class_fullname}.{method}"]
        if func.kind in (STATICMETHOD, CLASSMETHOD):
            assert func.self_markers == frozenset()
            continue
        assert bundled.mutates(func.fullname) is not None, f"{func.fullname}: mark self"


def test_module_functions_exist_in_typeshed(bundled: Overlays) -> None:
    functions = [f for f in bundled.functions.values() if f.kind == FUNCTION]
    assert functions
    for func in functions:
        module, _, name = func.fullname.rpartition(".")
        names: set[str] = set()
        for stmt in _flatten(_typeshed_module(module).body):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(stmt.name)
            elif isinstance(stmt, ast.Assign):  # ``shuffle = _inst.shuffle``
                names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
        assert name in names, f"typeshed's {module} defines no {name}"


def test_every_class_in_the_bundled_overlays_is_known_to_typeshed(bundled: Overlays) -> None:
    for fullname in bundled.classes:
        assert _typeshed_methods(fullname)  # raises if typeshed lacks the class


@pytest.mark.parametrize(
    ("fullname", "expected"),
    [
        ("builtins.list.append", True),
        ("builtins.list.sort", True),
        ("builtins.list.__setitem__", True),
        ("builtins.list.__iadd__", True),
        ("builtins.list.copy", False),
        ("builtins.list.__getitem__", False),
        ("builtins.list.__len__", False),
        ("builtins.dict.get", False),
        ("builtins.dict.__ior__", True),
        ("builtins.dict.__or__", False),
        ("builtins.set.__ixor__", True),
        ("builtins.set.union", False),
        ("builtins.bytearray.upper", False),
        ("builtins.bytearray.extend", True),
        ("typing.MutableSequence.clear", True),  # list.clear: typeshed's list inherits it
        ("typing.MutableMapping.update", True),  # likewise dict.update
        ("typing.MutableSet.pop", True),
        ("collections.deque.appendleft", True),
        ("collections.deque.maxlen", False),
        ("collections.OrderedDict.move_to_end", True),
        ("collections.OrderedDict.popitem", True),
        ("collections.OrderedDict.keys", False),
        ("collections.Counter.subtract", True),
        ("collections.Counter.most_common", False),
        ("collections.Counter.__missing__", False),
        ("collections.defaultdict.__missing__", True),
        ("collections.ChainMap.__copy__", False),  # an alias in typeshed and in the overlay
        ("array.array.frombytes", True),
        ("array.array.tobytes", False),
        ("_io._TextIOBase.write", True),
        ("_io.StringIO.getvalue", False),
        ("random.Random.shuffle", True),
        ("builtins.list.fromkeys", None),  # not declared
        ("builtins.dict.fromkeys", None),  # a classmethod: no receiver
        ("builtins.str.upper", None),  # immutable: nothing declared
        ("_heapq.heappush", None),  # a function, not a method
    ],
)
def test_mutates(bundled: Overlays, fullname: str, expected: bool | None) -> None:
    assert bundled.mutates(fullname) is expected


@pytest.mark.parametrize(
    ("fullname", "param"),
    [
        ("_heapq.heappush", "heap"),
        ("_heapq.heappop", "heap"),
        ("_heapq.heapify", "heap"),
        ("_heapq.heapreplace", "heap"),
        ("_heapq.heappushpop", "heap"),
        ("_bisect.insort_left", "a"),
        ("_bisect.insort_right", "a"),
        ("bisect.insort", "a"),
        ("random.shuffle", "x"),
        ("random.Random.shuffle", "x"),
    ],
)
def test_functions_that_mutate_an_argument(bundled: Overlays, fullname: str, param: str) -> None:
    func = bundled.function(fullname)
    assert func is not None
    assert func.markers_of(param) == frozenset({MUT})
    assert func.params[0][0] in (param, "self")


# --- the loader -------------------------------------------------------------


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _load_one(tmp_path: Path, text: str, rel: str = "mod.pyi") -> Overlays:
    _write(tmp_path, rel, text)
    return load_overlays([tmp_path])


def test_markers_nesting_spellings_and_params(tmp_path: Path) -> None:
    o = _load_one(
        tmp_path,
        "import fearless\n"
        "import fearless as f\n"
        "from fearless import Owned as O\n"
        "from fearless.markers import Send\n"
        "from fearless import markers as m\n"
        "def fn(a: Owned[Send[int]], b: fearless.Borrowed[int], c: f.markers.MutBorrowed[int],\n"
        "       d: 'O[Sync[int]]', e: list[int], /, *args: Send[int], g: m.Owned[int],\n"
        "       **kw: Owned[int]) -> Owned[int]: ...\n",
    )
    func = o.function("mod.fn")
    assert func is not None
    assert func.params == (
        ("a", frozenset({OWNED, SEND})),
        ("b", frozenset({BORROWED})),
        ("c", frozenset({MUT})),
        ("d", frozenset({OWNED, SYNC})),
        ("e", frozenset()),
        ("args", frozenset({SEND})),
        ("g", frozenset({OWNED})),
        ("kw", frozenset({OWNED})),
    )
    assert func.markers_of("a") == frozenset({OWNED, SEND})
    assert func.markers_of("nope") == frozenset()
    assert func.self_markers == frozenset()  # a function has no receiver
    assert o.mutates("mod.fn") is None


def test_methods_kinds_overloads_and_aliases(tmp_path: Path) -> None:
    o = _load_one(
        tmp_path,
        "from typing import Self, overload\n"
        "class C:\n"
        "    def m(self: MutBorrowed[Self]) -> None: ...\n"
        "    def r(self: Borrowed[Self]) -> int: ...\n"
        "    def plain(self) -> int: ...\n"
        "    @overload\n"
        "    def o(self: Borrowed[Self], x: Owned[int]) -> None: ...\n"
        "    @overload\n"
        "    def o(self: Borrowed[Self], y: Send[str], x: Send[int]) -> None: ...\n"
        "    @classmethod\n"
        "    def cm(cls, v: Owned[int]) -> None: ...\n"
        "    @staticmethod\n"
        "    def sm(v: MutBorrowed[list]) -> None: ...\n"
        "    @property\n"
        "    def p(self: Borrowed[Self]) -> int: ...\n"
        "    def __new__(cls) -> C: ...\n"
        "    alias = m\n"
        "    class Inner:\n"
        "        def n(self: MutBorrowed[Self]) -> None: ...\n",
    )
    assert o.mutates("mod.C.m") is True
    assert o.mutates("mod.C.r") is False
    assert o.mutates("mod.C.plain") is None
    assert o.mutates("mod.C.alias") is True
    assert o.mutates("mod.C.p") is False
    assert o.mutates("mod.C.Inner.n") is True
    over = o.function("mod.C.o")
    assert over is not None
    # Overloads: one entry, parameters in order of first appearance, markers merged by name.
    assert over.params == (
        ("self", frozenset({BORROWED})),
        ("x", frozenset({OWNED, SEND})),
        ("y", frozenset({SEND})),
    )
    cm, sm, new = o.function("mod.C.cm"), o.function("mod.C.sm"), o.function("mod.C.__new__")
    assert cm is not None and sm is not None and new is not None
    assert cm.self_markers == frozenset() and cm.markers_of("v") == frozenset({OWNED})
    assert sm.self_markers == frozenset() and sm.markers_of("v") == frozenset({MUT})
    assert new.self_markers == frozenset()
    assert set(o.classes) == {"mod.C", "mod.C.Inner"}


def test_overloads_that_disagree_on_self_count_as_mutating(tmp_path: Path) -> None:
    o = _load_one(
        tmp_path,
        "from typing import overload\n"
        "class C:\n"
        "    @overload\n"
        "    def pop(self: Borrowed[C]) -> None: ...\n"
        "    @overload\n"
        "    def pop(self: MutBorrowed[C], i: int) -> None: ...\n",
    )
    assert o.mutates("mod.C.pop") is True


def test_class_bases_and_docstring_are_kept(tmp_path: Path) -> None:
    o = _load_one(
        tmp_path,
        "from fearless import NotSend\n"
        "class Connection(NotSend):\n"
        '    """Bound to the thread that opened it (sqlite3 checks)."""\n'
        "    def close(self: MutBorrowed[Connection]) -> None: ...\n"
        "class Plain: ...\n",
        rel="sqlite3/__init__.pyi",
    )
    conn = o.classes["sqlite3.Connection"]
    assert conn.bases == ("NotSend",)
    assert conn.doc == "Bound to the thread that opened it (sqlite3 checks)."
    assert o.classes["sqlite3.Plain"].bases == ()
    assert o.classes["sqlite3.Plain"].doc is None


def test_module_names_follow_the_path(tmp_path: Path) -> None:
    _write(tmp_path, "builtins.pyi", "def a(x: Owned[int]): ...\n")
    _write(tmp_path, "collections/__init__.pyi", "def b(x: Owned[int]): ...\n")
    _write(tmp_path, "asyncio/futures.pyi", "def c(x: Owned[int]): ...\n")
    _write(tmp_path, "notes.txt", "ignored\n")
    o = load_overlays([tmp_path])
    assert set(o.functions) == {"builtins.a", "collections.b", "asyncio.futures.c"}


BAD = [
    ("def f(x: int\n", 1, "syntax error"),
    ("\n\ndef f(x: Owned) -> None: ...\n", 3, "Owned takes exactly one type argument, got 0"),
    ("def f(x: Owned[int, str]) -> None: ...\n", 1, "Owned takes exactly one type argument, got 2"),
    ("def f(x: Owned[Send[int, str]]) -> None: ...\n", 1, "Send takes exactly one type argument, got 2"),
    ("def f(x: fearless.Borrowed[()]) -> None: ...\n", 1, "Borrowed takes exactly one type argument, got 0"),
    ("def f(x: 'Owned[int'): ...\n", 1, "syntax error in the annotation"),
    ("def f(x) -> Owned: ...\n", 1, "Owned takes exactly one type argument, got 0"),
    ("def f(x: list[Owned[int]]) -> None: ...\n", 1, "must wrap a parameter's whole annotation"),
    ("class C:\n\n    @functools.cache\n    def m(self) -> None: ...\n", 3, "unknown decorator @functools.cache"),
    ("@dataclass\nclass C: ...\n", 1, "unknown class decorator @dataclass"),
    ("@staticmethod\ndef f() -> None: ...\n", 1, "@staticmethod outside a class"),
    ("def f() -> None: ...\ndef f() -> None: ...\n", 2, '"f" is declared twice'),
    ("class C: ...\nclass C: ...\n", 2, '"C" is declared twice'),
    ("import sys\nif sys.version_info >= (3, 12):\n    def f() -> None: ...\n", 2, "conditional declarations"),
    ("for x in y: pass\n", 1, "unsupported statement"),
    ("class C:\n    def m() -> None: ...\n", 2, "needs a first parameter"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD)
def test_bad_input_raises_overlay_error_with_path_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = _write(tmp_path, "mod.pyi", text)
    with pytest.raises(OverlayError) as info:
        load_overlays([tmp_path])
    err = info.value
    assert err.path == str(path)
    assert err.line == line
    assert message in err.message
    assert str(err).startswith(f"{path}:{line}: ")


def test_bad_paths_raise_overlay_error(tmp_path: Path) -> None:
    with pytest.raises(OverlayError, match="does not exist"):
        load_overlays([tmp_path / "missing"])
    _write(tmp_path, "my-module.pyi", "")
    with pytest.raises(OverlayError, match="does not name a module"):
        load_overlays([tmp_path])


def test_one_module_in_two_files_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "pkg.pyi", "")
    _write(tmp_path, "pkg/__init__.pyi", "")
    with pytest.raises(OverlayError, match='module "pkg" is also declared by'):
        load_overlays([tmp_path])


def test_later_directories_override_earlier_entries(tmp_path: Path) -> None:
    base, user = tmp_path / "base", tmp_path / "user"
    _write(
        base,
        "builtins.pyi",
        "class list:\n"
        "    def append(self: MutBorrowed[list]) -> None: ...\n"
        "    def copy(self: Borrowed[list]) -> None: ...\n",
    )
    _write(
        user,
        "builtins.pyi",
        "class list:\n"
        '    """mine"""\n'
        "    def copy(self: MutBorrowed[list]) -> None: ...\n",
    )
    _write(user, "mylib.pyi", "def consume(x: Owned[int]) -> None: ...\n")
    o = load_overlays([base, user])
    assert o.mutates("builtins.list.copy") is True  # overridden, entry by entry
    assert o.mutates("builtins.list.append") is True  # kept from the earlier directory
    assert o.classes["builtins.list"].doc == "mine"
    assert o.function("mylib.consume") is not None
    assert load_overlays([user, base]).mutates("builtins.list.copy") is False


def test_digest_follows_the_contents(tmp_path: Path) -> None:
    path = _write(tmp_path, "mod.pyi", "def f(x: Owned[int]) -> None: ...\n")
    first = load_overlays([tmp_path])
    assert load_overlays([tmp_path]).digest() == first.digest()
    path.write_text("def f(x: Borrowed[int]) -> None: ...\n")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    second = load_overlays([tmp_path])
    assert second.digest() != first.digest()
    func = second.function("mod.f")
    assert func is not None and func.markers_of("x") == frozenset({BORROWED})  # not the cached parse
    _write(tmp_path, "other.pyi", "")
    assert load_overlays([tmp_path]).digest() != second.digest()


def test_the_bundled_digest_is_stable(bundled: Overlays) -> None:
    again = load_overlays([bundled_overlay_dir()])
    assert again.digest() == bundled.digest()
    assert len(bundled.digest()) == 16
