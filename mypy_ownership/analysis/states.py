"""The state a flow walk carries, and what control flow does to it.

A state maps each variable to a set (pending uses, aliases, roots: what a
set holds is the walker's business); ``None`` is an unreachable point.
Branches meet by union (``join``).  A loop's head is the least state that
holds its entry and every state its body can go back with; ``LoopHeads``
remembers, for the walk of one body, where each loop's head ended the last
time, so that a loop walked again from a larger entry (an enclosing loop's
next round) starts there instead of climbing from its entry again.

These run at every branch and loop of every function the plugin analyses:
they are written for speed (the set operations of ``dict`` views run in C).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, NoReturn, TypeVar

from mypy.nodes import Block, Var

T = TypeVar("T")
State = dict[Var, frozenset[T]]

# Empty, so a subset of any state's entries (NoReturn: no element type).
NOTHING: frozenset[NoReturn] = frozenset()
# Loops converge in two rounds; the bound only guards against a bug.
MAX_LOOP_ROUNDS = 16


class LoopFrame(Generic[T]):
    """The states at the ``break``s and ``continue``s of one round of a loop."""

    __slots__ = ("breaks", "continues")

    def __init__(self) -> None:
        self.breaks: list[State[T] | None] = []
        self.continues: list[State[T] | None] = []


def copy_state(state: State[T] | None) -> State[T] | None:
    return None if state is None else dict(state)


def join(states: Iterable[State[T] | None]) -> State[T] | None:
    """The union of ``states`` (a new dict; None when all are None)."""
    result: State[T] | None = None
    for s in states:
        if s is None or s is result:
            continue
        if result is None:
            result = dict(s)
            continue
        # Only the entries that differ: branches share most of their sets.
        for var, items in s.items() - result.items():
            mine = result.get(var)
            result[var] = items if mine is None else mine | items
    return result


def covers(big: State[T] | None, small: State[T] | None) -> bool:
    """Does ``big`` hold everything ``small`` holds?"""
    if small is None:
        return True
    if big is None:
        return False
    for var, items in small.items():
        mine = big.get(var)
        if mine is not items and not items <= (mine or NOTHING):
            return False
    return True


class LoopHeads(Generic[T]):
    """By loop body: the entry a loop was last walked from, and the head it
    reached.  Only for walkers whose events are monotone (a larger state in,
    a larger state and more results out): then a loop entered again from a
    state that covers the last entry has a head that covers the last head,
    and climbing from ``join(entry, last head)`` reaches the same fixed point
    as climbing from the entry, in fewer rounds (``FlowWalker.loop``)."""

    __slots__ = ("_heads",)

    def __init__(self) -> None:
        self._heads: dict[Block, tuple[State[T] | None, State[T] | None]] = {}

    def start(self, body: Block, entry: State[T] | None) -> State[T] | None:
        """Where the climb of the loop with ``body`` from ``entry`` may start."""
        last = self._heads.get(body)
        if last is None or entry is None or not covers(entry, last[0]):
            return entry
        return join([entry, last[1]])

    def reached(self, body: Block, entry: State[T] | None, head: State[T] | None) -> None:
        self._heads[body] = (entry, head)
