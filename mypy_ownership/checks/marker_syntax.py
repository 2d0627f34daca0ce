"""Checking how the markers are written: each takes exactly one type argument.

A bare ``Owned`` would silently mean ``Owned[Any]`` and ``Owned[A, B]`` means
nothing; both get a clear error instead of a guess.
"""

from __future__ import annotations

from mypy.nodes import TypeAlias
from mypy.plugin import AnalyzeTypeContext
from mypy.types import AnyType, Type, TypeAliasType, TypeOfAny

from mypy_ownership.diagnostics import Diagnostic, Reporter, marker_arity
from mypy_ownership.errorcodes import MARKER


def check_marker_arity(ctx: AnalyzeTypeContext, alias: TypeAlias) -> Type:
    args = ctx.type.args
    if len(args) != 1:
        Reporter.report_in_type(ctx.api, Diagnostic(MARKER, marker_arity(alias.name, len(args)), ctx.context))
        return AnyType(TypeOfAny.from_error)
    inner = ctx.api.analyze_type(args[0])
    return TypeAliasType(alias, [inner], line=ctx.type.line, column=ctx.type.column)
