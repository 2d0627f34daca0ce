"""What the class hook learnt from a class's method bodies, kept while mypy
analyses the class's module.

mypy analyses a class again on every deferred pass over its module (the
same ``ClassDef``, the same bodies), and what the bodies say does not change
between passes: each recorder keeps its findings here and walks the bodies
once.  Kept for the module being analysed, and only for it, keyed by the
class and held with its methods' bodies: the daemon keeps a class's objects
across an edit but gives its methods new bodies, which are walked again.

Within one call of the class hook, the recorders that read every
expression of a body share one listing of them (``BodyExpressions``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mypy.nodes import Block, ClassDef, Expression
from mypy.server.subexpr import get_subexpressions


class BodyMemo:
    """One recorder's findings per class of the module being analysed."""

    __slots__ = ("_module", "_kept")

    def __init__(self) -> None:
        self._module: str | None = None
        self._kept: dict[int, tuple[ClassDef, list[Block], Any]] = {}

    def get(self, module: str | None, cls: ClassDef, bodies: Sequence[Block]) -> Any | None:
        """What was kept for ``cls`` with exactly these bodies, else None."""
        if module != self._module:
            self._module, self._kept = module, {}
            return None
        kept = self._kept.get(id(cls))
        if kept is None or kept[0] is not cls or len(kept[1]) != len(bodies):
            return None
        if any(old is not new for old, new in zip(kept[1], bodies)):
            return None
        return kept[2]

    def keep(self, module: str | None, cls: ClassDef, bodies: Sequence[Block], found: Any) -> None:
        if module != self._module:
            self._module, self._kept = module, {}
        self._kept[id(cls)] = (cls, list(bodies), found)


class BodyExpressions:
    """The expressions of each method body of the class the hook is
    recording (mypy's compiled traverser lists them, nested functions and
    lambdas included), listed once for all the recorders; made anew for
    every call of the hook, so the bodies it is keyed by are alive."""

    __slots__ = ("_found",)

    def __init__(self) -> None:
        self._found: dict[int, list[Expression]] = {}

    def of(self, body: Block) -> list[Expression]:
        found = self._found.get(id(body))
        if found is None:
            found = self._found[id(body)] = get_subexpressions(body)
        return found
