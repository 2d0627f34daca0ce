"""Hazard detection at a boundary an overlay declares (``threading``,
``queue``, ``concurrent.futures``, ``asyncio``): who may write a value that
crosses, on either side.

- The thread's side: the code the thread runs, read from its source (the
  target function's parameter the value becomes, the closure that captures
  it).  A write is a store below it, a mutating method (the mutation
  inference), a rebinding of a captured variable (``nonlocal``), or handing
  it to a call that is not a builtin.  Code without source (a library
  function, a queue's consumer) counts as writing.
- The caller's side: the same, at one use (``analysis.handoff`` gives the
  expressions around it).
"""

from __future__ import annotations

from mypy.nodes import (
    ARG_NAMED,
    ARG_OPT,
    ARG_POS,
    FUNC_NO_INFO,
    ARG_STAR,
    AssignmentStmt,
    CallExpr,
    DelStmt,
    DictExpr,
    Expression,
    ForStmt,
    FuncItem,
    IndexExpr,
    LambdaExpr,
    ListExpr,
    MemberExpr,
    NameExpr,
    Node,
    OperatorAssignmentStmt,
    RefExpr,
    StrExpr,
    TupleExpr,
    Var,
)

from mypy.types import AnyType, get_proper_type

from mypy_ownership.analysis.copyable import is_copy
from mypy_ownership.analysis.flow import UseKey
from mypy_ownership.analysis.paths import ITEM, type_at
from mypy_ownership.analysis.handoff import STARTED_LATER, Conflicts
from mypy_ownership.analysis.syntax import expression_children, function_of, statement_children
from mypy_ownership.model.call import Call
from mypy_ownership.model.callee import Role
from mypy_ownership.model.crossings import Crossing
from mypy_ownership.model.mutation import MutationOracle

def hands_over_at_call(call: Call) -> bool:
    """Does the value leave when the call returns (``submit``, ``put``), or
    only at the object's ``start()`` (``Thread(...)``)?"""
    return call.callee.fullname not in STARTED_LATER


def thread_writes(call: Call, crossing: Crossing, oracle: MutationOracle) -> bool:
    """May the thread's code write the value that crosses?"""
    var = crossing.var
    if var is None:
        return True
    if crossing.how == "captured":
        closure = _function(crossing.carrier)
        return closure is None or writes_in(closure, var, oracle, rebinding=True)
    if crossing.role is not Role.THREAD_ARG:
        return True  # a queue's consumer, a library's own code: no source
    found = _target_parameter(call, crossing)
    if found is None:
        return True
    func, param = found
    return writes_in(func, param, oracle, rebinding=False)


def caller_conflicts(oracle: MutationOracle) -> Conflicts:
    """Does the caller write at a use (the callback ``analysis.handoff``
    asks)?"""

    def conflicts(key: UseKey, parents: list[Expression], store: bool) -> bool:
        if store:
            return True
        if isinstance(key, tuple):
            func = function_of(key[0].node) if isinstance(key[0], RefExpr) else None
            return func is None or writes_in(func, key[1], oracle, rebinding=True)
        return _writes_here(key, parents, oracle)

    return conflicts


def writes_in(func: FuncItem, var: Var, oracle: MutationOracle, *, rebinding: bool) -> bool:
    """Does the body of ``func`` write ``var``'s value (or, with
    ``rebinding``, the variable: a closure's ``nonlocal``)?"""
    if not func.body.body:
        return True  # no source (a function from mypy's cache, a library's)
    stack: list[tuple[Node, list[Expression]]] = [(func.body, [])]
    while stack:
        node, parents = stack.pop()
        if isinstance(node, NameExpr) and node.node is var:
            if _writes_here(node, parents, oracle):
                return True
            continue
        if isinstance(node, (AssignmentStmt, OperatorAssignmentStmt, DelStmt, ForStmt)):
            targets = (
                node.lvalues if isinstance(node, AssignmentStmt)
                else [node.lvalue] if isinstance(node, OperatorAssignmentStmt)
                else [node.expr] if isinstance(node, DelStmt)
                else [node.index]
            )
            for t in targets:
                if _stores_into(t, var, rebinding or isinstance(node, OperatorAssignmentStmt)):
                    return True
        if isinstance(node, Expression):
            stack.extend((child, [*parents, node]) for child in expression_children(node))
        else:
            stack.extend((child, []) for child in statement_children(node))
    return False


def _stores_into(t: Expression, var: Var, rebinding: bool) -> bool:
    if isinstance(t, NameExpr):
        return rebinding and t.node is var
    if isinstance(t, (IndexExpr, MemberExpr)):
        base = t.base if isinstance(t, IndexExpr) else t.expr
        while isinstance(base, (IndexExpr, MemberExpr)):
            base = base.base if isinstance(base, IndexExpr) else base.expr
        return isinstance(base, NameExpr) and base.node is var
    if isinstance(t, TupleExpr):
        return any(_stores_into(item, var, rebinding) for item in t.items)
    return False


def _writes_here(name: NameExpr, parents: list[Expression], oracle: MutationOracle) -> bool:
    """Is this reference a write: a mutating method called on it (or on
    something reached from it), or handed to a call that is not a builtin
    (itself, or a part of it that may be mutable: ``f(args.text)`` hands
    over a string, or a value whose type the analysis cannot see, and
    writes nothing)?"""
    inner: Expression = name
    path: list[str] = []
    for parent in reversed(parents):
        if isinstance(parent, CallExpr):
            if parent.callee is inner:
                return isinstance(inner, MemberExpr) and _mutating_call(inner, oracle)
            return not _builtin(parent) and (not path or _part_may_be_mutated(name, path))
        if isinstance(parent, MemberExpr) and parent.expr is inner:
            inner = parent
            path.append(parent.name)
            continue
        if isinstance(parent, IndexExpr) and parent.base is inner:
            inner = parent
            path.append(ITEM)
            continue
        if isinstance(parent, (TupleExpr, ListExpr, DictExpr)):
            inner = parent  # packed into an argument: `Thread(args=(v,))`
            continue
        return False
    return False


def _part_may_be_mutated(name: NameExpr, path: list[str]) -> bool:
    """Is the part of ``name``'s value at ``path`` of a known type that is
    not immutable (a list attribute, an item of a list of lists)?"""
    root = name.node.type if isinstance(name.node, Var) else None
    part = get_proper_type(type_at(root, tuple(path)))
    return part is not None and not isinstance(part, AnyType) and not is_copy(part)


def _mutating_call(member: MemberExpr, oracle: MutationOracle) -> bool:
    receiver = member.expr
    typ = receiver.node.type if isinstance(receiver, NameExpr) and isinstance(receiver.node, Var) else None
    if typ is None:
        return True  # an unknown receiver: may write
    return oracle.may_mutate(typ, member.name)


def _builtin(call: CallExpr) -> bool:
    callee = call.callee
    return isinstance(callee, RefExpr) and callee.fullname.startswith("builtins.")


def _function(e: Expression | None) -> FuncItem | None:
    if isinstance(e, LambdaExpr):
        return e
    if isinstance(e, RefExpr):
        return function_of(e.node)
    return None


def _target_parameter(call: Call, crossing: Crossing) -> tuple[FuncItem, Var] | None:
    """The target function of the thread and the parameter ``crossing``'s
    value becomes, when both are known."""
    formals = call.formals
    if formals is None:
        return None
    ctx = call.ctx
    target: Expression | None = None
    position = 0
    where: int | str | None = None
    for actuals, kinds, names, (_, role) in zip(ctx.args, ctx.arg_kinds, ctx.arg_names, formals):
        for actual, kind, name in zip(actuals, kinds, names):
            if role is Role.CLOSURE and target is None:
                target = actual
            elif role is Role.PACKED and isinstance(actual, TupleExpr):
                for i, item in enumerate(actual.items):
                    if item is crossing.site:
                        where = i
            elif role is Role.PACKED and isinstance(actual, DictExpr):
                for k, v in actual.items:
                    if v is crossing.site and isinstance(k, StrExpr):
                        where = k.value
            elif role is Role.THREAD_ARG:
                if kind == ARG_POS:
                    if actual is crossing.site:
                        where = position
                    position += 1
                elif kind == ARG_NAMED and actual is crossing.site:
                    where = name
                elif kind == ARG_STAR:
                    position += 1000  # later positions unknown
    func = _function(target)
    if func is None or where is None:
        return None
    args = func.arguments
    if isinstance(where, str):
        found = [a.variable for a in args if a.variable.name == where]
        return (func, found[0]) if found else None
    offset = 1 if isinstance(target, MemberExpr) and func.info is not FUNC_NO_INFO and not func.is_static else 0
    index = where + offset
    if index >= len(args) or args[index].kind not in (ARG_POS, ARG_OPT):
        return None
    return func, args[index].variable
