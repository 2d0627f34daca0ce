"""The plugin's settings (mypy_ownership/config.py, read by
dispatch._configure), through real mypy runs.

Each test runs ``python -m mypy`` (the interpreter running pytest, hence the
project's venv) in a temporary directory holding a small program, a library
module ``mylib`` with a class ``Session``, and a user overlay directory that
may declare ``Session`` thread-bound.  It checks that:

- ``overlays`` in ``mypy.ini``, ``setup.cfg`` and ``pyproject.toml`` loads the
  user overlay (an error appears that is absent without the setting), with
  paths relative to the configuration file;
- editing the overlay between runs on the same cache directory changes the
  result (the overlays' digest is part of mypy's cache key);
- a bad setting or overlay stops mypy with exit status 2 and one clear line,
  no traceback;
- ``report_any`` reports an ``Any`` argument of ``threading.Thread``.

Every assertion compares with a run that differs only in the setting under
test, so each test fails if the setting is ignored.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAM = """\
import threading
import mylib

def fetch(session: mylib.Session) -> None: ...

def main() -> None:
    session = mylib.Session("https://example.org")
    threading.Thread(target=fetch, args=(session,)).start()
"""
THREAD_LINE = 8

LIBRARY = """\
class Session:
    def __init__(self, url: str) -> None:
        self.url = url
"""

REASON = "a Session keeps its HTTP connection pool in the thread that opened it"
OVERLAY_NOT_SEND = f'''\
from fearless import NotSend

class Session(NotSend):
    """{REASON}

    help: open a Session in each thread
    """
'''
# The same module, declaring nothing about Session.
OVERLAY_EMPTY = '"""Thread-safety overlay for mylib: nothing declared yet."""\n'

NOT_SEND = f'main.py:{THREAD_LINE}: error: "Session" cannot be sent between threads safely  [not-send]'
BECAUSE = f'main.py:{THREAD_LINE}: note: because "Session" is thread-bound: {REASON}'
HELP = f"main.py:{THREAD_LINE}: note: help: open a Session in each thread"

INI_BASE = "[mypy]\nplugins = mypy_ownership\nshow_error_codes = True\n"
TOML_BASE = '[tool.mypy]\nplugins = ["mypy_ownership"]\nshow_error_codes = true\n'


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _project(root: Path, config_name: str, config: str, overlay: str | None = OVERLAY_NOT_SEND) -> Path:
    files = {"main.py": PROGRAM, "mylib.py": LIBRARY, config_name: config}
    if overlay is not None:
        files["ovl/mylib.pyi"] = overlay
    _write(root, files)
    return root


def _mypy(workdir: Path, *args: str, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    """mypy on main.py, from ``workdir``; the configuration file is found
    the way mypy finds it unless ``args`` name one."""
    cache_dir = cache if cache is not None else workdir / ".mypy_cache"
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH", "MYPY_CACHE_DIR")}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache_dir), "--show-traceback", *args, "main.py"],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.strip()]


def _assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == "", result.stderr
    assert _lines(result) == ["Success: no issues found in 1 source file"], result.stdout


def _assert_session_not_send(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr == "", result.stderr
    assert _lines(result) == [NOT_SEND, BECAUSE, HELP, "Found 1 error in 1 file (checked 1 source file)"], (
        result.stdout
    )


# --- (a) the overlays setting loads a user overlay -------------------------------


@pytest.mark.parametrize(
    ("config_name", "base", "setting"),
    [
        ("mypy.ini", INI_BASE, "\n[mypy_ownership]\noverlays = ovl\n"),
        ("setup.cfg", INI_BASE, "\n[mypy_ownership]\noverlays = ovl\n"),
        ("pyproject.toml", TOML_BASE, '\n[tool.mypy_ownership]\noverlays = ["ovl"]\n'),
    ],
    ids=["mypy.ini", "setup.cfg", "pyproject.toml"],
)
def test_overlays_setting_loads_a_user_overlay(tmp_path: Path, config_name: str, base: str, setting: str) -> None:
    without = _project(tmp_path / "without", config_name, base)
    _assert_clean(_mypy(without))
    with_setting = _project(tmp_path / "with", config_name, base + setting)
    _assert_session_not_send(_mypy(with_setting))


def test_overlay_paths_are_relative_to_the_configuration_file(tmp_path: Path) -> None:
    _write(tmp_path, {"main.py": PROGRAM, "mylib.py": LIBRARY, "config/ovl/mylib.pyi": OVERLAY_NOT_SEND})
    # "ovl" next to the working directory holds nothing: only config/ovl
    # declares Session.
    _write(tmp_path, {"ovl/mylib.pyi": OVERLAY_EMPTY})
    _write(tmp_path, {"config/mypy.ini": INI_BASE + "\n[mypy_ownership]\noverlays = ovl\n"})
    _assert_session_not_send(_mypy(tmp_path, "--config-file", "config/mypy.ini"))
    _write(tmp_path, {"config/mypy.ini": INI_BASE + "\n[mypy_ownership]\noverlays = ../ovl\n"})
    _assert_clean(_mypy(tmp_path, "--config-file", "config/mypy.ini", cache=tmp_path / "other-cache"))


def test_several_overlay_directories_are_all_read(tmp_path: Path) -> None:
    config = INI_BASE + "\n[mypy_ownership]\noverlays = first, ovl\n"
    project = _project(tmp_path, "mypy.ini", config)
    _write(project, {"first/other.pyi": OVERLAY_EMPTY})
    _assert_session_not_send(_mypy(project))


# --- (b) editing an overlay invalidates mypy's cache ----------------------------


def test_editing_the_user_overlay_invalidates_the_cache(tmp_path: Path) -> None:
    project = _project(tmp_path, "mypy.ini", INI_BASE + "\n[mypy_ownership]\noverlays = ovl\n", OVERLAY_EMPTY)
    cache = tmp_path / "shared-cache"
    overlay = project / "ovl" / "mylib.pyi"

    _assert_clean(_mypy(project, cache=cache))
    _assert_clean(_mypy(project, cache=cache))  # warm, unchanged: still clean

    overlay.write_text(OVERLAY_NOT_SEND, encoding="utf-8")
    _assert_session_not_send(_mypy(project, cache=cache))
    _assert_session_not_send(_mypy(project, cache=cache))  # warm: the error is replayed

    overlay.write_text(OVERLAY_EMPTY, encoding="utf-8")
    _assert_clean(_mypy(project, cache=cache))


def test_adding_the_overlays_setting_invalidates_the_cache(tmp_path: Path) -> None:
    project = _project(tmp_path, "mypy.ini", INI_BASE)
    cache = tmp_path / "shared-cache"
    _assert_clean(_mypy(project, cache=cache))
    (project / "mypy.ini").write_text(INI_BASE + "\n[mypy_ownership]\noverlays = ovl\n", encoding="utf-8")
    _assert_session_not_send(_mypy(project, cache=cache))
    (project / "mypy.ini").write_text(INI_BASE, encoding="utf-8")
    _assert_clean(_mypy(project, cache=cache))


# --- (c) bad input: exit status 2, one clear line, no traceback -------------------


def _assert_config_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 2, output
    assert "Traceback" not in output and "INTERNAL ERROR" not in output, output
    lines = output.splitlines()
    assert len(lines) == 1, output
    line = lines[0]
    assert line.startswith("mypy_ownership: error: "), line
    for fragment in fragments:
        assert fragment in line, line
    return line


def test_missing_overlays_directory(tmp_path: Path) -> None:
    project = _project(tmp_path, "mypy.ini", INI_BASE + "\n[mypy_ownership]\noverlays = nowhere\n")
    line = _assert_config_error(_mypy(project), "mypy.ini", "[mypy_ownership]", "overlays", '"nowhere"',
                                "is not a directory")
    assert str(project / "nowhere") in line


def test_overlays_entry_that_is_a_file(tmp_path: Path) -> None:
    project = _project(tmp_path, "mypy.ini", INI_BASE + "\n[mypy_ownership]\noverlays = main.py\n")
    _assert_config_error(_mypy(project), "mypy.ini", "overlays", '"main.py"', "is not a directory")


def test_missing_overlays_directory_in_pyproject(tmp_path: Path) -> None:
    project = _project(tmp_path, "pyproject.toml", TOML_BASE + '\n[tool.mypy_ownership]\noverlays = ["nowhere"]\n')
    _assert_config_error(_mypy(project), "pyproject.toml", "overlays", '"nowhere"', "is not a directory")


def test_unknown_setting(tmp_path: Path) -> None:
    project = _project(tmp_path, "mypy.ini", INI_BASE + "\n[mypy_ownership]\noverlay = ovl\n")
    _assert_config_error(_mypy(project), "mypy.ini", "[mypy_ownership]", 'unknown setting "overlay"')


def test_unknown_setting_in_pyproject(tmp_path: Path) -> None:
    project = _project(tmp_path, "pyproject.toml", TOML_BASE + "\n[tool.mypy_ownership]\nreport_anys = true\n")
    _assert_config_error(_mypy(project), "pyproject.toml", 'unknown setting "report_anys"')


def test_report_any_that_is_not_a_boolean(tmp_path: Path) -> None:
    project = _project(tmp_path, "mypy.ini", INI_BASE + "\n[mypy_ownership]\nreport_any = maybe\n")
    _assert_config_error(_mypy(project), "mypy.ini", "report_any", "maybe")


def test_report_any_that_is_not_a_boolean_in_pyproject(tmp_path: Path) -> None:
    project = _project(tmp_path, "pyproject.toml", TOML_BASE + '\n[tool.mypy_ownership]\nreport_any = "maybe"\n')
    _assert_config_error(_mypy(project), "pyproject.toml", "report_any", "maybe")


def test_overlays_that_is_not_a_list_in_pyproject(tmp_path: Path) -> None:
    # Like every other bad setting, the message names the file and the setting.
    project = _project(tmp_path, "pyproject.toml", TOML_BASE + "\n[tool.mypy_ownership]\noverlays = 3\n")
    _assert_config_error(_mypy(project), "pyproject.toml", "[mypy_ownership]", "overlays")


def test_overlay_with_a_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    broken = "from fearless import NotSend\n\ndef submit(job:\n"
    project = _project(tmp_path, "mypy.ini", INI_BASE + "\n[mypy_ownership]\noverlays = ovl\n", broken)
    line = _assert_config_error(_mypy(project))
    path = str(project / "ovl" / "mylib.pyi")
    assert f"{path}:3" in line or "ovl/mylib.pyi:3" in line, line


def test_overlay_declaration_without_a_reason_names_file_and_line(tmp_path: Path) -> None:
    no_reason = "from fearless import NotSend\n\n\nclass Session(NotSend):\n    pass\n"
    project = _project(tmp_path, "mypy.ini", INI_BASE + "\n[mypy_ownership]\noverlays = ovl\n", no_reason)
    line = _assert_config_error(_mypy(project))
    assert "mylib.pyi:4" in line, line


def test_bad_settings_of_other_plugins_sections_are_not_ours(tmp_path: Path) -> None:
    # Only [mypy_ownership] is read: a sibling section is left alone.
    project = _project(tmp_path, "mypy.ini", INI_BASE + "\n[mypy_ownership_extra]\noverlays = nowhere\n")
    _assert_clean(_mypy(project))


# --- (d) report_any ---------------------------------------------------------------------

ANY_PROGRAM = """\
import threading
from typing import Any

def work(value: object) -> None: ...

def main(value: Any, count: int) -> None:
    threading.Thread(target=work, args=(value,)).start()
    threading.Thread(target=work, args=(count,)).start()
"""
ANY_ERROR = 'main.py:7: error: "Any" cannot be sent between threads safely  [not-send]'


@pytest.mark.parametrize(
    ("config_name", "base", "setting"),
    [
        ("mypy.ini", INI_BASE, "\n[mypy_ownership]\nreport_any = True\n"),
        ("pyproject.toml", TOML_BASE, "\n[tool.mypy_ownership]\nreport_any = true\n"),
    ],
    ids=["mypy.ini", "pyproject.toml"],
)
def test_report_any_reports_an_any_thread_argument(tmp_path: Path, config_name: str, base: str, setting: str) -> None:
    _write(tmp_path / "default", {"main.py": ANY_PROGRAM, config_name: base})
    _assert_clean(_mypy(tmp_path / "default"))

    _write(tmp_path / "reported", {"main.py": ANY_PROGRAM, config_name: base + setting})
    result = _mypy(tmp_path / "reported")
    assert result.returncode == 1, result.stdout + result.stderr
    assert _lines(result) == [
        ANY_ERROR,
        'main.py:7: note: because the value has type "Any", so its thread safety is unknown',
        'main.py:7: note: help: annotate it, or set "report_any = False" under [mypy_ownership]',
        "Found 1 error in 1 file (checked 1 source file)",
    ], result.stdout


def test_report_any_reads_ini_booleans_and_is_part_of_the_cache_key(tmp_path: Path) -> None:
    _write(tmp_path, {"main.py": ANY_PROGRAM, "mypy.ini": INI_BASE + "\n[mypy_ownership]\nreport_any = False\n"})
    _assert_clean(_mypy(tmp_path))
    (tmp_path / "mypy.ini").write_text(INI_BASE + "\n[mypy_ownership]\nreport_any = yes\n", encoding="utf-8")
    result = _mypy(tmp_path)  # same cache: the setting is part of its key
    assert result.returncode == 1, result.stdout + result.stderr
    assert ANY_ERROR in _lines(result)
