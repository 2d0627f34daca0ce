"""A version string that changes whenever the plugin's code does.  (The
overlays' digest goes into mypy's cache key separately: see
``OwnershipPlugin.report_config_data``.)"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

#: The release, also the distribution's version (pyproject.toml reads it
#: from here): a constant, because asking importlib.metadata costs every
#: mypy run a scan of site-packages.
RELEASE = "0.1.0"

_PACKAGE_DIR = Path(__file__).resolve().parent


#: The plugin's sub-packages (their sources count as the plugin's too).
SUBPACKAGES = ("analysis", "model", "checks", "overlays")


def source_digest() -> str:
    """Hash of the name, modification time and size of every source file of
    the plugin, its sub-packages' included: Python's own test for stale
    bytecode, and a stat per file where hashing the contents would read them
    all on every mypy run."""
    digest = hashlib.sha256()
    entries = sorted(
        (os.path.join(sub, entry.name), entry.stat())
        for sub in ("", *SUBPACKAGES)
        for entry in os.scandir(_PACKAGE_DIR / sub)
        if entry.name.endswith(".py")
    )
    for name, st in entries:
        digest.update(f"{name}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
    return digest.hexdigest()[:16]


@cache  # read at import (``__version__``) and again for report_config_data
def plugin_version() -> str:
    return f"{RELEASE}+{source_digest()}"
