"""Every case of every ``test-data/*.test`` file through mypy's daemon
(``dmypy run``), edit after edit: after each run the daemon must print what a
cold mypy run prints on the same files.  See ``tests/daemon_runner.py`` for
how the daemon is driven and which edits are made, and docs/testing.md.

One pytest item per case, ``test_daemon[<file>.test::<case name>]``::

    .venv/bin/python -m pytest -n 2 -q tests/test_daemon.py
    .venv/bin/python -m pytest -q tests/test_daemon.py -k useAfterMoveIntoFunction

The reference for a run on the case's own contents (a comment appended
changes nothing) is the case's expected output, which tests/test_cases.py
holds the cold run to; only when the daemon prints something else is the
cold run made, and then compared with (so an ``-xfail`` case, or one whose
cold run fails too, is judged against what the cold run really prints).  A
run on changed contents (a statement replaced by ``pass``) is compared with a
cold run on those contents.
"""

from __future__ import annotations

import difflib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from case_file import MAIN, Case, CaseFileError, normalise_output, parse_case_file
from case_runner import MypyEnv, MypyEnvs, RunResult, run_mypy, source_fingerprint, write_case
from daemon_runner import (
    SEED_FILE,
    DaemonRun,
    DaemonServers,
    Step,
    StepResult,
    daemon_steps,
    run_daemon_case,
    seed_source,
)

TEST_DATA = Path(__file__).resolve().parent.parent / "test-data"


def _all_cases() -> Iterator[tuple[Path, Case | CaseFileError]]:
    for path in sorted(TEST_DATA.glob("*.test")):
        try:
            cases: list[Case | CaseFileError] = list(parse_case_file(path))
        except CaseFileError as e:
            cases = [e]
        for case in cases:
            yield path, case


def _params() -> Iterator[object]:
    for path, case in _all_cases():
        if isinstance(case, CaseFileError):
            yield pytest.param(case, id=f"{path.name}::PARSE-ERROR")
            continue
        marks = []
        if case.skip:
            marks.append(pytest.mark.skip(reason=f"{case.location}: case name ends in -skip"))
        elif "--no-incremental" in case.flags:
            marks.append(pytest.mark.skip(reason="dmypy cannot run without incremental mode"))
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.fixture(scope="session")
def daemon_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonServers]:
    cases = [c for _, c in _all_cases() if isinstance(c, Case)]
    servers = DaemonServers(tmp_path_factory.mktemp("daemon"), seed_source(cases))
    yield servers
    servers.close()


class _Cold:
    """Cold mypy runs on the case's files as they are at some step, made on
    demand, one per distinct content."""

    def __init__(self, case: Case, env: MypyEnv, tmp_path: Path) -> None:
        self.case, self.env, self.tmp_path = case, env, tmp_path
        self._runs: dict[tuple[tuple[str, str], ...], RunResult] = {}

    def run(self, files: dict[str, str]) -> RunResult:
        key = tuple(sorted(files.items()))
        if key not in self._runs:
            where = self.tmp_path / f"cold{len(self._runs)}"
            workdir, cache_dir = where / "case", where / "cache"
            write_case(self.case, workdir, self.env.config)
            for path, text in files.items():
                (workdir / path).write_text(text, encoding="utf-8")
            if self.env.base_cache is not None:
                shutil.copytree(self.env.base_cache, cache_dir)
            self._runs[key] = run_mypy(self.env, workdir, self.case.modules, cache_dir, self.case.flags)
        return self._runs[key]


def _step_failure(case: Case, result: StepResult, cold: _Cold) -> str | None:
    step = result.step
    everything = "\n".join((result.out, result.err))
    if result.crashed or any(m in everything for m in ("INTERNAL ERROR", "Traceback (most recent call last)")):
        return f"the daemon crashed:\n{result.out}{result.err}"
    if result.err.strip():
        return f"the daemon wrote to stderr:\n{result.err}"
    actual = normalise_output(result.out)
    # The expected output stands for the cold run's when the content is the
    # case's own (up to comments) and the case passes cold.
    reference = None if step.changes_output or case.xfail else case.expected_output()
    source = "expected output"
    if reference is None or actual != reference:
        run = cold.run(step.files)
        problem = run.problem()
        if problem is not None:
            return f"the cold reference run failed: {problem}\n{run.report()}"
        cold_lines = normalise_output(run.stdout)
        if reference is not None and cold_lines != reference:
            source = "cold run (which differs from the case's expected output too: see test_cases.py)"
        else:
            source = "cold run"
        reference = cold_lines
    if actual == reference:
        return None
    diff = difflib.unified_diff(
        reference, actual, fromfile=source, tofile=f"daemon ({step.name})", lineterm=""
    )
    return "\n".join(diff)


def known_mypy_crash(err: str) -> bool:
    """Is this the daemon's crash on a namespace package that is no module of
    the build (a case's ``overlays/x.pyi`` without ``__init__.py``): a
    ``KeyError`` in ``dmypy_server``'s import following, with or without the
    plugin (checked with mypy 2.4.1)?"""
    lines = err.rstrip().splitlines()
    return (
        bool(lines)
        and lines[-1].startswith("KeyError: ")
        and "mypy_ownership" not in err
        and any("mypy/dmypy_server.py" in line for line in lines[-3:])
    )


def _reproduce(case: Case, steps: list[Step], where: Path, seed: str) -> str:
    """Files to reproduce the failure by hand, and what to run."""
    write_case(case, where)
    (where / SEED_FILE).write_text(seed, encoding="utf-8")
    lines = [f"to reproduce: cd {where} && dmypy run -- {' '.join(steps[0].args)}, then:"]
    for step in steps[1:]:
        lines.append(f"  {step.name}: {step.what}; dmypy run -- ...")
    return "\n".join(lines)


def check_daemon_case(
    case: Case, env: MypyEnv, fingerprint: str, servers: DaemonServers, tmp_path: Path
) -> tuple[str | None, DaemonRun]:
    steps = daemon_steps(case)
    run = run_daemon_case(servers, env, fingerprint, case, steps, tmp_path)
    mapping = ", ".join(
        f"{f.display}:N is {case.test_file.name}:{f.first_line - 1}+N" for f in case.files
    )
    header = f"case {case.name} ({case.location}) through mypy's daemon\n(line numbers: {mapping})"
    problem = run.problem()
    if problem is not None:
        return f"{header}\n{problem}", run
    cold = _Cold(case, env, tmp_path)
    failures: list[str] = []
    for i, result in enumerate(run.results):
        failure = _step_failure(case, result, cold)
        if failure is not None:
            restarted = f" (the daemon restarted: {result.restart})" if result.restart else ""
            failures.append(f"--- run {i + 1}, {result.step.name}: after {result.step.what}{restarted}\n{failure}")
    if len(run.results) < len(steps):
        failures.append(f"--- the daemon stopped after run {len(run.results)} of {len(steps)}")
    known = [r for r in run.results if r.crashed and known_mypy_crash(r.err)]
    if known and len(failures) == 1 + (len(run.results) < len(steps)):
        # Only mypy's own crash: not the plugin's doing (see known_mypy_crash).
        pytest.xfail(f"mypy's daemon crashed at {known[0].step.name} (a known mypy bug):\n{known[0].err}")
    if not failures:
        return None, run
    return "\n".join([header, *failures, _reproduce(case, steps, tmp_path / "reproduce", servers.seed)]), run


@pytest.mark.parametrize("case", list(_params()))
def test_daemon(  # type: ignore[no-untyped-def]
    case: Case | CaseFileError, mypy_envs: MypyEnvs, daemon_servers: DaemonServers, tmp_path: Path, request
) -> None:
    if isinstance(case, CaseFileError):
        pytest.fail(f"cannot parse the test file: {case}", pytrace=False)
    for attempt in range(1, 4):  # again if the plugin was edited meanwhile
        fingerprint = source_fingerprint()
        try:
            env = mypy_envs.get()
        except RuntimeError as e:
            pytest.fail(str(e), pytrace=False)
        failure, run = check_daemon_case(case, env, fingerprint, daemon_servers, tmp_path / f"attempt{attempt}")
        if failure is None or source_fingerprint() == fingerprint:
            break
    request.node.user_properties.append(("mypy_daemon_seconds", run.seconds))
    if failure is not None:
        pytest.fail(failure, pytrace=False)


def test_removable_statement() -> None:
    from case_file import parse_cases

    text = (
        "[case c]\n"
        "def f(x: int) -> None:\n"
        "    if x: g()  # E: after a header  [x]\n"
        "    y = (1,\n"
        "         2)  # E: second line of a statement  [x]\n"
    )
    (case,) = parse_cases(text, Path("t.test"))
    steps = daemon_steps(case)
    assert [s.name for s in steps] == ["first", "touch", "edit-main", "remove", "restore"]
    removed = steps[3].files[MAIN].split("\n")
    assert removed[2:4] == ["    pass", ""]
    assert steps[4].files[MAIN] == steps[2].files[MAIN]
