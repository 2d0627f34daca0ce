"""The borrow scan of a body: each statement that mutates or stores
something, matched against the aliases of the borrows (``analysis.aliases``),
turned into diagnostics: mutation through a shared borrow
(``borrow-mutate``) and borrows that outlive what lends them
(``borrow-escape``).

Two checks scan bodies: ``checks.borrows`` (borrowed parameters, ``Arc.value``)
and ``checks.guards`` (the data behind a lock guard).
"""

from __future__ import annotations

from collections.abc import Sequence

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
from mypy.maptype import map_instance_to_supertype
from mypy.types import CallableType, Instance, Type, get_proper_type

from mypy_ownership import diagnostics
from mypy_ownership.analysis.aliases import Alias, Borrow, aliases_of_expr
from mypy_ownership.analysis.copyable import is_copy
from mypy_ownership.analysis.paths import ITEM, item_type, place_of, render, type_at
from mypy_ownership.analysis.syntax import closure_references, expression_children, function_of, statement_children
from mypy_ownership.diagnostics import Diagnostic
from mypy_ownership.errorcodes import BORROW_ESCAPE, BORROW_MUTATE
from mypy_ownership.markers import Marker
from mypy_ownership.model.callee import borrowed_parameters
from mypy_ownership.model.mutation import MutationOracle

# Methods that keep their argument in the receiver.
STORING_METHODS = frozenset(
    {"append", "appendleft", "insert", "add", "setdefault", "extend", "extendleft", "update", "__setitem__"}
)
# Of those, the ones that keep the items of their argument, not the argument.
ITEM_STORING_METHODS = frozenset({"extend", "extendleft", "update"})


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


def borrowed_seeds(func: FuncItem) -> dict[Var, frozenset[Alias]]:
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


def render_expr(e: Expression) -> str:
    place = place_of(e)
    if place is None:
        return "the value"
    return render(place.root.name, place.path)


class BodyScan:
    """One pass over the statements of a body, matching each mutation and
    each store against the aliases."""

    def __init__(
        self,
        analysis: BorrowAnalysis,
        oracle: MutationOracle,
        *,
        mutations_only: bool = False,
    ) -> None:
        self.found: list[Diagnostic] = []
        self.analysis = analysis
        self.oracle = oracle
        self.mutations_only = mutations_only  # Arc.value may be kept: it is shared

    def scan(self, root: Node) -> list[Diagnostic]:
        """What ``root`` does to the borrows, as diagnostics."""
        stack: list[Node] = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, FuncDef):
                continue  # analysed on its own (its captures count where it is used)
            self.visit(node)
            children: Sequence[Node] = (
                expression_children(node) if isinstance(node, Expression) else statement_children(node)
            )
            if isinstance(node, LambdaExpr):
                children = [node.body]
            stack.extend(reversed(children))
        return self.found

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
                    if method in ITEM_STORING_METHODS and self.items_copied(arg):
                        continue  # its items are copied in, not the borrow
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

    def items_copied(self, source: Expression) -> bool:
        """Is ``source`` a borrow whose items are immutable (Rust's ``Copy``)?
        ``dst.extend(src)`` then keeps copies of them, never ``src``."""
        found = self.analysis.aliases(source)
        if not found:
            return False
        for borrow, path in found:
            container = _type_below(borrow, path)
            if container is None or not all(is_copy(t) for t in _stored_items(container)):
                return False
        return True

    def store(self, value: Expression, how: str) -> None:
        """``value`` goes somewhere that outlives the call."""
        if self.mutations_only:
            return
        a = self.analysis
        for part in _parts(value):
            found = a.aliases(part)
            if found:
                self.found.append(escape(part, render_expr(part), found, how))
                return
            captured = a.captured(part)
            if captured:
                self.found.append(escape(part, None, captured, "captured by a closure that escapes"))
                return

    def mutate(self, target: Expression, alias: Alias, action: str) -> None:
        what = render_expr(target)
        self.found.append(mutate(target, alias, diagnostics.mutate_through_shared(what, action)))


def _type_below(borrow: Borrow, path: tuple[str, ...]) -> Type | None:
    return type_at(borrow.typ, path)


def _stored_items(container: Type) -> list[Type | None]:
    """What ``extend``/``update`` keep of a container: its items, and a
    mapping's keys as well as its values."""
    stored = [item_type(container)]
    t = get_proper_type(container)
    if isinstance(t, Instance):
        mapping = next((b for b in t.type.mro if b.fullname == "typing.Mapping"), None)
        if mapping is not None:
            args = map_instance_to_supertype(t, mapping).args
            stored.append(args[0] if args else None)
    return stored


def _parts(value: Expression) -> list[Expression]:
    """The values a stored expression carries: itself, or the items of a
    literal container."""
    if isinstance(value, (ListExpr, TupleExpr, SetExpr)):
        return [p for item in value.items for p in _parts(item)]
    if isinstance(value, DictExpr):
        return [p for k, v in value.items for x in (k, v) if x is not None for p in _parts(x)]
    return [value]


def mutate(where: Context, alias: Alias, message: str) -> Diagnostic:
    """Mutation through the shared borrow ``alias``, at ``where``."""
    borrow = alias[0]
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
    return Diagnostic(BORROW_MUTATE, message, where, notes)


def escape(where: Expression, what: str | None, found: frozenset[Alias], how: str) -> Diagnostic:
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
    return Diagnostic(BORROW_ESCAPE, message, where, notes)
