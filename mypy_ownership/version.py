"""A version string that changes whenever the plugin's code or overlays do."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from mypy_ownership.overlays import bundled_overlay_dir

#: The release, also the distribution's version (pyproject.toml reads it
#: from here): a constant, because asking importlib.metadata costs every
#: mypy run a scan of site-packages.
RELEASE = "0.1.0"

_PACKAGE_DIR = Path(__file__).resolve().parent


def source_digest() -> str:
    """Hash of every source file of the plugin and of the bundled overlays."""
    digest = hashlib.sha256()
    files = sorted(_PACKAGE_DIR.glob("*.py"))
    files += sorted(bundled_overlay_dir().rglob("*.pyi"))
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@cache  # read at import (``__version__``) and again for report_config_data
def plugin_version() -> str:
    return f"{RELEASE}+{source_digest()}"
