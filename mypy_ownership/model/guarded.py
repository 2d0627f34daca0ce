"""Which of ``self``'s locks a method holds at each access to an attribute
of ``self``: the fact behind "a class that locks itself is ``Sync``"
(``thread_safety``), kept for a later data-race check (RacerD's "this write
is guarded here, unguarded there") to reuse.

Recorded by the class hook (``class_facts``), syntax only, for the classes
that take a lock of their own somewhere (``with self.<x>:`` or
``self.<x>.acquire()``; the others have nothing to hold, and record
nothing).  In a method's facts, under ``"accesses"``:

    {attribute: [[kind, [held, ...], line], ...]}

one entry per distinct (kind, held), at the first line it occurs:

- ``kind``: ``"r"`` a read (``self.a``, ``self.a.f()``, ``self.a[k]``),
  ``"w"`` a store or ``del`` of the attribute itself (``self.a = v``),
  ``"m"`` a write below it (``self.a[k] = v``, ``self.a.b += 1``),
  ``"rmw"`` an augmented assignment of the attribute (``self.a += 1``);
- ``held``: the attributes of ``self`` held as context managers or
  between ``acquire()`` and ``release()`` statements of one block (names
  only: whether they are locks is decided with types, by the reader).

Nested functions and lambdas hold nothing (they run later, or elsewhere).
Method names show up as attributes too (``self.m()`` reads ``m``): a
reader keeps the names that are attributes (``Var``\\ s).
"""

from __future__ import annotations

from typing import Any

from mypy.nodes import (
    AssignmentStmt,
    Block,
    CallExpr,
    ClassDef,
    Decorator,
    DelStmt,
    Expression,
    ExpressionStmt,
    FuncDef,
    IndexExpr,
    LambdaExpr,
    MemberExpr,
    NameExpr,
    Node,
    OperatorAssignmentStmt,
    OverloadedFuncDef,
    TupleExpr,
    ListExpr,
    StarExpr,
    WithStmt,
)
from mypy.server.subexpr import get_subexpressions

ACCESSES = "accesses"
# (kind, held) -> line, per attribute
_Found = dict[str, dict[tuple[str, tuple[str, ...]], int]]


def method_accesses(func: FuncDef, self_name: str) -> dict[str, list[list[Any]]]:
    """The ``"accesses"`` fact of one method (see the module's docstring).
    ``__init__`` has none: it runs before the object is shared."""
    if func.name == "__init__":
        return {}
    found: _Found = {}
    _walk_block(func.body, self_name, (), found)
    return {
        attribute: [[kind, list(held), line] for (kind, held), line in sorted(by.items(), key=lambda i: i[1])]
        for attribute, by in sorted(found.items())
    }


def _walk_block(block: Block, self_name: str, held: tuple[str, ...], found: _Found) -> None:
    for stmt in block.body:
        kind = type(stmt)
        if kind is ExpressionStmt:
            lock, acquires = _acquire_or_release(stmt.expr, self_name)  # type: ignore[attr-defined]
            if lock is not None:
                if acquires and lock not in held:
                    held = tuple(sorted((*held, lock)))
                elif not acquires:
                    held = tuple(h for h in held if h != lock)
        _walk_statement(stmt, self_name, held, found)


def _walk_statement(stmt: Node, self_name: str, held: tuple[str, ...], found: _Found) -> None:
    kind = type(stmt)
    if kind in (FuncDef, Decorator, OverloadedFuncDef, ClassDef):
        for inner in _blocks(stmt):
            _walk_block(inner, self_name, (), found)  # runs later, or elsewhere
        return
    if kind is AssignmentStmt:
        for target in stmt.lvalues:  # type: ignore[attr-defined]
            _target(target, "w", self_name, held, found)
        _reads(stmt.rvalue, self_name, held, found)  # type: ignore[attr-defined]
        return
    if kind is OperatorAssignmentStmt:
        _target(stmt.lvalue, "rmw", self_name, held, found)  # type: ignore[attr-defined]
        _reads(stmt.rvalue, self_name, held, found)  # type: ignore[attr-defined]
        return
    if kind is DelStmt:
        _target(stmt.expr, "w", self_name, held, found)  # type: ignore[attr-defined]
        return
    inner_held = held
    if kind is WithStmt:
        for e in stmt.expr:  # type: ignore[attr-defined]
            _reads(e, self_name, held, found)
            name = _self_attribute(e, self_name)
            if name is not None and name not in inner_held:
                inner_held = tuple(sorted((*inner_held, name)))
    else:
        for e in _own_expressions(stmt):
            _reads(e, self_name, held, found)
    for block in _blocks(stmt):
        _walk_block(block, self_name, inner_held, found)


def _target(target: Expression, kind: str, self_name: str, held: tuple[str, ...], found: _Found) -> None:
    if isinstance(target, (TupleExpr, ListExpr)):
        for item in target.items:
            _target(item, kind, self_name, held, found)
        return
    if isinstance(target, StarExpr):
        _target(target.expr, kind, self_name, held, found)
        return
    name = _self_attribute(target, self_name)
    if name is not None:
        _add(found, name, kind, held, target.line)
        return
    root = _root_attribute(target, self_name)
    if root is not None:
        _add(found, root, "m", held, target.line)
    _reads(target, self_name, held, found)


def _reads(e: Expression, self_name: str, held: tuple[str, ...], found: _Found) -> None:
    for sub in get_subexpressions(e):
        if type(sub) is LambdaExpr:
            continue  # its body's expressions are listed too: a small overcount of held
        name = _self_attribute(sub, self_name)
        if name is not None:
            _add(found, name, "r", held, sub.line)


def _add(found: _Found, name: str, kind: str, held: tuple[str, ...], line: int) -> None:
    by = found.setdefault(name, {})
    if (kind, held) not in by:
        by[(kind, held)] = line


def _self_attribute(e: Expression, self_name: str) -> str | None:
    """``self.x``: ``"x"``."""
    if type(e) is MemberExpr and type(e.expr) is NameExpr and e.expr.name == self_name:
        return e.name
    return None


def _root_attribute(e: Expression, self_name: str) -> str | None:
    """``self.x[k].y``: ``"x"``."""
    while True:
        name = _self_attribute(e, self_name)
        if name is not None:
            return name
        if type(e) is MemberExpr:
            e = e.expr
        elif type(e) is IndexExpr:
            e = e.base
        else:
            return None


def _acquire_or_release(e: Expression, self_name: str) -> tuple[str | None, bool]:
    """``self.x.acquire()`` / ``self.x.release()`` as a statement."""
    if type(e) is CallExpr and type(e.callee) is MemberExpr and e.callee.name in ("acquire", "release"):
        return _self_attribute(e.callee.expr, self_name), e.callee.name == "acquire"
    return None, False


def _blocks(stmt: Node) -> list[Block]:
    """The blocks directly inside a statement."""
    out: list[Block] = []
    for name in ("body", "else_body", "finally_body", "defs", "func", "impl"):
        value = getattr(stmt, name, None)
        if isinstance(value, Block):
            out.append(value)
        elif isinstance(value, list):
            out += [b for b in value if isinstance(b, Block)]
        elif isinstance(value, FuncDef):
            out.append(value.body)
    handlers = getattr(stmt, "handlers", None)
    if isinstance(handlers, list):
        out += [b for b in handlers if isinstance(b, Block)]
    bodies = getattr(stmt, "bodies", None)
    if isinstance(bodies, list):
        out += [b for b in bodies if isinstance(b, Block)]
    items = getattr(stmt, "items", None)
    if type(stmt) is OverloadedFuncDef and isinstance(items, list):
        out += [i.func.body if isinstance(i, Decorator) else i.body for i in items]
    return out


def _own_expressions(stmt: Node) -> list[Expression]:
    """The expressions of a statement that are not in its blocks (an
    ``if``'s conditions, a ``for``'s iterable, a ``return``'s value)."""
    out: list[Expression] = []
    for name in ("expr", "index", "cond", "value", "target"):
        value = getattr(stmt, name, None)
        if isinstance(value, Expression):
            out.append(value)
        elif isinstance(value, list):
            out += [v for v in value if isinstance(v, Expression)]
    return out


LOCK_TYPES = frozenset({"_thread.lock", "_thread.LockType", "_thread.RLock", "threading._RLock", "threading.Condition"})


class Access:
    """One recorded access, read back from a class's facts."""

    __slots__ = ("owner", "method", "kind", "held", "line")

    def __init__(self, owner: str, method: str, kind: str, held: list[str], line: int) -> None:
        self.owner = owner  # the class whose method it is
        self.method = method
        self.kind = kind
        self.held = held
        self.line = line

    def __repr__(self) -> str:
        return f"Access({self.owner}.{self.method}, {self.kind!r}, {self.held!r}, line {self.line})"


def accesses_in(methods: dict[str, Any], owner: str) -> dict[str, list[Access]]:
    """Every recorded access of a class's methods (its ``"methods"``
    facts), by attribute."""
    out: dict[str, list[Access]] = {}
    for method, facts in methods.items():
        for attribute, entries in facts.get(ACCESSES, {}).items():
            out.setdefault(attribute, []).extend(
                Access(owner, method, kind, list(held), line) for kind, held, line in entries
            )
    return out
