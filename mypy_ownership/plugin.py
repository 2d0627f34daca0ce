"""The plugin class: it only dispatches, by full name, to the modules that
know what to do.  Everything it answers is cached per full name, because mypy
asks for every call in the program."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from mypy.nodes import TypeAlias
from mypy.plugin import AnalyzeTypeContext, Plugin, ReportConfigContext
from mypy.types import Type

from mypy_ownership import marker_syntax
from mypy_ownership.markers import MARKER_BY_FULLNAME
from mypy_ownership.version import plugin_version


class OwnershipPlugin(Plugin):
    def get_type_analyze_hook(
        self, fullname: str
    ) -> Callable[[AnalyzeTypeContext], Type] | None:
        if fullname not in MARKER_BY_FULLNAME:
            return None
        sym = self.lookup_fully_qualified(fullname)
        if sym is None or not isinstance(sym.node, TypeAlias):
            return None
        return partial(marker_syntax.check_marker_arity, alias=sym.node)

    def report_config_data(self, ctx: ReportConfigContext) -> Any:
        return {"plugin": plugin_version()}
