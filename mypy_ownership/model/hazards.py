"""Hazard detection at a boundary an overlay declares (``threading``,
``queue``, ``concurrent.futures``, ``asyncio``): does the caller's use of a
value that crossed race with what the thread does to it, under Python's
own rules (``model.access``: single operations are atomic; one side must
write while the other's access is compound)?

- The thread's side: the code the thread runs, read from its source (the
  target function's parameter the value becomes, the closure that captures
  it).  Code without source (a library function, a queue's consumer)
  counts as a compound write.
- The caller's side: one use, read in the context of its statements (one
  walk of the caller's body) and of the expressions around it
  (``analysis.handoff`` gives them).
"""

from __future__ import annotations

from mypy.nodes import (
    ARG_NAMED,
    ARG_OPT,
    ARG_POS,
    FUNC_NO_INFO,
    ARG_STAR,
    DictExpr,
    Expression,
    FuncItem,
    LambdaExpr,
    MemberExpr,
    MypyFile,
    RefExpr,
    StrExpr,
    TupleExpr,
    Var,
)

from mypy_ownership.analysis.flow import UseKey
from mypy_ownership.analysis.handoff import STARTED_LATER, Conflicts
from mypy_ownership.analysis.syntax import function_of
from mypy_ownership.model.access import UPDATE, Access, AccessReader, races
from mypy_ownership.model.call import Call
from mypy_ownership.model.callee import Role
from mypy_ownership.model.crossings import Crossing

def hands_over_at_call(call: Call) -> bool:
    """Does the value leave when the call returns (``submit``, ``put``), or
    only at the object's ``start()`` (``Thread(...)``)?"""
    return call.callee.fullname not in STARTED_LATER


def thread_access(call: Call, crossing: Crossing, reader: AccessReader) -> Access:
    """What the thread's code does to the value that crosses."""
    var = crossing.var
    if var is None:
        return UPDATE
    if crossing.how == "captured":
        closure = _function(crossing.carrier)
        return UPDATE if closure is None else reader.in_function(closure, var, rebinding=True)
    if crossing.role is not Role.THREAD_ARG:
        return UPDATE  # a queue's consumer, a library's own code: no source
    found = _target_parameter(call, crossing)
    if found is None:
        return UPDATE
    func, param = found
    return reader.in_function(func, param, rebinding=False)


def caller_conflicts(
    reader: AccessReader, thread: Access, body: FuncItem | MypyFile, var: Var
) -> Conflicts:
    """Does the caller's use race with the thread's access, and does it
    write (the callback ``analysis.handoff`` asks)?  Each use's access is
    read once, in the context of its statements (an iteration, a check
    acted on), by one walk of the caller's body."""
    nodes = body.defs if isinstance(body, MypyFile) else body.body.body
    uses = reader.summary(nodes, var, rebinding=True).uses

    def conflicts(key: UseKey, parents: list[Expression], store: bool, handed_on: bool) -> tuple[bool, bool]:
        if handed_on:
            return races(thread, thread), True  # another thread runs the same code
        if isinstance(key, tuple):
            func = function_of(key[0].node) if isinstance(key[0], RefExpr) else None
            mine = UPDATE if func is None else reader.in_function(func, key[1], rebinding=True)
        else:
            mine = uses.get(id(key)) or reader.use(key, parents)[0]
            if store:
                mine = Access(True, mine.compound)
        return races(mine, thread), mine.writes

    return conflicts


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
