"""The ownership overlays (stubs/) and their loader (mypy_ownership/overlays.py).

Fast: no mypy run.  The coverage tests read typeshed's own stubs (the copy
inside the installed mypy) with ``ast`` and check that every class whose
overlay says how its methods treat the receiver declares *every* public
method typeshed defines on it -- the overlays cover whole APIs, not samples --
and that every class, method, function and marked parameter the overlays
name is defined under that name in typeshed (the defining module decides
mypy's full name).
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Iterator
from pathlib import Path

import mypy
import pytest

from mypy_ownership.overlays import loading as overlays_module
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
    "concurrent.futures.process.ProcessPoolExecutor.submit": "pickles into another process,"
    " unlike Executor.submit: overrides it, unmarked",
    "concurrent.futures.process.ProcessPoolExecutor.map": "likewise",
    # typeshed defines them on multiprocessing.pool.Pool, which pickles into
    # processes; on a ThreadPool they hand work to threads.
    **{
        f"multiprocessing.pool.ThreadPool.{name}": "a ThreadPool's workers are threads: overrides Pool's, marked"
        for name in (
            "apply", "apply_async", "map", "map_async", "imap", "imap_unordered", "starmap", "starmap_async",
        )
    },
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


def _typeshed_classes(class_fullname: str) -> list[ast.ClassDef]:
    module, _, name = class_fullname.rpartition(".")
    tree = _typeshed_module(module)
    found = [s for s in _flatten(tree.body) if isinstance(s, ast.ClassDef) and s.name == name]
    assert found, f"typeshed's {module} defines no class {name}"
    return found


def _typeshed_methods(class_fullname: str) -> set[str]:
    found = _typeshed_classes(class_fullname)
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


def _receiver_class_names() -> list[str]:
    """The classes whose overlay says, for some method, whether it mutates
    the receiver: those declare the whole API.  A class declared only for
    threads (``class Connection(NotSend)``, ``Queue.put``'s item,
    ``Thread.start``'s ``self: Send[Self]``) need not."""
    o = load_overlays([bundled_overlay_dir()])
    return sorted(
        name
        for name in o.classes
        if any(o.functions[f"{name}.{m}"].self_markers & {BORROWED, MUT} for m in _declared_methods(o, name))
    )


def test_receiver_classes_are_found() -> None:
    names = _receiver_class_names()
    assert set(REQUIRED_CLASSES) <= set(names)
    assert "sqlite3.Connection" not in names  # thread facts only
    assert "queue.Queue" not in names  # declares put, for its item only
    assert "threading.Thread" not in names  # start sends self: no mutation fact


@pytest.mark.parametrize("class_fullname", _bundled_class_names())
def test_declared_methods_are_defined_on_that_class_in_typeshed(bundled: Overlays, class_fullname: str) -> None:
    typeshed = _typeshed_methods(class_fullname)
    declared = _declared_methods(bundled, class_fullname)
    unknown = {m for m in declared - typeshed if f"{class_fullname}.{m}" not in EXTRA}
    assert not unknown, (
        f"{class_fullname}: typeshed defines no {sorted(unknown)} on this class"
        " (the defining class decides the full name)"
    )


@pytest.mark.parametrize("class_fullname", _receiver_class_names())
def test_class_declares_every_method_typeshed_defines(bundled: Overlays, class_fullname: str) -> None:
    typeshed = _typeshed_methods(class_fullname)
    declared = _declared_methods(bundled, class_fullname)
    missing = {
        m for m in typeshed - declared if f"{class_fullname}.{m}" not in IGNORED
    }
    assert not missing, f"{class_fullname}: declare {sorted(missing)}"


@pytest.mark.parametrize("class_fullname", _receiver_class_names())
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
        assert _typeshed_classes(fullname)  # raises if typeshed lacks the class


# typeshed defines these as variables (``shuffle = _inst.shuffle``,
# ``insort = insort_right``): there is no signature to compare with.
_NO_TYPESHED_SIGNATURE = {"random.shuffle", "bisect.insort"}


def _arg_kinds(node: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, str]:
    a = node.args
    kinds = {arg.arg: "param" for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
    if a.vararg is not None:
        kinds[a.vararg.arg] = "*args"
    if a.kwarg is not None:
        kinds[a.kwarg.arg] = "**kwargs"
    return kinds


def _typeshed_signatures(fullname: str, kind: str) -> list[dict[str, str]]:
    """Each variant's parameters (name -> param, *args or **kwargs) of the
    function or method typeshed defines under ``fullname``."""
    owner, _, name = fullname.rpartition(".")
    if kind == FUNCTION:
        bodies = [_typeshed_module(owner).body]
    else:
        bodies = [cls.body for cls in _typeshed_classes(owner)]
    found = [
        _arg_kinds(stmt)
        for body in bodies
        for stmt in _flatten(body)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name
    ]
    if not found and fullname in EXTRA:
        # Declared on a subclass that inherits it: the signature is a base's
        # (one named in the same typeshed module, as Pool is ThreadPool's).
        module = owner.rpartition(".")[0]
        for cls in _typeshed_classes(owner):
            for base in cls.bases:
                if isinstance(base, ast.Name):
                    found += _typeshed_signatures(f"{module}.{base.id}.{name}", kind)
    return found


def _own_arg_kinds(func_fullname: str) -> dict[str, str]:
    """The overlay's own parameter kinds, from its source."""
    func = load_overlays([bundled_overlay_dir()]).functions[func_fullname]
    tree = ast.parse(Path(func.path).read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno == func.line:
            return _arg_kinds(node)
    raise AssertionError(f"{func_fullname}: no def at line {func.line}")


def _functions_with_argument_markers() -> list[str]:
    o = load_overlays([bundled_overlay_dir()])
    out = []
    for func in o.functions.values():
        receiver = 1 if func.kind not in (FUNCTION, STATICMETHOD) else 0
        if any(markers for _, markers in func.params[receiver:]):
            out.append(func.fullname)
    return sorted(out)


@pytest.mark.parametrize("fullname", _functions_with_argument_markers())
def test_marked_parameters_are_typesheds_parameters(bundled: Overlays, fullname: str) -> None:
    """A marker on an argument counts by the parameter's name: the name, and
    whether it is a plain parameter, ``*args`` or ``**kwargs``, must be
    typeshed's (in some variant)."""
    if fullname in _NO_TYPESHED_SIGNATURE:
        return
    func = bundled.functions[fullname]
    variants = _typeshed_signatures(fullname, func.kind)
    assert variants, f"typeshed defines no {fullname}"
    own = _own_arg_kinds(fullname)
    receiver = 1 if func.kind not in (FUNCTION, STATICMETHOD) else 0
    for name, markers in func.params[receiver:]:
        if not markers:
            continue
        assert any(v.get(name) == own[name] for v in variants), (
            f"{fullname}: typeshed has no {own[name]} parameter {name!r}"
            f" (its variants: {[sorted(v) for v in variants]})"
        )


# --- the thread-safety declarations -----------------------------------------

# fullname -> what the overlays say: thread-bound (NotSend), NotSync,
# @unsafe_sync.  The names are the ones mypy uses, checked with reveal_type
# and a plugin that prints its hooks' full names.
THREAD_CLASSES: dict[str, tuple[bool, bool, bool]] = {
    # thread-bound
    "sqlite3.Connection": (True, True, False),
    "sqlite3.Cursor": (True, False, False),
    "sqlite3.Blob": (True, False, False),
    "_asyncio.Future": (True, False, False),  # asyncio.Future, re-exported
    "_asyncio.Task": (True, False, False),
    "asyncio.locks.Lock": (True, False, False),
    "asyncio.locks.Event": (True, False, False),
    "asyncio.locks.Condition": (True, False, False),
    "asyncio.locks.Semaphore": (True, False, False),
    "asyncio.locks.BoundedSemaphore": (True, False, False),
    "asyncio.locks.Barrier": (True, False, False),
    "asyncio.queues.Queue": (True, False, False),
    "asyncio.queues.PriorityQueue": (True, False, False),
    "asyncio.queues.LifoQueue": (True, False, False),
    "asyncio.streams.StreamReader": (True, False, False),
    "asyncio.streams.StreamWriter": (True, False, False),
    "asyncio.taskgroups.TaskGroup": (True, False, False),
    "asyncio.timeouts.Timeout": (True, False, False),
    # Send, not Sync
    "_io.TextIOWrapper": (False, True, False),
    # internally synchronised
    "asyncio.events.AbstractEventLoop": (False, False, True),
    "asyncio.base_events.BaseEventLoop": (False, False, True),
    "threading.Thread": (False, False, True),
    "threading.Timer": (False, False, True),
    "threading.Condition": (False, False, True),
    "threading.Event": (False, False, True),
    "threading.Semaphore": (False, False, True),
    "threading.BoundedSemaphore": (False, False, True),
    "threading.Barrier": (False, False, True),
    "_thread.lock": (False, False, True),  # threading.Lock from 3.13
    "_thread.LockType": (False, False, True),  # threading.Lock before 3.13
    "_thread.RLock": (False, False, True),  # threading.RLock
    "_thread._local": (False, False, True),  # threading.local
    "queue.Queue": (False, False, True),
    "queue.LifoQueue": (False, False, True),
    "queue.PriorityQueue": (False, False, True),
    "_queue.SimpleQueue": (False, False, True),  # queue.SimpleQueue
    "concurrent.futures._base.Future": (False, False, True),
    "concurrent.futures._base.Executor": (False, False, True),
    "concurrent.futures.thread.ThreadPoolExecutor": (False, False, True),
    "logging.Logger": (False, False, True),
    "logging.Handler": (False, False, True),
    "_io.BufferedReader": (False, False, True),
    "_io.BufferedWriter": (False, False, True),
    "_io.BufferedRandom": (False, False, True),
    "_io.BufferedRWPair": (False, False, True),
    "_socket.socket": (False, False, True),  # socket.socket's base
    "ssl.SSLContext": (False, False, True),
}


@pytest.mark.parametrize(("fullname", "expected"), sorted(THREAD_CLASSES.items()))
def test_thread_classes(bundled: Overlays, fullname: str, expected: tuple[bool, bool, bool]) -> None:
    cls = bundled.class_of(fullname)
    assert cls is not None, f"{fullname} is not declared"
    assert (cls.thread_bound, cls.not_sync, cls.unsafe_sync) == expected
    assert not cls.unsafe_send  # nothing in the standard library needs it alone


def test_every_thread_declaration_is_in_the_table(bundled: Overlays) -> None:
    declared = {
        name
        for name, c in bundled.classes.items()
        if c.thread_bound or c.not_sync or c.unsafe_send or c.unsafe_sync
    }
    assert declared == set(THREAD_CLASSES)


def test_not_declared_is_not_a_thread_fact(bundled: Overlays) -> None:
    assert bundled.class_of("asyncio.futures.Future") is None  # re-exported, not defined there
    assert bundled.class_of("threading.Lock") is None  # a variable in typeshed
    lst = bundled.class_of("builtins.list")
    assert lst is not None
    assert (lst.thread_bound, lst.not_sync, lst.unsafe_send, lst.unsafe_sync) == (False,) * 4
    assert lst.send_if == {}


@pytest.mark.parametrize("fullname", sorted(THREAD_CLASSES))
def test_thread_reasons_read_as_a_clause(bundled: Overlays, fullname: str) -> None:
    """The plugin prints ``"X" is thread-bound: <reason>`` and ``help: <help>``."""
    cls = bundled.classes[fullname]
    assert cls.reason and not cls.reason.endswith(".")
    if cls.thread_bound or cls.not_sync:
        assert cls.help, f"{fullname}: say what to do instead (help:)"
        assert ": " not in cls.reason  # it already follows "is thread-bound: "
    if cls.help:
        assert cls.help[0].islower() and not cls.help.endswith(".")


def test_sqlite3_connection_is_send_with_check_same_thread_false(bundled: Overlays) -> None:
    conn = bundled.class_of("sqlite3.Connection")
    assert conn is not None
    assert dict(conn.send_if) == {"check_same_thread": False}
    assert conn.reason == "sqlite3 checks that a connection is used only by the thread that opened it"
    assert conn.help is not None and "check_same_thread=False" in conn.help
    # Cursors and blobs: released with the connection that made them.
    sqlite3_made = {"sqlite3.Connection", "sqlite3.Cursor", "sqlite3.Blob"}
    for name in sqlite3_made - {"sqlite3.Connection"}:
        made = bundled.class_of(name)
        assert made is not None and dict(made.send_if) == {"check_same_thread": False}
    assert all(not c.send_if for n, c in bundled.classes.items() if n not in sqlite3_made)


def test_the_event_loop_is_sync_for_its_threadsafe_entry_points(bundled: Overlays) -> None:
    for name in ("asyncio.events.AbstractEventLoop", "asyncio.base_events.BaseEventLoop"):
        loop = bundled.class_of(name)
        assert loop is not None and loop.unsafe_sync and not loop.thread_bound
        assert loop.reason == (
            "call_soon_threadsafe and run_coroutine_threadsafe are its documented thread-safe entry points"
        )


MOVE = frozenset({OWNED, SEND})

# (function, parameter, markers, shape)
THREAD_BOUNDARIES = [
    ("threading.Thread.__init__", "target", MOVE, "Callable"),
    ("threading.Thread.__init__", "args", MOVE, "tuple"),
    ("threading.Thread.__init__", "kwargs", MOVE, "dict"),
    ("threading.Timer.__init__", "function", MOVE, "Callable"),
    ("threading.Timer.__init__", "args", MOVE, "tuple"),
    ("threading.Timer.__init__", "kwargs", MOVE, "dict"),
    ("threading.Barrier.__init__", "action", frozenset({SEND}), "Callable"),
    ("_thread.start_new_thread", "function", MOVE, "Callable"),
    ("_thread.start_new_thread", "args", MOVE, "tuple"),
    ("_thread.start_new_thread", "kwargs", MOVE, "dict"),
    ("concurrent.futures._base.Executor.submit", "fn", MOVE, "Callable"),
    ("concurrent.futures._base.Executor.submit", "args", MOVE, "object"),
    ("concurrent.futures._base.Executor.submit", "kwargs", MOVE, "object"),
    ("concurrent.futures._base.Executor.map", "fn", MOVE, "Callable"),
    ("concurrent.futures._base.Executor.map", "iterables", MOVE, "object"),
    ("concurrent.futures._base.Future.add_done_callback", "fn", frozenset({SEND}), "Callable"),
    ("concurrent.futures.thread.ThreadPoolExecutor.__init__", "initializer", frozenset({SEND, SYNC}), "Callable"),
    ("concurrent.futures.thread.ThreadPoolExecutor.__init__", "initargs", frozenset({SEND, SYNC}), "tuple"),
    ("queue.Queue.put", "item", MOVE, "object"),
    ("queue.Queue.put_nowait", "item", MOVE, "object"),
    ("_queue.SimpleQueue.put", "item", MOVE, "object"),
    ("_queue.SimpleQueue.put_nowait", "item", MOVE, "object"),
    ("asyncio.threads.to_thread", "func", MOVE, "Callable"),
    ("asyncio.threads.to_thread", "args", MOVE, "object"),
    ("asyncio.threads.to_thread", "kwargs", MOVE, "object"),
    ("asyncio.events.AbstractEventLoop.run_in_executor", "func", MOVE, "Callable"),
    ("asyncio.events.AbstractEventLoop.run_in_executor", "args", MOVE, "object"),
    ("asyncio.base_events.BaseEventLoop.run_in_executor", "func", MOVE, "Callable"),
    ("asyncio.base_events.BaseEventLoop.run_in_executor", "args", MOVE, "object"),
    ("asyncio.events.AbstractEventLoop.call_soon_threadsafe", "callback", frozenset({SEND}), "Callable"),
    ("asyncio.events.AbstractEventLoop.call_soon_threadsafe", "args", frozenset({SEND}), "object"),
    ("asyncio.base_events.BaseEventLoop.call_soon_threadsafe", "callback", frozenset({SEND}), "Callable"),
    ("asyncio.base_events.BaseEventLoop.call_soon_threadsafe", "args", frozenset({SEND}), "object"),
    ("asyncio.tasks.run_coroutine_threadsafe", "coro", frozenset({SEND}), "object"),
]


@pytest.mark.parametrize(("fullname", "param", "markers", "shape"), THREAD_BOUNDARIES)
def test_thread_boundaries(
    bundled: Overlays, fullname: str, param: str, markers: frozenset[Marker], shape: str
) -> None:
    func = bundled.function(fullname)
    assert func is not None, f"{fullname} is not declared"
    assert func.markers_of(param) == markers
    assert func.shape_of(param) == shape


def test_thread_boundaries_leave_the_other_parameters_alone(bundled: Overlays) -> None:
    thread = bundled.function("threading.Thread.__init__")
    loop = bundled.function("asyncio.events.AbstractEventLoop.run_in_executor")
    assert thread is not None and loop is not None
    for name in ("self", "group", "name", "daemon"):
        assert thread.markers_of(name) == frozenset()
        assert thread.shape_of(name) is None
    assert loop.markers_of("executor") == frozenset()
    assert bundled.mutates("queue.Queue.put") is None  # the receiver is not declared


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


def test_thread_bases_and_decorators_in_every_spelling(tmp_path: Path) -> None:
    o = _load_one(
        tmp_path,
        "import fearless\n"
        "import fearless as f\n"
        "from fearless import NotSync as NY, unsafe_send as us\n"
        "from fearless import markers as m\n"
        "class A(NotSend):\n"
        '    """a"""\n'
        "class B(fearless.NotSend, fearless.markers.NotSync):\n"
        '    """b"""\n'
        "class C(f.NotSend):\n"
        '    """c"""\n'
        "class D(NY):\n"
        '    """d"""\n'
        "@unsafe_sync\n"
        "class E:\n"
        '    """e"""\n'
        "@fearless.unsafe_sync\n"
        "class F:\n"
        '    """f"""\n'
        "@fearless.markers.unsafe_sync\n"
        "class G:\n"
        '    """g"""\n'
        "@us\n"
        "@m.unsafe_sync\n"
        "class H:\n"
        '    """h"""\n'
        "@f.unsafe_send\n"
        "class I(NotSync):\n"
        '    """i"""\n'
        "class J(Base):\n"
        '    """j"""\n',
    )

    def facts(name: str) -> tuple[bool, bool, bool, bool]:
        c = o.class_of(f"mod.{name}")
        assert c is not None
        return (c.thread_bound, c.not_sync, c.unsafe_send, c.unsafe_sync)

    assert facts("A") == (True, False, False, False)
    assert facts("B") == (True, True, False, False)
    assert facts("C") == (True, False, False, False)
    assert facts("D") == (False, True, False, False)
    assert facts("E") == facts("F") == facts("G") == (False, False, False, True)
    assert facts("H") == (False, False, True, True)
    assert facts("I") == (False, True, True, False)
    assert facts("J") == (False, False, False, False)
    b = o.class_of("mod.B")
    assert b is not None and b.bases == ("fearless.NotSend", "fearless.markers.NotSync")  # as written
    assert o.class_of("mod.Nope") is None


def test_an_unrelated_name_is_not_a_thread_fact(tmp_path: Path) -> None:
    # other.NotSend is not fearless's, nor is NotSend through another module's alias.
    o = _load_one(
        tmp_path,
        "import other as fearless_like\n"
        "class A(other.NotSend): ...\n"
        "class B(fearless_like.NotSend): ...\n",
    )
    for name in ("mod.A", "mod.B"):
        c = o.class_of(name)
        assert c is not None and not c.thread_bound and c.reason is None


def test_reason_and_help_come_from_the_docstring(tmp_path: Path) -> None:
    o = _load_one(
        tmp_path,
        "class Conn(NotSend):\n"
        '    """sqlite3 checks the thread\n'
        "\n"
        "    More words, ignored.\n"
        "\n"
        "    help: open it in the thread\n"
        "        that uses it\n"
        "\n"
        "    Trailing text.\n"
        '    """\n'
        "class Short(NotSend):\n"
        '    """bound to its thread\n'
        '    help: use it there"""\n'
        "class Plain:\n"
        '    """Only a docstring.\n'
        "    Over two lines, which is fine without a thread declaration.\n"
        '    """\n'
        "class HelpOnly:\n"
        '    """help: no reason here"""\n',
    )
    conn, short, plain, help_only = (o.classes[f"mod.{n}"] for n in ("Conn", "Short", "Plain", "HelpOnly"))
    assert conn.reason == "sqlite3 checks the thread"
    assert conn.help == "open it in the thread that uses it"
    assert (short.reason, short.help) == ("bound to its thread", "use it there")
    assert (plain.reason, plain.help) == ("Only a docstring.", None)
    assert (help_only.reason, help_only.help) == (None, "no reason here")
    assert conn.doc is not None and conn.doc.startswith("sqlite3 checks the thread\n")


def test_send_if(tmp_path: Path) -> None:
    o = _load_one(
        tmp_path,
        "class Conn(NotSend):\n"
        '    """bound"""\n'
        '    __send_if__ = {"check_same_thread": False, "mode": "shared", "n": 2, "x": None}\n'
        "class Ann(NotSend):\n"
        '    """bound"""\n'
        '    __send_if__: dict = {"flag": True}\n'
        "class Other(NotSend):\n"
        '    """bound"""\n',
    )
    conn, ann, other = (o.classes[f"mod.{n}"] for n in ("Conn", "Ann", "Other"))
    assert dict(conn.send_if) == {"check_same_thread": False, "mode": "shared", "n": 2, "x": None}
    assert dict(ann.send_if) == {"flag": True}
    assert dict(other.send_if) == {}
    with pytest.raises(TypeError):
        conn.send_if["check_same_thread"] = True  # type: ignore[index]  # read-only
    assert not [f for f in o.functions if f.endswith("__send_if__")]
    hash(conn)  # the mapping does not make the entry unhashable


def test_shapes(tmp_path: Path) -> None:
    o = _load_one(
        tmp_path,
        "import typing, collections.abc\n"
        "from fearless import Owned as O\n"
        "def f(a: Owned[Send[Callable]], b: Owned[Send[Callable[..., object]]],\n"
        "      c: Send[typing.Callable], d: Send[collections.abc.Callable[[], None]],\n"
        "      e: 'O[Send[tuple]]', g: Owned['dict[str, int]'], h: Owned[int | None],\n"
        "      i: Callable, j=None, *args: Owned[Send[object]], **kwargs: Owned[Send[object]]): ...\n"
        "g2 = f\n",
    )
    func = o.function("mod.f")
    assert func is not None
    assert dict(func.shapes) == {
        "a": "Callable",
        "b": "Callable",
        "c": "Callable",
        "d": "Callable",
        "e": "tuple",
        "g": "dict",
        "args": "object",
        "kwargs": "object",
    }
    assert func.shape_of("h") is None  # a union has no head name
    assert func.shape_of("i") is None  # unmarked
    assert func.shape_of("j") is None
    assert func.shape_of("nope") is None
    alias = o.function("mod.g2")
    assert alias is not None and alias.shapes == func.shapes
    hash(func)


def test_overloads_must_agree_on_shapes(tmp_path: Path) -> None:
    o = _load_one(
        tmp_path,
        "from typing import overload\n"
        "@overload\n"
        "def f(fn: Owned[Send[Callable]], x: int) -> None: ...\n"
        "@overload\n"
        "def f(fn: Owned[Send[typing.Callable[[], None]]], x: Owned[list], y: str) -> None: ...\n",
    )
    func = o.function("mod.f")
    assert func is not None
    assert dict(func.shapes) == {"fn": "Callable", "x": "list"}  # unmarked in one variant: fine


def test_string_defaults_are_values_not_annotations(tmp_path: Path) -> None:
    o = _load_one(tmp_path, "def f(prefix='', sep=' [x', *, end=('(',)): ...\n")
    assert o.function("mod.f") is not None


def test_thread_facts_are_overridden_with_the_class(tmp_path: Path) -> None:
    base, user = tmp_path / "base", tmp_path / "user"
    _write(base, "sqlite3/__init__.pyi", 'class Connection(NotSend):\n    """bound"""\n')
    _write(user, "sqlite3/__init__.pyi", '@unsafe_sync\nclass Connection:\n    """mine, serialised"""\n')
    conn = load_overlays([base, user]).class_of("sqlite3.Connection")
    assert conn is not None
    assert (conn.thread_bound, conn.unsafe_sync, conn.reason) == (False, True, "mine, serialised")


def test_a_method_declared_callable_from_any_thread(tmp_path: Path) -> None:
    o = _load_one(
        tmp_path,
        "from fearless import NotSend, unsafe_sync\n"
        "class F(NotSend):\n"
        '    """r"""\n'
        "    @unsafe_sync\n"
        "    def done(self) -> bool: ...\n"
        "    def result(self) -> object: ...\n"
        "    finished = done\n",
    )
    said = {name: o.function(f"mod.F.{name}") for name in ("done", "result", "finished")}
    assert {name: f is not None and f.any_thread for name, f in said.items()} == {
        "done": True, "result": False, "finished": True
    }
    cls = o.class_of("mod.F")
    assert cls is not None and cls.thread_bound and not cls.unsafe_sync  # the class stays thread-bound


def test_the_bundled_future_declares_its_flag_reads(tmp_path: Path) -> None:
    o = load_overlays([bundled_overlay_dir()])
    flags = {m: o.function(f"_asyncio.Future.{m}") for m in ("cancelled", "done", "result", "set_result")}
    assert {m: f is not None and f.any_thread for m, f in flags.items()} == {
        "cancelled": True, "done": True, "result": False, "set_result": False
    }


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
    ('@unsafe_sync()\nclass C:\n    "r"\n', 1, "unknown class decorator @unsafe_sync()"),
    ('@other.unsafe_sync\nclass C:\n    "r"\n', 1, "unknown class decorator @other.unsafe_sync"),
    ("@staticmethod\nclass C: ...\n", 1, "(an overlay allows @unsafe_send and @unsafe_sync)"),
    ("@staticmethod\ndef f() -> None: ...\n", 1, "@staticmethod outside a class"),
    ("def f() -> None: ...\ndef f() -> None: ...\n", 2, '"f" is declared twice'),
    ("class C: ...\nclass C: ...\n", 2, '"C" is declared twice'),
    ("import sys\nif sys.version_info >= (3, 12):\n    def f() -> None: ...\n", 2, "conditional declarations"),
    ("for x in y: pass\n", 1, "unsupported statement"),
    ("class C:\n    def m() -> None: ...\n", 2, "needs a first parameter"),
    # thread-safety declarations
    ('@unsafe_sync\n@fearless.unsafe_sync\nclass C:\n    "r"\n', 2, "@unsafe_sync is given twice"),
    ("@unsafe_sync\ndef f() -> None: ...\n", 1, "@unsafe_sync on a function"),
    ("class C:\n    @unsafe_sync\n    @unsafe_sync\n    def m(self) -> None: ...\n", 3, "@unsafe_sync is given twice"),
    ("class C:\n    @unsafe_send\n    def m(self) -> None: ...\n", 2, "unknown decorator @unsafe_send"),
    ('class C(NotSend, fearless.NotSend):\n    "r"\n', 1, "NotSend is listed twice"),
    ('\n@unsafe_send\nclass C(NotSend):\n    "r"\n', 3, '"C": @unsafe_send contradicts its NotSend base'),
    ('@unsafe_sync\nclass C(NotSend):\n    "r"\n', 2, "@unsafe_sync contradicts its NotSend base (a NotSend class is bound"),
    ('@unsafe_sync\nclass C(NotSync):\n    "r"\n', 2, "@unsafe_sync contradicts its NotSync base"),
    ("class C(NotSend): ...\n", 1, 'class "C" says NotSend: its docstring must give the reason'),
    ("\nclass C(NotSync):\n    pass\n", 2, 'class "C" says NotSync: its docstring must give the reason'),
    ("@unsafe_send\n@unsafe_sync\nclass C: ...\n", 3, 'class "C" says @unsafe_send and @unsafe_sync: its docstring'),
    ('class C(NotSend):\n    "help: do this"\n', 1, "must give the reason, in one line, on its first line"),
    ('class C(NotSend):\n    "   "\n', 1, "must give the reason"),
    ('class C(NotSend):\n    """a reason\n    that goes on"""\n', 2, "the reason must fit on the docstring's first line"),
    ('class C(NotSend):\n    """r\n\n    help: a\n    help: b"""\n', 2, 'more than one "help:" line'),
    ('class C(NotSend):\n    """r\n\n    help:"""\n', 2, '"help:" needs text after it'),
    ('class C:\n    "r"\n    __send_if__ = {"a": False}\n', 3, "__send_if__ is allowed only on a NotSend class"),
    ('class C(NotSync):\n    "r"\n    __send_if__ = {"a": False}\n', 3, "only on a NotSend class"),
    ('__send_if__ = {"a": False}\n', 1, "__send_if__ outside a class"),
    ('class C(NotSend):\n    "r"\n    __send_if__ = {"a": 1}\n    __send_if__ = {"b": 1}\n', 4, '"__send_if__" is declared twice'),
    ('class C(NotSend):\n    "r"\n    x = __send_if__ = {"a": 1}\n', 3, "assign __send_if__ on its own"),
    ('class C(NotSend):\n    "r"\n    __send_if__ = dict(a=1)\n', 3, "__send_if__ must be a dict literal"),
    ('class C(NotSend):\n    "r"\n    __send_if__: dict\n', 3, "__send_if__ must be a dict literal"),
    ('class C(NotSend):\n    "r"\n    __send_if__ = {}\n', 3, "__send_if__ is empty"),
    ('class C(NotSend):\n    "r"\n    __send_if__ = {**base}\n', 3, "** is not allowed"),
    ('class C(NotSend):\n    "r"\n    __send_if__ = {1: True}\n', 3, "the key 1 is not a keyword argument name"),
    ('class C(NotSend):\n    "r"\n    __send_if__ = {"not-a-name": True}\n', 3, "is not a keyword argument name"),
    ('class C(NotSend):\n    "r"\n    __send_if__ = {"a": 1, "a": 2}\n', 3, '"a" is given twice'),
    ('class C(NotSend):\n    "r"\n    __send_if__ = {\n        "a": [1],\n    }\n', 4, 'the value of "a" must be a constant'),
    ('class C(NotSend):\n    "r"\n    __send_if__ = {"a": 1.5}\n', 3, "not 1.5"),
    ('class C(NotSend):\n    "r"\n    __send_if__ = {"a": b"x"}\n', 3, "must be a constant"),
    (
        "from typing import overload\n@overload\ndef f(fn: Owned[Callable]) -> None: ...\n"
        "@overload\ndef f(fn: Owned[tuple]) -> None: ...\n",
        5,
        'the overloads of "f" disagree on the type of "fn" (Callable and tuple)',
    ),
    (
        "from typing import overload\n@overload\ndef f(fn: Owned[int | None]) -> None: ...\n"
        "@overload\ndef f(fn: Owned[int]) -> None: ...\n",
        5,
        "(no head name and int)",
    ),
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
