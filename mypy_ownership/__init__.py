"""mypy-ownership: Rust's ownership, borrowing and Send/Sync rules, checked by mypy.

Enable with ``plugins = ["mypy_ownership"]`` (pyproject) or
``plugins = mypy_ownership`` (mypy.ini).
"""

from __future__ import annotations

from mypy.plugin import Plugin

from mypy_ownership.version import plugin_version

# mypy keys its cache on this module's file hash and ``__version__``; the
# version hashes every file of the plugin, so any change to the plugin
# invalidates caches written by an older one.
__version__ = plugin_version()


def plugin(version: str) -> type[Plugin]:
    from mypy_ownership.dispatch import OwnershipPlugin

    return OwnershipPlugin
