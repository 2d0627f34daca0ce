"""What a value was made with: the constant keyword arguments of the calls
that made it (``sqlite3.connect(path, check_same_thread=False)``), and which
keywords it was passed an expression the analysis does not evaluate
(``check_same_thread=not multithreading``: ``NOT_CONSTANT``).

Syntax only: a local's assignments in a function body (``made_with``), and
the pieces the class facts use for an attribute's assignments in a class's
methods.  A value made by a method of another value (``conn.cursor()``) was
made with what that one was made with too.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from mypy.nodes import (
    AssignmentStmt,
    CallExpr,
    Expression,
    IntExpr,
    MemberExpr,
    NameExpr,
    Node,
    StrExpr,
    TempNode,
    Var,
    WithStmt,
)

from mypy_ownership.analysis.syntax import expression_children, statement_children


def made_with(body: Node, var: Var, makers: frozenset[Var] = frozenset()) -> dict[str, Any] | None:
    """The constant keywords that every assignment of ``var`` in ``body``
    passes to the call it assigns (None if one assigns anything else).

    A value made by a method of another local (``cur = conn.cursor()``) was
    made with what that local was made with too: a cursor of a connection
    opened with ``check_same_thread=False`` is checked against no thread
    either.  ``makers``: the locals already being asked about (a cycle
    makes nothing)."""
    agreed: dict[str, Any] | None = None
    stack: list[Node] = [body]
    while stack:
        node = stack.pop()
        for value in _values_bound_to(node, var):
            keywords = constant_keywords(value)
            if keywords is None:
                return None
            maker = maker_of(value)
            if isinstance(maker, NameExpr) and isinstance(maker.node, Var) and maker.node not in makers | {var}:
                inherited = made_with(body, maker.node, makers | {var})
                keywords = {**(inherited or {}), **keywords}
            agreed = agree(agreed, keywords)
        if isinstance(node, Expression):
            stack.extend(expression_children(node))
        else:
            stack.extend(statement_children(node))
    return agreed


def _values_bound_to(node: Node, var: Var) -> list[Expression]:
    """What ``node`` binds ``var`` to: the value of an assignment (not of a
    bare declaration, ``conn: Connection``), or of a ``with ... as var``."""
    if isinstance(node, AssignmentStmt):
        if isinstance(node.rvalue, TempNode) or is_none_literal(node.rvalue):
            return []  # a declaration, or None (which makes no connection)
        if any(isinstance(t, NameExpr) and t.node is var for t in node.lvalues):
            return [node.rvalue]
    if isinstance(node, WithStmt):
        return [
            expr
            for expr, target in zip(node.expr, node.target)
            if isinstance(target, NameExpr) and target.node is var
        ]
    return []


def agree(agreed: dict[str, Any] | None, keywords: dict[str, Any]) -> dict[str, Any]:
    """The keywords that one more assignment's call passes the same as every
    call before it (``agreed``; None before the first).  A keyword passed an
    expression (``NOT_CONSTANT``) agrees with any value: the other's."""
    if agreed is None:
        return keywords
    out = {}
    for k, v in agreed.items():
        other = keywords.get(k, _NO)
        if other == v or other == NOT_CONSTANT:
            out[k] = v
        elif v == NOT_CONSTANT and other is not _NO:
            out[k] = other
    return out


_NO = object()

# A keyword passed an expression the analysis does not evaluate
# (``check_same_thread=not multithreading``): the author decides it at run
# time.  A dict, never a constant's value, and kept as it is in mypy's cache
# (JSON).
NOT_CONSTANT: dict[str, bool] = {"not-constant": True}


def is_not_constant(value: object) -> bool:
    return value == NOT_CONSTANT


def maker_of(e: Expression) -> Expression | None:
    """The object whose method call made ``e`` (``conn`` in
    ``conn.cursor()``), if ``e`` is such a call."""
    if isinstance(e, CallExpr) and isinstance(e.callee, MemberExpr):
        return e.callee.expr
    return None


def constant_keywords(e: Expression, watched: Container[str] | None = None) -> dict[str, Any] | None:
    """The keyword arguments of a call that are constants (True, 0, "x",
    None); one passed another expression is ``NOT_CONSTANT`` when its name
    is ``watched`` (None: any name)."""
    if not isinstance(e, CallExpr):
        return None
    out: dict[str, Any] = {}
    for name, kind, arg in zip(e.arg_names, e.arg_kinds, e.args):
        if name is None:
            continue
        value = constant_value(arg)
        if value is not _NO:
            out[name] = value
        elif watched is None or name in watched:
            out[name] = NOT_CONSTANT
    return out


def constant_value(e: Expression) -> Any:
    """The value of a literal constant expression, or a private sentinel."""
    if isinstance(e, NameExpr) and f"builtins.{e.name}" in _NAMED_CONSTANTS:
        return _NAMED_CONSTANTS[f"builtins.{e.name}"]  # not resolved yet here
    if isinstance(e, (IntExpr, StrExpr)):
        return e.value
    return _NO


def is_none_literal(e: Expression) -> bool:
    return isinstance(e, NameExpr) and e.name == "None"


_NAMED_CONSTANTS = {"builtins.True": True, "builtins.False": False, "builtins.None": None}
