"""Conflicting borrows at one call (rustc's E0499, E0502, E0505).

In a single call, a value lent exclusively (``MutBorrowed``) may not also be
lent or moved to another parameter, and a moved value may not also be lent:
``push_all(vec, vec)`` with ``src: Borrowed``, ``dst: MutBorrowed``.  "The
same value" is the same local, or locals made aliases of each other by plain
assignment (``b = a``) that are still aliases where the call is: that is
followed along the control flow by ``NameAliasWalker``, once per function,
and only in a function where two of a call's locals are bound from or to
another name at all (``UseGraph.name_bound``, which the use analysis finds on
its way: most calls lend or move locals no such binding touches, and then
only the same local conflicts with itself).
A method whose ``self`` is marked counts its receiver as an argument.
"""

from __future__ import annotations

from mypy.checker import TypeChecker
from mypy.nodes import CallExpr, Expression, FuncItem, MemberExpr, NameExpr, Var
from mypy.plugin import FunctionContext, MethodContext
from mypy.types import Type

from mypy_ownership import diagnostics
from mypy_ownership.diagnostics import Diagnostic
from mypy_ownership.errorcodes import BORROW_CONFLICT
from mypy_ownership.model.call import Call
from mypy_ownership.model.callee import CalleeFacts, Role
from mypy_ownership.analysis.flow import FlowWalker, Source, UseKey
from mypy_ownership.analysis.uses import UseGraphs
from mypy_ownership.markers import Marker
from mypy_ownership.analysis.copyable import is_copy


class Access:
    """A name a call borrows or moves.  A plain class with slots, not a
    NamedTuple: every mypy run imports this module."""

    __slots__ = ("expr", "kind")

    expr: NameExpr
    kind: str  # "mutable", "immutable", "move"

    def __init__(self, expr: NameExpr, kind: str) -> None:
        self.expr = expr
        self.kind = kind

    def __repr__(self) -> str:
        return f"Access({self.expr!r}, {self.kind!r})"


class NameAliasWalker(FlowWalker[Var]):
    """For every reference, the locals it may be an alias of (itself
    included), through plain assignments ``b = a``."""

    def __init__(self) -> None:
        super().__init__(module_level=False)
        self.roots_at: dict[NameExpr, frozenset[Var]] = {}

    def use(self, key: UseKey, var: Var) -> None:
        if self.state is not None and isinstance(key, NameExpr) and var in self.state:
            self.roots_at[key] = self.roots_at.get(key, frozenset()) | self.state[var]

    def bind(self, var: Var, kind: int | None, source: Source) -> None:
        if self.state is None:
            return
        if isinstance(source, NameExpr) and isinstance(source.node, Var) and source.node is not var:
            roots = self.state.get(source.node, frozenset({source.node}))
            self.state[var] = roots | {var}
            for other in roots:  # `b = a`: a is now also an alias of b
                self.state[other] = self.state.get(other, frozenset({other})) | {var}
        else:
            self.state.pop(var, None)
            for other, roots in list(self.state.items()):
                if var in roots:
                    self.state[other] = roots - {var}
        self.record(var)


class ConflictChecker:
    def __init__(self, graphs: UseGraphs) -> None:
        self._graphs = graphs
        # the name aliases of the functions of the module being checked
        self._checker: TypeChecker | None = None
        self._roots: dict[int, tuple[FuncItem, dict[NameExpr, frozenset[Var]]]] = {}

    def check_call(self, call: Call) -> list[Diagnostic]:
        accesses = _accesses(call)
        if len(accesses) < 2:
            return []
        found: list[Diagnostic] = []
        graph = self._graphs.of(call.api)
        # Two different locals share a root only if both are name-bound.
        bound = graph.name_bound if graph is not None else set()
        aliased = sum(a.expr.node in bound for a in accesses) >= 2
        roots_at = self._roots_at(call.api) if aliased else {}
        accesses.sort(key=lambda a: (a.expr.line, a.expr.column))
        for j, later in enumerate(accesses):
            for earlier in accesses[:j]:
                if later.kind == earlier.kind == "immutable":
                    continue
                if later.expr.node is earlier.expr.node and later.kind == earlier.kind == "move":
                    continue  # the same name moved twice: a use after move
                if not (_roots(roots_at, later.expr) & _roots(roots_at, earlier.expr)):
                    continue
                found.append(_conflict(later, earlier))
                break
        return found

    def _roots_at(self, api: object) -> dict[NameExpr, frozenset[Var]]:
        assert isinstance(api, TypeChecker)
        if api is not self._checker:
            self._checker, self._roots = api, {}
        func = api.scope.current_function()
        if func is None:
            return {}
        cached = self._roots.get(id(func))
        if cached is not None and cached[0] is func:
            return cached[1]
        walker = NameAliasWalker()
        walker.block(func.body)
        self._roots[id(func)] = (func, walker.roots_at)
        return walker.roots_at


def _conflict(later: Access, earlier: Access) -> Diagnostic:
    notes = (
        (diagnostics.earlier_borrow(earlier.expr.name, earlier.kind), earlier.expr),
        (diagnostics.conflict_help(later.expr.name), later.expr),
    )
    message = diagnostics.borrow_conflict(later.expr.name, later.kind, earlier.kind)
    # one conflict reported per argument
    return Diagnostic(BORROW_CONFLICT, message, later.expr, notes, key=(later.expr.line, later.expr.column))


def _roots(roots_at: dict[NameExpr, frozenset[Var]], e: NameExpr) -> frozenset[Var]:
    assert isinstance(e.node, Var)
    return roots_at.get(e, frozenset({e.node}))


def _kind(markers: frozenset[Marker], role: Role) -> str | None:
    if role in (Role.THREAD_ARG, Role.HANDOFF) or Marker.OWNED in markers:
        return "move"
    if Marker.MUT_BORROWED in markers:
        return "mutable"
    if Marker.BORROWED in markers:
        return "immutable"
    return None


def _accesses(call: Call) -> list[Access]:
    ctx, callee, formals = call.ctx, call.callee, call.formals
    if formals is None:
        return []
    named: list[tuple[NameExpr, Type, str]] = []
    for actuals, types, (markers, role) in zip(ctx.args, ctx.arg_types, formals):
        kind = _kind(markers, role)
        if kind is None or role in (Role.CLOSURE, Role.PACKED):
            continue
        for actual, typ in zip(actuals, types):
            if isinstance(actual, NameExpr) and isinstance(actual.node, Var):
                named.append((actual, typ, kind))
    receiver = _marked_receiver(ctx, callee)
    if len(named) + (receiver is not None) < 2:
        return []  # no two to conflict: the types need not be read
    out = [Access(actual, kind) for actual, typ, kind in named if not is_copy(typ)]
    if receiver is not None:
        out.append(receiver)
    return out


def _marked_receiver(ctx: FunctionContext | MethodContext, callee: CalleeFacts) -> Access | None:
    """The receiver of ``obj.method(...)`` when the method's ``self`` is marked."""
    call = ctx.context
    if callee.bound != 1 or not isinstance(call, CallExpr) or not isinstance(call.callee, MemberExpr):
        return None
    obj: Expression = call.callee.expr
    if not isinstance(obj, NameExpr) or not isinstance(obj.node, Var):
        return None
    kind = _kind(callee.self_markers, Role.VALUE)
    if kind is None or kind == "move" or not isinstance(ctx, MethodContext) or is_copy(ctx.type):
        return None
    return Access(obj, kind)
