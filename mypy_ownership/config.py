"""The plugin's settings, read from the mypy configuration file mypy uses:
a ``[mypy_ownership]`` section (``mypy.ini``, ``setup.cfg``) or a
``[tool.mypy_ownership]`` table (``pyproject.toml``)::

    [mypy_ownership]
    overlays = overlays/, vendor/overlays   # more overlay directories
    report_any = True                       # Send/Sync: report Any values

Paths are relative to the configuration file.  A bad setting stops mypy
with a message naming the file and the setting, as mypy does for its own.
"""

from __future__ import annotations

import configparser
import sys
from pathlib import Path
from typing import Any

SECTION = "mypy_ownership"


class ConfigError(Exception):
    """A setting the plugin cannot use."""


class Settings:
    """The plugin's settings.  A plain class with slots, not a NamedTuple:
    every mypy run imports this module (see overlays.OverlayFunction)."""

    __slots__ = ("overlay_dirs", "report_any")

    overlay_dirs: tuple[Path, ...]
    report_any: bool

    def __init__(self, overlay_dirs: tuple[Path, ...] = (), report_any: bool = False) -> None:
        self.overlay_dirs = overlay_dirs
        self.report_any = report_any

    def __repr__(self) -> str:
        return f"Settings(overlay_dirs={self.overlay_dirs!r}, report_any={self.report_any!r})"

    def as_data(self) -> dict[str, Any]:
        """What changes results, for mypy's cache key."""
        return {"overlay_dirs": [str(p) for p in self.overlay_dirs], "report_any": self.report_any}


def read_settings(config_file: str | None) -> Settings:
    if not config_file:
        return Settings()
    path = Path(config_file)
    try:
        raw = _read_toml(path) if path.suffix == ".toml" else _read_ini(path)
    except (OSError, ValueError, configparser.Error) as e:
        raise ConfigError(f"{path}: cannot read [{SECTION}]: {e}") from None
    return _settings(path, raw)


def _read_ini(path: Path) -> dict[str, Any]:
    parser = configparser.ConfigParser()
    parser.read(path, encoding="utf-8")
    if not parser.has_section(SECTION):
        return {}
    return dict(parser.items(SECTION))


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - mypy itself needs tomli there
        import tomli as tomllib
    with path.open("rb") as f:
        data = tomllib.load(f)
    table = data.get("tool", {}).get(SECTION, {})
    if not isinstance(table, dict):
        raise ValueError(f"[tool.{SECTION}] must be a table")
    return table


def _settings(path: Path, raw: dict[str, Any]) -> Settings:
    where = f"{path}: [{SECTION}]"
    unknown = sorted(set(raw) - {"overlays", "report_any"})
    if unknown:
        raise ConfigError(f'{where}: unknown setting "{unknown[0]}" (known: overlays, report_any)')
    dirs: list[Path] = []
    for entry in _as_list(raw.get("overlays", []), f"{where}: overlays"):
        found = (path.parent / entry).resolve()
        if not found.is_dir():
            raise ConfigError(f'{where}: overlays: "{entry}" is not a directory ({found})')
        dirs.append(found)
    return Settings(tuple(dirs), _as_bool(raw.get("report_any", False), f"{where}: report_any"))


def _as_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ConfigError(f"{where}: expected a list of directories, not {value!r}")


def _as_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{where}: expected True or False, not {value!r}")
