"""One distribution, installed for real: ``pip install .`` into a clean
virtual environment (no editable links, no source tree on the path), then
mypy with ``plugins = mypy_ownership`` over a file that uses every marker and
primitive must report no error, and over a mistake must report it.

Slow (it builds a wheel and installs mypy); it is part of ``make test``
because it is the only test that sees the package as users get it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clean_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clean-install")
    venv.EnvBuilder(with_pip=True).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    # Build from a copy: setuptools writes build/ next to the sources, where
    # the developers' editable install keeps its links.
    source = root / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(".venv", "build", ".git", "*.egg-info", "__pycache__", ".*cache"),
    )
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(source)],
        check=True,
        cwd=root,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    return python


def _mypy(python: Path, workdir: Path, source: str) -> subprocess.CompletedProcess[str]:
    (workdir / "mypy.ini").write_text("[mypy]\nplugins = mypy_ownership\nstrict = True\n")
    (workdir / "program.py").write_text(source)
    return subprocess.run(
        [str(python), "-m", "mypy", "program.py"],
        cwd=workdir,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")},
    )


def test_every_marker_and_primitive_checks_clean(clean_env: Path, tmp_path: Path) -> None:
    source = (REPO / "examples" / "every_primitive.py").read_text()
    result = _mypy(clean_env, tmp_path, source)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_installed_plugin_reports_a_move(clean_env: Path, tmp_path: Path) -> None:
    source = (
        "from fearless import channel\n"
        "def main() -> None:\n"
        "    tx, rx = channel[list[int]]()\n"
        "    batch = [1]\n"
        "    tx.send(batch)\n"
        "    batch.append(2)\n"
    )
    result = _mypy(clean_env, tmp_path, source)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'program.py:6: error: Use of moved value "batch"  [use-after-move]' in result.stdout


def test_installed_package_ships_typing_marker_and_overlays(clean_env: Path) -> None:
    code = (
        "import fearless, mypy_ownership, pathlib;"
        "print(pathlib.Path(fearless.__file__).with_name('py.typed').is_file());"
        "print(mypy_ownership.__version__)"
    )
    out = subprocess.run([str(clean_env), "-c", code], capture_output=True, text=True, check=True)
    typed, version = out.stdout.split()
    assert typed == "True"
    assert "+" in version  # the release and the hash of the plugin's code
    assert sys.version_info >= (3, 10)
