"""A version string that changes whenever the plugin's code or overlays do."""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

from mypy_ownership.overlays import bundled_overlay_dir

_PACKAGE_DIR = Path(__file__).resolve().parent


def _release() -> str:
    try:
        return metadata.version("mypy-ownership")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def source_digest() -> str:
    """Hash of every source file of the plugin and of the bundled overlays."""
    digest = hashlib.sha256()
    files = sorted(_PACKAGE_DIR.glob("*.py"))
    files += sorted(bundled_overlay_dir().rglob("*.pyi"))
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def plugin_version() -> str:
    return f"{_release()}+{source_digest()}"
