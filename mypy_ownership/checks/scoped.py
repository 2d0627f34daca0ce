"""Scoped threads: closures given to ``Scope.spawn`` borrow what they capture.

``with scope() as s:`` joins every thread it started before the block ends,
so a thread may borrow the parent's locals instead of taking them (the
``Send[Callable]`` parameter of ``Scope.spawn`` is not ``Owned``).  While
the block runs, Rust's rule holds between the threads and the parent: one
writer or many readers.  A closure borrows a local exclusively when it
mutates it (a mutating method, an attribute or item assignment), shared
otherwise.  Values shared safely (immutable values, ``Arc``, ``Mutex``,
channel ends...) never conflict.  The block is examined once, at its first
``spawn``; after the block everything is free again.
"""

from __future__ import annotations

from collections.abc import Sequence

from mypy.nodes import (
    AssignmentStmt,
    CallExpr,
    DelStmt,
    Expression,
    FuncItem,
    IndexExpr,
    LambdaExpr,
    MemberExpr,
    NameExpr,
    Node,
    OperatorAssignmentStmt,
    TupleExpr,
    Var,
    WithStmt,
)

from mypy_ownership import diagnostics
from mypy_ownership.diagnostics import Diagnostic
from mypy_ownership.errorcodes import BORROW_CONFLICT
from mypy_ownership.model.call import Call
from mypy_ownership.model.callee import Role
from mypy_ownership.markers import Marker
from mypy_ownership.model.mutation import MutationOracle
from mypy_ownership.analysis.paths import place_of, type_at
from mypy_ownership.analysis.syntax import closure_references, expression_children, function_of, statement_children
from mypy_ownership.model.thread_safety import ThreadSafety


class _Borrow:
    """A local a scoped thread or its parent borrows.  A plain class with
    slots, not a NamedTuple: every mypy run imports this module."""

    __slots__ = ("var", "at", "exclusive", "by_thread")

    var: Var
    at: NameExpr  # the reference that borrows
    exclusive: bool
    by_thread: bool

    def __init__(self, var: Var, at: NameExpr, exclusive: bool, by_thread: bool) -> None:
        self.var = var
        self.at = at
        self.exclusive = exclusive
        self.by_thread = by_thread

    def __repr__(self) -> str:
        return f"_Borrow({self.var!r}, {self.at!r}, exclusive={self.exclusive!r}, by_thread={self.by_thread!r})"


class ScopedChecker:
    def __init__(self, oracle: MutationOracle, safety: ThreadSafety) -> None:
        self._oracle = oracle
        self._safety = safety

    def check_call(self, call: Call) -> list[Diagnostic]:
        """At a ``spawn`` of a scope: the scope's whole block (each time
        mypy checks a spawn in it: the reporter reports each finding once)."""
        if not call.callee.from_runtime:
            return []  # only the runtime has scoped threads
        formals = call.formals
        if formals is None or not any(
            role is Role.CLOSURE and Marker.OWNED not in markers for markers, role in formals
        ):
            return []
        func = call.api.scope.current_function()
        expr = call.context
        if func is None or not isinstance(expr, CallExpr) or not isinstance(expr.callee, MemberExpr):
            return []
        scope_var = expr.callee.expr
        if not isinstance(scope_var, NameExpr):
            return []
        block = _scope_block(func, scope_var.node)
        if block is None:
            return []
        return self._check_block(func, block, scope_var.node)

    def _check_block(self, func: FuncItem, block: WithStmt, scope: object) -> list[Diagnostic]:
        own = _own_vars(func)
        events: list[_Borrow] = []
        closures: set[int] = set()
        for node in _walk(block.body, into_closures=False):
            if not _is_spawn(node, scope):
                continue
            assert isinstance(node, CallExpr)
            closure = _closure(node.args[0]) if node.args else None
            if closure is None:
                continue
            closures.add(id(closure))
            first: dict[Var, NameExpr] = {}
            for ref in closure_references(closure):
                if isinstance(ref.node, Var) and ref.node in own and ref.node not in first:
                    first[ref.node] = ref
            # A lambda borrows where it names the variable; a local function
            # borrows where it is handed to spawn.
            site = node.args[0]
            for var, ref in first.items():
                if self._safety.shared_safely(var.type):
                    continue
                at = ref if isinstance(closure, LambdaExpr) or not isinstance(site, NameExpr) else site
                events.append(_Borrow(var, at, self._mutates(closure.body, var), True))
        if not events:
            return []
        for node in _walk(block.body, into_closures=False, skip=closures):
            for ref, exclusive in self._parent_accesses(node):
                if ref.node in {e.var for e in events}:
                    assert isinstance(ref.node, Var)
                    events.append(_Borrow(ref.node, ref, exclusive, False))
        events.sort(key=lambda e: (e.at.line, e.at.column))
        found: list[Diagnostic] = []
        reported: set[int] = set()
        for j, later in enumerate(events):
            for earlier in events[:j]:
                if earlier.var is not later.var or not earlier.by_thread:
                    continue
                if not (earlier.exclusive or later.exclusive) or id(later.at) in reported:
                    continue
                reported.add(id(later.at))
                found.append(_conflict(later, earlier))
                break
        return found

    def _mutates(self, body: Node, var: Var) -> bool:
        return any(
            ref.node is var and exclusive
            for node in _walk(body, into_closures=True)
            for ref, exclusive in self._parent_accesses(node)
        )

    def _parent_accesses(self, node: Node) -> list[tuple[NameExpr, bool]]:
        """References a node makes, each with whether it mutates."""
        out: list[tuple[NameExpr, bool]] = []
        if isinstance(node, CallExpr) and isinstance(node.callee, MemberExpr):
            place = place_of(node.callee.expr)
            if place is not None:
                t = type_at(place.var.type, place.path)
                out.append((place.root, self._oracle.mutates(t, node.callee.name)))
        targets: list[Expression] = []
        if isinstance(node, AssignmentStmt):
            targets = list(node.lvalues)
        elif isinstance(node, OperatorAssignmentStmt):
            targets = [node.lvalue]
        elif isinstance(node, DelStmt):
            targets = list(node.expr.items) if isinstance(node.expr, TupleExpr) else [node.expr]
        for target in targets:
            if isinstance(target, (MemberExpr, IndexExpr)):
                place = place_of(target)
                if place is not None:
                    out.append((place.root, True))
        if isinstance(node, NameExpr) and isinstance(node.node, Var):
            out.append((node, False))
        return out


def _conflict(later: _Borrow, earlier: _Borrow) -> Diagnostic:
    def kind(b: _Borrow) -> str:
        return "mutable" if b.exclusive else "immutable"

    name = later.var.name
    notes = (
        (diagnostics.earlier_borrow(name, kind(earlier), by_thread=True), earlier.at),
        (diagnostics.conflict_help(name), later.at),
    )
    message = diagnostics.borrow_conflict(name, kind(later), kind(earlier))
    return Diagnostic(BORROW_CONFLICT, message, later.at, notes, key=(later.at.line, later.at.column))


def _is_spawn(node: Node, scope: object) -> bool:
    return (
        isinstance(node, CallExpr)
        and isinstance(node.callee, MemberExpr)
        and node.callee.name == "spawn"
        and isinstance(node.callee.expr, NameExpr)
        and node.callee.expr.node is scope
    )


def _closure(arg: Expression) -> FuncItem | None:
    if isinstance(arg, LambdaExpr):
        return arg
    if isinstance(arg, NameExpr):
        return function_of(arg.node)
    return None


def _scope_block(func: FuncItem, scope: object) -> WithStmt | None:
    for node in _walk(func.body, into_closures=False):
        if isinstance(node, WithStmt):
            for target in node.target:
                if isinstance(target, NameExpr) and target.node is scope:
                    return node
    return None


def _own_vars(func: FuncItem) -> set[Var]:
    own = {arg.variable for arg in func.arguments}
    for node in _walk(func.body, into_closures=False):
        if isinstance(node, NameExpr) and isinstance(node.node, Var):
            own.add(node.node)
    return own


def _walk(root: Node, *, into_closures: bool, skip: set[int] | None = None) -> list[Node]:
    out: list[Node] = []
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if skip and id(node) in skip:
            continue
        out.append(node)
        if isinstance(node, FuncItem) and node is not root:
            if not into_closures:
                continue
            stack.append(node.body)
            continue
        children: Sequence[Node] = (
            expression_children(node) if isinstance(node, Expression) else statement_children(node)
        )
        if isinstance(node, LambdaExpr):
            children = [node.body] if into_closures or node is root else []
        stack.extend(reversed(children))
    return out
