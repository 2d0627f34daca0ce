"""The accesses to ``self``'s attributes in one function body that can race
with another thread's, by shape, and the locks of ``self``'s held at each
(what the data-race check pairs up: docs/thread-safety.md, "Races on shared
state").  Syntax only; types are the reader's business.

The shapes, each an entry ``[attribute, kind, [held, ...], line]``:

- ``"cts"``: check-then-set, ``self.a = v`` (``v`` made, not a constant
  such as ``None`` or ``True``) under an
  ``if`` that tests ``self.a`` (``is None``, ``not self.a``, ``hasattr``),
  or after ``if self.a is not None: return ...`` in the same block, with
  the same locks held at the test and at the store (a second test inside a
  lock, double-checked locking, is the lock's: not this shape);
- ``"it"``: iteration at Python level (a ``for`` statement or a
  comprehension) over ``self.a``, ``self.a.items()``/``keys()``/``values()``;
- ``"m"``: a change of size, a call ``self.a.append(...)`` (and the other
  methods of ``SIZE_METHODS``) or ``del self.a[k]``;
- ``"s"``: an item store ``self.a[k] = v`` (a change of size for a dict or
  a set, not for a list: the reader decides with the type);
- ``"rmw"``: ``self.a += v`` (a load and a store, with a gap between);
- ``"irmw"``: ``self.a[k] += v``;
- ``"w"``: any other store or ``del`` of ``self.a`` itself.

Plain reads are not recorded: a single load is atomic (free-threaded
CPython too), so no shape here needs one.  Also found: the methods called
on ``self`` and the locks held at every call of each (``calls``) and the first line where the body waits for other
work to end (``t.join()``, ``f.result()``, ``x.shutdown()``: ``joins``)
and the first line where it starts one (``t.start()``: ``starts``).

Nested functions, lambdas and classes are not walked: they run later, or
elsewhere (the check walks the closure a thread runs by itself).
"""

from __future__ import annotations

from typing import Any

from mypy.nodes import (
    AssignmentStmt,
    Block,
    CallExpr,
    ClassDef,
    ComparisonExpr,
    Decorator,
    DelStmt,
    DictionaryComprehension,
    Expression,
    ExpressionStmt,
    FloatExpr,
    ForStmt,
    FuncDef,
    GeneratorExpr,
    IfStmt,
    IndexExpr,
    IntExpr,
    LambdaExpr,
    ListExpr,
    MemberExpr,
    NameExpr,
    Node,
    OperatorAssignmentStmt,
    OpExpr,
    OverloadedFuncDef,
    RaiseStmt,
    ReturnStmt,
    StarExpr,
    StrExpr,
    TupleExpr,
    UnaryExpr,
    WithStmt,
)
from mypy.server.subexpr import get_subexpressions

from mypy_ownership.analysis.made_with import is_none_literal
from mypy_ownership.analysis.syntax import inner_blocks

SIZE_METHODS = frozenset(
    {
        "append", "appendleft", "extend", "extendleft", "insert", "pop", "popleft", "popitem",
        "remove", "clear", "add", "discard", "update", "setdefault", "difference_update",
        "intersection_update", "symmetric_difference_update",
    }
)
_VIEWS = frozenset({"items", "keys", "values"})
_WAITS = frozenset({"join", "result", "shutdown"})

# (attribute, kind, held) -> first line
_Found = dict[tuple[str, str, tuple[str, ...]], int]


class Shapes:
    """What one body does to ``self`` that can race (see the module)."""

    __slots__ = ("_self", "calls", "first_call", "found", "joins", "starts")

    def __init__(self, self_name: str) -> None:
        self.found: _Found = {}
        self.calls: dict[str, frozenset[str]] = {}  # method -> the locks held at every call of it
        self.first_call: dict[str, int] = {}  # method -> the line of its first call
        self.joins: int | None = None
        self.starts: int | None = None
        self._self = self_name

    def as_data(self) -> dict[str, Any]:
        """The facts kept in a class's metadata (only what is there)."""
        data: dict[str, Any] = {}
        if self.found:
            data["a"] = [
                [attribute, kind, list(held), line]
                for (attribute, kind, held), line in sorted(self.found.items(), key=lambda i: i[1])
            ]
        if self.calls:
            data["c"] = [[name, sorted(held), self.first_call[name]] for name, held in sorted(self.calls.items())]
        if self.joins is not None:
            data["j"] = self.joins
        if self.starts is not None:
            data["s"] = self.starts
        return data

    # -- statements ------------------------------------------------------------

    def block(self, block: Block, held: tuple[str, ...], checked: frozenset[str]) -> None:
        for stmt in block.body:
            if type(stmt) is ExpressionStmt:
                lock, acquires = self._acquire_or_release(stmt.expr)
                if lock is not None:
                    checked = frozenset()  # a test before the lock is not the lock's
                    held = tuple(sorted({*held, lock})) if acquires else tuple(h for h in held if h != lock)
            self._statement(stmt, held, checked)
            if type(stmt) is IfStmt:
                # ``if self.a is not None: return self.a`` then ``self.a = ...``
                checked = checked | self._tested(stmt, early_exit=True)

    def _statement(self, stmt: Node, held: tuple[str, ...], checked: frozenset[str]) -> None:
        kind = type(stmt)
        if kind in (FuncDef, Decorator, OverloadedFuncDef, ClassDef):
            return  # runs later, or elsewhere
        if kind is AssignmentStmt:
            lazy = not _constant(stmt.rvalue)  # type: ignore[attr-defined]
            for target in stmt.lvalues:  # type: ignore[attr-defined]
                self._store(target, held, checked if lazy else frozenset())
            self._expression(stmt.rvalue, held)  # type: ignore[attr-defined]
            return
        if kind is OperatorAssignmentStmt:
            target = stmt.lvalue  # type: ignore[attr-defined]
            name = self._attribute(target)
            if name is not None:
                self._add(name, "rmw", held, target.line)
            elif type(target) is IndexExpr and self._attribute(target.base) is not None:
                self._add(self._attribute(target.base) or "", "irmw", held, target.line)
                self._expression(target.index, held)
            else:
                self._expression(target, held)
            self._expression(stmt.rvalue, held)  # type: ignore[attr-defined]
            return
        if kind is DelStmt:
            self._delete(stmt.expr, held)  # type: ignore[attr-defined]
            return
        if kind is ForStmt:
            self._iterated(stmt.expr, held)  # type: ignore[attr-defined]
            self._expression(stmt.expr, held)  # type: ignore[attr-defined]
            self._expression(stmt.index, held)  # type: ignore[attr-defined]
            self.block(stmt.body, held, checked)  # type: ignore[attr-defined]
            if stmt.else_body is not None:  # type: ignore[attr-defined]
                self.block(stmt.else_body, held, checked)  # type: ignore[attr-defined]
            return
        if kind is IfStmt:
            for e in stmt.expr:  # type: ignore[attr-defined]
                self._expression(e, held)
            inner = checked | self._tested(stmt, early_exit=False)  # type: ignore[arg-type]
            for body in stmt.body:  # type: ignore[attr-defined]
                self.block(body, held, inner)
            if stmt.else_body is not None:  # type: ignore[attr-defined]
                self.block(stmt.else_body, held, checked)  # type: ignore[attr-defined]
            return
        if kind is WithStmt:
            inner_held = held
            for e in stmt.expr:  # type: ignore[attr-defined]
                self._expression(e, held)
                name = self._attribute(e)
                if name is not None and name not in inner_held:
                    inner_held = tuple(sorted((*inner_held, name)))
            self.block(stmt.body, inner_held, checked if inner_held == held else frozenset())  # type: ignore[attr-defined]
            return
        for name in ("expr", "cond", "value"):
            value = getattr(stmt, name, None)
            if isinstance(value, Expression):
                self._expression(value, held)
            elif isinstance(value, list):
                for e in value:
                    if isinstance(e, Expression):
                        self._expression(e, held)
        for block in inner_blocks(stmt, nested=False):
            self.block(block, held, checked)

    def _store(self, target: Expression, held: tuple[str, ...], checked: frozenset[str]) -> None:
        if isinstance(target, (TupleExpr, ListExpr)):
            for item in target.items:
                self._store(item, held, checked)
            return
        if isinstance(target, StarExpr):
            self._store(target.expr, held, checked)
            return
        name = self._attribute(target)
        if name is not None:
            self._add(name, "cts" if name in checked else "w", held, target.line)
            return
        if type(target) is IndexExpr:
            base = self._attribute(target.base)
            if base is not None:
                self._add(base, "s", held, target.line)
                self._expression(target.index, held)
                return
        self._expression(target, held)

    def _delete(self, target: Expression, held: tuple[str, ...]) -> None:
        if isinstance(target, (TupleExpr, ListExpr)):
            for item in target.items:
                self._delete(item, held)
            return
        name = self._attribute(target)
        if name is not None:
            self._add(name, "w", held, target.line)
        elif type(target) is IndexExpr and self._attribute(target.base) is not None:
            self._add(self._attribute(target.base) or "", "m", held, target.line)
            self._expression(target.index, held)
        else:
            self._expression(target, held)

    def _tested(self, stmt: IfStmt, *, early_exit: bool) -> frozenset[str]:
        """The attributes an ``if`` tests for "not made yet" (its body makes
        them), or, with ``early_exit``, for "made" (its body leaves)."""
        if len(stmt.expr) != 1:
            return frozenset()
        if early_exit:
            body = stmt.body[0].body
            if stmt.else_body is not None or not body or type(body[-1]) not in (ReturnStmt, RaiseStmt):
                return frozenset()
            return frozenset(self._made_test(stmt.expr[0], made=True))
        return frozenset(self._made_test(stmt.expr[0], made=False))

    def _made_test(self, e: Expression, *, made: bool) -> list[str]:
        """``self.a is None`` / ``not self.a`` / ``not hasattr(self, "a")``
        (``made``: ``self.a is not None`` / ``self.a``), also as a part of
        ``or`` (``and`` with ``made``)."""
        if type(e) is ComparisonExpr and len(e.operators) == 1 and e.operators[0] in ("is", "is not", "==", "!="):
            left, right = e.operands
            negated = e.operators[0] in ("is not", "!=")
            name = self._attribute(left) if is_none_literal(right) else None
            return [name] if name is not None and negated == made else []
        if type(e) is UnaryExpr and e.op == "not":
            return [] if made else self._plain_test(e.expr)
        if made:
            return self._plain_test(e)
        if type(e) is OpExpr and e.op == "or":
            return self._made_test(e.left, made=False) + self._made_test(e.right, made=False)
        return []

    def _plain_test(self, e: Expression) -> list[str]:
        name = self._attribute(e)
        if name is not None:
            return [name]
        if (
            type(e) is CallExpr
            and type(e.callee) is NameExpr
            and e.callee.fullname == "builtins.hasattr"
            and len(e.args) == 2
            and type(e.args[0]) is NameExpr
            and e.args[0].name == self._self
            and type(e.args[1]) is StrExpr
        ):
            return [e.args[1].value]
        return []

    # -- expressions -----------------------------------------------------------

    def _expression(self, e: Expression, held: tuple[str, ...]) -> None:
        later: set[int] = set()  # what lambdas hold: it runs later
        for sub in get_subexpressions(e):
            kind = type(sub)
            if later and id(sub) in later:
                continue
            if kind is CallExpr:
                self._call(sub, held)  # type: ignore[arg-type]
            elif kind is GeneratorExpr or kind is DictionaryComprehension:
                for sequence in sub.sequences:  # type: ignore[attr-defined]
                    self._iterated(sequence, held)
            elif kind is LambdaExpr:
                later.update(id(inner) for inner in get_subexpressions(sub.body))  # type: ignore[attr-defined]

    def _call(self, call: CallExpr, held: tuple[str, ...]) -> None:
        callee = call.callee
        if type(callee) is not MemberExpr:
            return
        target = callee.expr
        if type(target) is NameExpr and target.name == self._self:
            before = self.calls.get(callee.name)
            self.calls[callee.name] = frozenset(held) if before is None else before & frozenset(held)
            if before is None or call.line < self.first_call[callee.name]:
                self.first_call[callee.name] = call.line
            return
        name = self._attribute(target)
        if name is not None and callee.name in SIZE_METHODS:
            self._add(name, "m", held, call.line)
        if callee.name in _WAITS and _waits(call) and (self.joins is None or call.line < self.joins):
            self.joins = call.line
        elif callee.name == "start" and not call.args and (self.starts is None or call.line < self.starts):
            self.starts = call.line

    def _iterated(self, e: Expression, held: tuple[str, ...]) -> None:
        if type(e) is CallExpr and type(e.callee) is MemberExpr and e.callee.name in _VIEWS and not e.args:
            e = e.callee.expr
        name = self._attribute(e)
        if name is not None:
            self._add(name, "it", held, e.line)

    # -- small parts -----------------------------------------------------------

    def _add(self, name: str, kind: str, held: tuple[str, ...], line: int) -> None:
        key = (name, kind, held)
        if key not in self.found:
            self.found[key] = line

    def _attribute(self, e: Expression) -> str | None:
        """``self.x``: ``"x"``."""
        if type(e) is MemberExpr and type(e.expr) is NameExpr and e.expr.name == self._self:
            return e.name
        return None

    def _acquire_or_release(self, e: Expression) -> tuple[str | None, bool]:
        """``self.x.acquire()`` / ``self.x.release()`` as a statement."""
        if type(e) is CallExpr and type(e.callee) is MemberExpr and e.callee.name in ("acquire", "release"):
            return self._attribute(e.callee.expr), e.callee.name == "acquire"
        return None, False


def shapes_of(body: Block, self_name: str) -> Shapes:
    """The shapes of one body (a method's, or a closure's that captures
    ``self`` as ``self_name``)."""
    shapes = Shapes(self_name)
    shapes.block(body, (), frozenset())
    return shapes


def _constant(e: Expression) -> bool:
    """``None``, ``True``, a number, a string: a flag, not a made object
    (``if self._closed: return`` then ``self._closed = True`` guards, and
    makes nothing that could be lost)."""
    if type(e) is NameExpr:
        return e.name in ("None", "True", "False")
    return type(e) in (IntExpr, FloatExpr, StrExpr) or (type(e) is UnaryExpr and type(e.expr) in (IntExpr, FloatExpr))


def _waits(call: CallExpr) -> bool:
    """``t.join()``, ``t.join(5)``, ``t.join(timeout=5)``: not ``", ".join(parts)``
    nor ``os.path.join(a, b)`` (a string receiver, or an argument that is no
    number)."""
    callee = call.callee
    if type(callee) is MemberExpr and type(callee.expr) is StrExpr:
        return False
    return all(type(a) in (IntExpr, FloatExpr) or n is not None for a, n in zip(call.args, call.arg_names))

