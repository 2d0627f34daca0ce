"""Session set-up for the mypy case harness (tests/test_cases.py).

The ``mypy_env`` fixture decides how mypy finds ``fearless`` and provides the
shared base cache, built once per session (and again if the plugin or
fearless is edited meanwhile): under pytest-xdist the workers share one
directory and a file lock, so only the first worker builds it.
"""

from __future__ import annotations


import pytest

from case_runner import MypyEnv, MypyEnvs, fcntl


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-base-cache",
        action="store_true",
        help="mypy cases: make each cold run truly cold (no shared cache of"
        " builtins/typing/fearless copied in first); slower",
    )
    parser.addoption(
        "--no-fork-server",
        action="store_true",
        help="mypy cases: start each mypy run as a new Python process instead of"
        " forking it from a process that has imported mypy; slower",
    )


def pytest_report_header(config: pytest.Config) -> str:
    from case_runner import fearless_visibility_problem

    try:
        problem, source = fearless_visibility_problem()
        where = f"{source}" + (f" (linked for mypy: {problem})" if problem else "")
    except RuntimeError as e:
        where = str(e)
    base = "off (--no-base-cache)" if config.getoption("--no-base-cache") else "on"
    fork = "off (--no-fork-server)" if config.getoption("--no-fork-server") else "on"
    return f"mypy cases: fearless sources {where}; base cache {base}; fork server {fork}"


@pytest.fixture(scope="session")
def mypy_envs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> MypyEnvs:
    basetemp = tmp_path_factory.getbasetemp()
    # Under xdist, basetemp is per worker and its parent is this session's
    # shared directory; without xdist, basetemp is this session's own.
    shared = basetemp.parent if hasattr(request.config, "workerinput") else basetemp
    if fcntl is None:
        shared = basetemp
    return MypyEnvs(
        shared / "mypy-harness",
        shared / "mypy-harness.lock",
        use_base=not request.config.getoption("--no-base-cache"),
        fork_server=not request.config.getoption("--no-fork-server"),
    )


@pytest.fixture
def mypy_env(mypy_envs: MypyEnvs) -> MypyEnv:
    try:
        return mypy_envs.get()
    except RuntimeError as e:  # the base cache could not be built
        pytest.fail(str(e), pytrace=False)


# --------------------------------------------------------------------------
# A line in the terminal summary with the cost of the mypy runs.

_durations: dict[str, list[float]] = {"cold": [], "warm": [], "daemon": []}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Runs in the controller too under xdist (user_properties travel along).
    for name, value in report.user_properties:
        if name in ("mypy_cold_seconds", "mypy_warm_seconds", "mypy_daemon_seconds") and report.when == "call":
            _durations[name.split("_")[1]].append(float(value))


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if hasattr(terminalreporter.config, "workerinput"):
        return
    parts = []
    for run, values in _durations.items():
        if values:
            parts.append(
                f"{len(values)} {run} runs, mean {sum(values) / len(values):.2f}s,"
                f" max {max(values):.2f}s"
            )
    if parts:
        base = "without" if terminalreporter.config.getoption("--no-base-cache") else "with"
        terminalreporter.write_line(f"mypy cases ({base} base cache): " + "; ".join(parts))
