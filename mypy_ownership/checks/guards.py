"""Lock guards: "lock data, not code".

``with m.lock() as guard:`` (and an ``RwLock``'s ``read()``/``write()``)
lends the data for the duration of the block.  When mypy checks the
``lock()`` call, the function is examined once for that block: the guard and
everything read out of ``guard.value`` that is not an immutable copy is
followed (``aliases``); a use of it after the block, and a return, yield or
store inside the block that lets it outlive the lock, are reported at that
place with a note at the ``with`` (rustc's "does not live long enough").
A read guard is a shared borrow: mutating its data is ``borrow-mutate``.
"""

from __future__ import annotations

from mypy.checker import TypeChecker
from mypy.nodes import CallExpr, Expression, FuncItem, NameExpr, Node, WithStmt
from mypy.plugin import MethodContext

from mypy_ownership import diagnostics
from mypy_ownership.analysis.aliases import AliasWalker, Borrow
from mypy_ownership.analysis.syntax import statement_children
from mypy_ownership.diagnostics import Diagnostic
from mypy_ownership.errorcodes import BORROW_ESCAPE
from mypy_ownership.model.borrow_scan import BodyScan, BorrowAnalysis
from mypy_ownership.model.mutation import MutationOracle
from mypy_ownership.model.runtime import GUARD_METHODS


class GuardChecker:
    def __init__(self, oracle: MutationOracle) -> None:
        self._oracle = oracle

    def check_lock_call(self, ctx: MethodContext, fullname: str) -> list[Diagnostic]:
        """The ``with`` block of a guard-handing call (``GUARD_METHODS``)."""
        api = ctx.api
        assert isinstance(api, TypeChecker)
        call = ctx.context
        func = api.scope.current_function()
        if not isinstance(call, CallExpr) or func is None:
            return []
        found = _enclosing_with(func, call)
        if found is None:
            return []  # the guard is not used as a context manager
        with_stmt, target = found
        shared = GUARD_METHODS[fullname]
        guard = Borrow(
            name=target.name,
            exclusive=not shared,
            typ=ctx.default_return_type,
            declared_at=with_stmt,
            kind="read-guard" if shared else "guard",
        )
        walker = AliasWalker({})
        walker.seeded_sources[id(call)] = frozenset({(guard, ())})
        walker.block(func.body)
        analysis = BorrowAnalysis(func, walker.aliases_at, walker.closures, walker.nonlocal_names)
        return BodyScan(analysis, self._oracle).scan(with_stmt.body) + _uses_after(analysis, with_stmt, guard)


def _enclosing_with(func: FuncItem, call: CallExpr) -> tuple[WithStmt, NameExpr] | None:
    stack: list[Node] = [func.body]
    while stack:
        node = stack.pop()
        if isinstance(node, WithStmt):
            for expr, target in zip(node.expr, node.target):
                if expr is call and isinstance(target, NameExpr):
                    return node, target
        if isinstance(node, FuncItem) and node is not func:
            continue
        if isinstance(node, Expression):
            continue  # a with statement is never inside an expression
        stack.extend(statement_children(node))
    return None


def _uses_after(analysis: BorrowAnalysis, with_stmt: WithStmt, guard: Borrow) -> list[Diagnostic]:
    """The first use of each name that holds the guard or its data, after
    the block (the lock is released there)."""
    first_line, last_line = with_stmt.line, with_stmt.end_line or with_stmt.line
    out: list[Diagnostic] = []
    reported: set[str] = set()
    for ref, aliases in sorted(analysis.aliases_at.items(), key=lambda kv: (kv[0].line, kv[0].column)):
        if first_line <= ref.line <= last_line:
            continue
        mine = [path for borrow, path in aliases if borrow is guard]
        if not mine or ref.name in reported:
            continue
        reported.add(ref.name)
        if () in mine:
            message = diagnostics.guard_used_after_release(ref.name)
        else:
            message = diagnostics.guarded_data_used_after_release(f'"{ref.name}"')
        notes = ((diagnostics.lock_released_here(), with_stmt), (diagnostics.guard_help(), ref))
        out.append(Diagnostic(BORROW_ESCAPE, message, ref, notes))
    return out
