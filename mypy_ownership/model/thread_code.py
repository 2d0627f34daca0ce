"""Which code of a class runs on which thread, and what it does there to
``self``'s attributes: the facts behind the data-race check.

Recorded by the class hook, for the classes of a module that imports a
threading module (``threading``, ``_thread``, ``concurrent``, ``asyncio``,
``queue``, ``multiprocessing``: the others start no thread of their own),
per method, the shapes ``analysis.race_shapes`` finds (kept in
``TypeInfo.metadata``, so in mypy's cache: a class split across modules is
read back on a warm run).

Read back at a thread boundary: the thread runs its entry point (a bound
method, a ``Thread`` subclass's ``run``, a closure capturing ``self``) and
every method it calls on ``self``, transitively; the class's other public
methods (and the special ones but ``__init__``) are taken to run on the
spawning side, the caller's thread, with what they call in turn.  A method
reached from both sides runs on both.
"""

from __future__ import annotations

from typing import Any

from mypy.nodes import Block, Decorator, FuncBase, FuncDef, Import, ImportAll, ImportFrom, OverloadedFuncDef, TypeInfo
from mypy.plugin import ClassDefContext

from mypy_ownership.analysis.class_memo import BodyMemo
from mypy_ownership.analysis.race_shapes import shapes_of

METADATA_KEY = "mypy_ownership_races"
THREAD_MODULES = frozenset({"threading", "_thread", "concurrent", "asyncio", "queue", "multiprocessing"})
# special methods that never run once the object is shared, and a test
# framework's set-up and tear-down (they run before and after the test that
# starts the thread)
_NOT_SHARED = frozenset(
    {
        "__init__", "__new__", "__post_init__", "__init_subclass__", "__set_name__", "__class_getitem__",
        "setUp", "tearDown", "asyncSetUp", "asyncTearDown", "setup_method", "teardown_method",
    }
)


class RaceFactsRecorder:
    """Records the shapes of each class's methods (the class hook), for the
    modules that import a threading module.  A class analysed again on a
    deferred pass (the same bodies) is not walked again."""

    __slots__ = ("_module", "_threaded", "_kept")

    def __init__(self) -> None:
        self._module: str | None = None
        self._threaded = False
        self._kept = BodyMemo()

    def record(self, ctx: ClassDefContext) -> None:
        api = ctx.api
        module = getattr(api, "cur_mod_id", None)
        if module != self._module:
            self._module = module
            self._threaded = imports_threading(getattr(api, "cur_mod_node", None))
        if not self._threaded or getattr(api, "is_stub_file", False):
            return
        funcs = [f for f in map(_method, ctx.cls.defs.body) if f is not None]
        bodies = [f.body for f in funcs]
        methods = self._kept.get(module, ctx.cls, bodies)
        if methods is None:
            methods = {}
            for func in funcs:
                if func.name in _NOT_SHARED or func.is_static or func.is_class or not func.arguments:
                    methods[func.name] = {}
                    continue
                methods[func.name] = shapes_of(func.body, func.arguments[0].variable.name).as_data()
            self._kept.keep(module, ctx.cls, bodies, methods)
        ctx.cls.info.metadata[METADATA_KEY] = {"m": methods}


def imports_threading(tree: Any) -> bool:
    """Does the module import ``threading``, ``queue`` or another of
    ``THREAD_MODULES``?"""
    for imp in getattr(tree, "imports", ()):
        if type(imp) is Import:
            names = [name for name, _ in imp.ids]
        elif type(imp) in (ImportFrom, ImportAll):
            names = [imp.id]
        else:
            continue
        if any(name.partition(".")[0] in THREAD_MODULES for name in names):
            return True
    return False


def _method(stmt: Any) -> FuncDef | None:
    if type(stmt) is FuncDef:
        return stmt
    if type(stmt) is Decorator:
        return stmt.func
    if type(stmt) is OverloadedFuncDef:
        impl = stmt.impl
        return impl.func if isinstance(impl, Decorator) else impl
    return None


class Access:
    """One shape, read back: where, in which method of which class."""

    __slots__ = ("attribute", "kind", "held", "line", "module", "owner", "method")

    def __init__(self, attribute: str, kind: str, held: list[str], line: int, module: str, owner: str, method: str) -> None:
        self.attribute = attribute
        self.kind = kind
        self.held = frozenset(held)
        self.line = line
        self.module = module
        self.owner = owner  # the class's short name
        self.method = method

    def __repr__(self) -> str:
        return f"Access({self.attribute!r}, {self.kind!r}, {sorted(self.held)}, {self.module}:{self.line})"


class ClassCode:
    """The methods of a class (its own and inherited) with their facts; a
    method of a class without facts (a stub's, a module that imports no
    threading module) hides the ones it overrides, and has none."""

    __slots__ = ("info", "_methods", "_called")

    def __init__(self, info: TypeInfo) -> None:
        self.info = info
        self._called: dict[str, list[tuple[str, frozenset[str]]]] = {}
        self._methods: dict[str, tuple[TypeInfo, dict[str, Any]] | None] = {}
        for base in info.mro:
            data = base.metadata.get(METADATA_KEY)
            if data is not None:
                for name, facts in data.get("m", {}).items():
                    self._methods.setdefault(name, (base, facts))
            elif base.fullname != "builtins.object":
                for name, sym in base.names.items():
                    if isinstance(sym.node, (FuncBase, Decorator)):
                        self._methods.setdefault(name, None)

    def has_facts(self) -> bool:
        return any(v is not None for v in self._methods.values())

    def _calls(self, name: str) -> list[tuple[str, frozenset[str]]]:
        """The methods ``name`` calls on ``self`` (read once per method)."""
        called = self._called.get(name)
        if called is None:
            found = self._methods.get(name)
            called = self._called[name] = (
                []
                if found is None
                else [(c, frozenset(held)) for c, held, _ in found[1].get("c", ()) if c in self._methods]
            )
        return called

    def ordered_before(self, spawner: str) -> dict[str, int]:
        """For the method that starts the thread, and each method that calls
        it (transitively): the line before which its accesses come before
        the thread starts (the start, or the call that leads to it)."""
        out: dict[str, int] = {}
        todo = [spawner]
        while todo:
            target = todo.pop()
            for name, found in self._methods.items():
                if found is None or name in out or name == spawner:
                    continue
                for callee, _, line in found[1].get("c", ()):
                    if callee == target:
                        out[name] = line
                        todo.append(name)
        return out

    def reach(self, roots: set[str]) -> set[str]:
        """``roots`` and what they call on ``self``, transitively."""
        seen: set[str] = set()
        todo = [r for r in roots if r in self._methods]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo += [c for c, _ in self._calls(name) if c not in seen]
        return seen

    def held_on_entry(self, roots: set[str], reached: set[str]) -> dict[str, frozenset[str]]:
        """For each method of ``reached``, the locks of ``self``'s its
        callers there always hold when they call it (none for a root, which
        code outside calls): ``_update()`` called only inside ``with
        self._lock:`` runs under it."""
        held: dict[str, frozenset[str] | None] = {name: (frozenset() if name in roots else None) for name in reached}
        changed = True
        while changed:
            changed = False
            for caller in reached:
                outer = held[caller]
                if outer is None:
                    continue
                for callee, at_call in self._calls(caller):
                    if callee not in held or callee in roots:
                        continue
                    given = outer | at_call
                    before = held[callee]
                    after = given if before is None else before & given
                    if after != before:
                        held[callee] = after
                        changed = True
        return {name: h or frozenset() for name, h in held.items()}

    def public(self) -> set[str]:
        """The methods other code calls: the public ones and the special
        ones that run once the object is shared."""
        return {
            name
            for name in self._methods
            if not name.startswith("_") or (name.startswith("__") and name.endswith("__") and name not in _NOT_SHARED)
        }

    def accesses(self, roots: set[str], outer: frozenset[str] = frozenset()) -> list[Access]:
        """Every access of the code that ``roots`` run, each with the locks
        held there, its callers' included (``outer``: held around the
        roots' calls, by a closure)."""
        reached = self.reach(roots)
        entry = self.held_on_entry(roots, reached)
        out: list[Access] = []
        for name in sorted(reached):
            found = self._methods.get(name)
            if found is None:
                continue
            base, facts = found
            around = entry.get(name, frozenset()) | (outer if name in roots else frozenset())
            out += [
                Access(attribute, kind, [*held, *around], line, base.module_name, base.name, name)
                for attribute, kind, held, line in facts.get("a", ())
            ]
        return out

    def joins(self, name: str) -> int | None:
        """The first line where the method waits for other work to end."""
        found = self._methods.get(name)
        return None if found is None else found[1].get("j")

    def starts(self, name: str) -> int | None:
        """The first line where the method starts a thread (``t.start()``)."""
        found = self._methods.get(name)
        return None if found is None else found[1].get("s")

    def defines(self, name: str) -> bool:
        return self._methods.get(name) is not None

    def methods(self) -> list[str]:
        """The methods with facts."""
        return [name for name, found in self._methods.items() if found is not None]

    def callees(self, name: str) -> set[str]:
        """The methods ``name`` calls on ``self``."""
        return {callee for callee, _ in self._calls(name)}

    def shared(self, name: str) -> bool:
        """Can the method run once the object is shared (not ``__init__``
        and its kin, nor a test's set-up)?"""
        return name not in _NOT_SHARED


def closure_accesses(
    body: Block, self_name: str, module: str, owner: str, where: str
) -> tuple[list[Access], dict[str, frozenset[str]]]:
    """What a closure that captures ``self`` does to it, and the methods it
    calls on it (with the locks held at every call)."""
    shapes = shapes_of(body, self_name)
    data = shapes.as_data()
    accesses = [Access(a, k, h, line, module, owner, where) for a, k, h, line in data.get("a", ())]
    return accesses, shapes.calls
