"""The runtime's static types, checked by running mypy (without the
ownership plugin) on a small program: channel unpacking, spawn's ParamSpec,
guard properties, and ``mypy --strict`` on the package itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api")


PROGRAM = """
from fearless import Arc, Mutex, RwLock, channel, scope, spawn, sync_channel

tx, rx = channel[int]()
reveal_type(tx)
reveal_type(rx)
stx, srx = sync_channel[str](0)
reveal_type(stx)
reveal_type(srx)

def work(x: int, label: str = "") -> float:
    return float(x)

reveal_type(spawn(work, 1, label="a"))
reveal_type(spawn(work, 1).join())
spawn(work, "not an int")  # E1
with scope() as s:
    reveal_type(s.spawn(work, 2))
    s.spawn(work)  # E2

m = Mutex([1])
with m.lock() as g:
    reveal_type(g.value)
    g.value = [2]
rw = RwLock({"a": 1})
with rw.read() as r:
    r.value = {}  # E3
with rw.write() as w:
    w.value = {}
pair: tuple[int, str] = (1, "x")
reveal_type(Arc(pair).value)
tx.send("not an int")  # E4
for item in rx:
    reveal_type(item)
"""


def _mypy(tmp_path: Path, *args: str) -> str:
    # The strict editable install (make setup) puts fearless where mypy looks.
    out, err, _status = api.run(["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), *args])
    return str(out) + str(err)


def test_public_types(tmp_path: Path) -> None:
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    out = _mypy(tmp_path, str(prog))
    revealed = re.findall(r'Revealed type is "([^"]+)"', out)
    assert revealed == [
        "fearless.channel.Sender[int]",
        "fearless.channel.Receiver[int]",
        "fearless.channel.Sender[str]",
        "fearless.channel.Receiver[str]",
        "fearless.thread.JoinHandle[float]",
        "float",
        "fearless.thread.JoinHandle[float]",
        "list[int]",
        "tuple[int, str]",
        "int",
    ], out
    error_lines = sorted(int(n) for n in re.findall(r"prog\.py:(\d+): error", out))
    lines = PROGRAM.splitlines()
    expected = sorted(i for i, line in enumerate(lines, start=1) if re.search(r"# E\d$", line))
    assert error_lines == expected, out


def test_package_is_strict_clean(tmp_path: Path) -> None:
    out = _mypy(tmp_path, "-p", "fearless")
    assert "Success: no issues found" in out, out
