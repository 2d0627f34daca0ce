"""Which methods mutate their receiver.

In order of authority:
1. an explicit marker on ``self`` in the method's declaration:
   ``self: MutBorrowed[Self]`` mutates, ``self: Borrowed[Self]`` does not;
2. the ownership overlays (``stubs/``) for the standard library;
3. inference for user classes: a method mutates when it writes to an
   attribute of ``self`` (or below one), or calls a mutating method on
   ``self`` or on something reached from it, transitively and through
   inheritance (the receiver's class decides which override runs).
Anything else (a compiled class with no overlay) is taken as not mutating.

The overlays also say which library functions only read their arguments
(every parameter but the receiver marked ``Borrowed``: ``Logger.debug``
formats them): handing a value to one writes nothing (``only_reads``).
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import TypeInfo
from mypy.typevars import fill_typevars
from mypy.types import Instance, Type, get_proper_type

from mypy_ownership.model.class_facts import method_facts
from mypy_ownership.model.callee import declared_function
from mypy_ownership.markers import Marker, markers_of
from mypy_ownership.overlays.entries import METHOD, OverlayFunction
from mypy_ownership.analysis.paths import type_at

# Modules whose mutating methods the overlays list in full (builtins' containers).
_OVERLAID_MODULES = frozenset({"builtins", "collections", "array"})

# Asks the overlays about a method's full name: True, False, or None (silent).
OverlayLookup = Callable[[str], "bool | None"]
# Finds the overlay's entry for a function's full name.
FunctionLookup = Callable[[str], "OverlayFunction | None"]


class MutationOracle:
    def __init__(self, overlays: OverlayLookup, functions: FunctionLookup | None = None) -> None:
        self._overlays = overlays
        self._functions = functions
        self._memo: dict[tuple[str, str], bool] = {}

    def only_reads(self, fullname: str) -> bool:
        """Does the overlay declare every argument of this function (the
        receiver aside) ``Borrowed``: it only reads what it is given?"""
        entry = self._functions(fullname) if self._functions is not None else None
        if entry is None:
            return False
        params = entry.params[1:] if entry.kind == METHOD else entry.params
        return bool(params) and all(Marker.BORROWED in markers for _, markers in params)

    def forget(self) -> None:
        """Drop every answer (the classes they were about may have changed)."""
        self._memo.clear()

    def mutates(self, receiver: Type | None, method: str) -> bool:
        t = get_proper_type(receiver)
        if not isinstance(t, Instance):
            return False
        return self._mutates(t.type, method, set())

    def may_mutate(self, receiver: Type | None, method: str) -> bool:
        """Like ``mutates``, but a method that no marker, overlay or source
        speaks for (a library's, an unknown receiver's) may mutate."""
        t = get_proper_type(receiver)
        if not isinstance(t, Instance):
            return True
        for base in t.type.mro:
            sym = base.names.get(method)
            if sym is None or sym.node is None:
                continue
            func = declared_function(sym.node)
            marked = func is not None and func.arg_types and markers_of(func.arg_types[0]) & {
                Marker.MUT_BORROWED, Marker.BORROWED
            }
            known = base.module_name in _OVERLAID_MODULES or method_facts(base, method) is not None
            if marked or known or self._overlays(f"{base.fullname}.{method}") is not None:
                return self.mutates(t, method)
            return True
        return True

    def _mutates(self, info: TypeInfo, method: str, active: set[tuple[str, str]]) -> bool:
        key = (info.fullname, method)
        if key in self._memo:
            return self._memo[key]
        if key in active:
            return False  # a cycle of calls: decided by its other members
        active.add(key)
        result = self._decide(info, method, active)
        active.discard(key)
        if not active:
            self._memo[key] = result
        return result

    def _decide(self, info: TypeInfo, method: str, active: set[tuple[str, str]]) -> bool:
        for base in info.mro:
            sym = base.names.get(method)
            if sym is None or sym.node is None:
                continue
            func = declared_function(sym.node)
            if func is not None and func.arg_types:
                self_markers = markers_of(func.arg_types[0])
                if Marker.MUT_BORROWED in self_markers:
                    return True
                if Marker.BORROWED in self_markers:
                    return False
            overlay = self._overlays(f"{base.fullname}.{method}")
            if overlay is not None:
                return overlay
            facts = method_facts(base, method)
            if facts is None:
                return False
            if facts.get("declared") is not None:
                return bool(facts["declared"] == "exclusive")
            if facts.get("writes", False):
                return True
            if any(self._mutates(info, m, active) for m in facts.get("self_calls", [])):
                return True
            self_type = fill_typevars(info)
            for path, m in facts.get("attr_calls", []):
                below = get_proper_type(type_at(self_type, tuple(path)))
                if isinstance(below, Instance) and self._mutates(below.type, m, active):
                    return True
            return False
        return False
