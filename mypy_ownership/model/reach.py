"""What of ``self`` a thread's code reaches: the attributes a bound method,
a ``Thread`` subclass's ``run`` or a closure capturing ``self`` names, and
those of the methods they name on ``self`` (``self.helper()``, a property,
a method handed as a callback), transitively, local functions and lambdas
inside them included (hazard detection asks ``Send`` of these only:
docs/thread-safety.md, "What a thread's code reaches").

Recorded by the class hook for every class with source, per method: the
names it uses on ``self``, or nothing (None) where ``self`` goes further
than ``self.name`` (an argument, ``getattr(self, ...)``, ``super()``, a
store of ``self``): then what the code reaches is unknown, and the reader
answers None (the whole object).  Kept in ``TypeInfo.metadata``, so a
class of another module is read back on a warm run.

What the code only hands back to an event loop's thread
(``loop.call_soon_threadsafe(self._report, ...)``) runs there, not on the
thread: those uses are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mypy.nodes import (
    CallExpr,
    Decorator,
    Expression,
    FuncBase,
    FuncDef,
    FuncItem,
    LambdaExpr,
    MemberExpr,
    NameExpr,
    Node,
    OverloadedFuncDef,
    SuperExpr,
    TypeInfo,
)
from mypy.plugin import ClassDefContext
from mypy.server.subexpr import get_subexpressions

from mypy_ownership.analysis.syntax import function_of
from mypy_ownership.model.class_facts import is_source_class
from mypy_ownership.model.crossings import calls_into_loop

METADATA_KEY = "mypy_ownership_reach"


def record_reach(ctx: ClassDefContext) -> None:
    """The class hook's part: each method's uses of ``self``."""
    methods: dict[str, list[str] | None] = {}
    for stmt in ctx.cls.defs.body:
        funcs = _functions(stmt)
        if not funcs:
            continue
        uses: set[str] | None = set()
        for func in funcs:
            if func.is_static or func.is_class or not func.arguments:
                continue
            found = self_uses(func, func.arguments[0].variable.name)
            if found is None or uses is None:
                uses = None
            else:
                uses |= found
        methods[funcs[0].name] = None if uses is None else sorted(uses)
    ctx.cls.info.metadata[METADATA_KEY] = {"m": methods}


def _functions(stmt: Node) -> list[FuncDef]:
    if isinstance(stmt, FuncDef):
        return [stmt]
    if isinstance(stmt, Decorator):
        return [stmt.func]
    if isinstance(stmt, OverloadedFuncDef):  # a property with a setter, an overload
        out = [i.func if isinstance(i, Decorator) else i for i in stmt.items]
        if stmt.impl is not None:
            out.append(stmt.impl.func if isinstance(stmt.impl, Decorator) else stmt.impl)
        return [f for f in out if isinstance(f, FuncDef)]
    return []


def self_uses(func: FuncItem, self_name: str) -> set[str] | None:
    """The names ``func``'s code (nested functions and lambdas too) uses on
    ``self`` (``self.name``), leaving out what it hands back to an event
    loop's thread; None when ``self`` itself goes anywhere else."""
    handed_back: set[int] = set()
    bases: set[int] = set()
    found = get_subexpressions(func.body)
    for e in found:
        if isinstance(e, CallExpr) and calls_into_loop(e):
            for arg in e.args:
                handed_back.update(id(sub) for sub in get_subexpressions(arg))
    names: set[str] = set()
    for e in found:
        if id(e) in handed_back:
            continue
        if isinstance(e, MemberExpr) and isinstance(e.expr, NameExpr) and e.expr.name == self_name:
            bases.add(id(e.expr))
            names.add(e.name)
        elif isinstance(e, SuperExpr):
            return None
    for e in found:
        if isinstance(e, NameExpr) and e.name == self_name and id(e) not in bases and id(e) not in handed_back:
            return None
    return names


def reached_attributes(info: TypeInfo, roots: Iterable[str]) -> frozenset[str] | None:
    """The names of ``info``'s instances that code starting at the methods
    ``roots`` uses, following the methods it names on ``self``; None when
    it cannot be known (a method without facts, ``self`` passed on).  A
    library base's method counts as using only the library's own state."""
    names: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in names:
            continue
        names.add(name)
        uses = _uses_of(info, name)
        if uses is None:
            return None
        todo += [u for u in uses if u not in names]
    return frozenset(names)


def _uses_of(info: TypeInfo, name: str) -> list[str] | None:
    """The names method ``name`` uses on ``self`` (none for an attribute),
    None when unknown."""
    for base in info.mro:
        sym = base.names.get(name)
        if sym is None:
            continue
        if not isinstance(sym.node, (FuncBase, Decorator)):
            return []  # an attribute
        if not is_source_class(base):
            return []  # a library method: the library's state
        data: Any = base.metadata.get(METADATA_KEY)
        methods = data.get("m", {}) if isinstance(data, dict) else {}
        uses = methods.get(name)
        return None if uses is None else list(uses)
    return []  # set on the instance only (``setattr``), or unknown to mypy


def closure_reach(carrier: Expression | None, self_name: str, info: TypeInfo) -> frozenset[str] | None:
    """What a closure capturing ``self`` (a lambda, a local function)
    reaches of it."""
    closure: Any = carrier if isinstance(carrier, LambdaExpr) else None
    if isinstance(carrier, NameExpr):
        closure = function_of(carrier.node)
    if not isinstance(closure, FuncItem):
        return None
    uses = self_uses(closure, self_name)
    return None if uses is None else reached_attributes(info, uses)

