"""Hazards, not noise: every report the plugin adds on a corpus of pinned
threaded PyPI packages, held against a checked-in review that says, for
each one, whether it is a real thread hazard.

``real_code.py`` measures what the plugin costs; this script asks what its
reports are worth.  For each package (real_code's nine and more: clients
with pools and background threads, task queues, servers with worker
threads, asyncio libraries that bridge to threads, their test suites where
the sdist ships them) it runs plain mypy and mypy with
``plugins = mypy_ownership``, each in two modes:

* ``default``: mypy's default flags (the bodies of unannotated functions
  are not checked);
* ``untyped-defs``: ``--check-untyped-defs``.

The plugin's added reports (plugin output minus plain output, one added
error with its notes, as ``real_code.group`` splits them) are looked up in
``benchmarks/hazards-review.tsv``, where each has a class:

* ``REAL``: a real hazard under Python's own rules (two threads touch
  mutable state with nothing ordering them; a thread-bound object used
  from another thread; a value used after another thread took it for good);
* ``RULE-ONLY``: breaks the Rust rule but is correct Python (ordered by
  ``join()``, ``result()``, a lock or a thread-safe queue hand-off; used
  before ``Thread.start()``; shared but only read);
* ``WRONG``: the plugin is plainly mistaken (wrong type, wrong line, a note
  that points at unrelated code, a claim that is false);
* ``UNREVIEWED``: not classified yet, which fails the run like a report
  that is not in the file at all.

A row is keyed by package, file, line, code and message: its ``mode`` is
the first mode that shows it (``default``, or ``untyped-defs`` for a report
that only the flag brings), and it serves both.  The script prints the
counts per class and mode, the lines checked per mode (all lines of the
checked files; for ``default`` without the bodies of unannotated functions,
which mypy skips) and REAL/all, and exits 1 on a report without a
classified row, on a crash of any run, or on a package it cannot set up.
Rows whose report is gone are listed (a plugin fix removed them), not
failed.

    .venv/bin/python benchmarks/hazards.py [--jobs 1] [--packages huey,pika]
                                           [--modes default] [--list]
    .venv/bin/python benchmarks/hazards.py --add-unreviewed   # new reports into the file
    .venv/bin/python benchmarks/hazards.py --reuse            # last run's outputs, no mypy

The downloads and unpacked sources share ``benchmarks/.real-code/`` with
``real_code.py``; the last run's mypy outputs, a Markdown report of every
added report with the source lines it points at, and a JSON twin go to
``benchmarks/.real-code/hazards/``.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import dataclasses
import datetime
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import real_code  # noqa: E402  (a script beside this one, not a package)
from real_code import (  # noqa: E402
    CACHE_DIR,
    CONFIG,
    EXCLUDE,
    REPO_DIR,
    Finding,
    Message,
    Package,
    SetupFailed,
    crash_reason,
    fetch,
    group,
    run_mypy,
    select_packages,
    source_excerpt,
    subtract,
)

REVIEW = REPO_DIR / "benchmarks" / "hazards-review.tsv"
OUT_DIR = CACHE_DIR / "hazards"
OUTPUTS = OUT_DIR / "outputs.json"
MODES = ("default", "untyped-defs")
CLASSES = ("REAL", "RULE-ONLY", "WRONG", "UNREVIEWED")
#: mypy processes at a time: the machine has two cores, shared.
MAX_JOBS = 2
#: mypy's ``exclude`` for a package whose tests are checked too: a regex
#: that matches no path.
NOTHING = r"^$"


@dataclass(frozen=True)
class Threaded(Package):
    #: mypy's ``exclude`` (real_code's leaves out every ``test/``/``tests/``).
    exclude: str = EXCLUDE


# fmt: off
#: Beyond real_code's nine.  Tests are checked where the sdist ships them
#: (and they are not several times the package: gunicorn's 60,000 lines of
#: tests are left out, anyio's are cut to its thread bridges').
NEW = (
    Threaded("urllib3", "2.8.0", "sdist", ("src/urllib3", "test", "dummyserver"),
             "connection pools (a LifoQueue of connections), tests with servers on threads",
             exclude=NOTHING),
    Threaded("pika", "1.4.4", "sdist", ("pika",),
             "AMQP client: BlockingConnection, add_callback_threadsafe, threaded adapters"),
    Threaded("kazoo", "2.11.0", "sdist", ("kazoo",),
             "ZooKeeper client: a connection thread, callback worker threads, recipes with locks",
             exclude=NOTHING),
    Threaded("huey", "3.5.4", "sdist", ("huey",),
             "task queue: consumer with worker threads, scheduler thread", exclude=NOTHING),
    Threaded("dramatiq", "2.2.1", "sdist", ("dramatiq", "tests"),
             "task queue: worker and consumer threads, work queues", exclude=NOTHING),
    Threaded("loguru", "0.7.3", "sdist", ("loguru",),
             "logger: enqueue=True hands records to a writer thread through a queue"),
    Threaded("websocket-client", "1.9.2", "sdist", ("websocket",),
             "WebSocketApp: run_forever with a ping thread, dispatchers", exclude=NOTHING),
    Threaded("pytest-timeout", "2.4.0", "sdist", ("pytest_timeout.py", "test_pytest_timeout.py"),
             "test tool: a timer thread dumps stacks and kills the test", exclude=NOTHING),
    Threaded("execnet", "2.1.2", "sdist", ("src/execnet", "testing"),
             "gateways and channels: a receiver thread, a WorkerPool of threads", exclude=NOTHING),
    Threaded("gunicorn", "27.0.1", "sdist", ("gunicorn",),
             "WSGI server: the gthread worker's thread pool, reloader threads"),
    Threaded("anyio", "4.16.0", "sdist",
             ("src/anyio", "tests/test_to_thread.py", "tests/test_from_thread.py"),
             "asyncio/trio to and from worker threads (to_thread, from_thread, BlockingPortal)",
             exclude=NOTHING),
    Threaded("asgiref", "3.13.0", "sdist", ("asgiref", "tests"),
             "sync_to_async / async_to_sync: executors, thread-sensitive contexts, Local",
             exclude=NOTHING),
    Threaded("aiofiles", "25.1.0", "sdist", ("src/aiofiles", "tests"),
             "asyncio file objects whose calls run in a thread pool (run_in_executor)",
             exclude=NOTHING),
    Threaded("prometheus-client", "0.26.0", "sdist", ("prometheus_client", "tests"),
             "metrics under locks, an exposition HTTP server on a daemon thread", exclude=NOTHING),
    Threaded("kafka-python", "3.0.12", "sdist", ("kafka",),
             "Kafka client: the producer's sender thread, the consumer's heartbeat thread"),
    Threaded("stomp-py", "9.0.0", "sdist", ("stomp",),
             "STOMP client: a receiver thread, heartbeat thread, listeners called from it"),
    Threaded("futurist", "3.5.0", "sdist", ("futurist",),
             "executors (thread pools), periodic workers", exclude=NOTHING),
    Threaded("werkzeug", "3.1.9", "sdist", ("src/werkzeug", "tests"),
             "dev server: ThreadedWSGIServer, the reloader's watcher thread, Local", exclude=NOTHING),
    Threaded("psycopg-pool", "3.3.3", "sdist", ("psycopg_pool",),
             "connection pools with worker threads (and their asyncio twins)"),
    Threaded("dbutils", "3.2.0", "sdist", ("dbutils", "tests"),
             "thread-safe DB connection pools, thread-local persistent connections",
             exclude=NOTHING),
    Threaded("opentelemetry-sdk", "1.45.2", "sdist", ("src/opentelemetry",),
             "batch span/log processors with a worker thread, periodic metric readers"),
    Threaded("tqdm", "4.70.1", "sdist", ("tqdm", "tests"),
             "the TMonitor thread, thread_map, locks shared between bars", exclude=NOTHING),
    Threaded("s3transfer", "0.19.3", "sdist", ("s3transfer", "tests/unit", "tests/functional"),
             "transfers on thread pools: futures, bounded executors, a submission thread",
             exclude=NOTHING),
    Threaded("paramiko", "5.1.0", "sdist", ("paramiko", "tests"),
             "SSH: Transport is a Thread, channels wait on Conditions", exclude=NOTHING),
    Threaded("httpcore", "1.0.9", "sdist", ("httpcore", "tests"),
             "sync and async connection pools under locks/semaphores", exclude=NOTHING),
    Threaded("culsans", "0.11.0", "sdist", ("src/culsans", "tests"),
             "janus-like queues shared by threads and asyncio tasks", exclude=NOTHING),
    Threaded("peewee", "4.5.3", "sdist", ("peewee.py", "playhouse"),
             "ORM: SqliteQueueDatabase's writer thread, connection pools, thread-local state"),
    Threaded("amqpstorm", "3.1.4", "sdist", ("amqpstorm",),
             "AMQP client: an IO thread, a heartbeat timer thread, channel locks", exclude=NOTHING),
    Threaded("sshtunnel", "0.5.1", "sdist", ("sshtunnel.py", "tests"),
             "SSH tunnels: threaded forwarding servers, one thread per tunnel", exclude=NOTHING),
    Threaded("rpyc", "6.0.2", "sdist", ("rpyc",),
             "RPC: ThreadedServer, ThreadPoolServer, BgServingThread"),
    Threaded("persist-queue", "1.1.0", "sdist", ("persistqueue",),
             "thread-safe persistent queues (file and sqlite), async twins", exclude=NOTHING),
)
# fmt: on

#: real_code's nine as it pins them (wheels: the downloads are shared, no
#: tests), then the new ones.
PACKAGES: tuple[Threaded, ...] = (
    *(Threaded(**dataclasses.asdict(p)) for p in real_code.PACKAGES),
    *NEW,
)


# --------------------------------------------------------------------------
# What is checked
# --------------------------------------------------------------------------


def module_files(pkg: Threaded, root: Path) -> list[Path]:
    """The files mypy reads for ``pkg``'s targets: ``.py`` files, or the
    ``.pyi`` beside one (mypy prefers the stub), less what ``exclude``
    matches."""
    exclude = re.compile(pkg.exclude)
    found: list[Path] = []
    for target in pkg.targets:
        path = root / target
        found += sorted(path.rglob("*.py*")) if path.is_dir() else [path]
    return [
        f
        for f in found
        if (f.suffix == ".pyi" or (f.suffix == ".py" and not f.with_suffix(".pyi").exists()))
        and not exclude.search(f.relative_to(root).as_posix())
    ]


def untyped_body_lines(tree: ast.Module) -> int:
    """Lines in the bodies of functions with no annotation at all, outermost
    only: mypy's default mode does not check them (nor what they nest)."""

    def annotated(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        a = fn.args
        every = [*a.posonlyargs, *a.args, *a.kwonlyargs, *(x for x in (a.vararg, a.kwarg) if x)]
        return fn.returns is not None or any(arg.annotation is not None for arg in every)

    skipped = 0
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and not annotated(child):
                first, last = child.body[0].lineno, child.body[-1].end_lineno or child.body[-1].lineno
                skipped += last - first + 1
            else:
                todo.append(child)
    return skipped


def lines_checked(pkg: Threaded, root: Path) -> dict[str, int]:
    """Per mode, the lines mypy checks: every line of the files, less the
    unannotated bodies in ``default`` mode."""
    total = skipped = 0
    for f in module_files(pkg, root):
        source = f.read_bytes()
        total += len(source.splitlines())
        try:
            skipped += untyped_body_lines(ast.parse(source))
        except SyntaxError:
            pass
    return {"default": total - skipped, "untyped-defs": total}


# --------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------


def config_text(config: str, mode: str, exclude: str) -> str:
    line = "plugins = mypy_ownership" if config == "plugin" else "# plugins = mypy_ownership  (the only difference)"
    text = CONFIG.format(plugin_line=line, exclude=exclude)
    flag = "check_untyped_defs = True"
    assert flag in text, "real_code.CONFIG no longer sets check_untyped_defs"
    return text.replace(flag, f"check_untyped_defs = {mode == 'untyped-defs'}")


def run_all(
    packages: list[tuple[Threaded, Path]], modes: tuple[str, ...], jobs: int, workdir: Path, debug: bool = False
) -> dict[str, dict[str, dict[str, dict[str, object]]]]:
    """``outputs[package][mode][config]``: returncode, stdout, stderr, wall."""
    env = dict(os.environ)
    env.pop("MYPY_OWNERSHIP_DEBUG", None)
    if debug:  # a hook that raises crashes the run with its traceback (the class hook's too)
        env["MYPY_OWNERSHIP_DEBUG"] = "1"
    configs: dict[tuple[str, str, str], Path] = {}
    for pkg, _ in packages:
        for mode in modes:
            for config in ("plain", "plugin"):
                key = (pkg.exclude, mode, config)
                if key not in configs:
                    path = workdir / f"{config}-{mode}-{len(configs)}.ini"
                    path.write_text(config_text(config, mode, pkg.exclude))
                    configs[key] = path

    def one(pkg: Threaded, root: Path, mode: str, config: str) -> dict[str, object]:
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=workdir))
        try:
            run = run_mypy(root, pkg.targets, configs[(pkg.exclude, mode, config)], cache, env)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        print(f"hazards: {pkg.name} {mode} {config}: {run.wall:.1f} s, exit {run.returncode}", flush=True)
        return {"returncode": run.returncode, "stdout": run.stdout, "stderr": run.stderr, "wall": run.wall}

    work = [(pkg, root, mode, config) for pkg, root in packages for mode in modes for config in ("plain", "plugin")]
    outputs: dict[str, dict[str, dict[str, dict[str, object]]]] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        # The workers only wait: each run is its own process.
        futures = [pool.submit(one, *w) for w in work]
        for (pkg, _, mode, config), future in zip(work, futures):
            outputs.setdefault(pkg.name, {}).setdefault(mode, {})[config] = future.result()
    return outputs


# --------------------------------------------------------------------------
# Reports and the review
# --------------------------------------------------------------------------

_CODE_SUFFIX = re.compile(r"  \[[a-z0-9-]+\]$")
#: The review's columns.  Package, file, line, code and message key a row;
#: ``cause`` names the general rule behind a RULE-ONLY or WRONG report (or
#: the kind of hazard of a REAL one), so that the rows can be counted by it;
#: ``reason`` is the one line read from the code; ``notes`` (the report's
#: notes but the help, rewritten on every run) is there to read.
COLUMNS = ("package", "mode", "file", "line", "code", "message", "class", "cause", "reason", "notes")


@dataclass
class Report:
    """One added finding: its first error (or first note, for notes only)."""

    package: str
    mode: str
    finding: Finding

    @property
    def head(self) -> Message:
        errors = [m for m in self.finding.messages if m.severity == "error"]
        return (errors or self.finding.messages)[0]

    @property
    def key(self) -> tuple[str, str, int, str, str]:
        head = self.head
        text = head.text.split(": ", 2)[-1] if head.path else head.text
        code = head.code or ("note" if head.severity == "note" else "none")
        return (self.package, head.path or "", head.line, code, _CODE_SUFFIX.sub("", text))

    @property
    def notes(self) -> str:
        """The other lines but the help, short: ``L12: text`` (``file:L12``
        in another file)."""
        head = self.head
        out = []
        for m in self.finding.messages:
            if m is head or ": note: help: " in m.text:
                continue
            where = f"L{m.line}" if m.path == head.path else f"{m.path}:L{m.line}"
            out.append(f"{where}: {m.text.split(': ', 2)[-1]}")
        return " | ".join(out)


def reports_of(package: str, mode: str, outputs: dict[str, dict[str, object]]) -> list[Report]:
    plain = str(outputs["plain"]["stdout"]).splitlines()
    plugin = str(outputs["plugin"]["stdout"]).splitlines()
    return [Report(package, mode, f) for f in group(package, plugin, subtract(plugin, plain))]


Key = tuple[str, str, int, str, str]


def read_review(path: Path) -> dict[Key, dict[str, str]]:
    rows: dict[Key, dict[str, str]] = {}
    if not path.exists():
        return rows
    header, *lines = path.read_text().splitlines()
    if tuple(header.split("\t")) != COLUMNS:
        raise SystemExit(f"{path}:1: the columns must be {', '.join(COLUMNS)}")
    for n, text in enumerate(lines, 2):
        cells = text.split("\t")
        if len(cells) != len(COLUMNS):
            raise SystemExit(f"{path}:{n}: {len(cells)} cells, not {len(COLUMNS)}")
        row = dict(zip(COLUMNS, cells))
        key = (row["package"], row["file"], int(row["line"]), row["code"], row["message"])
        if row["class"] not in CLASSES:
            raise SystemExit(f"{path}:{n}: class {row['class']!r} is not one of {', '.join(CLASSES)}")
        if key in rows:
            raise SystemExit(f"{path}:{n}: a second row for {key}")
        rows[key] = row
    return rows


def write_review(path: Path, rows: dict[Key, dict[str, str]]) -> None:
    order = {m: i for i, m in enumerate(MODES)}
    ordered = sorted(rows.values(), key=lambda r: (r["package"], order[r["mode"]], r["file"], int(r["line"]), r["code"]))
    lines = ["\t".join(COLUMNS)]
    lines += ["\t".join(str(row.get(c, "")).replace("\t", " ") for c in COLUMNS) for row in ordered]
    path.write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hazards", description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", help="comma-separated names to run (default: all); see --list")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument(
        "--jobs", type=int, default=1,
        help=f"mypy processes at a time, at most {MAX_JOBS} (the machine's two cores are shared; default 1)",
    )  # fmt: skip
    parser.add_argument("--review", type=Path, default=REVIEW, help="the review file (default %(default)s)")
    parser.add_argument(
        "--add-unreviewed", action="store_true",
        help="write the reports missing from the review into it as UNREVIEWED rows (still a failure)",
    )  # fmt: skip
    parser.add_argument("--reuse", action="store_true", help=f"no mypy: read the last run's outputs ({OUTPUTS})")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="MYPY_OWNERSHIP_DEBUG=1: a hook that raises crashes the run (a failure) instead of"
        " leaving a note, or, in the class hook, dropping its facts quietly",
    )
    parser.add_argument("--list", action="store_true", help="print the pinned packages and exit")
    args = parser.parse_args(argv)
    if not 1 <= args.jobs <= MAX_JOBS:
        parser.error(f"--jobs must be 1 to {MAX_JOBS}")
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    if not modes or set(modes) - set(MODES):
        parser.error(f"--modes takes {', '.join(MODES)}")
    packages = select_packages(parser, args.packages, PACKAGES)
    if args.list:
        for p in PACKAGES:
            print(f"{p.name:<18}{p.version:<9}{p.dist:<7}{' '.join(p.targets):<48}{p.threads}")
        return 0

    start = time.perf_counter()
    ready: list[tuple[Threaded, Path]] = []
    failed_setup = []
    for pkg in packages:
        try:
            ready.append((pkg, fetch(pkg)))
        except SetupFailed as exc:
            print(f"hazards: !!! {exc}", flush=True)
            failed_setup.append(pkg.name)
    lines = {pkg.name: lines_checked(pkg, root) for pkg, root in ready}
    roots = {pkg.name: root for pkg, root in ready}

    if args.reuse:
        saved = json.loads(OUTPUTS.read_text())["outputs"]
        absent = [(p.name, m) for p, _ in ready for m in modes if m not in saved.get(p.name, {})]
        if absent:
            raise SystemExit(f"hazards: no saved outputs for {absent}: run without --reuse")
        outputs = {p.name: {m: saved[p.name][m] for m in modes} for p, _ in ready}
    else:
        ram = Path("/dev/shm")
        workdir = Path(
            tempfile.mkdtemp(prefix="hazards-", dir=ram if ram.is_dir() and os.access(ram, os.W_OK) else None)
        )
        try:
            outputs = run_all(ready, modes, args.jobs, workdir, args.debug)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        saved = json.loads(OUTPUTS.read_text())["outputs"] if OUTPUTS.exists() else {}
        for name, by_mode in outputs.items():
            saved.setdefault(name, {}).update(by_mode)
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        OUTPUTS.write_text(json.dumps({"plugin": real_code.plugin_version(), "outputs": saved}, indent=1) + "\n")
    elapsed = time.perf_counter() - start

    # Crashes, and the reports.
    crashes: list[str] = []
    reports: dict[str, list[Report]] = {m: [] for m in modes}
    for pkg, _ in ready:
        for mode in modes:
            for config, out in outputs[pkg.name][mode].items():
                run = real_code.Run(float(out["wall"]), 0.0, int(out["returncode"]), str(out["stdout"]), str(out["stderr"]))
                reason = crash_reason(run)
                if reason:
                    shown = "\n".join((run.stdout + run.stderr).rstrip().splitlines()[-30:])
                    crashes.append(f"{pkg.name} {mode} {config}: {reason}\n{shown}")
            reports[mode] += reports_of(pkg.name, mode, outputs[pkg.name][mode])

    review = read_review(args.review)
    run_names = {p.name for p, _ in ready}
    seen: dict[str, set[Key]] = {m: set() for m in modes}
    counts: dict[str, Counter[str]] = {m: Counter() for m in modes}
    missing: dict[Key, Report] = {}
    for mode in modes:
        for report in reports[mode]:
            key = report.key
            seen[mode].add(key)
            row = review.get(key)
            if row is None:
                missing.setdefault(key, report)
                counts[mode]["UNREVIEWED"] += 1
                counts[mode]["not in the review"] += 1
                continue
            if mode == "default" and row["mode"] != "default":
                print(f"hazards: note: the row says {row['mode']} but default mode shows it: {key}")
            counts[mode][row["class"]] += 1
            row["notes"] = report.notes  # refreshed: not part of the key
    # A missing row takes the first mode that shows it (the modes run in order).
    for key, report in missing.items():
        package, file, line, code, message = key
        review[key] = {
            "package": package, "mode": report.mode, "file": file, "line": str(line), "code": code,
            "message": message, "class": "UNREVIEWED", "cause": "", "reason": "", "notes": report.notes,
        }  # fmt: skip
    gone = [
        row
        for key, row in review.items()
        if row["package"] in run_names and row["mode"] in modes and not any(key in s for s in seen.values())
    ]
    if args.add_unreviewed and missing:
        write_review(args.review, review)
    elif not missing:
        write_review(args.review, review)  # the notes refreshed (from the last run's outputs with --reuse)

    write_markdown(OUT_DIR / "report.md", modes, reports, review, roots)

    # Print.
    print()
    print(f"hazards: {real_code.mypy_version()}, plugin at {real_code.plugin_version()}")
    print(f"hazards: {len(ready)} packages, modes {', '.join(modes)}, {'reused outputs' if args.reuse else f'{elapsed:.0f} s'}")
    header = f"{'package':<18}{'version':>9}" + "".join(f"{m + ' lines':>20}{'reports':>9}" for m in modes)
    print(header)
    print("-" * len(header))
    for pkg, _ in ready:
        cells = "".join(
            f"{lines[pkg.name][m]:>20,}{sum(r.package == pkg.name for r in reports[m]):>9}" for m in modes
        )
        print(f"{pkg.name:<18}{pkg.version:>9}{cells}")
    print("-" * len(header))
    print()
    head = f"{'mode':<14}{'lines':>9}{'reports':>9}" + "".join(f"{c:>12}" for c in CLASSES)
    head += f"{'REAL/all':>10}{'RULE-ONLY/10k':>15}{'WRONG/10k':>11}"
    print(head)
    for mode in modes:
        c = counts[mode]
        total = sum(c[k] for k in CLASSES)
        n_lines = sum(lines[p.name][mode] for p, _ in ready)
        per10k = [c[k] / n_lines * 10_000 if n_lines else float("nan") for k in ("RULE-ONLY", "WRONG")]
        cells = "".join(f"{c[k]:>12}" for k in CLASSES)
        real_share = f"{c['REAL'] / total:.3f}" if total else "-"
        print(f"{mode:<14}{n_lines:>9,}{total:>9}{cells}{real_share:>10}{per10k[0]:>15.2f}{per10k[1]:>11.2f}")
    if "untyped-defs" in modes and "default" in modes:
        extra = [r for r in reports["untyped-defs"] if r.key not in seen["default"]]
        c = Counter(review[r.key]["class"] for r in extra)
        print(f"only with --check-untyped-defs: {len(extra)} reports: " + ", ".join(f"{k} {c[k]}" for k in CLASSES))
    print_causes(modes, reports, review)
    if gone:
        c = Counter(row["class"] for row in gone)
        print(f"\nhazards: {len(gone)} reviewed rows no longer reported (fixed?): " + ", ".join(f"{k} {c[k]}" for k in CLASSES if c[k]))
        for row in gone:
            print(f"  gone: {row['package']} {row['file']}:{row['line']}: [{row['code']}] {row['class']}: {row['message']}")
    for key, report in missing.items():
        print(f"NOT IN THE REVIEW: {report.package} {report.mode} {report.head.text}")
    if missing and not args.add_unreviewed:
        print(f"hazards: (--add-unreviewed writes them into {args.review} as UNREVIEWED rows)")
    for crash in crashes:
        print(f"\nCRASH: {crash}")
    print(f"\nreport: {OUT_DIR / 'report.md'}")

    reported = set().union(*seen.values())
    unreviewed = [k for k in reported - set(missing) if review[k]["class"] == "UNREVIEWED"]
    failures = [
        f"{len(missing)} report(s) not in the review" if missing else "",
        f"{len(unreviewed)} report(s) whose row is still UNREVIEWED" if unreviewed else "",
        f"{len(crashes)} crashing run(s)" if crashes else "",
        f"could not set up {', '.join(failed_setup)}" if failed_setup else "",
    ]
    for failure in filter(None, failures):
        print(f"hazards: !!! {failure}", file=sys.stderr)
    return 1 if any(failures) else 0


def print_causes(modes: tuple[str, ...], reports: dict[str, list[Report]], review: dict[Key, dict[str, str]]) -> None:
    """The reviewed reports by cause, most first: the rule fixes that would
    remove the most noise.  A row may name several causes (``a+b``: either
    fix removes it); it counts under each, and ``first`` counts it once,
    under the first it names."""
    for mode in modes:
        rows = [review[r.key] for r in reports[mode] if review[r.key]["class"] != "UNREVIEWED"]
        every: Counter[tuple[str, str]] = Counter()
        first: Counter[tuple[str, str]] = Counter()
        for row in rows:
            causes = row["cause"].split("+") if row["cause"] else ["(none)"]
            first[(row["class"], causes[0])] += 1
            every.update((row["class"], c) for c in causes)
        if not every:
            continue
        print(f"\ncauses, {mode} ({len(rows)} reviewed reports):")
        print(f"  {'class':<11}{'cause':<40}{'first':>7}{'all':>6}")
        for (cls, cause), n in sorted(every.items(), key=lambda kv: (CLASSES.index(kv[0][0]), -kv[1], kv[0][1])):
            print(f"  {cls:<11}{cause:<40}{first[(cls, cause)]:>7}{n:>6}")


def write_markdown(
    path: Path,
    modes: tuple[str, ...],
    reports: dict[str, list[Report]],
    review: dict[Key, dict[str, str]],
    roots: dict[str, Path],
) -> None:
    """Every report with its review row and the source lines it points at."""
    md = [f"# Plugin reports on the hazards corpus ({datetime.datetime.now().isoformat(timespec='seconds')})", ""]
    data = []
    done: set[Key] = set()
    for mode in modes:
        md += [f"## {mode}", ""]
        for report in reports[mode]:
            if report.key in done:
                continue
            done.add(report.key)
            row = review.get(report.key, {})
            md += [f"### {report.package} {report.head.path}:{report.head.line} [{report.key[3]}]: {row.get('class', '?')}", ""]
            if row.get("reason"):
                md += [row["reason"], ""]
            md += ["```", *(m.text for m in report.finding.messages), "```", "", "```python"]
            md += source_excerpt(roots[report.package], report.finding.messages)
            md += ["```", ""]
            data.append({"mode": mode, "key": list(report.key), "lines": [m.text for m in report.finding.messages], **row})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(md) + "\n")
    path.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
