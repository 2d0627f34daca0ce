"""Checkpoints: a call back from mypy when it checks a function's body.

mypy calls a plugin for calls, never for a function as a whole, yet a
function that takes a borrowed parameter must be examined even when it calls
nothing (``return v`` lets a borrow escape).  While mypy analyses such a
function's signature (the marker's type-analyze hook), the plugin puts a call
of ``fearless.markers._ownership_checkpoint`` at the top of the body -- in
mypy's tree only, never in the source -- and the function hook of that call
runs the body's borrow check.  Trivial bodies (``...``, ``pass``, a
docstring) get none: they borrow nothing, and mypy treats them specially.
"""

from __future__ import annotations

from mypy.nodes import GDEF, CallExpr, ExpressionStmt, FuncDef, NameExpr, SymbolTableNode
from mypy.plugin import AnalyzeTypeContext
from mypy.semanal import SemanticAnalyzer, is_trivial_body

CHECKPOINT_FULLNAME = "fearless.markers._ownership_checkpoint"
# The name it is bound to in the checked module (hidden, not exported).
_LOCAL_NAME = "__ownership_checkpoint__"


def request_checkpoint(ctx: AnalyzeTypeContext) -> None:
    """Called for a borrow marker in a signature: give its function a
    checkpoint, once."""
    semanal = getattr(ctx.api, "api", None)
    if not isinstance(semanal, SemanticAnalyzer):
        return
    functions = semanal.scope.functions
    add_checkpoint(semanal, functions[-1] if functions else None)


def add_checkpoint(semanal: object, func: object) -> None:
    """Put a checkpoint at the top of ``func``'s body, once."""
    if not isinstance(semanal, SemanticAnalyzer) or semanal.is_stub_file:
        return
    if not isinstance(func, FuncDef) or is_trivial_body(func.body):
        return
    # The name first: the daemon, analysing a module's top level again,
    # drops every name of the module while the body keeps its checkpoint.
    module = semanal.cur_mod_node
    if _LOCAL_NAME not in module.names:
        target = semanal.lookup_fully_qualified_or_none(CHECKPOINT_FULLNAME)
        if target is None or target.node is None:
            return  # fearless.markers not loaded: nothing to call back
        module.names[_LOCAL_NAME] = SymbolTableNode(
            GDEF, target.node, module_public=False, module_hidden=True
        )
    body = func.body.body
    if body and is_checkpoint(body[0]):
        return  # mypy analyses a signature again when it defers a function
    callee = NameExpr(_LOCAL_NAME)
    call = CallExpr(callee, [], [], [])
    stmt = ExpressionStmt(call)
    for node in (callee, call, stmt):
        node.set_line(func.line, func.column)
    body.insert(0, stmt)


def is_checkpoint(stmt: object) -> bool:
    return (
        isinstance(stmt, ExpressionStmt)
        and isinstance(stmt.expr, CallExpr)
        and isinstance(stmt.expr.callee, NameExpr)
        and stmt.expr.callee.name == _LOCAL_NAME
    )
