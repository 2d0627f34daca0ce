"""Speculative checks: mypy checks some calls with their errors filtered out.

When mypy picks an overload item it checks the call against each plausible
item with errors switched off and keeps the first item that fits; the call
hooks of that item fire only then, never again.  A call whose arguments fit
(no error so far under the filter) is the one mypy keeps, so its moves are
real and are reported past the filter.  A call whose arguments did not fit is
thrown away, and so are calls in files whose errors are ignored anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mypy.plugin import CheckerPluginInterface


def reportable(api: CheckerPluginInterface) -> bool:
    errors = api.msg.errors
    if not errors.prefer_simple_messages():
        return True
    if errors.file in errors.ignored_files or errors.options.ignore_errors:
        return False
    watchers = errors._watchers
    return bool(watchers) and not watchers[-1].has_new_errors()


@contextmanager
def unfiltered(api: CheckerPluginInterface) -> Iterator[None]:
    """Report past the watchers that would throw the errors away."""
    errors = api.msg.errors
    saved = errors._watchers
    errors._watchers = [w for w in saved if w._filter is False]
    try:
        yield
    finally:
        errors._watchers = saved
