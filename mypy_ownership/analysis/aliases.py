"""Aliases: which locals may refer to (something reached from) a borrow.

A borrow is a value the function may only look at, or only use for the
duration of something: a ``Borrowed``/``MutBorrowed`` parameter, the data
behind a lock guard, ``Arc.value``.  ``AliasWalker`` follows the function's
control flow (``flow.FlowWalker``) and tracks, for every local, the borrows
it may alias and the path from each (``w = v.items`` aliases ``v`` at
``items``); at every reference it records what the name may alias there.
Values of immutable types are copies, never aliases.
"""

from __future__ import annotations


from mypy.nodes import (
    ConditionalExpr,
    IndexExpr,
    MemberExpr,
    Context,
    Expression,
    NameExpr,
    OpExpr,
    Var,
)
from mypy.types import Type

from mypy_ownership.analysis.flow import FlowWalker, ItemOf, Source, UseKey
from mypy_ownership.analysis.paths import ITEM, Path, place_of, type_at
from mypy_ownership.analysis.copyable import is_copy


class Borrow:
    """Where a borrow comes from (compared by identity).

    The plugin's records are plain classes with slots, not dataclasses or
    NamedTuples: every mypy run imports them, and building a dataclass costs
    half a millisecond, a NamedTuple a tenth of one."""

    __slots__ = ("name", "exclusive", "typ", "declared_at", "kind")

    def __init__(self, name: str, exclusive: bool, typ: Type | None, declared_at: Context, kind: str) -> None:
        self.name = name  # how messages name it: the parameter, "arc.value", the guard
        self.exclusive = exclusive  # MutBorrowed, a Mutex guard, a write() guard
        self.typ = typ  # the type of the borrowed value
        self.declared_at = declared_at  # where the notes point
        self.kind = kind  # "param", "arc", "read-guard", "guard"


# A borrow and the path from it to the value a name holds.
Alias = tuple[Borrow, Path]
_NONE: frozenset[Alias] = frozenset()


class AliasWalker(FlowWalker[Alias]):
    def __init__(self, seeds: dict[Var, frozenset[Alias]], *, module_level: bool = False) -> None:
        super().__init__(module_level=module_level)
        self.state = dict(seeds)
        # reference -> what it may alias there (only references that alias)
        self.aliases_at: dict[NameExpr, frozenset[Alias]] = {}
        # expressions (by id) whose value is a borrow: a `lock()` call
        self.seeded_sources: dict[int, frozenset[Alias]] = {}

    def use(self, key: UseKey, var: Var) -> None:
        if self.state is None or not isinstance(key, NameExpr):
            return
        found = self.state.get(var)
        if found:
            self.aliases_at[key] = found | self.aliases_at.get(key, _NONE)

    def bind(self, var: Var, kind: int | None, source: Source) -> None:
        if self.state is None:
            return
        found = self.aliases_of(source)
        if found:
            self.state[var] = found
        else:
            self.state.pop(var, None)
        self.record(var)

    def aliases_of(self, source: Source) -> frozenset[Alias]:
        """What the value of ``source`` may alias, immutable parts left out."""
        if source is None:
            return _NONE
        if isinstance(source, ItemOf):
            return _extend(self.aliases_of(source.expr), (ITEM,))
        if isinstance(source, ConditionalExpr):
            return self.aliases_of(source.if_expr) | self.aliases_of(source.else_expr)
        if isinstance(source, OpExpr) and source.op in ("and", "or"):
            return self.aliases_of(source.left) | self.aliases_of(source.right)
        seeded = self.seeded_sources.get(id(source))
        if seeded is not None:
            return seeded
        place = place_of(source)
        if place is None or self.state is None:
            return _NONE
        return _extend(self.state.get(place.var, _NONE), place.path)


def _extend(aliases: frozenset[Alias], path: Path) -> frozenset[Alias]:
    out = set()
    for borrow, base in aliases:
        full = base + path
        if not is_copy(type_at(borrow.typ, full)):
            out.add((borrow, full))
    return frozenset(out)


def aliases_of_expr(
    aliases_at: dict[NameExpr, frozenset[Alias]],
    e: Expression,
    seeded: dict[int, frozenset[Alias]] | None = None,
) -> frozenset[Alias]:
    """What ``e`` (a place) may alias, from the references the walk saw and
    the expressions that are borrows themselves (``arc.value``)."""
    if seeded:
        path: list[str] = []
        node: Expression = e
        while isinstance(node, (MemberExpr, IndexExpr)):
            if id(node) in seeded:
                return _extend(seeded[id(node)], tuple(reversed(path)))
            path.append(node.name if isinstance(node, MemberExpr) else ITEM)
            node = node.expr if isinstance(node, MemberExpr) else node.base
    place = place_of(e)
    if place is None:
        return _NONE
    return _extend(aliases_at.get(place.root, _NONE), place.path)
