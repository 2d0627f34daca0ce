"""The plugin never crashes mypy.

A bug in a hook must not turn into mypy's INTERNAL ERROR for the user: the
hook gives up on that one call, says so in a note at the call, and mypy goes
on.  With ``MYPY_OWNERSHIP_DEBUG=1`` in the environment the exception
propagates instead, with its traceback (the test suite runs that way).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from mypy.plugin import FunctionContext, MethodContext
from mypy.types import Type

_Ctx = TypeVar("_Ctx", FunctionContext, MethodContext)


def debugging() -> bool:
    return os.environ.get("MYPY_OWNERSHIP_DEBUG", "") not in ("", "0")


def internal_problem(exc: BaseException) -> str:
    return (
        f"mypy-ownership could not check this call ({type(exc).__name__}: {exc});"
        " please report it"
    )


def guarded_call_hook(hook: Callable[[_Ctx], Type]) -> Callable[[_Ctx], Type]:
    @wraps(hook)
    def run(ctx: _Ctx) -> Type:
        try:
            return hook(ctx)
        except Exception as exc:
            if debugging():
                raise
            ctx.api.msg.note(internal_problem(exc), ctx.context)
            return ctx.default_return_type

    return run
