"""The project checks itself, as mypy does: ``mypy --strict`` with the plugin
enabled, over the plugin and the runtime.  A type error in either, or an
ownership error the plugin finds in its own runtime, fails the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_mypy_strict_with_the_plugin_passes_on_the_plugin_and_the_runtime(tmp_path: Path) -> None:
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\nplugins = mypy_ownership\n")
    result = subprocess.run(
        [
            sys.executable, "-m", "mypy",
            "--config-file", str(config),
            "--cache-dir", str(tmp_path / "cache"),
            "-p", "mypy_ownership",
            "-p", "fearless",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found"), result.stdout
