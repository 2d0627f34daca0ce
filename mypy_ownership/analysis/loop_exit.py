"""Whether every path from a point inside a loop's body leaves the loop
before the loop takes its next step.

A ``for`` loop's iterator is used again only when the body ends or reaches
``continue``; a ``break``, ``return`` or ``raise`` (or a call that never
returns) after some statement means the iterator is never asked again.  The
question is answered from the statements that follow the point, in its own
block and in each enclosing one up to the loop's body (its *frames*).

A statement's *outcomes* are the ways it can end: falling through to the
next statement, leaving the function (``return``, ``raise``, a call declared
``NoReturn``), ``break`` or ``continue`` (of the innermost loop around it).
Nested loops absorb their own ``break``/``continue``.  The answer is
conservative: a ``with`` that swallows an exception or a ``match`` that is
exhaustive are taken to fall through.
"""

from __future__ import annotations

from collections.abc import Sequence

from mypy.nodes import (
    Block,
    BreakStmt,
    ContinueStmt,
    ExpressionStmt,
    ForStmt,
    IfStmt,
    MatchStmt,
    NameExpr,
    RaiseStmt,
    ReturnStmt,
    Statement,
    TryStmt,
    WhileStmt,
    WithStmt,
)

from mypy_ownership.analysis.syntax import is_noreturn_call

FALL = "fall"
LEAVE = "leave"  # return, raise: out of the loop and the function
BREAK = "break"
CONTINUE = "continue"

Outcomes = frozenset[str]

_FALLS: Outcomes = frozenset({FALL})


class Frame:
    """One block between the point and the loop: the point lies in (or at)
    ``block.body[index]``; ``loop_body``: the block is the body of a loop
    nested in the one asked about (its ``break``/``continue`` are its own)."""

    __slots__ = ("block", "index", "loop_body")

    def __init__(self, block: Block, index: int, loop_body: bool) -> None:
        self.block = block
        self.index = index
        self.loop_body = loop_body


def leaves_before_next_step(frames: Sequence[Frame]) -> bool:
    """``frames``: from the loop's own body (first) to the innermost block;
    the point is the innermost frame's statement, which runs whole (a
    mutation in an ``if``'s condition is followed by the ``if`` itself)."""
    if not frames:
        return False
    innermost = frames[-1]
    current = statement_outcomes(innermost.block.body[innermost.index])
    for depth in range(len(frames) - 1, -1, -1):
        frame = frames[depth]
        current = _then(current, frame.block.body[frame.index + 1 :])
        if depth == 0:
            break
        if frame.loop_body:
            parent = frames[depth - 1]
            current = _out_of_loop(current, parent.block.body[parent.index])
    # the loop's own body: falling off its end or ``continue`` is its next step
    return current <= frozenset({LEAVE, BREAK})


def statement_outcomes(stmt: Statement) -> Outcomes:
    if isinstance(stmt, (ReturnStmt, RaiseStmt)):
        return frozenset({LEAVE})
    if isinstance(stmt, BreakStmt):
        return frozenset({BREAK})
    if isinstance(stmt, ContinueStmt):
        return frozenset({CONTINUE})
    if isinstance(stmt, ExpressionStmt):
        return frozenset({LEAVE}) if is_noreturn_call(stmt.expr) else _FALLS
    if isinstance(stmt, IfStmt):
        out: set[str] = set()
        for body in stmt.body:
            out |= block_outcomes(body)
        out |= block_outcomes(stmt.else_body) if stmt.else_body is not None else _FALLS
        return frozenset(out)
    if isinstance(stmt, (ForStmt, WhileStmt)):
        ends = block_outcomes(stmt.body)
        forever = isinstance(stmt, WhileStmt) and _is_true(stmt.expr)
        out = set(ends & {LEAVE})
        if BREAK in ends or not forever:
            out.add(FALL)
        if not forever and stmt.else_body is not None:
            out.discard(FALL)
            out |= block_outcomes(stmt.else_body)
            if BREAK in ends:
                out.add(FALL)
        return frozenset(out)
    if isinstance(stmt, WithStmt):
        return block_outcomes(stmt.body)
    if isinstance(stmt, TryStmt):
        out = set(block_outcomes(stmt.body))
        if stmt.else_body is not None and FALL in out:
            out.discard(FALL)
            out |= block_outcomes(stmt.else_body)
        for handler in stmt.handlers:
            out |= block_outcomes(handler)
        if stmt.finally_body is not None:
            final = block_outcomes(stmt.finally_body)
            if FALL not in final:
                return final
        return frozenset(out)
    if isinstance(stmt, MatchStmt):
        out = {FALL}
        for body in stmt.bodies:
            out |= block_outcomes(body)
        return frozenset(out)
    return _FALLS


def block_outcomes(block: Block) -> Outcomes:
    return _then(_FALLS, block.body)


def _then(current: Outcomes, rest: Sequence[Statement]) -> Outcomes:
    """The outcomes of ``rest`` run after something that ended so."""
    out = set(current)
    for stmt in rest:
        if FALL not in out:
            break
        out.discard(FALL)
        out |= statement_outcomes(stmt)
    return frozenset(out)


def _out_of_loop(current: Outcomes, loop: Statement) -> Outcomes:
    """How a nested loop ends after its body ended so: it steps again or
    stops (and runs its ``else``), or ``break`` leaves it (skipping the
    ``else``)."""
    out = set(current & {LEAVE})
    if BREAK in current:
        out.add(FALL)
    if current & {FALL, CONTINUE}:
        else_body = getattr(loop, "else_body", None)
        out |= block_outcomes(else_body) if isinstance(else_body, Block) else _FALLS
    return frozenset(out)


def _is_true(e: object) -> bool:
    return isinstance(e, NameExpr) and e.fullname == "builtins.True"
