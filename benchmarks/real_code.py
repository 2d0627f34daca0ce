"""The plugin on real threaded code: plain mypy against mypy with the
``mypy_ownership`` plugin, over the source of pinned PyPI packages that
really use threads (actors, worker threads, thread pools, servers).

Three questions, one command:

* What does the plugin cost on code it was not written for?  Wall time of
  each package's check, plain and with the plugin, the median of
  ``--repeats`` cold runs (fresh ``--cache-dir`` each), and the ratio; the
  project's target is ``plugin/plain <= 1.03`` over the whole set.
  ``--warm`` also times a second run on the cache the cold run left behind.
  An empty module, measured in the same rounds, gives the fixed cost of a
  run, which every package pays once.  ``--instructions`` counts
  instructions instead (valgrind's callgrind): one cold run per package and
  config, the same count whatever the load, where the times swing by 10-20%
  on a busy machine; about 50 times slower, so the runs share the cores.
* Does it ever crash there?  Exit status 2, ``INTERNAL ERROR``, a traceback,
  or the note the plugin's safety net writes when one of its hooks failed
  (``mypy_ownership/safety.py``).  Any crash makes this script exit 1.
* What does it report there?  None of these packages uses ``fearless``, so
  every error the plugin adds is either a real thread hazard or a false
  positive.  The added lines (plugin output minus plain output, keyed by
  ``file:line: message``, with the notes around them) are printed grouped
  by error code and written to a Markdown report and a JSON twin, with the
  source lines they point at, for a human to classify.

The two runs of a package differ in one line of a generated config file,
``plugins = mypy_ownership``; everything else (flags, cache handling, the
order of runs) is the same.  Plain mypy's own errors are the packages' type
errors: they are counted, not judged.

Others edit the plugin while this runs: a change to ``mypy_ownership/`` or
``stubs/`` during the run is reported, and so is output that differs
between two runs of the same package and config.

The packages are downloaded once with pip (no dependencies) into
``benchmarks/.real-code/`` (git-ignored) and unpacked there; only each
package's own source is checked, not its tests.

    .venv/bin/python benchmarks/real_code.py [--repeats 3] [--warm]
                                             [--packages pykka,waitress]
                                             [--report PATH.md] [--list]
    .venv/bin/python benchmarks/real_code.py --instructions [--packages ...]
"""

from __future__ import annotations

import argparse
import compileall
import concurrent.futures
import datetime
import importlib.util
import json
import math
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, TypeVar

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".real-code"
DEFAULT_REPORT = CACHE_DIR / "report.md"
DEFAULT_INSTRUCTIONS_REPORT = CACHE_DIR / "report-instructions.md"
TARGET_RATIO = 1.03


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    #: "wheel" or "sdist": what pip downloads (sqlitedict has no wheel).
    dist: str
    #: What mypy checks, relative to the unpacked root.
    targets: tuple[str, ...]
    #: Where its threads are: why it is in the set.
    threads: str
    #: Delete ``.pyi`` files that sit beside a ``.py``: mypy would read the
    #: stub and never look at the code.
    drop_stubs: bool = False


P = TypeVar("P", bound=Package)

# fmt: off
PACKAGES = (
    Package("pykka", "4.5.0", "wheel", ("pykka",),
            "actors, each on its own thread; futures passed between them"),
    Package("sqlitedict", "2.1.0", "sdist", ("sqlitedict.py",),
            "one worker thread owns the sqlite connection, callers queue requests"),
    Package("janus", "2.0.0", "wheel", ("janus",),
            "a queue between asyncio and threads, call_soon_threadsafe, locks"),
    Package("waitress", "3.0.2", "wheel", ("waitress",),
            "threaded WSGI server: a dispatcher and a pool of worker threads"),
    Package("paho-mqtt", "2.2.0", "wheel", ("paho",),
            "the network loop runs on its own thread (loop_start), callbacks from it"),
    Package("watchdog", "7.1.0", "wheel", ("watchdog",),
            "observer and emitter threads, event queues"),
    Package("pebble", "5.2.3", "wheel", ("pebble",),
            "thread and process pools, decorators that run functions on threads"),
    Package("cheroot", "11.1.2", "wheel", ("cheroot",),
            "threaded HTTP server: a worker thread pool", drop_stubs=True),
    Package("apscheduler", "3.11.3", "wheel", ("apscheduler",),
            "a background scheduler thread, thread pool executors"),
)
# fmt: on

#: The fixed cost of a run: an empty module, checked in the same rounds.
EMPTY = Package("(empty)", "-", "none", ("empty.py",), "nothing: the fixed cost of a mypy run")

#: Test directories are not the package's code.
EXCLUDE = r"(^|/)tests?/"

CONFIG = """\
[mypy]
{plugin_line}
python_version = 3.11
platform = linux
# Their dependencies are not installed; what is (pytest, ...) is followed
# silently: errors there are not the package's.
ignore_missing_imports = True
follow_imports = silent
# Much of this code is unannotated: check those bodies too, so that the
# plugin sees them as well.
check_untyped_defs = True
show_error_codes = True
show_traceback = True
exclude = {exclude}
"""

#: The safety net's note (``mypy_ownership.safety.internal_problem``), and
#: older spellings of it: a hook raised and gave up on a call.
HOOK_FAILED = re.compile(r"mypy[-_]ownership (could not check this call|hook failed)")

_LINE = re.compile(r"^(?P<path>[^:\n]+?):(?P<line>\d+): (?P<severity>error|note|warning): (?P<message>.*)$")
_CODE = re.compile(r"  \[(?P<code>[a-z0-9-]+)\]$")
_QUOTED = re.compile(r'"([^"]+)"')


# --------------------------------------------------------------------------
# The sources
# --------------------------------------------------------------------------


class SetupFailed(RuntimeError):
    pass


def source_root(pkg: Package) -> Path:
    return CACHE_DIR / "src" / f"{pkg.name}-{pkg.version}"


def fetch(pkg: Package) -> Path:
    """Download (once) and unpack (once) the pinned distribution."""
    root = source_root(pkg)
    if (root / ".unpacked").exists():
        return root
    download = CACHE_DIR / "downloads" / f"{pkg.name}-{pkg.version}"
    files = sorted(download.iterdir()) if download.exists() else []
    if not files:
        download.mkdir(parents=True, exist_ok=True)
        only = ("--only-binary", ":all:") if pkg.dist == "wheel" else ("--no-binary", ":all:")
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
            "--disable-pip-version-check", *only, "--dest", str(download),
            f"{pkg.name}=={pkg.version}",
        ]  # fmt: skip
        print(f"real_code: downloading {pkg.name}=={pkg.version} ({pkg.dist}) ...", flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        files = sorted(download.iterdir())
        if proc.returncode != 0 or not files:
            raise SetupFailed(f"pip download {pkg.name}=={pkg.version} failed:\n{proc.stdout}{proc.stderr}")
    if len(files) != 1 or pkg.version not in files[0].name:
        raise SetupFailed(f"expected one {pkg.name} {pkg.version} file in {download}, found {files}")
    archive = files[0]

    # Unpack next to the final place, then rename: an interrupted unpack
    # leaves no half tree that looks finished.
    root.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(root, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    try:
        if archive.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp)
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(tmp, filter="data")
        if pkg.dist == "sdist":  # an sdist has one top directory: name-version/
            (top,) = tmp.iterdir()
            top.rename(root)
        else:
            tmp.rename(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if pkg.drop_stubs:
        for stub in root.rglob("*.pyi"):
            if stub.with_suffix(".py").exists():
                stub.unlink()
    for target in pkg.targets:
        if not (root / target).exists():
            raise SetupFailed(f"{pkg.name} {pkg.version}: no {target} in {root}")
    (root / ".unpacked").write_text(f"{archive.name}\n")
    return root


def checked_files(pkg: Package, root: Path) -> list[Path]:
    """The files mypy checks for ``pkg`` (what ``EXCLUDE`` leaves)."""
    exclude = re.compile(EXCLUDE)
    out = []
    for target in pkg.targets:
        path = root / target
        candidates = [path] if path.is_file() else sorted(path.rglob("*.py*"))
        for f in candidates:
            rel = f.relative_to(root).as_posix()
            if f.suffix in (".py", ".pyi") and not exclude.search(rel):
                out.append(f)
    return out


# --------------------------------------------------------------------------
# Running mypy
# --------------------------------------------------------------------------


def write_configs(workdir: Path) -> dict[str, Path]:
    configs = {}
    for config, line in (
        ("plain", "# plugins = mypy_ownership  (the only difference)"),
        ("plugin", "plugins = mypy_ownership"),
    ):
        path = workdir / f"{config}.ini"
        path.write_text(CONFIG.format(plugin_line=line, exclude=EXCLUDE))
        configs[config] = path
    return configs


@dataclass
class Run:
    wall: float
    cpu: float  # user + sys of the mypy process
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def run_mypy(
    root: Path, targets: tuple[str, ...], config: Path, cache: Path, env: dict[str, str], wrapper: tuple[str, ...] = ()
) -> Run:
    """One mypy run; ``wrapper`` goes before the command (valgrind, say)."""
    cmd = [
        *wrapper, sys.executable, "-m", "mypy",
        "--config-file", str(config),
        "--cache-dir", str(cache),
        "--no-error-summary",
        *targets,
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, proc.returncode, proc.stdout, proc.stderr)


def crash_reason(run: Run) -> str | None:
    output = run.stdout + run.stderr
    if run.returncode not in (0, 1):
        return f"mypy exited {run.returncode}"
    if "INTERNAL ERROR" in output:
        return "INTERNAL ERROR"
    if "Traceback (most recent call last)" in output:
        return "a traceback"
    if HOOK_FAILED.search(output):
        return "the plugin's 'could not check this call' note (a hook raised)"
    if run.returncode == 1 and not any(_LINE.match(line) for line in run.lines):
        return "mypy failed without reporting an error"
    return None


# --------------------------------------------------------------------------
# The diff
# --------------------------------------------------------------------------


@dataclass
class Message:
    text: str  # the full line
    path: str | None
    line: int
    severity: str  # error, note, warning, or "" for a line of another shape
    code: str | None

    @classmethod
    def parse(cls, text: str) -> Message:
        m = _LINE.match(text)
        if not m:
            return cls(text, None, 0, "", None)
        code = _CODE.search(m["message"]) if m["severity"] == "error" else None
        return cls(text, m["path"], int(m["line"]), m["severity"], code["code"] if code else None)


@dataclass
class Finding:
    """Consecutive added lines: one added error and the added notes around it."""

    package: str
    messages: list[Message]

    @property
    def code(self) -> str:
        codes = [m.code or "no code" for m in self.messages if m.severity == "error"]
        return codes[0] if codes else "note only"


def subtract(minuend: list[str], subtrahend: list[str]) -> list[int]:
    """Indexes of the lines of ``minuend`` that ``subtrahend`` lacks (as multisets)."""
    left = Counter(subtrahend)
    extra = []
    for i, line in enumerate(minuend):
        if left[line] > 0:
            left[line] -= 1
        else:
            extra.append(i)
    return extra


def group(package: str, lines: list[str], indexes: list[int]) -> list[Finding]:
    """Split the added lines into findings: one per added error, with its notes.

    mypy sorts a file's messages by line, so the notes of an error are not
    always after it: a "moved here" note at an earlier line comes before
    its error, maybe before another error's notes too.  Within a run of
    consecutive added lines: a note right after an error and on its line
    belongs to it; any other note belongs to the later error of the run
    that quotes the most of the same names (``"context"``), the next one
    on a tie.  Notes left over (after every error, naming nothing of
    theirs) make a finding of notes only, as does a run without an error.
    """
    runs: list[list[int]] = []
    for i in indexes:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    findings: list[Finding] = []
    for run in runs:
        msgs = [Message.parse(lines[i]) for i in run]
        errors = [k for k, m in enumerate(msgs) if m.severity == "error"]
        if not errors:
            findings.append(Finding(package, msgs))
            continue
        owner: dict[int, int] = {}
        last: int | None = None
        for k, m in enumerate(msgs):
            if m.severity == "error":
                owner[k] = last = k
            elif last is not None and (m.path, m.line) == (msgs[last].path, msgs[last].line):
                owner[k] = last
            else:
                last = None  # the notes after this one are not the error's own either
                later = [e for e in errors if e > k]
                names = set(_QUOTED.findall(m.text))

                def shared(e: int) -> int:
                    return len(names & set(_QUOTED.findall(msgs[e].text)))

                best = max(later or errors, key=lambda e: (shared(e), -e))
                # After every error and naming nothing of theirs: its own finding.
                owner[k] = best if later or shared(best) else -1
        for e in errors:
            findings.append(Finding(package, [m for k, m in enumerate(msgs) if owner[k] == e]))
        if -1 in owner.values():
            findings.append(Finding(package, [m for k, m in enumerate(msgs) if owner[k] == -1]))
    return _attach_stray_notes(findings)


_LINE_REF = re.compile(r"\bline (\d+)\b")


def _lines_named(messages: list[Message]) -> set[int]:
    """The lines a group of messages stands at or names (``"... the thread
    started at line 330"``)."""
    named = {m.line for m in messages}
    for m in messages:
        named.update(int(n) for n in _LINE_REF.findall(m.text))
    return named


def _attach_stray_notes(findings: list[Finding]) -> list[Finding]:
    """A finding of notes only is the far end of an error elsewhere in the
    file: mypy sorts by line, so a note at the other thread's access or at
    the ``start()`` (``"the thread ... is started here"``) can land between
    unrelated lines.  Each note joins the error of its file that stands at
    or names the most of the lines the note stands at or names (the nearest
    on a tie); a note that shares no line with any error stays a finding of
    its own, as before."""
    errors = [f for f in findings if f.code != "note only"]
    kept = []
    for finding in findings:
        if finding.code != "note only":
            kept.append(finding)
            continue
        stray = []
        for note in finding.messages:
            wanted = _lines_named([note])
            best, best_key = None, (0, 0)
            for e in errors:
                if e.messages[0].path != note.path:
                    continue
                shared = len(wanted & _lines_named(e.messages))
                key = (shared, -abs(e.messages[0].line - note.line))
                if shared and (best is None or key > best_key):
                    best, best_key = e, key
            if best is None:
                stray.append(note)
            else:
                best.messages.append(note)
        if stray:
            kept.append(Finding(finding.package, stray))
    return kept


# --------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------


@dataclass
class Result:
    pkg: Package
    root: Path
    files: int
    lines: int
    wall: dict[str, list[float]] = field(default_factory=lambda: {"plain": [], "plugin": []})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {"plain": [], "plugin": []})
    warm: dict[str, list[float]] = field(default_factory=lambda: {"plain": [], "plugin": []})
    #: ``--instructions``: the instructions of the one cold run under callgrind.
    instructions: dict[str, int] = field(default_factory=dict)
    #: The output of the first run of each config, the one that is diffed.
    output: dict[str, list[str]] = field(default_factory=dict)
    crashes: list[str] = field(default_factory=list)
    #: Other problems: output that changes between runs, warm != cold.
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    added: list[Finding] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def median(self, config: str, kind: str = "wall") -> float:
        values = getattr(self, kind)[config]
        return statistics.median(values) if values else math.nan

    def best(self, config: str, kind: str = "wall") -> float:
        values = getattr(self, kind)[config]
        return min(values) if values else math.nan

    def spread(self) -> float:
        return max(max(v) - min(v) for v in self.wall.values() if v)

    @property
    def plain_errors(self) -> int:
        return sum(Message.parse(line).severity == "error" for line in self.output.get("plain", []))


def record(result: Result, config: str, run: Run, what: str) -> None:
    """Check one run's output: crashes, and whether it equals the first run's."""
    reason = crash_reason(run)
    if reason:
        output = (run.stdout + run.stderr).rstrip().splitlines()
        shown = "\n".join(output[-60:])
        blame = "" if config == "plugin" else " (plain mypy: not the plugin)"
        result.crashes.append(f"{config} run, {what}: {reason}{blame}\n{shown}")
        return
    first = result.output.setdefault(config, run.lines)
    if sorted(run.lines) != sorted(first):
        diff = [f"- {first[i]}" for i in subtract(first, run.lines)]
        diff += [f"+ {run.lines[i]}" for i in subtract(run.lines, first)]
        shown = "\n    ".join(diff[:8]) + ("\n    ..." if len(diff) > 8 else "")
        note = f"{config} output of the {what} run differs from the first run's:\n    {shown}"
        (result.problems if what.startswith("warm") else result.warnings).append(note)


def precompile_plugin() -> None:
    """Write the plugin's and runtime's bytecode where Python looks for it
    (beside the modules as imported, through the editable install's links),
    and the bundled overlays' snapshot beside them, also when
    PYTHONDONTWRITEBYTECODE is set for this process: what an installed
    plugin has after its first run (see mypy_ownership/overlay_snapshot.py)."""
    for package in ("mypy_ownership", "fearless"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            for location in spec.submodule_search_locations:
                compileall.compile_dir(location, quiet=1, maxlevels=1)  # the sub-packages too
    code = (
        "from mypy_ownership.overlays import bundled_overlay_dir, load_overlays;"
        " load_overlays([bundled_overlay_dir()])"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tempfile.gettempdir())


def mypy_env(args: argparse.Namespace) -> dict[str, str]:
    """The environment of every measured run: no debug mode unless asked,
    and ``--num-workers`` as mypy's own MYPY_NUM_WORKERS (both configs)."""
    env = dict(os.environ)
    env.pop("MYPY_OWNERSHIP_DEBUG", None)
    env.pop("MYPY_NUM_WORKERS", None)
    if args.num_workers:
        env["MYPY_NUM_WORKERS"] = str(args.num_workers)
    return env


def measure(results: list[Result], configs: dict[str, Path], args: argparse.Namespace, workdir: Path) -> None:
    env = mypy_env(args)
    # An installed plugin runs from bytecode (pip compiles it at install);
    # compiling its modules from source on every run would be charged to it.
    precompile_plugin()
    if args.debug:  # a failing hook raises with its traceback instead of the note
        env["MYPY_OWNERSHIP_DEBUG"] = "1"

    def one(result: Result, config: str, *, timed: bool, label: str) -> None:
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=workdir))
        try:
            cold = run_mypy(result.root, result.pkg.targets, configs[config], cache, env)
            record(result, config, cold, label)
            if timed:
                result.wall[config].append(cold.wall)
                result.cpu[config].append(cold.cpu)
            if timed and args.warm:
                warm = run_mypy(result.root, result.pkg.targets, configs[config], cache, env)
                record(result, config, warm, f"warm {label}")
                result.warm[config].append(warm.wall)
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    # One untimed run of each first: typeshed, mypy's and the plugin's
    # modules and the package's files are in the OS file cache for every
    # timed run.  Its output is the one that is diffed.
    for result in results:
        print(f"real_code: {result.pkg.name}: first runs (untimed) ...", flush=True)
        for config in ("plain", "plugin"):
            one(result, config, timed=False, label="untimed first")
    for r in range(args.repeats):
        print(f"real_code: timed round {r + 1}/{args.repeats} ...", flush=True)
        for i, result in enumerate(results):
            # Alternate which config goes first, so that drift hits both.
            order = ("plain", "plugin") if (r + i) % 2 == 0 else ("plugin", "plain")
            for config in order:
                one(result, config, timed=True, label=f"timed #{r + 1}")

    diff_outputs(results)


#: The last line of callgrind's summary: ``==123== I   refs:      3,989,966,343``.
_IREFS = re.compile(r"^==\d+== I\s+refs:\s+([\d,]+)\s*$", re.MULTILINE)

def instruction_count(stderr: str) -> int | None:
    found = _IREFS.findall(stderr)
    return int(found[-1].replace(",", "")) if found else None


def measure_instructions(
    results: list[Result], configs: dict[str, Path], args: argparse.Namespace, workdir: Path
) -> None:
    """``--instructions``: one cold run of each package and config under
    callgrind, which counts the instructions executed: the same count for
    the same program and input whatever else the machine does, so one run
    is enough and the runs can share the cores."""
    env = mypy_env(args)
    # The same hash seed in every run: set and dict orders (and so the work
    # done) are then the same from run to run.
    env["PYTHONHASHSEED"] = "0"
    precompile_plugin()
    if args.debug:
        env["MYPY_OWNERSHIP_DEBUG"] = "1"
    # Valgrind's own output goes to stderr, the program's stays as it is.
    valgrind = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")

    def job(result: Result, config: str) -> tuple[Run, Run]:
        root, targets = result.root, result.pkg.targets
        first = Path(tempfile.mkdtemp(prefix="cache-", dir=workdir))
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=workdir))
        try:
            # The untimed first run, as in the timing mode (its output is the
            # one diffed).
            untimed = run_mypy(root, targets, configs[config], first, env)
            counted = run_mypy(root, targets, configs[config], cache, env, wrapper=valgrind)
        finally:
            shutil.rmtree(first, ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
        n = instruction_count(counted.stderr)
        print(
            f"real_code: {result.pkg.name} {config}: "
            + (f"{n / 1e6:,.1f} M instructions ({counted.wall:.0f} s)" if n is not None else "no instruction count"),
            flush=True,
        )
        return untimed, counted

    # Biggest first, so that the last job to finish is a short one.
    jobs = [(r, c) for r in sorted(results, key=lambda r: -r.lines) for c in ("plain", "plugin")]
    workers = os.cpu_count() or 1
    print(f"real_code: {len(jobs)} runs under callgrind, {workers} at a time ...", flush=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        # The workers only wait: each run is its own process.
        futures = [pool.submit(job, r, c) for r, c in jobs]
        runs = [f.result() for f in futures]
    for (result, config), (untimed, counted) in zip(jobs, runs):  # recorded in one thread, in a fixed order
        record(result, config, untimed, "untimed first")
        record(result, config, counted, "callgrind")
        n = instruction_count(counted.stderr)
        if n is not None:
            result.instructions[config] = n
        elif not crash_reason(counted):
            shown = "\n".join(counted.stderr.rstrip().splitlines()[-20:])
            result.crashes.append(f"{config} run, callgrind: valgrind printed no instruction count\n{shown}")

    diff_outputs(results)


def diff_outputs(results: list[Result]) -> None:
    """What the plugin run printed that the plain run did not (and the
    reverse), from the first run of each package."""
    for result in results:
        plain, plugin = result.output.get("plain"), result.output.get("plugin")
        if plain is None or plugin is None:
            continue
        result.added = group(result.pkg.name, plugin, subtract(plugin, plain))
        result.removed = [plain[i] for i in subtract(plain, plugin)]


def canary(configs: dict[str, Path], workdir: Path) -> str | None:
    """A use-after-move the plugin must report: proof that the plugin run
    really has the plugin (a silent misconfiguration would look like a
    free, error-free plugin).  Returns a warning, or None."""
    src = workdir / "canary"
    src.mkdir()
    (src / "canary.py").write_text(
        "from fearless import Owned\n\n\n"
        "def consume(v: Owned[list[int]]) -> None:\n    del v\n\n\n"
        "def main() -> None:\n    v = [1]\n    consume(v)\n    print(v)\n"
    )
    cache = workdir / "canary-cache"
    run = run_mypy(src, ("canary.py",), configs["plugin"], cache, dict(os.environ))
    shutil.rmtree(cache, ignore_errors=True)
    if "[use-after-move]" in run.stdout:
        return None
    return f"the canary use-after-move was not reported: is the plugin loaded?\n{run.stdout}{run.stderr}"


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


def round_ratios(results: list[Result]) -> list[float]:
    """For each timed round, the set's plugin wall time over its plain wall
    time.  A package's two runs in a round are back to back, so a round is
    one paired comparison of the whole set; the spread of these ratios is
    what tells a real difference from the machine's changing speed."""
    rounds = min((len(r.wall[c]) for r in results for c in ("plain", "plugin")), default=0)
    return [
        _ratio(sum(r.wall["plugin"][i] for r in results), sum(r.wall["plain"][i] for r in results))
        for i in range(rounds)
    ]


def bootstrap_interval(values: list[float], *, resamples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """A 95% percentile-bootstrap interval for the mean of ``values``
    (seeded: the same values always give the same interval)."""
    rng = random.Random(seed)
    means = sorted(statistics.fmean(rng.choices(values, k=len(values))) for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def interval_verdict(low: float, high: float) -> str:
    """What the interval decides.  It holds the noise within this run only:
    on a shared machine whole runs differ by more (slow and fast hours), so
    a verdict is worth repeating in another run."""
    if high <= TARGET_RATIO:
        return "the target is met beyond this run's noise (compare another run)"
    if low > TARGET_RATIO:
        return "the target is missed beyond this run's noise (compare another run)"
    return f"this run's noise spans the target ({TARGET_RATIO}); more rounds, more runs or a quieter machine would decide"


def plugin_version() -> str:
    def git(*cmd: str) -> str:
        proc = subprocess.run(["git", *cmd], cwd=REPO_DIR, capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = git("status", "--porcelain", "--", "mypy_ownership", "stubs")
    return head + (" + uncommitted changes in mypy_ownership/ or stubs/" if dirty else "") + f" ({plugin_build()})"


def plugin_build() -> str:
    """Whether the plugin this interpreter imports is compiled with mypyc
    (``make compiled``) or plain Python (the development install)."""
    try:
        spec = importlib.util.find_spec("mypy_ownership.model.call")
    except ImportError:
        return "not installed"
    origin = (spec.origin or "") if spec is not None else ""
    return "compiled with mypyc" if origin.endswith((".so", ".pyd")) else "interpreted"


def plugin_snapshot() -> dict[str, tuple[int, int]]:
    """(mtime, size) of the plugin's files: others edit them while this runs."""
    files = [*(REPO_DIR / "mypy_ownership").rglob("*.py"), *(REPO_DIR / "stubs").rglob("*.pyi")]
    return {str(f): (f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.exists()}


def mypy_version() -> str:
    proc = subprocess.run([sys.executable, "-m", "mypy", "--version"], capture_output=True, text=True)
    return proc.stdout.strip()


def source_line(root: Path, path: str | None, line: int) -> str | None:
    if path is None or line < 1:
        return None
    try:
        lines = (root / path).read_text(errors="replace").splitlines()
    except OSError:
        return None
    return lines[line - 1].rstrip() if line <= len(lines) else None


#: A finding's source excerpt covers the lines it names and what lies between
#: them (from the move to the use, say) when that span is at most this long.
EXCERPT_SPAN = 25


def source_excerpt(root: Path, messages: list[Message]) -> list[str]:
    """``path:line: text`` for each line the messages name, and the lines
    between them when they are close together in one file."""
    out = []
    by_path: dict[str, set[int]] = {}
    for m in messages:
        if m.path:
            by_path.setdefault(m.path, set()).add(m.line)
    for path, numbers in sorted(by_path.items()):
        lo, hi = min(numbers), max(numbers)
        # Three lines before the first: the statement it is in, usually.
        wanted = range(max(1, lo - 3), hi + 1) if hi - lo <= EXCERPT_SPAN else sorted(numbers)
        for n in wanted:
            text = source_line(root, path, n)
            if text is not None:
                mark = ">" if n in numbers else " "
                out.append(f"{mark} {path}:{n}: {text}")
    return out


def table(results: list[Result], baseline: Result, args: argparse.Namespace) -> list[str]:
    out = []
    header = (
        f"{'package':<13}{'version':>9}{'files':>7}{'lines':>8}{'plain s':>9}{'plugin s':>10}"
        f"{'plugin/plain':>14}{'extra s':>9}{'spread s':>10}{'cpu ratio':>11}"
        f"{'errors':>8}{'added':>7}"
    )
    out += [header, "-" * len(header)]
    for r in results:
        plain, plugin = r.median("plain"), r.median("plugin")
        out.append(
            f"{r.pkg.name:<13}{r.pkg.version:>9}{r.files:>7}{r.lines:>8}{plain:>9.3f}{plugin:>10.3f}"
            f"{_ratio(plugin, plain):>14.3f}{plugin - plain:>9.3f}{r.spread():>10.3f}"
            f"{_ratio(r.median('plugin', 'cpu'), r.median('plain', 'cpu')):>11.3f}"
            f"{r.plain_errors:>8}{sum(f.code != 'note only' for f in r.added):>7}"
        )
    out.append("-" * len(header))
    plain = sum(r.median("plain") for r in results)
    plugin = sum(r.median("plugin") for r in results)
    cpu = _ratio(sum(r.median("plugin", "cpu") for r in results), sum(r.median("plain", "cpu") for r in results))
    out.append(
        f"{'all (sum)':<13}{'':>9}{sum(r.files for r in results):>7}{sum(r.lines for r in results):>8}"
        f"{plain:>9.3f}{plugin:>10.3f}{_ratio(plugin, plain):>14.3f}{plugin - plain:>9.3f}"
        f"{max(r.spread() for r in results):>10.3f}{cpu:>11.3f}"
        f"{sum(r.plain_errors for r in results):>8}"
        f"{sum(sum(f.code != 'note only' for f in r.added) for r in results):>7}"
    )
    ratios = [_ratio(r.median("plugin"), r.median("plain")) for r in results]
    geomean = math.exp(statistics.fmean(math.log(x) for x in ratios)) if all(x > 0 for x in ratios) else math.nan
    ratio = _ratio(plugin, plain)
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    out.append(f"geometric mean of the per-package ratios: {geomean:.3f}")
    out.append(f"target plugin/plain <= {TARGET_RATIO} over the set (wall, sum of medians): {verdict} ({ratio:.3f})")
    rounds = round_ratios(results)
    if len(rounds) >= 2:
        low, high = bootstrap_interval(rounds)
        out.append(
            f"per round (the set's plugin time over its plain time, {len(rounds)} rounds): "
            f"mean {statistics.fmean(rounds):.3f}, 95% interval {low:.3f} to {high:.3f}: "
            f"{interval_verdict(low, high)}"
        )
    # Load from elsewhere on the machine only ever adds time: the minimums
    # are the other view, less disturbed by it.
    best_plain = sum(r.best("plain") for r in results)
    best_plugin = sum(r.best("plugin") for r in results)
    best_cpu = _ratio(sum(r.best("plugin", "cpu") for r in results), sum(r.best("plain", "cpu") for r in results))
    out.append(
        f"best of {args.repeats} (sum of minimums): plain {best_plain:.3f} s, plugin {best_plugin:.3f} s, "
        f"plugin/plain {_ratio(best_plugin, best_plain):.3f} (cpu {best_cpu:.3f})"
    )
    # What every mypy run with the plugin pays before checking anything
    # (importing the plugin, hashing it for the cache key, its stubs).
    a, b = baseline.median("plain"), baseline.median("plugin")
    out.append(
        f"fixed cost, an empty module: plain {a:.3f} s, plugin {b:.3f} s, extra {b - a:.3f} s "
        f"(cpu extra {baseline.median('plugin', 'cpu') - baseline.median('plain', 'cpu'):.3f} s), "
        f"spread {baseline.spread():.3f} s; {len(results)} packages pay it {len(results)} times"
    )
    if args.warm:
        wp = sum(r.median("plain", "warm") for r in results)
        wq = sum(r.median("plugin", "warm") for r in results)
        out.append("")
        out.append("warm (a second run on the cache the cold run wrote, nothing changed):")
        for r in results:
            a, b = r.median("plain", "warm"), r.median("plugin", "warm")
            out.append(f"  {r.pkg.name:<13}plain {a:.3f} s  plugin {b:.3f} s  plugin/plain {_ratio(b, a):.3f}")
        out.append(f"  {'all (sum)':<13}plain {wp:.3f} s  plugin {wq:.3f} s  plugin/plain {_ratio(wq, wp):.3f}")
    return out


def instruction_table(results: list[Result], baseline: Result) -> list[str]:
    def m(n: float) -> str:  # millions of instructions
        return f"{n / 1e6:,.1f}" if not math.isnan(n) else "-"

    def get(r: Result, config: str) -> float:
        return r.instructions.get(config, math.nan)

    def added(r: Result) -> int:
        return sum(f.code != "note only" for f in r.added)

    out = []
    header = (
        f"{'package':<13}{'version':>9}{'files':>7}{'lines':>8}{'plain Minstr':>14}{'plugin Minstr':>15}"
        f"{'plugin/plain':>14}{'extra Minstr':>14}{'errors':>8}{'added':>7}"
    )
    out += [header, "-" * len(header)]
    for r in results:
        plain, plugin = get(r, "plain"), get(r, "plugin")
        out.append(
            f"{r.pkg.name:<13}{r.pkg.version:>9}{r.files:>7}{r.lines:>8}{m(plain):>14}{m(plugin):>15}"
            f"{_ratio(plugin, plain):>14.3f}{m(plugin - plain):>14}{r.plain_errors:>8}{added(r):>7}"
        )
    out.append("-" * len(header))
    plain = sum(get(r, "plain") for r in results)
    plugin = sum(get(r, "plugin") for r in results)
    ratio = _ratio(plugin, plain)
    out.append(
        f"{'all (sum)':<13}{'':>9}{sum(r.files for r in results):>7}{sum(r.lines for r in results):>8}"
        f"{m(plain):>14}{m(plugin):>15}{ratio:>14.3f}{m(plugin - plain):>14}"
        f"{sum(r.plain_errors for r in results):>8}{sum(added(r) for r in results):>7}"
    )
    ratios = [_ratio(get(r, "plugin"), get(r, "plain")) for r in results]
    geomean = math.exp(statistics.fmean(math.log(x) for x in ratios)) if all(x > 0 for x in ratios) else math.nan
    verdict = "met" if ratio <= TARGET_RATIO else "unknown" if math.isnan(ratio) else "NOT met"
    out.append(f"geometric mean of the per-package ratios: {geomean:.3f}")
    out.append(f"target plugin/plain <= {TARGET_RATIO} over the set (instructions, sums): {verdict} ({ratio:.3f})")
    a, b = get(baseline, "plain"), get(baseline, "plugin")
    n = len(results)
    out.append(
        f"fixed cost, an empty module: plain {m(a)} M, plugin {m(b)} M, extra {m(b - a)} M instructions"
        f" ({_ratio(b, a):.3f}); {n} packages pay it {n} times"
    )
    out.append(
        f"the set without the plugin's fixed cost ({n} x {m(b - a)} M taken off the plugin's sum):"
        f" plugin/plain {_ratio(plugin - n * (b - a), plain):.3f}"
    )
    return out


def by_code(results: list[Result]) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for r in results:
        for f in r.added:
            groups.setdefault(f.code, []).append(f)
    return dict(sorted(groups.items()))


def write_reports(
    path: Path, results: list[Result], lines: list[str], meta: dict[str, object], args: argparse.Namespace
) -> Path:
    instructions = getattr(args, "instructions", False)
    roots = {r.pkg.name: r.root for r in results}
    groups = by_code(results)
    md = [
        "# mypy-ownership on real threaded code",
        "",
        *(f"- {k}: {v}" for k, v in meta.items()),
        "",
        "## Instructions" if instructions else "## Times",
        "",
        "```",
        *lines,
        "```",
        "",
        "## Crashes",
        "",
    ]
    crashes = [(r.pkg.name, c) for r in results for c in r.crashes]
    if not crashes:
        md.append("None.")
    for name, crash in crashes:
        md += [f"### {name}", "", "```", crash, "```", ""]
    md += ["", "## Errors the plugin adds", ""]
    if not groups:
        md.append("None: the plugin's output equals plain mypy's on every package.")
    md.append(
        "Each finding: the added lines as mypy printed them (paths relative to the"
        " package root), then the source lines they point at (marked >) and the lines"
        " between them. Verdict to fill in:"
        " real hazard / false positive."
    )
    for code, findings in groups.items():
        md += ["", f"### [{code}] ({len(findings)})", ""]
        for n, f in enumerate(findings, 1):
            md += [f"{n}. **{f.package}**, verdict: ?", "", "   ```"]
            md += [f"   {m.text}" for m in f.messages]
            md += ["   ```", "", "   ```python"]
            md += [f"   {line}" for line in source_excerpt(roots[f.package], f.messages)]
            md += ["   ```", ""]
    removed = [(r.pkg.name, line) for r in results for line in r.removed]
    if removed:
        md += ["", "## Lines of plain mypy's output missing with the plugin", "", "```"]
        md += [f"{name}: {line}" for name, line in removed]
        md += ["```"]
    other = [(r.pkg.name, p) for r in results for p in r.problems + r.warnings]
    if other:
        md += ["", "## Other problems", ""]
        md += [f"- {name}: {p}" for name, p in other]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(md) + "\n")

    data = {
        "meta": meta,
        "target_ratio": TARGET_RATIO,
        "packages": [
            {
                "name": r.pkg.name,
                "version": r.pkg.version,
                "dist": r.pkg.dist,
                "targets": list(r.pkg.targets),
                "threads": r.pkg.threads,
                "files": r.files,
                "lines": r.lines,
                "wall_s": r.wall,
                "cpu_s": r.cpu,
                "warm_wall_s": r.warm if args.warm else None,
                "median_wall_s": {c: r.median(c) for c in ("plain", "plugin")},
                "ratio": _ratio(r.median("plugin"), r.median("plain")),
                "plain_errors": r.plain_errors,
                "crashes": r.crashes,
                "problems": r.problems,
                "warnings": r.warnings,
                "removed_lines": r.removed,
                "added": [
                    {
                        "code": f.code,
                        "lines": [m.text for m in f.messages],
                        "messages": [
                            {"path": m.path, "line": m.line, "severity": m.severity, "code": m.code, "text": m.text}
                            for m in f.messages
                        ],
                        "source": source_excerpt(r.root, f.messages),
                        "verdict": None,
                    }
                    for f in r.added
                ],
            }
            for r in results
        ],
    }
    if instructions:  # no times in this mode: the counts instead
        entries: list[dict[str, object]] = data["packages"]  # type: ignore[assignment]
        for r, entry in zip(results, entries):
            for key in ("wall_s", "cpu_s", "warm_wall_s", "median_wall_s", "ratio"):
                del entry[key]
            entry["instructions"] = r.instructions
            entry["ratio"] = _ratio(r.instructions.get("plugin", math.nan), r.instructions.get("plain", math.nan))
    json_path = path.with_suffix(".json")
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    return json_path


def select_packages(parser: argparse.ArgumentParser, names: str | None, known: Sequence[P]) -> list[P]:
    """The packages ``--packages`` names (comma-separated), in ``known``'s
    order; all of them without it.  An unknown name is a usage error."""
    if not names:
        return list(known)
    wanted = {w.strip().lower() for w in names.split(",") if w.strip()}
    unknown = wanted - {p.name for p in known}
    if unknown:
        parser.error(f"unknown package(s) {', '.join(sorted(unknown))}; known: {', '.join(p.name for p in known)}")
    return [p for p in known if p.name in wanted]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="real_code", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeats", type=int, default=None,
        help="timed cold runs per package and config; the median counts (default 3)",
    )  # fmt: skip
    parser.add_argument("--packages", help="comma-separated names to run (default: all); see --list")
    parser.add_argument(
        "--warm", action="store_true",
        help="also time a warm run (on the cold run's cache, nothing changed) after each cold one",
    )  # fmt: skip
    parser.add_argument(
        "--instructions", action="store_true",
        help="count instructions (valgrind's callgrind) instead of timing: one cold run per package and config,"
        " the same count whatever the load; some ten minutes on two cores",
    )  # fmt: skip
    parser.add_argument(
        "--report", type=Path, default=None,
        help=f"the Markdown report; the JSON goes beside it (default {DEFAULT_REPORT.relative_to(REPO_DIR)},"
        f" {DEFAULT_INSTRUCTIONS_REPORT.relative_to(REPO_DIR)} with --instructions)",
    )  # fmt: skip
    parser.add_argument(
        "--debug", action="store_true",
        help="MYPY_OWNERSHIP_DEBUG=1: a failing hook crashes with its traceback instead of the note",
    )  # fmt: skip
    parser.add_argument(
        "--num-workers", type=int, default=0,
        help="check with mypy's --num-workers N (both configs; timing mode only: the CPU time of mypy and its"
        " workers is reported beside the wall time)",
    )  # fmt: skip
    parser.add_argument("--list", action="store_true", help="print the pinned packages and exit")
    args = parser.parse_args(argv)
    if args.instructions and args.num_workers:
        # Under callgrind a worker starts too slowly for mypy, which gives up
        # on it ("Failed to establish connection with worker").
        parser.error("--num-workers is for the timing mode: callgrind slows mypy's workers past their start-up timeout")
    if args.instructions and (args.repeats is not None or args.warm):
        parser.error("--repeats and --warm are for the timing mode: --instructions makes one run of each")
    if args.repeats is None:
        args.repeats = 3
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.report is None:
        args.report = DEFAULT_INSTRUCTIONS_REPORT if args.instructions else DEFAULT_REPORT

    packages = select_packages(parser, args.packages, PACKAGES)
    if args.list:
        for p in PACKAGES:
            print(f"{p.name:<13}{p.version:<9}{p.dist:<7}{' '.join(p.targets):<15}{p.threads}")
        return 0
    if args.instructions and shutil.which("valgrind") is None:
        print("real_code: valgrind is not installed; --instructions needs it", file=sys.stderr)
        return 2

    start = time.perf_counter()
    snapshot = plugin_snapshot()
    results: list[Result] = []
    failed_setup: list[str] = []
    for pkg in packages:
        try:
            root = fetch(pkg)
        except SetupFailed as exc:
            print(f"real_code: !!! {exc}", flush=True)
            failed_setup.append(pkg.name)
            continue
        files = checked_files(pkg, root)
        n_lines = sum(len(f.read_bytes().splitlines()) for f in files)
        results.append(Result(pkg, root, len(files), n_lines))
    if not results:
        print("real_code: nothing to measure", file=sys.stderr)
        return 1

    # mypy's caches (written by every cold run) go to memory when the machine
    # has a RAM disk: disk writes are the same for both configs but their
    # waits are noise, several times the 3% the target is about.
    ram = Path("/dev/shm")
    workdir = Path(tempfile.mkdtemp(prefix="real_code-", dir=ram if ram.is_dir() and os.access(ram, os.W_OK) else None))
    try:
        configs = write_configs(workdir)
        canary_warning = canary(configs, workdir)
        if canary_warning:
            print(f"real_code: WARNING: {canary_warning}", flush=True)
        # Measured in the same rounds as the packages, not summed with them.
        (workdir / "empty").mkdir()
        (workdir / "empty" / "empty.py").write_text("")
        baseline = Result(EMPTY, workdir / "empty", 1, 0)
        if args.instructions:
            measure_instructions([*results, baseline], configs, args, workdir)
        else:
            measure([*results, baseline], configs, args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - start
    after = plugin_snapshot()
    changed = sorted(
        Path(f).relative_to(REPO_DIR).as_posix() for f in set(snapshot) | set(after) if snapshot.get(f) != after.get(f)
    )

    meta: dict[str, object] = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "mypy": mypy_version(),
        "python": sys.version.split()[0],
        "plugin": plugin_version(),
        "runs": (
            "one cold run (fresh --cache-dir) under valgrind --tool=callgrind,"
            " instructions executed, after one untimed run of each; PYTHONHASHSEED=0"
            if args.instructions
            else f"median of {args.repeats} cold runs (fresh --cache-dir), wall clock, after one untimed run of each"
        ),
        "config": "; ".join(
            line
            for line in CONFIG.format(plugin_line="plugins = mypy_ownership (plugin run only)", exclude=EXCLUDE).splitlines()
            if line and not line.startswith("#")
        ),
        "packages": ", ".join(f"{r.pkg.name}=={r.pkg.version}" for r in results),
        "canary": canary_warning or "the plugin run reports the canary use-after-move",
        "elapsed_s": round(elapsed, 1),
    }
    if changed:
        meta["WARNING"] = f"the plugin changed during the run, the runs mix versions: {', '.join(changed)}"
    lines = instruction_table(results, baseline) if args.instructions else table(results, baseline, args)
    print()
    print(f"real_code: {meta['mypy']}, plugin at {meta['plugin']}")
    if args.instructions:
        print(f"real_code: {meta['runs']}")
    else:
        print(f"real_code: {meta['runs']}; 'cpu ratio' is the same ratio on user+sys CPU time")
    print(f"real_code: 'errors' = plain mypy's errors (the packages' own), 'added' = errors only the plugin run has")
    print("\n".join(lines))

    groups = by_code(results)
    print()
    if groups:
        print("errors the plugin adds, by code:")
        for code, findings in groups.items():
            print(f"\n[{code}] ({len(findings)})")
            for f in findings:
                for m in f.messages:
                    print(f"  {f.package}: {m.text}")
    else:
        print("the plugin adds no error on any package")
    for r in [*results, baseline]:
        for line in r.removed:
            print(f"MISSING with the plugin (plain mypy has it): {r.pkg.name}: {line}")
        for w in r.warnings:
            print(f"warning: {r.pkg.name}: {w}")
        for problem in r.problems:
            print(f"PROBLEM: {r.pkg.name}: {problem}")

    crashes = [(r.pkg.name, c) for r in [*results, baseline] for c in r.crashes]
    for name, crash in crashes:
        print(f"\nCRASH in {name}: {crash}")
    json_path = write_reports(args.report, [*results, baseline], lines, meta, args)
    print(f"\nreport: {args.report} and {json_path}")
    if changed:
        print(f"real_code: WARNING: {meta['WARNING']}")
    print(f"real_code: done in {elapsed:.0f} s")

    status = 0
    if crashes:
        print(f"real_code: !!! {len(crashes)} crashing run(s)", file=sys.stderr)
        status = 1
    if any(r.problems for r in [*results, baseline]):
        print("real_code: !!! warm runs disagree with cold runs", file=sys.stderr)
        status = 1
    if failed_setup:
        print(f"real_code: !!! could not set up {', '.join(failed_setup)}", file=sys.stderr)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
