"""The call in hand: one object per call mypy checks, built by ``dispatch``
and handed to every check, with what the checks ask of it computed once.

mypy calls the plugin once per call it checks (again when it checks the
body again), with a context that holds the arguments and their types.
Every check of a call needs the formals mypy matched (``formals``) and what
crosses into another thread (``crossings``): both are worked out when the
call is made and kept here, for this call only (plain attributes: the
checks read them some five times a call).
"""

from __future__ import annotations

from mypy.checker import TypeChecker
from mypy.nodes import Context, FuncItem, MemberExpr, Node
from mypy.plugin import FunctionContext, MethodContext

from mypy_ownership.analysis.made_with import made_with
from mypy_ownership.analysis.syntax import local_var
from mypy_ownership.model.callee import CalleeFacts, FormalMarkers, Move, formal_markers, local_moves_of_call
from mypy_ownership.model.crossings import Crossing, crossings_of_call
from mypy_ownership.model.thread_safety import ThreadSafety


class Call:
    """A call of a callee the plugin has facts for."""

    __slots__ = ("ctx", "callee", "formals", "crossings")

    ctx: FunctionContext | MethodContext
    callee: CalleeFacts
    # the markers and role of each formal of the signature mypy matched
    # (None: no signature of the callee lines up with the call)
    formals: list[FormalMarkers] | None
    # what goes into another thread at this call
    crossings: list[Crossing]

    def __init__(self, ctx: FunctionContext | MethodContext, callee: CalleeFacts) -> None:
        self.ctx = ctx
        self.callee = callee
        self.formals = formal_markers(ctx, callee)
        self.crossings = crossings_of_call(ctx, callee, self.formals)

    def __repr__(self) -> str:
        return f"Call({self.callee!r}, line={self.ctx.context.line})"

    @property
    def api(self) -> TypeChecker:
        api = self.ctx.api
        assert isinstance(api, TypeChecker)
        return api

    @property
    def context(self) -> Context:
        return self.ctx.context

    def local_moves(self) -> list[Move]:
        """What the call moves into its callee, in this thread."""
        return local_moves_of_call(self.ctx, self.callee, self.formals)

    def released(self, safety: ThreadSafety, crossing: Crossing) -> bool:
        """Is the thread-bound local that crosses made so that it may cross
        after all (``check_same_thread=False``)?  That is the local itself,
        or the local whose bound method is handed over (``Timer(0.1,
        conn.execute)``)."""
        var = crossing.var
        if var is None and crossing.how == "receiver" and isinstance(crossing.site, MemberExpr):
            var = local_var(crossing.site.expr)
        if var is None:
            return False
        api = self.api
        func = api.scope.current_function()
        body: Node = func.body if isinstance(func, FuncItem) else api.tree
        return safety.released(crossing.typ, made_with(body, var))
