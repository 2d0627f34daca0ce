"""The borrow check of a function body: mutation through a shared borrow
(``borrow-mutate``) and borrows that outlive the call (``borrow-escape``).

It runs from the function's checkpoint (see ``analysis.checkpoint``), before
mypy checks the body: the aliases of every borrowed parameter are followed
along the control flow (``analysis.aliases``), then each statement that
mutates or stores something is matched against them (``model.borrow_scan``).
Calls that take a borrow somewhere it must not go (a ``MutBorrowed`` or
``Owned`` parameter, a channel, a thread) are judged when mypy checks the
call, from the same analysis.  ``arc.value`` is a shared borrow wherever it
is read.
"""

from __future__ import annotations

from mypy.checker import TypeChecker
from mypy.nodes import FuncItem, LambdaExpr, MemberExpr, MypyFile
from mypy.plugin import AttributeContext, CheckerPluginInterface, FunctionContext
from mypy.types import CallableType

from mypy_ownership import diagnostics
from mypy_ownership.analysis.aliases import AliasWalker, Borrow
from mypy_ownership.diagnostics import Diagnostic
from mypy_ownership.markers import Marker
from mypy_ownership.model.borrow_scan import BodyScan, BorrowAnalysis, borrowed_seeds, escape, mutate, render_expr
from mypy_ownership.model.call import Call
from mypy_ownership.model.callee import Role, packed_items
from mypy_ownership.model.mutation import MutationOracle
from mypy_ownership.model.runtime import CHANNEL_SENDS


class BorrowChecker:
    def __init__(self, oracle: MutationOracle) -> None:
        self._oracle = oracle
        self._checker: TypeChecker | None = None
        self._analyses: dict[int, BorrowAnalysis] = {}

    # -- the checkpoint: the body ---------------------------------------------------

    def check_body(self, ctx: FunctionContext) -> list[Diagnostic]:
        """The body of the function whose checkpoint mypy is checking (each
        time mypy checks it: the reporter reports each finding once)."""
        api = ctx.api
        assert isinstance(api, TypeChecker)
        func = api.scope.current_function()
        if func is None or not isinstance(func.type, CallableType):
            return []
        self._reset_for(api)
        seeds = borrowed_seeds(func)
        analysis = self._analyses.get(id(func))
        if analysis is None or analysis.func is not func:
            walker = AliasWalker(seeds)
            walker.block(func.body)
            analysis = BorrowAnalysis(func, walker.aliases_at, walker.closures, walker.nonlocal_names)
            self._analyses[id(func)] = analysis
        if not seeds:
            return []
        return BodyScan(analysis, self._oracle).scan(func.body)

    def check_arc_value(self, ctx: AttributeContext) -> list[Diagnostic]:
        """``arc.value`` is shared by every clone of the Arc: a shared
        borrow wherever it is read."""
        api = ctx.api
        assert isinstance(api, TypeChecker)
        func = api.scope.current_function()
        access = ctx.context
        if func is None or ctx.is_lvalue or not isinstance(access, MemberExpr):
            return []
        borrow = Borrow(
            name=render_expr(access).strip('"'),
            exclusive=False,
            typ=ctx.default_attr_type,
            declared_at=access,
            kind="arc",
        )
        seed = frozenset({(borrow, ())})
        walker = AliasWalker({})
        walker.seeded_sources[id(access)] = seed
        walker.block(func.body)
        analysis = BorrowAnalysis(func, walker.aliases_at, walker.closures, walker.nonlocal_names)
        analysis.seeded[id(access)] = seed
        return BodyScan(analysis, self._oracle, mutations_only=True).scan(func.body)

    def _reset_for(self, api: TypeChecker) -> None:
        if api is not self._checker:
            self._checker = api
            self._analyses = {}

    def analysis_for(self, api: CheckerPluginInterface) -> BorrowAnalysis | None:
        assert isinstance(api, TypeChecker)
        if api is not self._checker:
            return None
        for frame in reversed(api.scope.stack):
            if isinstance(frame, FuncItem):
                found = self._analyses.get(id(frame))
                if found is not None and found.func is frame:
                    return found
                if not isinstance(frame, LambdaExpr):
                    return None
        return None

    # -- calls: where an argument may not go ------------------------------------------

    def check_call(self, call: Call) -> list[Diagnostic]:
        """Where a borrowed argument may not go."""
        analysis = self.analysis_for(call.api)
        formals = call.formals if analysis is not None else None
        if analysis is None or formals is None:
            return []
        found: list[Diagnostic] = []
        callee = call.callee
        for actuals, (markers, role) in zip(call.ctx.args, formals):
            if role is Role.PACKED:  # Thread(args=(x, y)): each item goes to the thread
                actuals = [item for actual in actuals for item in packed_items(actual)]
                role = Role.THREAD_ARG
            for actual in actuals:
                if role is Role.CLOSURE:
                    captured = analysis.captured(actual)
                    if captured and Marker.OWNED in markers:
                        found.append(escape(actual, None, captured, "handed to a thread"))
                    continue
                aliases = analysis.aliases(actual)
                if not aliases:
                    continue
                what = render_expr(actual)
                shared = [a for a in aliases if not a[0].exclusive]
                if role in (Role.THREAD_ARG, Role.HANDOFF):
                    found.append(escape(actual, what, aliases, "handed to a thread"))
                elif Marker.OWNED in markers and callee.fullname in CHANNEL_SENDS:
                    found.append(escape(actual, what, aliases, "sent on a channel"))
                elif Marker.MUT_BORROWED in markers and shared:
                    found.append(mutate(actual, shared[0], diagnostics.borrow_as_mutable_behind_shared(what)))
                elif Marker.OWNED in markers and shared:
                    found.append(mutate(actual, shared[0], diagnostics.move_out_of_shared(what)))
                elif Marker.OWNED in markers:
                    found.append(escape(actual, what, aliases, f"moved into {callee.label}"))
        return found
