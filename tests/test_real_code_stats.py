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
