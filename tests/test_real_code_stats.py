"""The real-code benchmark's per-round statistics (benchmarks/real_code.py):
the rounds are paired by index, and the interval says whether the target
is decided or within the noise."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "real_code.py"
_spec = importlib.util.spec_from_file_location("real_code", _PATH)
assert _spec is not None and _spec.loader is not None
real_code = importlib.util.module_from_spec(_spec)
sys.modules["real_code"] = real_code  # dataclasses look their module up
_spec.loader.exec_module(real_code)


def _result(plain: list[float], plugin: list[float]) -> object:
    pkg = real_code.Package("p", "1", "wheel", ("p",), "threads")
    result = real_code.Result(pkg, Path("."), 1, 1)
    result.wall["plain"] = plain
    result.wall["plugin"] = plugin
    return result


def test_a_round_sums_every_package_of_that_round() -> None:
    a = _result([1.0, 2.0], [1.5, 2.0])
    b = _result([1.0, 2.0], [0.5, 4.0])
    # round 1: (1.5 + 0.5) / (1 + 1); round 2: (2 + 4) / (2 + 2)
    assert real_code.round_ratios([a, b]) == [1.0, 1.5]


def test_rounds_stop_at_the_shortest_list() -> None:
    a = _result([1.0, 1.0, 1.0], [1.0, 1.0])
    assert len(real_code.round_ratios([a])) == 2


def test_the_interval_holds_the_mean_and_is_reproducible() -> None:
    values = [1.00, 1.02, 0.98, 1.05, 1.01, 0.99, 1.03]
    low, high = real_code.bootstrap_interval(values)
    assert low < sum(values) / len(values) < high
    assert (low, high) == real_code.bootstrap_interval(values)


def test_the_interval_of_equal_values_is_that_value() -> None:
    assert real_code.bootstrap_interval([1.01] * 5) == pytest.approx((1.01, 1.01))


@pytest.mark.parametrize(
    ("low", "high", "says"),
    [
        (1.00, 1.02, "met beyond this run's noise"),
        (1.031, 1.05, "missed beyond this run's noise"),
        (1.01, 1.04, "noise spans the target"),
    ],
)
def test_the_verdict_reads_the_whole_interval(low: float, high: float, says: str) -> None:
    assert says in real_code.interval_verdict(low, high)


def _group(lines: list[str]) -> list[list[str]]:
    findings = real_code.group("p", lines, list(range(len(lines))))
    return [[m.text for m in f.messages] for f in findings]


def test_a_note_far_from_its_error_joins_the_error_that_names_its_line() -> None:
    lines = [
        'a.py:147: error: Data race: "self.x" is set here while the thread started at line 330 updates it  [data-race]',
        "a.py:200: error: Unrelated  [not-send]",
        'a.py:330: note: the thread that runs "A.run" is started here',
    ]
    # 147 and 200 are one run, the note another: it names nothing but its
    # own line, which the data race names.
    findings = real_code.group("p", lines[:2], [0, 1]) + real_code.group("p", lines[2:], [0])
    assert len(findings) == 3  # group() sees one run at a time
    joined = real_code._attach_stray_notes(findings)
    assert [[m.text for m in f.messages] for f in joined] == [[lines[0], lines[2]], [lines[1]]]


def test_a_note_that_shares_no_line_with_an_error_stays_its_own_finding() -> None:
    lines = [
        "a.py:147: error: Use of moved value  [use-after-move]",
        'a.py:330: note: the thread that runs "A.run" is started here',
        'b.py:330: note: "x" was moved here',
    ]
    findings = real_code.group("p", lines[:1], [0]) + real_code.group("p", lines[1:], [0, 1])
    joined = real_code._attach_stray_notes(findings)
    assert [[m.text for m in f.messages] for f in joined] == [[lines[0]], lines[1:]]


def test_a_note_joins_the_nearer_of_two_errors_that_name_its_line() -> None:
    lines = [
        "a.py:100: error: A: the thread started at line 330  [data-race]",
        "a.py:320: error: B: the thread started at line 330  [data-race]",
        "a.py:330: note: the thread is started here",
    ]
    findings = real_code.group("p", lines[:1], [0]) + real_code.group("p", lines[1:2], [0])
    findings += real_code.group("p", lines[2:], [0])
    joined = real_code._attach_stray_notes(findings)
    assert [len(f.messages) for f in joined] == [1, 2]
