"""The cases of ``test-data/*.test`` whose program has several modules, checked
cold by ``mypy --num-workers 2``: mypy then checks modules in worker
processes, each with its own instance of the plugin, so nothing a check
needs may come from another module's check in the same process.  The output
must be the case's expected output, as in a run without workers.

One pytest item per ``.test`` file, ``test_parallel[<file>.test]``: every
case is its own program (each has a module ``main``), so the cases of a file
cannot share one mypy run; they run one after the other in the item.
Single-module cases are left out: with one module to check there is
nothing to split between workers.  (The daemon, ``dmypy``, ignores
``--num-workers``: its server sets ``num_workers = 0``.)
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from case_file import CaseFileError, normalise_output, parse_case_file
from case_runner import MypyEnvs, run_mypy, write_case

TEST_DATA = Path(__file__).resolve().parent.parent / "test-data"
PARALLEL_FLAGS = ["--num-workers", "2"]


@pytest.mark.parametrize("path", sorted(TEST_DATA.glob("*.test")), ids=lambda p: p.name)
def test_parallel(path: Path, mypy_envs: MypyEnvs, tmp_path: Path) -> None:
    try:
        cases = parse_case_file(path)
    except CaseFileError as e:
        pytest.fail(f"cannot parse the test file: {e}", pytrace=False)
    cases = [c for c in cases if len(c.modules) > 1 and not c.skip and not c.xfail]
    if not cases:
        pytest.skip("no case with more than one module")
    env = mypy_envs.get()
    failures = []
    for n, case in enumerate(cases):
        workdir, cache_dir = tmp_path / f"{n}" / "case", tmp_path / f"{n}" / "cache"
        write_case(case, workdir, env.config)
        if env.base_cache is not None:
            shutil.copytree(env.base_cache, cache_dir)
        result = run_mypy(env, workdir, case.modules, cache_dir, [*case.flags, *PARALLEL_FLAGS])
        problem = result.problem()
        if problem is not None:
            failures.append(f"case {case.name} ({case.location}): {problem}\n{result.report()}")
            continue
        expected, actual = case.expected_output(), normalise_output(result.stdout)
        if actual != expected:
            diff = difflib.unified_diff(
                expected, actual, fromfile="expected", tofile="actual (--num-workers 2)", lineterm=""
            )
            failures.append(
                f"case {case.name} ({case.location}), cold run with --num-workers 2:\n"
                + "\n".join(diff)
                + f"\ncommand (in {result.cwd}): {result.command}"
            )
    if failures:
        pytest.fail(f"{len(failures)} of {len(cases)} cases:\n\n" + "\n\n".join(failures), pytrace=False)
