"""The thread-boundary check: what crosses into another thread at a call
(``crossings``) must be ``Send``, and what is shared with it ``Sync``
(``thread_safety``); a value that is not is reported at the argument, with
the culprit and a way out (``diagnostics``).

A thread-bound library value that was made so that it may cross after all
(``sqlite3.connect(path, check_same_thread=False)``, as the overlays
declare) passes when the local holding it is only ever assigned such calls.

At a boundary an overlay declares (hazard detection), the object whose code
runs on the thread (a bound method's receiver, a started ``Thread``
subclass, a captured ``self``) must be ``Send`` in what that code reaches
(``reach``) only; ownership discipline asks it of the whole object.  There
too, an item put on a queue attribute of a class with source must be
``Send`` in the parts that class's code touches when it takes the item
(``queue_items``): a future it only asks ``cancelled()`` and hands back to
its loop stays the loop's.
"""

from __future__ import annotations

from mypy.messages import format_type_bare
from mypy.nodes import CallExpr, Context, MemberExpr
from mypy.options import Options
from mypy.types import Instance, Type, UnionType, get_proper_type

from mypy_ownership import diagnostics
from mypy_ownership.diagnostics import Diagnostic
from mypy_ownership.errorcodes import NOT_SEND, NOT_SYNC
from mypy_ownership.model.call import Call
from mypy_ownership.model.class_facts import is_source_class
from mypy_ownership.model.queue_items import PUTS, ItemUses, item_uses
from mypy_ownership.model.reach import closure_reach, reached_attributes
from mypy_ownership.model.crossings import LOOP_BOUND_MODULES, TO_LOOP_THREAD, Crossing
from mypy_ownership.model.thread_safety import Problem, Root, ThreadSafety, Trait


class BoundaryChecker:
    def __init__(self, safety: ThreadSafety) -> None:
        self._safety = safety

    def check_call(self, call: Call) -> list[Diagnostic]:
        callee = call.callee
        to_loop = callee.overlay is not None and callee.overlay.fullname in TO_LOOP_THREAD
        found: list[Diagnostic] = []
        for crossing in call.crossings:
            problem = self._problem(call, crossing)
            if problem is None or (to_loop and _bound_to_loop(problem)):
                continue
            found.append(_cannot_cross(call.api.options, crossing, problem))
        return found

    def _problem(self, call: Call, crossing: Crossing) -> Problem | None:
        if crossing.needs_send:
            taker = _taker(call, crossing)
            if taker is not None:
                problem = self._safety.problem_of_items(crossing.typ, taker, Trait.SEND)
            else:
                problem = self._safety.problem_within(crossing.typ, Trait.SEND, _reached(call, crossing))
            if problem is not None and not call.released(self._safety, crossing):
                return problem
        if crossing.needs_sync:
            return self._safety.problem(crossing.typ, Trait.SYNC)
        return None


def _reached(call: Call, crossing: Crossing) -> frozenset[str] | None:
    """At a boundary an overlay declares (hazard detection), what of the
    object whose code runs on the thread (a bound method's receiver, a
    started ``Thread`` subclass, a captured ``self``) that code reaches;
    None (the whole object) for ownership discipline, and where unknown."""
    receiver = get_proper_type(crossing.typ)
    if call.callee.overlay is None or not isinstance(receiver, Instance):
        return None
    if crossing.how == "receiver" and isinstance(crossing.carrier, MemberExpr):
        return reached_attributes(receiver.type, {crossing.carrier.name})
    if crossing.how == "sent-self":
        return reached_attributes(receiver.type, {"run"})
    if crossing.how == "captured-self" and crossing.var is not None:
        return closure_reach(crossing.carrier, crossing.var.name, receiver.type)
    return None


def _taker(call: Call, crossing: Crossing) -> ItemUses | None:
    """``worker.queue.put(item)`` at a boundary an overlay declares: what
    the code of ``worker``'s class does with the items it takes from its
    ``queue`` (``model.queue_items``); None for any other crossing."""
    callee = call.context.callee if isinstance(call.context, CallExpr) else None
    if call.callee.overlay is None or crossing.how != "argument" or not isinstance(callee, MemberExpr):
        return None
    if callee.name not in PUTS:
        return None  # not a put: ``self.executor.submit(fn, x)`` gives to what submit runs
    queue = callee.expr
    if not isinstance(queue, MemberExpr):
        return None
    owner = get_proper_type(call.api.lookup_type_or_none(queue.expr))
    if not isinstance(owner, Instance) or not is_source_class(owner.type):
        return None
    return item_uses(owner.type, queue.name)


def _bound_to_loop(problem: Problem) -> bool:
    """Is the culprit one of asyncio's loop-bound objects (which a call into
    the loop's thread takes home)?"""
    culprit = get_proper_type(problem.culprit)
    return (
        problem.root is Root.THREAD_BOUND
        and isinstance(culprit, Instance)
        and culprit.type.module_name.split(".")[0] in LOOP_BOUND_MODULES
    )


def _cannot_cross(options: Options, crossing: Crossing, problem: Problem) -> Diagnostic:
    shown = format_type_bare(crossing.typ, options) if crossing.typ is not None else "?"
    if problem.trait is Trait.SEND:
        message, code = diagnostics.cannot_send(shown), NOT_SEND
    else:
        message, code = diagnostics.cannot_share(shown), NOT_SYNC
    notes: list[tuple[str, Context]] = []
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
    name = crossing.var.name if crossing.var is not None else ""
    # one report per value crossing at a place (a closure may carry several)
    key = (crossing.site.line, crossing.site.column, problem.trait.value, name)
    return Diagnostic(code, message, crossing.site, notes, key=key)


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
    elif problem.root is Root.UNGUARDED:
        root = diagnostics.root_unguarded(show(problem.culprit), problem.reason)
    else:
        root = diagnostics.root_any(culprit)
    return diagnostics.because(chain, root)
