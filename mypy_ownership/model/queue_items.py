"""What a class's own code does with the items it takes from its queues:
which parts of an item the taker never touches on its thread (hazard
detection; docs/thread-safety.md, "What a thread's code reaches").

A worker thread often takes work from a queue attribute and hands part of
each item straight back to an event loop's thread::

    context, func, args, future = self.queue.get()
    if not future.cancelled():
        result = context.run(func, *args)
    self.loop.call_soon_threadsafe(self._report, future, result)

The future is the loop's (thread-bound), but the worker only asks it one
flag and hands it home: it is not touched on the worker's thread, and the
put that gave it (``worker.queue.put_nowait((..., future))``) and the
thread that runs the worker need not make it ``Send``.

Recorded by the class hook for every class with source in a module that
imports a threading module (as the race facts are), per queue attribute
``q`` that its methods take from (``x = self.q.get()`` /
``get_nowait()``, then ``a, b, c = x``, or unpacked at once): for each part
of the item (each position of the unpacking, or the whole item), the
methods called on it, where every other use of it is an argument of a call
into the loop's thread (``loop.call_soon_threadsafe``, ...) or a ``del``;
None for a part used any other way (stored, passed, captured, rebound).  A
take that is not an assignment of that shape, or ``self.q.get`` handed on
uncalled (``iter(self.q.get, None)``), makes the whole attribute unknown.
Only the class's own methods and its bases' with source are read: a
subclass that overrides the taker counts where the put's receiver has the
subclass's type, not the base's.  Kept in ``TypeInfo.metadata`` (so in
mypy's cache).

Read back with a type: a part is left alone on the thread when every
method called on it is one the overlays declare callable from any thread
(``@unsafe_sync`` on the method: ``asyncio.Future.cancelled``).
"""

from __future__ import annotations

from typing import Any

from mypy.nodes import (
    AssignmentStmt,
    Block,
    CallExpr,
    ComparisonExpr,
    Decorator,
    DelStmt,
    Expression,
    FuncDef,
    MemberExpr,
    NameExpr,
    Node,
    OverloadedFuncDef,
    TupleExpr,
    TypeInfo,
)
from mypy.plugin import ClassDefContext

from mypy_ownership.analysis.class_memo import BodyExpressions, BodyMemo
from mypy_ownership.analysis.made_with import is_none_literal
from mypy_ownership.analysis.syntax import code_of, inner_blocks
from mypy_ownership.model.class_facts import is_source_class
from mypy_ownership.model.crossings import calls_into_loop
from mypy_ownership.model.thread_code import imports_threading

METADATA_KEY = "mypy_ownership_items"
TAKES = frozenset({"get", "get_nowait"})
PUTS = frozenset({"put", "put_nowait"})


class ItemUses:
    """What the takers of one queue attribute do with its items: ``parts``
    per position of the unpacking (``whole``: the item is not unpacked, one
    part)."""

    __slots__ = ("whole", "parts")

    def __init__(self, whole: bool, parts: list[list[str] | None]) -> None:
        self.whole = whole
        self.parts = parts

    def __repr__(self) -> str:
        return f"ItemUses(whole={self.whole}, parts={self.parts})"


class QueueItemsRecorder:
    """The class hook's part, for the classes of a module that imports a
    threading module (``thread_code.imports_threading``: a queue attribute
    is a ``queue``'s, or another threading module's), walked once per
    module analysed (deferred passes see the same bodies)."""

    __slots__ = ("_kept", "_module", "_threaded")

    def __init__(self) -> None:
        self._kept = BodyMemo()
        self._module: str | None = None
        self._threaded = False

    def record(self, ctx: ClassDefContext, expressions: BodyExpressions) -> None:
        module = getattr(ctx.api, "cur_mod_id", None)
        if module != self._module:
            self._module = module
            self._threaded = imports_threading(getattr(ctx.api, "cur_mod_node", None))
        if not self._threaded:
            ctx.cls.info.metadata.pop(METADATA_KEY, None)
            return
        funcs = [f for f in (_method(stmt) for stmt in ctx.cls.defs.body) if f is not None]
        bodies = [f.body for f in funcs]
        found = self._kept.get(module, ctx.cls, bodies)
        if found is None:
            found = {}
            for func in funcs:
                if func.is_static or func.is_class or not func.arguments:
                    continue
                _merge(found, _takes_of(func.body, func.arguments[0].variable.name, expressions.of(func.body)))
            self._kept.keep(module, ctx.cls, bodies, found)
        if found:
            ctx.cls.info.metadata[METADATA_KEY] = {"q": found}
        else:
            ctx.cls.info.metadata.pop(METADATA_KEY, None)


def item_uses(info: TypeInfo, attribute: str) -> ItemUses | None:
    """What the code of ``info`` (its classes with source) does with the
    items it takes from ``self.<attribute>``; None when no code of theirs
    takes from it, or one take cannot be followed."""
    found: dict[str, Any] = {}
    for base in info.mro:
        if not is_source_class(base):
            continue
        data = base.metadata.get(METADATA_KEY)
        if isinstance(data, dict) and attribute in data.get("q", {}):
            _merge(found, {attribute: data["q"][attribute]})
    entry = found.get(attribute)
    if not isinstance(entry, dict):
        return None
    return ItemUses(entry["n"] < 0, list(entry["p"]))


# -- recording -------------------------------------------------------------------


def _method(stmt: Node) -> FuncDef | None:
    """A method of the class body (an overloaded one's implementation)."""
    func = code_of(stmt) if isinstance(stmt, (FuncDef, Decorator, OverloadedFuncDef)) else None
    return func if isinstance(func, FuncDef) else None


def _takes_of(body: Block, self_name: str, found: list[Expression]) -> dict[str, Any]:
    """Each queue attribute this body takes from, with the uses of what it
    takes (``{"n": positions or -1, "p": parts}``), or None."""
    takes = [e for e in found if _take_of(e, self_name) is not None]
    out: dict[str, Any] = {}
    # ``self.q.get`` not called here (``iter(self.q.get, None)``, handed on):
    # what its caller does with the items is unknown
    called = {id(e.callee) for e in takes if type(e) is CallExpr}
    for e in found:
        if type(e) is MemberExpr and e.name in TAKES and id(e) not in called:
            attribute = _attribute_of(e.expr, self_name)
            if attribute is not None:
                _merge(out, {attribute: None})
    if not takes:
        return out
    statements = _statements(body)
    assigned = {id(s.rvalue): s for s in statements if type(s) is AssignmentStmt and len(s.lvalues) == 1}
    deleted: set[int] = set()
    for stmt in statements:
        if type(stmt) is DelStmt:
            targets = stmt.expr.items if type(stmt.expr) is TupleExpr else [stmt.expr]
            deleted.update(id(t) for t in targets if type(t) is NameExpr)
    for take in takes:
        attribute = _take_of(take, self_name) or ""
        taking = assigned.get(id(take))
        uses = None if taking is None else _uses_of(taking, statements, found, deleted)
        _merge(out, {attribute: uses})
    return out


def _take_of(e: Expression, self_name: str) -> str | None:
    """``self.q.get(...)``: ``"q"``."""
    if type(e) is not CallExpr:
        return None
    callee = e.callee
    if type(callee) is not MemberExpr or callee.name not in TAKES:
        return None
    return _attribute_of(callee.expr, self_name)


def _attribute_of(e: Expression, self_name: str) -> str | None:
    """``self.q``: ``"q"``."""
    if type(e) is MemberExpr and type(e.expr) is NameExpr and e.expr.name == self_name:
        return e.name
    return None


def _uses_of(
    stmt: AssignmentStmt, statements: list[Node], found: list[Expression], deleted: set[int]
) -> dict[str, Any] | None:
    """The parts of what ``stmt`` takes: ``a, b = self.q.get()``, or
    ``item = self.q.get()`` then ``a, b = item`` (the only use of ``item``
    besides ``is None`` tests and ``del``), or ``item`` used whole."""
    target = stmt.lvalues[0]
    if type(target) is TupleExpr:
        names = _names(target)
        return None if names is None else _parts(names, found, {id(n) for n in target.items} | deleted)
    if type(target) is not NameExpr:
        return None
    item = target.name
    unpackings = [
        s for s in statements
        if type(s) is AssignmentStmt and len(s.lvalues) == 1 and type(s.rvalue) is NameExpr and s.rvalue.name == item
    ]
    if not unpackings:
        return _parts([item], found, {id(target)} | deleted, whole=True)
    if len(unpackings) > 1 or type(unpackings[0].lvalues[0]) is not TupleExpr:
        return None
    unpacking = unpackings[0].lvalues[0]
    names = _names(unpacking)
    if names is None or item in names:
        return None
    # ``item`` itself: taken, unpacked, tested against None, deleted; nothing else
    if _parts([item], found, {id(target), id(unpackings[0].rvalue)} | deleted, whole=True)["p"][0] != []:
        return None
    return _parts(names, found, {id(n) for n in unpacking.items} | deleted)


def _names(target: TupleExpr) -> list[str] | None:
    names = []
    for part in target.items:
        if type(part) is not NameExpr:
            return None
        names.append(part.name)
    return names if len(set(names)) == len(names) else None


def _parts(names: list[str], found: list[Expression], bound: set[int], whole: bool = False) -> dict[str, Any]:
    """For each name, the methods called on it where every other use is an
    argument handed back to the loop (itself, or a method of it), a ``del`` target or one in ``bound``,
    or (the whole item) an ``is None`` test; None for a name used any
    other way."""
    wanted = set(names)
    methods: dict[str, set[str]] = {n: set() for n in names}
    accounted = set(bound)
    for e in found:
        kind = type(e)
        if kind is CallExpr:
            callee = e.callee  # type: ignore[attr-defined]
            if type(callee) is MemberExpr and type(callee.expr) is NameExpr and callee.expr.name in wanted:
                methods[callee.expr.name].add(callee.name)
                accounted.add(id(callee.expr))
            if calls_into_loop(e):  # type: ignore[arg-type]
                for arg in e.args:  # type: ignore[attr-defined]
                    if type(arg) is MemberExpr:  # ``future.set_result``: runs on the loop
                        arg = arg.expr
                    if type(arg) is NameExpr and arg.name in wanted:
                        accounted.add(id(arg))
        elif kind is ComparisonExpr and whole and len(e.operands) == 2:  # type: ignore[attr-defined]
            left, right = e.operands  # type: ignore[attr-defined]
            if e.operators[0] in ("is", "is not") and type(left) is NameExpr and is_none_literal(right):  # type: ignore[attr-defined]
                accounted.add(id(left))
    touched = {e.name for e in found if type(e) is NameExpr and e.name in wanted and id(e) not in accounted}
    parts = [None if n in touched else sorted(methods[n]) for n in names]
    return {"n": -1 if whole else len(names), "p": parts}


def _statements(body: Block) -> list[Node]:
    out: list[Node] = []
    todo = [body]
    while todo:
        block = todo.pop()
        for stmt in block.body:
            out.append(stmt)
            todo.extend(inner_blocks(stmt, nested=False))
    return out


def _merge(into: dict[str, Any], more: dict[str, Any]) -> None:
    """Every take of an attribute must agree: the same shape, and a part
    touched at one take is touched."""
    for attribute, uses in more.items():
        if attribute not in into:
            into[attribute] = uses
            continue
        before = into[attribute]
        if before is None or uses is None or before["n"] != uses["n"]:
            into[attribute] = None
            continue
        into[attribute] = {
            "n": before["n"],
            "p": [
                None if a is None or b is None else sorted({*a, *b})
                for a, b in zip(before["p"], uses["p"])
            ],
        }
