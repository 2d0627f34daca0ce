"""Facts about calls that start work in another thread: which values cross
into it, and what each must be (``Send``, ``Sync``) and whether the giver
loses it (a move).

What crosses, by the role of the formal (see ``facts.Role``):

- a value (``Sender.send(x)``, ``Arc(x)``, a ``Send[T]`` parameter): itself;
- a callable that runs in the thread (``spawn(fn)``, ``Thread(target=fn)``):
  the locals a lambda or local function captures, the receiver of a bound
  method (``Send``, shared: never moved), and the callable and arguments
  that a ``functools.partial(...)`` carries;
- the arguments that go with that callable (``spawn(fn, x)``,
  ``submit(fn, x)``), and the items of a tuple or dict literal given as
  ``Thread(args=(x,), kwargs={...})``;
- a value handed over by a library (``Queue.put(x)``);
- the receiver of a method whose overlay marks ``self: Send[...]``
  (``Thread.start`` runs the object's ``run`` in the new thread), when its
  class is the user's (``Send``, shared: never moved).
"""

from __future__ import annotations

from collections.abc import Iterator

from mypy.nodes import (
    ARG_STAR,
    ARG_STAR2,
    LDEF,
    CallExpr,
    DictExpr,
    Expression,
    FuncItem,
    LambdaExpr,
    ListExpr,
    MemberExpr,
    NameExpr,
    Node,
    RefExpr,
    TupleExpr,
    Var,
)
from mypy.plugin import FunctionContext, MethodContext
from mypy.types import Instance, Type, get_proper_type

from mypy_ownership.model.class_facts import is_source_class
from mypy_ownership.model.callee import CalleeFacts, FormalMarkers, Role, item_type_of, packed_items
from mypy_ownership.analysis.flow import UseKey
from mypy_ownership.markers import Marker
from mypy_ownership.analysis.syntax import closure_references, expression_children, function_of, statement_children

PARTIAL = "functools.partial"


class Crossing:
    """One value that goes to another thread at a call.  A plain class with
    slots, not a NamedTuple: every mypy run imports this module."""

    __slots__ = (
        "site", "typ", "needs_send", "needs_sync", "moves", "role", "var", "key", "how", "carrier", "capture"
    )

    # the expression to report at, and the value's type there
    site: Expression
    typ: Type | None
    needs_send: bool
    needs_sync: bool
    # the giver may not use it afterwards (unless it is shared safely)
    moves: bool
    role: Role
    # a local that crosses (None for any other expression) and the use of it
    # that moves it (see flow.UseKey)
    var: Var | None
    key: UseKey | None
    # how it crosses, when not as an argument: "captured", "captured-self"
    # (the enclosing method's ``self``, shared), "receiver", "sent-self" (the
    # receiver of a method that starts a thread)
    how: str
    # the callable it goes with: the lambda, function or method handed over
    carrier: Expression | None
    # for a captured local, its first use inside the closure
    capture: Expression | None

    def __init__(
        self,
        site: Expression,
        typ: Type | None,
        needs_send: bool,
        needs_sync: bool,
        moves: bool,
        role: Role,
        var: Var | None = None,
        key: UseKey | None = None,
        how: str = "argument",
        carrier: Expression | None = None,
        capture: Expression | None = None,
    ) -> None:
        self.site = site
        self.typ = typ
        self.needs_send = needs_send
        self.needs_sync = needs_sync
        self.moves = moves
        self.role = role
        self.var = var
        self.key = key
        self.how = how
        self.carrier = carrier
        self.capture = capture

    def __repr__(self) -> str:
        return f"Crossing({self.site!r}, {self.typ!r}, role={self.role!r}, var={self.var!r}, how={self.how!r})"


def crossings_of_call(
    ctx: FunctionContext | MethodContext, callee: CalleeFacts, formals: list[FormalMarkers] | None
) -> list[Crossing]:
    """What crosses at this call.  ``formals``: see ``callee.formal_markers``."""
    out: list[Crossing] = _receiver_sent(ctx, callee)
    if formals is None:
        return out
    seen: set[int] = set()
    for actuals, kinds, types, (markers, role) in zip(ctx.args, ctx.arg_kinds, ctx.arg_types, formals):
        send = Marker.SEND in markers or role is Role.THREAD_ARG
        sync = Marker.SYNC in markers
        if not (send or sync):
            continue
        moves = Marker.OWNED in markers
        for actual, kind, typ in zip(actuals, kinds, types):
            if id(actual) in seen:
                continue  # a `*args` actual maps to several formals
            seen.add(id(actual))
            if kind in (ARG_STAR, ARG_STAR2):
                typ = item_type_of(typ)
            if role is Role.CLOSURE:
                out += _through_callable(ctx, actual, typ, moves)
            elif role is Role.PACKED and isinstance(actual, (TupleExpr, ListExpr, DictExpr)):
                out += [
                    _value(ctx, item, None, moves, Role.THREAD_ARG, send, sync)
                    for item in packed_items(actual)
                ]
            elif kind in (ARG_STAR, ARG_STAR2) and callee.overlay is not None:
                # `submit(fn, *args, **kwargs)`: the items cross, in a fresh
                # tuple and dict; the names `args`/`kwargs` are not moved.
                out.append(_value(ctx, actual, typ, False, role, send, sync, local=False))
            else:
                out.append(_value(ctx, actual, typ, moves, role, send, sync))
    return out


def _value(
    ctx: FunctionContext | MethodContext,
    actual: Expression,
    typ: Type | None,
    moves: bool,
    role: Role,
    send: bool = True,
    sync: bool = False,
    *,
    local: bool = True,
) -> Crossing:
    if typ is None:
        typ = _type_of(ctx, actual)
    var: Var | None = None
    key: UseKey | None = None
    if local and isinstance(actual, NameExpr) and isinstance(actual.node, Var):
        var, key = actual.node, actual
    return Crossing(actual, typ, send, sync, moves, role, var, key)


def _through_callable(
    ctx: FunctionContext | MethodContext, actual: Expression, typ: Type | None, moves: bool
) -> list[Crossing]:
    """What a callable takes to the thread it runs in."""
    if isinstance(actual, LambdaExpr):
        return _captures(ctx, actual, actual, moves, last=True)
    if isinstance(actual, NameExpr):
        func = function_of(actual.node)
        if isinstance(func, FuncItem) and actual.kind == LDEF:  # a local function
            return _captures(ctx, func, actual, moves, last=False)
        if func is not None:
            return []  # a module-level function carries nothing
    if isinstance(actual, CallExpr) and _is_partial(actual):
        return _partial(ctx, actual, moves)
    if isinstance(actual, MemberExpr):
        receiver = _bound_receiver(ctx, actual)
        if receiver is not None:
            return [
                Crossing(
                    actual, receiver, True, False, False, Role.CLOSURE,
                    how="receiver", carrier=actual,
                )
            ]
    # Any other callable object: its own type says what it carries.
    return [_value(ctx, actual, typ, False, Role.CLOSURE)]


def _captures(
    ctx: FunctionContext | MethodContext,
    closure: FuncItem,
    site: Expression,
    moves: bool,
    *,
    last: bool,
) -> list[Crossing]:
    """The enclosing function's locals that ``closure`` uses.  A lambda moves
    them where it names them last; a local function where it is handed over
    (the flow analysis keys those uses so)."""
    refs = [r for r in closure_references(closure) if r.kind == LDEF]
    own = {arg.variable for arg in closure.arguments} | {
        r.node for r in refs if r.is_new_def and isinstance(r.node, Var)
    }
    by_var: dict[Var, list[NameExpr]] = {}
    for ref in refs:
        if isinstance(ref.node, Var) and ref.node not in own:
            by_var.setdefault(ref.node, []).append(ref)
    sent_home = _handed_back_to_loop(closure)
    out = []
    for var, uses in by_var.items():
        if all(id(use) in sent_home for use in uses):
            continue  # only handed back to its event loop's thread
        key: UseKey = uses[-1] if last else (site, var)
        if var.is_self:
            # The enclosing method's ``self``: taken the way a bound method
            # takes it (``Thread(target=self.run)``): Send, shared, not moved.
            out.append(
                Crossing(
                    site, var.type, True, False, False, Role.CLOSURE, var, key,
                    how="captured-self", carrier=site, capture=uses[0],
                )
            )
            continue
        out.append(
            Crossing(
                site, var.type, True, False, moves, Role.CLOSURE, var, key,
                how="captured", carrier=site, capture=uses[0],
            )
        )
    return out


# The event loop's thread-safe entry points: what they are given runs in the
# loop's own thread, where asyncio's futures, tasks and locks belong.
TO_LOOP_THREAD = frozenset(
    {
        "asyncio.events.AbstractEventLoop.call_soon_threadsafe",
        "asyncio.base_events.BaseEventLoop.call_soon_threadsafe",
        "asyncio.tasks.run_coroutine_threadsafe",
    }
)
_TO_LOOP_NAMES = frozenset(name.rsplit(".", 1)[1] for name in TO_LOOP_THREAD)
# where asyncio's loop-bound classes live (its C accelerator is _asyncio)
LOOP_BOUND_MODULES = ("asyncio", "_asyncio")


def _handed_back_to_loop(closure: FuncItem) -> set[int]:
    """Names used inside the arguments of ``loop.call_soon_threadsafe(...)``
    or ``run_coroutine_threadsafe(...)`` in ``closure``: the worker hands
    them back to the loop's thread (``call_soon_threadsafe(fut.set_result,
    v)``, asyncio's documented pattern) instead of using them itself."""
    found: set[int] = set()
    stack: list[Node] = [closure.body]
    while stack:
        node = stack.pop()
        if isinstance(node, CallExpr) and calls_into_loop(node):
            for arg in node.args:
                found.update(id(ref) for ref in _names_in(arg))
        if isinstance(node, Expression):
            stack.extend(expression_children(node))
        else:
            stack.extend(statement_children(node))
    return found


def calls_into_loop(call: CallExpr) -> bool:
    callee = call.callee
    if isinstance(callee, RefExpr) and callee.fullname in TO_LOOP_THREAD:
        return True
    return isinstance(callee, MemberExpr) and callee.name in _TO_LOOP_NAMES


def _names_in(e: Expression) -> list[NameExpr]:
    out: list[NameExpr] = []
    stack: list[Expression] = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, NameExpr):
            out.append(node)
        stack.extend(expression_children(node))
    return out


def _is_partial(call: CallExpr) -> bool:
    return isinstance(call.callee, RefExpr) and call.callee.fullname == PARTIAL


def _receiver_sent(ctx: FunctionContext | MethodContext, callee: CalleeFacts) -> list[Crossing]:
    """``worker.start()``: the overlay marks ``self: Send[...]``, so the call
    hands ``worker`` to another thread.  Checked for the user's classes (a
    ``Thread`` subclass with its own attributes); a library class's overlay
    says itself what it is."""
    overlay = callee.overlay
    call = ctx.context
    if (
        overlay is None
        or Marker.SEND not in overlay.self_markers
        or not isinstance(ctx, MethodContext)
        or not isinstance(call, CallExpr)
        or not isinstance(call.callee, MemberExpr)
    ):
        return []
    receiver = get_proper_type(ctx.type)
    if not isinstance(receiver, Instance) or not is_source_class(receiver.type):
        return []
    site = call.callee.expr
    return [Crossing(site, receiver, True, False, False, Role.CLOSURE, how="sent-self", carrier=call.callee)]


def _partial(ctx: FunctionContext | MethodContext, call: CallExpr, moves: bool) -> list[Crossing]:
    """``partial(fn, *args, **kwargs)`` carries ``fn`` and its arguments."""
    if not call.args:
        return []
    out = _through_callable(ctx, call.args[0], _type_of(ctx, call.args[0]), moves)
    out += [_value(ctx, arg, None, moves, Role.THREAD_ARG) for arg in call.args[1:]]
    return out


def _bound_receiver(ctx: FunctionContext | MethodContext, member: MemberExpr) -> Type | None:
    """For ``obj.method``, the type of ``obj`` (the method's ``self``)."""
    receiver = get_proper_type(_type_of(ctx, member.expr))
    if isinstance(receiver, Instance):
        method = receiver.type.get_method(member.name)
        func = function_of(method)
        if func is not None and func.is_static:
            return None  # a staticmethod carries no `self`
        if method is not None:
            return receiver
    return None


def _type_of(ctx: FunctionContext | MethodContext, e: Expression) -> Type | None:
    """The type of an argument's part where it is (narrowed: ``conn = None``
    then ``conn = connect(...)`` is a ``Connection`` here), else declared."""
    lookup = getattr(ctx.api, "lookup_type_or_none", None)
    found = lookup(e) if lookup is not None else None
    if found is None and isinstance(e, NameExpr) and isinstance(e.node, Var):
        found = e.node.type
    return found


def local_crossings(crossings: list[Crossing]) -> Iterator[Crossing]:
    """The crossings of a named local (the ones a move can be tracked for)."""
    return (c for c in crossings if c.var is not None and c.key is not None)
