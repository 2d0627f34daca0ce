"""The borrow check of a function body: mutation through a shared borrow
(``borrow-mutate``) and borrows that outlive the call (``borrow-escape``).

It runs from the function's checkpoint (see ``checkpoint``), before mypy
checks the body: the aliases of every borrowed parameter are followed along
the control flow (``aliases``), then each statement that mutates or stores
something is matched against them.  Calls that take a borrow somewhere it
must not go (a ``MutBorrowed`` or ``Owned`` parameter, a channel, a thread)
are judged when mypy checks the call, from the same analysis.
"""

from __future__ import annotations


from mypy.checker import TypeChecker
from mypy.nodes import (
    GDEF,
    AssignmentStmt,
    CallExpr,
    Context,
    DelStmt,
    DictExpr,
    Expression,
    FuncDef,
    FuncItem,
    IndexExpr,
    LambdaExpr,
    ListExpr,
    MemberExpr,
    MypyFile,
    NameExpr,
    Node,
    NonlocalDecl,
    OperatorAssignmentStmt,
    ReturnStmt,
    SetExpr,
    TupleExpr,
    Var,
    YieldExpr,
    YieldFromExpr,
)
from mypy.plugin import AttributeContext, CheckerPluginInterface, FunctionContext, MethodContext
from mypy.types import CallableType

from mypy_ownership import diagnostics
from mypy_ownership.analysis.aliases import Alias, AliasWalker, Borrow, aliases_of_expr
from mypy_ownership.errorcodes import BORROW_ESCAPE, BORROW_MUTATE
from mypy_ownership.model.callee import CalleeFacts, Role, borrowed_parameters, formal_markers, packed_items
from mypy_ownership.markers import Marker
from mypy_ownership.model.mutation import MutationOracle
from mypy_ownership.analysis.paths import ITEM, place_of, render
from mypy_ownership.analysis.syntax import closure_references, expression_children, function_of, statement_children

# Methods that keep their argument in the receiver.
STORING_METHODS = frozenset(
    {"append", "appendleft", "insert", "add", "setdefault", "extend", "extendleft", "update", "__setitem__"}
)


class BorrowAnalysis:
    def __init__(
        self,
        func: FuncItem,
        aliases_at: dict[NameExpr, frozenset[Alias]],
        closures: dict[FuncItem, dict[Var, list[NameExpr]]],
        nonlocal_names: set[str],
    ) -> None:
        self.func = func
        self.aliases_at = aliases_at
        self.closures = closures
        self.nonlocal_names = nonlocal_names
        self.reported: set[tuple[int, str]] = set()
        # expressions that are borrows themselves, by id (``arc.value``)
        self.seeded: dict[int, frozenset[Alias]] = {}

    def aliases(self, e: Expression) -> frozenset[Alias]:
        return aliases_of_expr(self.aliases_at, e, self.seeded)

    def captured(self, e: Expression) -> frozenset[Alias]:
        """What a closure (a lambda, or a local function named) captures."""
        if isinstance(e, LambdaExpr):
            refs = closure_references(e)
        elif isinstance(e, NameExpr) and function_of(e.node) in self.closures:
            func = function_of(e.node)
            assert func is not None
            refs = [r for rs in self.closures[func].values() for r in rs]
        else:
            return frozenset()
        out: set[Alias] = set()
        for ref in refs:
            out |= self.aliases_at.get(ref, frozenset())
        return frozenset(out)


class BorrowChecker:
    def __init__(self, oracle: MutationOracle) -> None:
        self._oracle = oracle
        self._module: MypyFile | None = None
        self._analyses: dict[int, BorrowAnalysis] = {}
        self._arc_accesses: set[int] = set()

    # -- the checkpoint: the body ---------------------------------------------------

    def check_body(self, ctx: FunctionContext) -> None:
        api = ctx.api
        assert isinstance(api, TypeChecker)
        func = api.scope.current_function()
        if func is None or not isinstance(func.type, CallableType):
            return
        self._reset_for(api)
        cached = self._analyses.get(id(func))
        if cached is not None and cached.func is func:
            return  # mypy checks some bodies twice; once is enough
        seeds = _borrowed_parameters(func)
        walker = AliasWalker(seeds)
        walker.block(func.body)
        analysis = BorrowAnalysis(func, walker.aliases_at, walker.closures, walker.nonlocal_names)
        self._analyses[id(func)] = analysis
        if seeds:
            BodyScan(api, analysis, self._oracle).scan(func.body)

    def check_arc_value(self, ctx: AttributeContext) -> None:
        """``arc.value`` is shared by every clone of the Arc: a shared
        borrow wherever it is read."""
        api = ctx.api
        assert isinstance(api, TypeChecker)
        func = api.scope.current_function()
        access = ctx.context
        if func is None or ctx.is_lvalue or not isinstance(access, MemberExpr):
            return
        if id(access) in self._arc_accesses:
            return
        self._arc_accesses.add(id(access))
        borrow = Borrow(
            name=_render_expr(access).strip('"'),
            exclusive=False,
            typ=ctx.default_attr_type,
            declared_at=access,
            kind="arc",
        )
        seed = frozenset({(borrow, ())})
        walker = AliasWalker({})
        walker.seeded_sources[id(access)] = seed
        walker.block(func.body)
        analysis = BorrowAnalysis(func, walker.aliases_at, walker.closures, walker.nonlocal_names)
        analysis.seeded[id(access)] = seed
        BodyScan(api, analysis, self._oracle, mutations_only=True).scan(func.body)

    def _reset_for(self, api: TypeChecker) -> None:
        if api.tree is not self._module:
            self._module = api.tree
            self._analyses = {}

    def analysis_for(self, api: CheckerPluginInterface) -> BorrowAnalysis | None:
        assert isinstance(api, TypeChecker)
        if api.tree is not self._module:
            return None
        for frame in reversed(api.scope.stack):
            if isinstance(frame, FuncItem):
                found = self._analyses.get(id(frame))
                if found is not None and found.func is frame:
                    return found
                if not isinstance(frame, LambdaExpr):
                    return None
        return None

    # -- calls: where an argument may not go ------------------------------------------

    def check_call(self, ctx: FunctionContext | MethodContext, callee: CalleeFacts) -> None:
        analysis = self.analysis_for(ctx.api)
        if analysis is None:
            return
        formals = formal_markers(ctx, callee)
        if formals is None:
            return
        for actuals, (markers, role) in zip(ctx.args, formals):
            if role is Role.PACKED:  # Thread(args=(x, y)): each item goes to the thread
                actuals = [item for actual in actuals for item in packed_items(actual)]
                role = Role.THREAD_ARG
            for actual in actuals:
                if role is Role.CLOSURE:
                    found = analysis.captured(actual)
                    if found and Marker.OWNED in markers:
                        _escape(ctx.api, analysis, actual, None, found, "handed to a thread")
                    continue
                found = analysis.aliases(actual)
                if not found:
                    continue
                what = _render_expr(actual)
                shared = [a for a in found if not a[0].exclusive]
                if role in (Role.THREAD_ARG, Role.HANDOFF):
                    _escape(ctx.api, analysis, actual, what, found, "handed to a thread")
                elif Marker.OWNED in markers and _is_channel(callee):
                    _escape(ctx.api, analysis, actual, what, found, "sent on a channel")
                elif Marker.MUT_BORROWED in markers and shared:
                    _mutate(ctx.api, analysis, actual, shared[0], diagnostics.borrow_as_mutable_behind_shared(what))
                elif Marker.OWNED in markers and shared:
                    _mutate(ctx.api, analysis, actual, shared[0], diagnostics.move_out_of_shared(what))
                elif Marker.OWNED in markers:
                    _escape(ctx.api, analysis, actual, what, found, f"moved into {callee.label}")


def _borrowed_parameters(func: FuncItem) -> dict[Var, frozenset[Alias]]:
    seeds: dict[Var, frozenset[Alias]] = {}
    assert isinstance(func.type, CallableType)
    for arg, typ in zip(func.arguments, func.type.arg_types):
        markers = borrowed_parameters(func).get(arg.variable)
        if markers is None:
            continue
        borrow = Borrow(
            name=arg.variable.name,
            exclusive=Marker.MUT_BORROWED in markers,
            typ=typ,
            declared_at=arg,
            kind="param",
        )
        seeds[arg.variable] = frozenset({(borrow, ())})
    return seeds


def _is_channel(callee: CalleeFacts) -> bool:
    return callee.label in ('"send" of "Sender"', '"try_send" of "Sender"')


def _render_expr(e: Expression) -> str:
    place = place_of(e)
    if place is None:
        return "the value"
    return render(place.root.name, place.path)


class BodyScan:
    """One pass over the statements of a body, matching each mutation and
    each store against the aliases."""

    def __init__(
        self,
        api: TypeChecker,
        analysis: BorrowAnalysis,
        oracle: MutationOracle,
        *,
        mutations_only: bool = False,
    ) -> None:
        self.api = api
        self.analysis = analysis
        self.oracle = oracle
        self.mutations_only = mutations_only  # Arc.value may be kept: it is shared

    def scan(self, root: Node) -> None:
        stack: list[Node] = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, FuncDef):
                continue  # analysed on its own (its captures count where it is used)
            self.visit(node)
            children = expression_children(node) if isinstance(node, Expression) else statement_children(node)
            if isinstance(node, LambdaExpr):
                children = [node.body]
            stack.extend(reversed(children))

    def visit(self, node: Node) -> None:
        a = self.analysis
        if isinstance(node, CallExpr) and isinstance(node.callee, MemberExpr):
            receiver = node.callee.expr
            method = node.callee.name
            for borrow, path in a.aliases(receiver):
                if not borrow.exclusive and self.oracle.mutates(_type_below(borrow, path), method):
                    action = f'call mutating method "{method}" on'
                    self.mutate(receiver, (borrow, path), action)
                    break
            if method in STORING_METHODS and self.outlives(receiver):
                for arg in node.args:
                    self.store(arg, "stored in a container that outlives the call")
        elif isinstance(node, AssignmentStmt):
            for lvalue in node.lvalues:
                self.assign(lvalue, node.rvalue)
        elif isinstance(node, OperatorAssignmentStmt):
            target = node.lvalue
            if isinstance(target, (MemberExpr, IndexExpr)):
                self.write_below(target, "assign to")
            else:
                for alias in a.aliases(target):
                    if not alias[0].exclusive:
                        self.mutate(target, alias, "assign to")
                        break
        elif isinstance(node, DelStmt):
            targets = node.expr.items if isinstance(node.expr, TupleExpr) else [node.expr]
            for t in targets:
                if isinstance(t, (MemberExpr, IndexExpr)):
                    self.write_below(t, "delete")
        elif isinstance(node, ReturnStmt) and node.expr is not None:
            self.store(node.expr, "returned")
        elif isinstance(node, (YieldExpr, YieldFromExpr)) and node.expr is not None:
            self.store(node.expr, "yielded")
        elif isinstance(node, NonlocalDecl):
            pass

    def assign(self, lvalue: Expression, rvalue: Expression) -> None:
        if isinstance(lvalue, (TupleExpr, ListExpr)):
            for item in lvalue.items:
                self.assign(item, rvalue)
            return
        if isinstance(lvalue, (MemberExpr, IndexExpr)):
            self.write_below(lvalue, "assign to")
            if isinstance(lvalue, MemberExpr):
                self.store(rvalue, "stored in an attribute")
            elif self.outlives(lvalue.base):
                self.store(rvalue, "stored in a container that outlives the call")
        elif isinstance(lvalue, NameExpr):
            if lvalue.kind == GDEF:
                self.store(rvalue, "stored in a global")
            elif lvalue.name in self.analysis.nonlocal_names:
                self.store(rvalue, "stored in a nonlocal")

    def write_below(self, target: MemberExpr | IndexExpr, action: str) -> None:
        base = target.expr if isinstance(target, MemberExpr) else target.base
        for alias in self.analysis.aliases(base):
            if not alias[0].exclusive:
                self.mutate(target, alias, action)
                return

    def outlives(self, container: Expression) -> bool:
        """Does the container live beyond this call: reached from a
        parameter, a global or an attribute?"""
        place = place_of(container)
        if place is None:
            return False
        if place.root.kind == GDEF or any(step != ITEM for step in place.path):
            return True
        return any(arg.variable is place.var for arg in self.analysis.func.arguments)

    def store(self, value: Expression, how: str) -> None:
        """``value`` goes somewhere that outlives the call."""
        if self.mutations_only:
            return
        a = self.analysis
        for part in _parts(value):
            found = a.aliases(part)
            if found:
                _escape(self.api, a, part, _render_expr(part), found, how)
                return
            captured = a.captured(part)
            if captured:
                _escape(self.api, a, part, None, captured, "captured by a closure that escapes")
                return

    def mutate(self, target: Expression, alias: Alias, action: str) -> None:
        what = _render_expr(target)
        _mutate(self.api, self.analysis, target, alias, diagnostics.mutate_through_shared(what, action))


def _type_below(borrow: Borrow, path: tuple[str, ...]):  # type: ignore[no-untyped-def]
    from mypy_ownership.analysis.paths import type_at

    return type_at(borrow.typ, path)


def _parts(value: Expression) -> list[Expression]:
    """The values a stored expression carries: itself, or the items of a
    literal container."""
    if isinstance(value, (ListExpr, TupleExpr, SetExpr)):
        return [p for item in value.items for p in _parts(item)]
    if isinstance(value, DictExpr):
        return [p for k, v in value.items for x in (k, v) if x is not None for p in _parts(x)]
    return [value]


def _once(analysis: BorrowAnalysis, where: Context, message: str) -> bool:
    key = (id(where), message)
    if key in analysis.reported:
        return False
    analysis.reported.add(key)
    return True


def _mutate(
    api: CheckerPluginInterface, analysis: BorrowAnalysis, where: Context, alias: Alias, message: str
) -> None:
    if not _once(analysis, where, message):
        return
    borrow = alias[0]
    error = api.fail(message, where, code=BORROW_MUTATE)
    notes: list[tuple[str, Context]]
    if borrow.kind == "arc":
        notes = [(diagnostics.arc_is_shared(f'"{borrow.name}"'), where), (diagnostics.arc_help(), where)]
    elif borrow.kind == "read-guard":
        notes = [
            (diagnostics.read_guard_is_shared(borrow.name), borrow.declared_at),
            (diagnostics.read_guard_help(), where),
        ]
    else:
        notes = [
            (diagnostics.shared_borrow_declared(borrow.name), borrow.declared_at),
            (diagnostics.mutate_help(borrow.name), where),
        ]
    for note, at in notes:
        api.msg.note(note, at, code=BORROW_MUTATE, origin_context=where, parent_error=error)


def _escape(
    api: CheckerPluginInterface,
    analysis: BorrowAnalysis,
    where: Expression,
    what: str | None,
    found: frozenset[Alias],
    how: str,
) -> None:
    """``what`` escapes (None: the borrow a closure captured)."""
    borrow, path = min(found, key=lambda a: (a[0].name, a[1]))
    what = what or render(borrow.name, path)
    notes: tuple[tuple[str, Context], ...]
    if borrow.kind in ("guard", "read-guard"):
        message = diagnostics.guarded_data_escapes(what, how)
        notes = ((diagnostics.lock_released_here(), borrow.declared_at), (diagnostics.guard_help(), where))
    else:
        message = diagnostics.borrow_escapes(what, how)
        # the help copies what escapes, when it can be written as code
        copied = what.strip('"') if what.startswith('"') else borrow.name
        notes = (
            (diagnostics.borrowed_here(borrow.name), borrow.declared_at),
            (diagnostics.escape_help(copied), where),
        )
    if not _once(analysis, where, message):
        return
    error = api.fail(message, where, code=BORROW_ESCAPE)
    for note, at in notes:
        api.msg.note(note, at, code=BORROW_ESCAPE, origin_context=where, parent_error=error)
