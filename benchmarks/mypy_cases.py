"""Does no harm to mypy: the plugin over mypy's own type-checking cases.

mypy's ``check-*.test`` files (``../shared/mypy-check-cases/`` beside the
repository, about 8,000 cases; read, never copied into the project) hold
every construct mypy type-checks.  Each case's main module (its lines up to
the first ``[section]``, ``--`` comment lines dropped as mypy's own reader
drops them; a ``# flags:`` first line stays, it is a comment) is written as
a file of its own, ``<test file>__<case>.py``, into chunk directories of
``--chunk-size`` files.  On each chunk this runs

* plain mypy, and
* mypy with ``plugins = mypy_ownership``,

both with ``check_untyped_defs``, ``--show-traceback``, no error summary,
no cache (``--cache-dir /dev/null``: every run is cold) and
``MYPY_OWNERSHIP_DEBUG`` unset (so a hook that raises becomes the plugin's
"could not check this call" note instead of a traceback), and compares the
two outputs case by case.  The plugin run must print exactly the plain
run's lines, in their order, plus lines of its own.  It is **harm**:

* a line of the plain run that the plugin run changed or lost;
* a crash of the plugin run: exit status 2 where plain mypy had none,
  ``INTERNAL ERROR``, a traceback, anything on stderr, or the safety net's
  note;
* an added error whose code is not one of the plugin's
  (``use-after-move``, ``borrow-conflict``, ``borrow-mutate``,
  ``borrow-escape``, ``not-send``, ``not-sync``, ``ownership-marker``), or an
  added note with no added plugin error beside it;
* any added line in a case **without markers or threads**: one that does
  not mention ``fearless`` nor import ``threading``, ``_thread``,
  ``concurrent``, ``multiprocessing`` nor use asyncio's thread bridges
  (``to_thread``, ``run_in_executor``, ``call_soon_threadsafe``,
  ``run_coroutine_threadsafe``).

Plugin reports in a case with threads are not harm: they are counted by
code and listed.

What is left out, and counted by reason:

* cases whose main module mypy's parser stops on (a syntax error on
  purpose: a blocking error, which would end the whole chunk's run);
* cases that stop plain mypy (a blocking error, which ends the whole
  run, or a crash of mypy itself): the file is dropped from its chunk and
  the chunk runs again;
* cases whose output differs between two plain runs (mypy's own
  nondeterminism): when a chunk's plugin output differs from its plain
  output, plain mypy runs on that chunk once more; a case whose lines
  differ between the two plain runs is listed and left out.

Runs go ``--jobs`` (at most 2) at a time, a chunk's plain and plugin runs
one after the other.  Exit status 1 on harm, 2 when the corpus is missing
(or ``--allow-missing``: 0, with a message).

    .venv/bin/python benchmarks/mypy_cases.py                 # the whole corpus
    .venv/bin/python benchmarks/mypy_cases.py --files check-classes.test,check-enum.test
    .venv/bin/python benchmarks/mypy_cases.py --cases testDataclass --keep /tmp/cases
    .venv/bin/python benchmarks/mypy_cases.py --corpus PATH --chunk-size 400 --jobs 1

``MYPY_CHECK_CASES`` in the environment names the corpus too (``--corpus``
wins).  ``--json PATH`` writes the whole result; ``--keep DIR`` keeps the
chunk directories and every run's output there.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
DEFAULT_CORPUS = REPO_DIR.parent / "shared" / "mypy-check-cases"
CORPUS_ENV = "MYPY_CHECK_CASES"
#: mypy processes at a time: the machine has two cores, shared.
MAX_JOBS = 2
DEFAULT_CHUNK = 400

PLUGIN_CODES = frozenset(
    {
        "use-after-move",
        "borrow-conflict",
        "borrow-mutate",
        "borrow-escape",
        "not-send",
        "not-sync",
        "ownership-marker",
    }
)
SAFETY_NOTE = "mypy-ownership could not check this call"
#: A case that may meet the plugin's checks: a marker, or a thread.
_MARKERS_OR_THREADS = re.compile(
    r"\bfearless\b"
    r"|\b(?:import|from)\s+(?:threading|_thread|concurrent|multiprocessing)\b"
    r"|\b(?:to_thread|run_in_executor|call_soon_threadsafe|run_coroutine_threadsafe)\b"
)

_CASE_HEADER = re.compile(r"^\[case ([^]]+)\][ \t]*\n?", re.MULTILINE)
_CASE_NAME = re.compile(r"(?P<name>[A-Za-z_0-9]+)(?:-[a-z_]+)*")
_LINE = re.compile(r"^(?P<path>[^:\s]+\.pyi?):(?P<line>\d+): (?P<severity>error|note|warning): (?P<message>.*)$")
_CODE = re.compile(r"  \[(?P<code>[a-z0-9-]+)\]$")

#: Put in the first chunk: the plugin run must report on it, or the plugin
#: is not loaded and a clean comparison would mean nothing.
CANARY_SOURCE = """\
from fearless import Owned

def archive(batch: Owned[list[int]]) -> None: ...

def flush() -> None:
    batch = [1, 2, 3]
    archive(batch)
    batch.append(4)
"""

CONFIG = """\
[mypy]
check_untyped_defs = True
show_traceback = True
"""


# --------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------


@dataclass
class Case:
    test_file: str  # check-classes.test
    name: str  # testFoo (without -skip, -xfail, ...)
    source: str  # the main module

    @property
    def module(self) -> str:
        stem = re.sub(r"\W", "_", self.test_file.removesuffix(".test"))
        return f"{stem}__{self.name}"

    @property
    def path(self) -> str:
        return self.module + ".py"

    @property
    def threads(self) -> bool:
        """Does it mention a marker or a thread (the plugin may report there)?"""
        return _MARKERS_OR_THREADS.search(self.source) is not None


def main_module(body: str) -> str:
    """A case's main module as mypy's reader sees it: the lines up to the
    first section header, without ``--`` comment lines (``----`` stands for
    ``--``, ``\\[`` for ``[``), ``\\`` line continuations joined, trailing
    blank lines and spaces dropped."""
    lines: list[str] = []
    for line in body.split("\n"):
        if line.startswith("[") and line.strip().endswith("]"):
            break
        if line.startswith("\\["):
            lines.append(line[1:])
        elif line.startswith("----"):
            lines.append(line[2:])
        elif not line.startswith("--"):
            lines.append(line)
    joined: list[str] = []
    cont = False
    for line in lines:
        text = re.sub(r"\\$", "", line)
        if cont:
            joined[-1] += re.sub("^ +", "", text)
        else:
            joined.append(text)
        cont = line.endswith("\\")
    out = [re.sub(r"\s+$", "", line) for line in joined]
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def extract(corpus: Path, files: Sequence[str] = ()) -> list[Case]:
    cases: list[Case] = []
    for test in sorted(corpus.glob("check-*.test")):
        if files and test.name not in files:
            continue
        parts = _CASE_HEADER.split(test.read_text(encoding="utf-8"))
        for header, body in zip(parts[1::2], parts[2::2]):
            m = _CASE_NAME.fullmatch(header.strip())
            name = m.group("name") if m else re.sub(r"\W", "_", header)
            cases.append(Case(test.name, name, main_module(body)))
    return cases


UNPARSEABLE = "does not parse (mypy's parser stops on it)"


def parse_problem(case: Case) -> str | None:
    """Why mypy's parser cannot parse the case, if it cannot: a blocking
    error, which would stop a whole chunk's run.  mypy's parser, not
    Python's: mypy 2.x parses syntax newer than the running Python (PEP 695
    generics, t-strings) and checks it.  Python's ``ast`` decides only if
    mypy's parser cannot be called (its API is mypy's own, not public)."""
    try:
        from mypy.errors import Errors
        from mypy.options import Options
        from mypy.parse import parse

        options = Options()
        errors = Errors(options)
        errors.set_file(case.path, case.module, options)
        parse(case.source, case.path, case.module, errors, options, eager=True)
    except (ImportError, TypeError, AttributeError):
        return _ast_problem(case)
    except Exception as e:  # a crash of mypy's parser stops the run too
        return f"mypy's parser raises {type(e).__name__}: {e}"
    if errors.is_blockers():
        return next(iter(errors.new_messages()), "a blocking error")
    return None


def _ast_problem(case: Case) -> str | None:
    try:
        ast.parse(case.source, case.path)
    except SyntaxError as e:
        return f"does not parse on Python {sys.version_info[0]}.{sys.version_info[1]}: {e.msg}"
    except (ValueError, RecursionError, MemoryError) as e:
        return f"does not parse: {type(e).__name__}: {e}"
    return None


# --------------------------------------------------------------------------
# Running mypy
# --------------------------------------------------------------------------


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    def crash(self) -> str | None:
        """Why this run is a crash (not a blocking error), if it is one."""
        text = self.stdout + self.stderr
        if "INTERNAL ERROR" in text:
            return "INTERNAL ERROR"
        if "Traceback (most recent call last)" in text:
            return "a traceback"
        if self.stderr.strip():
            return "output on stderr: " + self.stderr.strip().splitlines()[-1]
        if self.returncode not in (0, 1, 2):
            return f"exit status {self.returncode}"
        return None


def mypy_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MYPY_OWNERSHIP_DEBUG", None)
    env.pop("MYPYPATH", None)
    return env


class Runner:
    """Writes chunks and runs mypy on them; counts the runs."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.plain_config = work / "plain.ini"
        self.plugin_config = work / "plugin.ini"
        self.plain_config.write_text(CONFIG)
        self.plugin_config.write_text(CONFIG + "plugins = mypy_ownership\n")
        self.env = mypy_env()
        self._lock = threading.Lock()
        self.runs: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()

    def run(self, directory: Path, cases: Sequence[Case], plugin: bool, label: str) -> Run:
        config = self.plugin_config if plugin else self.plain_config
        cmd = [
            sys.executable, "-m", "mypy",
            "--config-file", str(config),
            "--cache-dir", os.devnull,
            "--no-error-summary",
            "--show-traceback",
            *(c.path for c in cases),
        ]  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=directory, capture_output=True, text=True, env=self.env)
        run = Run(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start)
        kind = "plugin" if plugin else "plain"
        with self._lock:
            self.runs[kind] += 1
            self.seconds[kind] += run.seconds
        (directory / f"{label}.out").write_text(run.stdout + ("\n--- stderr ---\n" + run.stderr if run.stderr else ""))
        return run


# --------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------


def by_case(lines: Sequence[str], cases: Sequence[Case]) -> tuple[dict[str, list[str]], list[str]]:
    """Each case's lines (by file name), and the lines of no case.  A line of
    another shape (a traceback, say) goes with the case of the line before."""
    known = {c.path: c.path for c in cases}
    out: dict[str, list[str]] = {c.path: [] for c in cases}
    stray: list[str] = []
    last: str | None = None
    for line in lines:
        m = _LINE.match(line)
        if m and m.group("path") in known:
            last = m.group("path")
        elif m:
            last = None
        if last is None:
            stray.append(line)
        else:
            out[last].append(line)
    return out, stray


def code_of(line: str) -> str | None:
    m = _CODE.search(line)
    return m.group("code") if m else None


def severity_of(line: str) -> str:
    m = _LINE.match(line)
    return m.group("severity") if m else ""


@dataclass
class Verdict:
    harm: list[str] = field(default_factory=list)  # why it is harm
    added: list[str] = field(default_factory=list)  # the plugin's lines
    diff: list[str] = field(default_factory=list)


def compare(plain: list[str], plugin: list[str], threads: bool) -> Verdict:
    """The plugin run's lines of one case against the plain run's."""
    verdict = Verdict()
    if plain == plugin:
        return verdict
    matcher = difflib.SequenceMatcher(None, plain, plugin, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("replace", "delete"):
            verdict.harm.append(f"{i2 - i1} line(s) of plain mypy changed or lost")
        if op in ("replace", "insert"):
            verdict.added.extend(plugin[j1:j2])
    own_errors = [x for x in verdict.added if severity_of(x) == "error" and code_of(x) in PLUGIN_CODES]
    for line in verdict.added:
        if SAFETY_NOTE in line:
            verdict.harm.append("the plugin's safety net: a hook raised")
        elif severity_of(line) != "note" and code_of(line) not in PLUGIN_CODES:
            verdict.harm.append(f"an added line that is not the plugin's: {line}")
        elif severity_of(line) == "note" and not own_errors:
            verdict.harm.append(f"an added note without a plugin error: {line}")
    if verdict.added and not threads:
        verdict.harm.append("the plugin reports on a case without markers or threads")
    verdict.harm = list(dict.fromkeys(verdict.harm))
    verdict.diff = list(difflib.unified_diff(plain, plugin, "plain", "plugin", lineterm="", n=2))
    return verdict


# --------------------------------------------------------------------------
# A chunk
# --------------------------------------------------------------------------


@dataclass
class ChunkResult:
    checked: list[Case] = field(default_factory=list)
    skipped: dict[str, list[tuple[Case, str]]] = field(default_factory=dict)  # reason -> cases
    harmed: list[tuple[Case, Verdict]] = field(default_factory=list)
    reported: list[tuple[Case, list[str]]] = field(default_factory=list)  # plugin lines, not harm
    nondeterministic: list[tuple[Case, list[str]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # of the whole run: fail it

    def skip(self, reason: str, case: Case, detail: str) -> None:
        self.skipped.setdefault(reason, []).append((case, detail))

    def merge(self, other: ChunkResult) -> None:
        self.checked += other.checked
        for reason, cases in other.skipped.items():
            self.skipped.setdefault(reason, []).extend(cases)
        self.harmed += other.harmed
        self.reported += other.reported
        self.nondeterministic += other.nondeterministic
        self.problems += other.problems


BLOCKING = "stops plain mypy (blocking error)"
PLAIN_CRASH = "crashes plain mypy"
NONDETERMINISTIC = "differs between two plain runs (mypy's nondeterminism)"


def _culprit(run: Run, cases: Sequence[Case]) -> Case | None:
    """The case where a run stopped (a blocking error or a crash): the last
    case it prints for.  mypy prints each module's messages once that module
    is done (every case file is a module of its own, an import cycle of its
    own), and a blocking error or crash ends the run with the messages of
    the module it stopped in."""
    paths = {c.path: c for c in cases}
    for line in reversed(run.lines):
        m = _LINE.match(line)
        if m and m.group("path") in paths:
            return paths[m.group("path")]
    return None


def check_chunk(runner: Runner, directory: Path, cases: list[Case]) -> ChunkResult:
    result = ChunkResult()
    active = list(cases)
    attempt = 0
    while active:
        attempt += 1
        plain = runner.run(directory, active, False, f"plain-{attempt}")
        crash = plain.crash()
        if plain.returncode == 2 or crash:
            culprit = _culprit(plain, active)
            if culprit is None:
                return _bisect(runner, directory, active, result)
            detail = next((x for x in reversed(plain.lines) if x.startswith(culprit.path)), "")
            result.skip(PLAIN_CRASH if crash else BLOCKING, culprit, crash or detail)
            active.remove(culprit)
            continue
        plugin = runner.run(directory, active, True, f"plugin-{attempt}")
        crash = plugin.crash() or (f"exit status 2, plain mypy {plain.returncode}" if plugin.returncode == 2 else None)
        if crash:
            culprit = _culprit(plugin, active)
            if culprit is None and len(active) > 1:
                return _bisect(runner, directory, active, result)
            case = culprit or active[0]
            plain_lines, _ = by_case(plain.lines, active)
            plugin_lines, _ = by_case(plugin.lines, active)
            verdict = compare(plain_lines[case.path], plugin_lines[case.path], case.threads)
            verdict.harm.insert(0, f"the plugin run crashes: {crash}")
            verdict.diff += ["--- the plugin run's last lines ---", *(plugin.stdout + plugin.stderr).splitlines()[-30:]]
            result.harmed.append((case, verdict))
            active.remove(case)
            continue
        return _compare_chunk(runner, directory, active, plain, plugin, result)
    return result


def _bisect(runner: Runner, directory: Path, cases: list[Case], result: ChunkResult) -> ChunkResult:
    """A run that stopped without naming one case: check each half alone."""
    if len(cases) == 1:
        result.skip(PLAIN_CRASH, cases[0], "plain mypy fails on this case alone")
        return result
    half = len(cases) // 2
    for part in (cases[:half], cases[half:]):
        result.merge(check_chunk(runner, directory, part))
    return result


#: Rounds that confirm a harm: plain mypy again, then the plugin and plain
#: once more each.  mypy's one nondeterministic case known (about even odds)
#: passes for harm 5 rounds running with odds of 1 in 1,000 (0.5 ** 10).
CONFIRM_ROUNDS = 5
UNSTABLE = "differs from run to run with the plugin, plain mypy stable"


def _compare_chunk(
    runner: Runner, directory: Path, cases: list[Case], plain: Run, plugin: Run, result: ChunkResult
) -> ChunkResult:
    """Each case's lines, plain against plugin.  A case that looks harmed is
    held up to mypy's own nondeterminism first: plain mypy runs on the chunk
    again; a case whose plain lines differ between two plain runs is left
    out.  What still looks harmed gets more rounds (the plugin again, plain
    again): a case whose plugin run once prints what plain mypy prints is
    left out too (listed as unstable); the rest is harm, a plugin run that
    differs every time from a plain run that never does."""
    plains = [by_case(plain.lines, cases)[0]]
    plugins = [by_case(plugin.lines, cases)[0]]
    verdicts = {c.path: compare(plains[0][c.path], plugins[0][c.path], c.threads) for c in cases}
    pending = [c for c in cases if verdicts[c.path].harm]
    left_out: dict[str, tuple[str, list[str]]] = {}
    for round_ in range(CONFIRM_ROUNDS):
        if not pending:
            break
        if round_ > 0:
            again = runner.run(directory, cases, True, f"plugin-again-{round_}")
            if again.returncode != plugin.returncode or again.crash():
                break
            plugins.append(by_case(again.lines, cases)[0])
        again = runner.run(directory, cases, False, f"plain-again-{round_ + 1}")
        if again.returncode != plain.returncode or again.crash():
            break
        plains.append(by_case(again.lines, cases)[0])
        for case in pending:
            seen = [p[case.path] for p in plains]
            other = next((x for x in seen if x != seen[0]), None)
            if other is not None:
                diff = difflib.unified_diff(seen[0], other, "plain", "plain again", lineterm="", n=1)
                left_out[case.path] = (NONDETERMINISTIC, list(diff))
            elif any(q[case.path] == seen[0] for q in plugins):
                diff = difflib.unified_diff(
                    plugins[0][case.path], seen[0], "plugin", "plain, and the plugin again", lineterm="", n=1
                )
                left_out[case.path] = (UNSTABLE, list(diff))
        pending = [c for c in pending if c.path not in left_out]
    for case in cases:
        if case.path in left_out:
            reason, diff = left_out[case.path]
            result.nondeterministic.append((case, [reason, *diff]))
            result.skip(reason, case, "")
            continue
        result.checked.append(case)
        verdict = verdicts[case.path]
        if verdict.harm:
            result.harmed.append((case, verdict))
        elif verdict.added:
            result.reported.append((case, verdict.added))
    plain_stray, plugin_stray = by_case(plain.lines, cases)[1], by_case(plugin.lines, cases)[1]
    if plain_stray != plugin_stray:
        verdict = Verdict(
            ["output outside any case's file differs"],
            [],
            list(difflib.unified_diff(plain_stray, plugin_stray, "plain", "plugin", lineterm="")),
        )
        result.harmed.append((Case("(chunk)", directory.name, ""), verdict))
    return result


# --------------------------------------------------------------------------
# The whole corpus
# --------------------------------------------------------------------------


def resolve_corpus(arg: str | None = None) -> Path:
    """``--corpus``, else ``$MYPY_CHECK_CASES``, else ``../shared/...``
    beside the repository (or, in a git worktree, beside its main checkout)."""
    if arg:
        return Path(arg)
    if os.environ.get(CORPUS_ENV):
        return Path(os.environ[CORPUS_ENV])
    if DEFAULT_CORPUS.is_dir():
        return DEFAULT_CORPUS
    try:
        common = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=REPO_DIR, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return DEFAULT_CORPUS
    beside_main = Path(common).parent.parent / "shared" / "mypy-check-cases"
    return beside_main if beside_main.is_dir() else DEFAULT_CORPUS


def run_all(
    corpus: Path,
    *,
    files: Sequence[str] = (),
    names: Sequence[str] = (),
    chunk_size: int = DEFAULT_CHUNK,
    jobs: int = MAX_JOBS,
    keep: Path | None = None,
    progress: bool = True,
) -> tuple[list[Case], ChunkResult, Runner]:
    cases = extract(corpus, files)
    if names:
        cases = [c for c in cases if any(n in c.name for n in names)]
    result = ChunkResult()
    parsed: list[Case] = []
    for case in cases:
        problem = parse_problem(case)
        if problem:
            result.skip(UNPARSEABLE, case, problem)
        else:
            parsed.append(case)
    work = Path(tempfile.mkdtemp(prefix="mypy-cases-")) if keep is None else keep
    work.mkdir(parents=True, exist_ok=True)
    runner = Runner(work)
    chunks = [parsed[i : i + chunk_size] for i in range(0, len(parsed), chunk_size)] or [[]]
    canary = Case("canary", "canary", CANARY_SOURCE)
    chunks[0].insert(0, canary)

    def one(index: int, chunk: list[Case]) -> ChunkResult:
        directory = work / f"chunk-{index:03d}"
        directory.mkdir(exist_ok=True)
        for case in chunk:
            (directory / case.path).write_text(case.source, encoding="utf-8")
        start = time.perf_counter()
        out = check_chunk(runner, directory, chunk)
        if progress:
            print(
                f"  chunk {index + 1}/{len(chunks)}: {len(chunk)} cases, {time.perf_counter() - start:.1f} s,"
                f" harmed {len(out.harmed)}",
                file=sys.stderr,
                flush=True,
            )
        return out

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(jobs, MAX_JOBS))) as pool:
            for out in pool.map(one, range(len(chunks)), chunks):
                result.merge(out)
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
    _take_canary(result, canary)
    return cases, result, runner


def _take_canary(result: ChunkResult, canary: Case) -> None:
    """The canary out of the counts; a problem if the plugin did not report
    its use-after-move (a harm of the canary stays a harm)."""
    reports = [lines for c, lines in result.reported if c is canary]
    result.reported = [(c, x) for c, x in result.reported if c is not canary]
    result.checked = [c for c in result.checked if c is not canary]
    if not any(code_of(line) == "use-after-move" for lines in reports for line in lines):
        result.problems.append(
            "the plugin run did not report the canary's use-after-move: is the plugin loaded?"
        )


def report(cases: list[Case], result: ChunkResult, runner: Runner, seconds: float) -> list[str]:
    out = [f"cases extracted: {len(cases)} (from {len({c.test_file for c in cases})} files)"]
    skipped = sum(len(v) for v in result.skipped.values())
    out.append(f"skipped: {skipped}")
    for reason, items in sorted(result.skipped.items()):
        out.append(f"  {len(items):5d}  {reason}")
        if reason != NONDETERMINISTIC:
            for case, detail in items:
                out.append(f"         {case.test_file}::{case.name}  {detail}")
    out += [f"PROBLEM: {problem}" for problem in result.problems]
    if not result.problems:
        out.append("plugin loaded: the canary's use-after-move was reported")
    out.append(f"checked: {len(result.checked)}")
    out.append(f"harmed: {len(result.harmed)}")
    for case, verdict in result.harmed:
        out.append(f"  HARM {case.test_file}::{case.name}")
        out += [f"    {why}" for why in verdict.harm]
        out += [f"      {line}" for line in verdict.diff]
    out.append(f"nondeterministic in mypy itself (left out): {len(result.nondeterministic)}")
    for case, diff in result.nondeterministic:
        out.append(f"  {case.test_file}::{case.name}")
        out += [f"      {line}" for line in diff]
    codes = Counter(code_of(line) for _, lines in result.reported for line in lines if severity_of(line) == "error")
    threaded = sum(1 for c in result.checked if c.threads)
    out.append(
        f"plugin reports added (cases with markers or threads: {threaded}): "
        + (", ".join(f"{code} {n}" for code, n in sorted(codes.items())) or "none")
        + f", in {len(result.reported)} case(s)"
    )
    for case, lines in result.reported:
        out.append(f"  {case.test_file}::{case.name}")
        out += [f"      {line}" for line in lines]
    runs = ", ".join(
        f"{kind} {runner.runs[kind]} runs {runner.seconds[kind]:.0f} s" for kind in ("plain", "plugin")
    )
    out.append(f"time: {seconds:.0f} s wall ({runs}; mypy run time summed over jobs)")
    return out


def to_json(cases: list[Case], result: ChunkResult, runner: Runner, seconds: float) -> dict[str, object]:
    def cid(c: Case) -> str:
        return f"{c.test_file}::{c.name}"

    return {
        "extracted": len(cases),
        "skipped": {r: [[cid(c), d] for c, d in items] for r, items in result.skipped.items()},
        "checked": len(result.checked),
        "harmed": [{"case": cid(c), "why": v.harm, "diff": v.diff} for c, v in result.harmed],
        "nondeterministic": [{"case": cid(c), "diff": d} for c, d in result.nondeterministic],
        "reported": [{"case": cid(c), "lines": lines} for c, lines in result.reported],
        "runs": dict(runner.runs),
        "seconds": round(seconds, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", help=f"the check-*.test directory (default: ${CORPUS_ENV}, else {DEFAULT_CORPUS})")
    ap.add_argument("--files", default="", help="only these test files, comma-separated (check-enum.test,...)")
    ap.add_argument("--cases", default="", help="only cases whose name contains one of these, comma-separated")
    ap.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK, help="files per mypy run (%(default)s)")
    ap.add_argument("--jobs", type=int, default=MAX_JOBS, help=f"mypy runs at a time, at most {MAX_JOBS} (%(default)s)")
    ap.add_argument("--keep", type=Path, help="keep the chunks and every run's output in this directory")
    ap.add_argument("--json", type=Path, help="write the result as JSON here")
    ap.add_argument("--allow-missing", action="store_true", help="exit 0 when the corpus is absent")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    args = ap.parse_args(argv)

    corpus = resolve_corpus(args.corpus)
    if not any(corpus.glob("check-*.test")):
        print(f"no mypy check cases at {corpus} (set --corpus or ${CORPUS_ENV})")
        return 0 if args.allow_missing else 2
    start = time.perf_counter()
    cases, result, runner = run_all(
        corpus,
        files=[f for f in args.files.split(",") if f],
        names=[n for n in args.cases.split(",") if n],
        chunk_size=args.chunk_size,
        jobs=args.jobs,
        keep=args.keep,
        progress=not args.quiet,
    )
    seconds = time.perf_counter() - start
    print("\n".join(report(cases, result, runner, seconds)))
    if args.json:
        args.json.write_text(json.dumps(to_json(cases, result, runner, seconds), indent=1) + "\n")
    return 1 if result.harmed or result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
