"""Every case of every ``test-data/*.test`` file, checked by mypy with the
plugin, on a cold then a warm cache.  See docs/testing.md.

One pytest item per case, ``test_case[<file>.test::<case name>]``: select one
with ``-k <case name>``.  A ``.test`` file that cannot be parsed shows up as a
single failing item ``test_case[<file>.test::PARSE-ERROR]``, so the other
files still run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from case_file import Case, CaseFileError, parse_case_file
from case_runner import MypyEnvs, run_case, source_fingerprint

TEST_DATA = Path(__file__).resolve().parent.parent / "test-data"


def _params() -> Iterator[object]:
    for path in sorted(TEST_DATA.glob("*.test")):
        try:
            cases = parse_case_file(path)
        except CaseFileError as e:
            yield pytest.param(e, id=f"{path.name}::PARSE-ERROR")
            continue
        for case in cases:
            marks = []
            if case.skip:
                marks.append(pytest.mark.skip(reason=f"{case.location}: case name ends in -skip"))
            if case.xfail:
                marks.append(
                    pytest.mark.xfail(
                        reason=f"{case.location}: case name ends in -xfail", strict=True
                    )
                )
            yield pytest.param(case, id=case.id, marks=marks)


#: How often a case runs again when the plugin or fearless was edited while
#: it ran (a failure then says nothing about either version).
ATTEMPTS = 3


@pytest.mark.parametrize("case", list(_params()))
def test_case(case: Case | CaseFileError, mypy_envs: MypyEnvs, tmp_path: Path, request) -> None:  # type: ignore[no-untyped-def]
    if isinstance(case, CaseFileError):
        pytest.fail(f"cannot parse the test file: {case}", pytrace=False)
    for attempt in range(1, ATTEMPTS + 1):
        fingerprint = source_fingerprint()
        try:
            env = mypy_envs.get()
        except RuntimeError as e:  # the base cache could not be built
            pytest.fail(str(e), pytrace=False)
        outcome = run_case(case, env, tmp_path / f"attempt{attempt}")
        for run, result in outcome.runs.items():
            request.node.user_properties.append((f"mypy_{run}_seconds", result.seconds))
        if outcome.failure is None or source_fingerprint() == fingerprint:
            break
    if outcome.failure is not None:
        pytest.fail(outcome.failure, pytrace=False)
