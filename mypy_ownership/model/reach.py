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

from mypy_ownership.analysis.class_memo import BodyExpressions, BodyMemo
from mypy_ownership.analysis.syntax import function_of
from mypy_ownership.model.class_facts import is_source_class
from mypy_ownership.model.crossings import calls_into_loop

METADATA_KEY = "mypy_ownership_reach"


class ReachRecorder:
    """The class hook's part: each method's uses of ``self``, walked once
    per module analysed (``BodyMemo``: deferred passes see the same
    bodies)."""

    __slots__ = ("_kept",)

    def __init__(self) -> None:
        self._kept = BodyMemo()

    def record(self, ctx: ClassDefContext, expressions: BodyExpressions) -> None:
        found = [(stmt, _functions(stmt)) for stmt in ctx.cls.defs.body]
        defined = [(funcs[0].name, funcs) for _, funcs in found if funcs]
        bodies = [func.body for _, funcs in defined for func in funcs]
        module = getattr(ctx.api, "cur_mod_id", None)
        methods = self._kept.get(module, ctx.cls, bodies)
        if methods is None:
            methods = {name: _method_uses(funcs, expressions) for name, funcs in defined}
            self._kept.keep(module, ctx.cls, bodies, methods)
        ctx.cls.info.metadata[METADATA_KEY] = {"m": methods}


def _method_uses(funcs: list[FuncDef], expressions: BodyExpressions) -> list[str] | None:
    """What one method (its overload items and property setter too) uses
    on ``self``, sorted; None when unknown."""
    uses: set[str] = set()
    for func in funcs:
        if func.is_static or func.is_class or not func.arguments:
            continue
        found = self_uses(func, func.arguments[0].variable.name, expressions.of(func.body))
        if found is None:
            return None
        uses |= found
    return sorted(uses)


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


def self_uses(func: FuncItem, self_name: str, found: list[Expression] | None = None) -> set[str] | None:
    """The names ``func``'s code (nested functions and lambdas too) uses on
    ``self`` (``self.name``), leaving out what it hands back to an event
    loop's thread; None when ``self`` itself goes anywhere else.  One pass
    over the body's expressions (every method of every class comes here);
    a body that hands something back to a loop is read again for it.
    ``found``: the body's expressions, when the caller has them listed."""
    if found is None:
        found = get_subexpressions(func.body)
    names: set[str] = set()
    bare = 0  # the uses of the name ``self``
    as_base = 0  # those of them that are ``self.name``'s ``self``
    for e in found:
        kind = type(e)  # mypy's node classes are final
        if kind is MemberExpr:
            base = e.expr  # type: ignore[attr-defined]
            if type(base) is NameExpr and base.name == self_name:
                names.add(e.name)  # type: ignore[attr-defined]
                as_base += 1
        elif kind is NameExpr:
            if e.name == self_name:  # type: ignore[attr-defined]
                bare += 1
        elif kind is SuperExpr:
            return None
        elif kind is CallExpr and calls_into_loop(e):  # type: ignore[arg-type]
            return _uses_not_handed_back(found, self_name)
    return names if bare == as_base else None


def _uses_not_handed_back(found: list[Expression], self_name: str) -> set[str] | None:
    """``self_uses`` for a body that hands something back to a loop's
    thread: the arguments of those calls do not count."""
    handed_back: set[int] = set()
    for e in found:
        if type(e) is CallExpr and calls_into_loop(e):
            for arg in e.args:
                handed_back.update(id(sub) for sub in get_subexpressions(arg))
    names: set[str] = set()
    bases: set[int] = set()
    for e in found:
        if id(e) in handed_back:
            continue
        if type(e) is MemberExpr and type(e.expr) is NameExpr and e.expr.name == self_name:
            bases.add(id(e.expr))
            names.add(e.name)
        elif type(e) is SuperExpr:
            return None
    for e in found:
        if type(e) is NameExpr and e.name == self_name and id(e) not in bases and id(e) not in handed_back:
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


def names_used_on_self(info: TypeInfo) -> set[str]:
    """The names the methods of ``info``'s classes with source use on
    ``self`` (called, read, handed out), all together."""
    names: set[str] = set()
    for base in info.mro:
        data: Any = base.metadata.get(METADATA_KEY)
        if isinstance(data, dict):
            for uses in data.get("m", {}).values():
                names.update(uses or ())
    return names


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

