"""The use-after-move check: joins what a call moves (facts) with where the
moved name is used next (flow), and reports through diagnostics.

mypy has no hook per statement or at the end of a function, so the check runs
from the call hooks: when a call moves a local, the flow analysis of the
function being checked (built on the first move in it, then reused) says
which uses can follow.  mypy may check a body more than once; each use is
reported once (the diagnostic's key is the use).
"""

from __future__ import annotations

from mypy.checker import TypeChecker
from mypy.nodes import LDEF, CallExpr, Context, Expression, FuncItem, MypyFile, NameExpr, Var

from mypy_ownership import diagnostics
from mypy_ownership.diagnostics import Diagnostic
from mypy_ownership.errorcodes import BORROW_CONFLICT, USE_AFTER_MOVE
from mypy_ownership.model.call import Call
from mypy_ownership.model.crossings import Crossing, local_crossings
from mypy_ownership.model.access import AccessReader
from mypy_ownership.model.hazards import caller_conflicts, hands_over_at_call, thread_access
from mypy_ownership.model.mutation import MutationOracle
from mypy_ownership.model.callee import Move, Role, borrowed_parameters
from mypy_ownership.model.thread_safety import ThreadSafety
from mypy_ownership.analysis.copyable import duplication, is_copy
from mypy_ownership.analysis.handoff import HandoffWalker
from mypy_ownership.analysis.flow import UseKey
from mypy_ownership.analysis.uses import UseGraph, UseGraphs, context_of
from mypy_ownership.analysis.syntax import expression_children


class MoveChecker:
    """Flow analyses of the module being checked, built on demand."""

    def __init__(self, safety: ThreadSafety, oracle: MutationOracle, graphs: UseGraphs) -> None:
        self._safety = safety
        self._oracle = oracle
        self._graphs = graphs

    def check_call(self, call: Call) -> list[Diagnostic]:
        thread_moves = self._thread_moves(call)
        # A boundary an overlay declares is checked for hazards (docs:
        # thread-safety.md, "Two modes"); the markers' and fearless's by Rust's rules.
        hazard = call.callee.overlay is not None and isinstance(call.context, CallExpr)
        moves = call.local_moves() + ([] if hazard else [m for m, _ in thread_moves])
        if not moves and not (hazard and thread_moves):
            return []
        api = call.api
        graph = self._graphs.of(api)
        if graph is None:
            return []
        owner = api.scope.current_function()
        borrowed = _borrowed_in_scope(api)
        in_call = _names_in_arguments(call.context)
        found: list[Diagnostic] = []
        nested = not hazard and _nested(api)
        for move in moves:
            if move.var in borrowed:
                continue  # not ours to move: the borrow check reports it
            if move.var not in graph.owned and not (nested and _captured_local(move)):
                continue
            for use in sorted(_uses_after(graph, move, in_call), key=_position):
                found.append(_use_after_move(use, move))
        if hazard:
            body = owner if isinstance(owner, FuncItem) else api.tree
            for move, crossing in thread_moves:
                if move.var not in graph.owned or move.var in borrowed:
                    continue
                found += self._hazards(call, move, crossing, body)
        return found

    def _hazards(self, call: Call, move: Move, crossing: Crossing, body: FuncItem | MypyFile) -> list[Diagnostic]:
        """The uses of a value handed over at an overlay's boundary that may
        race with the thread (analysis.handoff)."""
        assert isinstance(call.context, CallExpr)
        reader = AccessReader(self._oracle, self._oracle.only_reads, self._safety.is_sync)
        walker = HandoffWalker(
            module_level=isinstance(body, MypyFile),
            call=call.context,
            var=move.var,
            at_call=hands_over_at_call(call),
            conflicts=caller_conflicts(reader, thread_access(call, crossing, reader), body, move.var),
        )
        if isinstance(body, MypyFile):
            walker.statements(body.defs)
        else:
            walker.block(body.body)
        site: Context = walker.starts[0] if walker.starts else move.site
        found = []
        for use, caller_writes in sorted(walker.reported.items(), key=lambda item: _position(item[0])):
            if walker.joins:
                found.append(_lent_use(use, move.var.name, site, caller_writes))
            else:
                # reached at or before the name that hands it over: only through a loop
                in_loop = _position(use) <= _position(move.key)
                moved = Move(move.var, move.key, site, move.into_thread, move.callee)
                found.append(_use_after_move(use, moved, in_loop=in_loop))
        return found

    def _thread_moves(self, call: Call) -> list[tuple[Move, Crossing]]:
        """What a call hands to another thread: moved, unless every thread may
        use it at once (``Sync``).  A value an ``Owned[Send[...]]`` formal
        takes in this thread (``Sender.send``, ``Mutex(...)``) moves unless it
        is immutable, as any owned value does."""
        moves = []
        for crossing in local_crossings(call.crossings):
            if not crossing.moves:
                continue
            assert crossing.var is not None and crossing.key is not None
            if crossing.role is Role.VALUE:
                if is_copy(crossing.typ):
                    continue
            elif self._safety.shared_safely(crossing.typ):
                continue
            if crossing.needs_send and not self._safety.is_send(crossing.typ):
                if not call.released(self._safety, crossing):
                    continue  # reported as not-send; rustc, too, stops at that error
            into_thread = crossing.role not in (Role.VALUE, Role.HANDOFF)
            site = crossing.carrier if crossing.carrier is not None else crossing.site
            move = Move(crossing.var, crossing.key, site, into_thread, call.callee,
                        handed_over=crossing.role is Role.HANDOFF)
            moves.append((move, crossing))
        return moves


def _nested(api: TypeChecker) -> bool:
    """Is the function being checked defined inside another function?"""
    return sum(isinstance(frame, FuncItem) for frame in api.scope.stack) > 1


def _borrowed_in_scope(api: TypeChecker) -> set[Var]:
    """The ``Borrowed``/``MutBorrowed`` parameters of the function being
    checked and of the functions around it: not theirs to move (moving one
    out of a nested function is no use after move; Rust's E0507, not E0382)."""
    found: set[Var] = set()
    for frame in api.scope.stack:
        if isinstance(frame, FuncItem):
            found.update(borrowed_parameters(frame))
    return found


def _captured_local(move: Move) -> bool:
    """Is the moved name a local of an enclosing function, captured by the
    nested function being checked?  A move inside the nested function's own
    body is followed there (``def c(): consume(x); consume(x)``), whatever
    its caller does (an ownership rule: fearless's and the markers' moves)."""
    site = move.site
    return isinstance(site, NameExpr) and site.kind == LDEF


def _uses_after(graph: UseGraph, move: Move, in_call: set[int]) -> set[UseKey]:
    """The first uses after ``move``.  What goes to a thread leaves when the
    call runs, after all its arguments are evaluated: a later argument of the
    same call (``submit(run, job, job.name)``) is no use after the move; the
    uses after it are."""
    if not move.into_thread and not move.handed_over:
        return set(graph.next_uses(move.key))
    found: set[UseKey] = set()
    seen: set[UseKey] = set()
    todo = list(graph.next_uses(move.key))
    moved_at = _position(move.key)
    while todo:
        use = todo.pop()
        if use in seen:
            continue
        seen.add(use)
        # Later in the same call, not the next iteration's evaluation of it.
        if isinstance(use, NameExpr) and id(use) in in_call and _position(use) > moved_at:
            todo.extend(graph.next_uses(use))
        else:
            found.add(use)
    return found


def _names_in_arguments(call: Context) -> set[int]:
    if not isinstance(call, CallExpr):
        return set()
    found: set[int] = set()
    stack: list[Expression] = list(call.args)
    while stack:
        e = stack.pop()
        if isinstance(e, NameExpr):
            found.add(id(e))
        stack.extend(expression_children(e))
    return found


def _position(use: UseKey) -> tuple[int, int]:
    ctx = context_of(use)
    return (ctx.line, ctx.column)


def _use_after_move(use: UseKey, move: Move, in_loop: bool | None = None) -> Diagnostic:
    where = context_of(use)
    name = move.var.name
    if in_loop is None:
        in_loop = _position(use) <= (move.site.line, move.site.column)
    callee = None if move.into_thread else move.callee.label
    if move.receiver:
        notes: tuple[tuple[str | None, Context], ...] = (
            (diagnostics.consumed_here(name, move.callee.label, in_loop=in_loop), move.site),
            (diagnostics.consumed_help(name, move.callee.label, duplication(move.var.type)), move.site),
        )
        key = (*_position(use), name)
        return Diagnostic(USE_AFTER_MOVE, diagnostics.use_of_moved_value(name), where, notes, key=key)
    notes = (
        (diagnostics.moved_here(name, callee=callee, in_loop=in_loop), move.site),
        (
            diagnostics.move_help(
                name,
                callee=callee,
                from_runtime=not move.callee.declared_by_user,
                in_loop=in_loop,
                duplication=duplication(move.var.type),
            ),
            move.site,
        ),
    )
    # each use of a variable is reported once, for the first move that
    # reaches it (a closure handed over uses all it captures at one place)
    key = (*_position(use), name)
    return Diagnostic(USE_AFTER_MOVE, diagnostics.use_of_moved_value(name), where, notes, key=key)


def _lent_use(use: UseKey, name: str, start: Context, caller_writes: bool) -> Diagnostic:
    notes = ((diagnostics.lent_here(name), start), (diagnostics.lent_help(name), start))
    message = diagnostics.lent_to_thread(name, caller_writes=caller_writes)
    return Diagnostic(BORROW_CONFLICT, message, context_of(use), notes, key=(*_position(use), name))
