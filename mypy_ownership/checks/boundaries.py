"""The thread-boundary check: what crosses into another thread at a call
(``crossings``) must be ``Send``, and what is shared with it ``Sync``
(``thread_safety``); a value that is not is reported at the argument, with
the culprit and a way out (``diagnostics``).

A thread-bound library value that was made so that it may cross after all
(``sqlite3.connect(path, check_same_thread=False)``, as the overlays
declare) passes when the local holding it is only ever assigned such calls.
"""

from __future__ import annotations

from typing import Any

from mypy.checker import TypeChecker
from mypy.messages import format_type_bare
from mypy.nodes import AssignmentStmt, Expression, FuncItem, MemberExpr, NameExpr, Node, TempNode, Var, WithStmt
from mypy.options import Options
from mypy.plugin import FunctionContext, MethodContext
from mypy.types import Instance, Type, UnionType, get_proper_type

from mypy_ownership import diagnostics, speculation
from mypy_ownership.model.class_facts import agree, constant_keywords, is_none_literal, maker_of
from mypy_ownership.model.crossings import LOOP_BOUND_MODULES, TO_LOOP_THREAD, Crossing, crossings_of_call
from mypy_ownership.errorcodes import NOT_SEND, NOT_SYNC
from mypy_ownership.model.callee import CalleeFacts
from mypy_ownership.analysis.syntax import expression_children, statement_children
from mypy_ownership.model.thread_safety import Problem, Root, ThreadSafety, Trait


class BoundaryChecker:
    def __init__(self, safety: ThreadSafety) -> None:
        self._safety = safety
        self._reported: set[tuple[int, int, str, str]] = set()

    def check_call(self, ctx: FunctionContext | MethodContext, callee: CalleeFacts) -> None:
        api = ctx.api
        if not speculation.reportable(api):
            return
        assert isinstance(api, TypeChecker)
        to_loop = callee.overlay is not None and callee.overlay.fullname in TO_LOOP_THREAD
        for crossing in crossings_of_call(ctx, callee):
            problem = self._problem(api, crossing)
            if problem is None or (to_loop and _bound_to_loop(problem)):
                continue
            name = crossing.var.name if crossing.var is not None else ""
            key = (crossing.site.line, crossing.site.column, problem.trait.value, name)
            if key in self._reported:
                continue  # mypy checks some bodies twice
            self._reported.add(key)
            with speculation.unfiltered(api):
                _report(api, crossing, problem)

    def _problem(self, api: TypeChecker, crossing: Crossing) -> Problem | None:
        if crossing.needs_send:
            problem = self._safety.problem(crossing.typ, Trait.SEND)
            if problem is not None and not released(api, self._safety, crossing):
                return problem
        if crossing.needs_sync:
            return self._safety.problem(crossing.typ, Trait.SYNC)
        return None


def released(api: TypeChecker, safety: ThreadSafety, crossing: Crossing) -> bool:
    """Is the thread-bound local that crosses made so that it may cross
    after all (``check_same_thread=False``)?"""
    if crossing.var is None:
        return False
    func = api.scope.current_function()
    body: Node = func.body if isinstance(func, FuncItem) else api.tree
    return safety.released(crossing.typ, _made_with(body, crossing.var))


def _bound_to_loop(problem: Problem) -> bool:
    """Is the culprit one of asyncio's loop-bound objects (which a call into
    the loop's thread takes home)?"""
    culprit = get_proper_type(problem.culprit)
    return (
        problem.root is Root.THREAD_BOUND
        and isinstance(culprit, Instance)
        and culprit.type.module_name.split(".")[0] in LOOP_BOUND_MODULES
    )


def _made_with(body: Node, var: Var, makers: frozenset[Var] = frozenset()) -> dict[str, Any] | None:
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
                inherited = _made_with(body, maker.node, makers | {var})
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


def _report(api: TypeChecker, crossing: Crossing, problem: Problem) -> None:
    options = api.options
    shown = format_type_bare(crossing.typ, options) if crossing.typ is not None else "?"
    if problem.trait is Trait.SEND:
        message, code = diagnostics.cannot_send(shown), NOT_SEND
    else:
        message, code = diagnostics.cannot_share(shown), NOT_SYNC
    error = api.fail(message, crossing.site, code=code)
    notes = []
    if crossing.capture is not None and crossing.var is not None:
        notes.append((diagnostics.captured_here(crossing.var.name), crossing.capture))
    elif crossing.how == "receiver":
        notes.append((diagnostics.receiver_shared(), crossing.site))
    elif crossing.how == "sent-self" and isinstance(crossing.carrier, MemberExpr):
        notes.append((diagnostics.receiver_sent(crossing.carrier.name), crossing.site))
    notes.append((_because(problem, options), crossing.site))
    if problem.help:
        notes.append((diagnostics.trait_help(problem.help), crossing.site))
    elif problem.root is Root.ANY:
        notes.append((diagnostics.trait_help(diagnostics.ANY_HELP), crossing.site))
    for note, at in notes:
        api.msg.note(note, at, code=code, origin_context=crossing.site, parent_error=error)


def _because(problem: Problem, options: Options) -> str:
    def show(t: Type) -> str:
        return format_type_bare(t, options)

    chain = []
    for step in problem.steps:
        if step.attribute is not None:
            chain.append(diagnostics.attribute_link(show(step.owner), step.attribute, show(step.part)))
        elif isinstance(get_proper_type(step.owner), UnionType):
            chain.append(diagnostics.member_link(show(step.owner), show(step.part)))
        else:
            chain.append(diagnostics.part_link(show(step.owner), show(step.part)))
    culprit = None if chain else show(problem.culprit)
    if problem.root is Root.THREAD_BOUND:
        root = diagnostics.root_thread_bound(culprit, problem.reason)
    elif problem.root is Root.MUTABLE:
        root = diagnostics.root_mutable(culprit)
    elif problem.root is Root.NOT_SHAREABLE:
        root = diagnostics.root_not_shareable(culprit, problem.reason)
    elif problem.root is Root.NOT_DECLARED:
        root = diagnostics.root_not_declared(culprit)
    elif problem.root is Root.REASSIGNABLE:
        last = problem.steps[-1]
        chain.pop()
        root = diagnostics.root_reassignable(show(last.owner), last.attribute or "?")
    else:
        root = diagnostics.root_any(culprit)
    return diagnostics.because(chain, root)
