"""Running one case of a ``.test`` file through mypy, cold then warm.

Every mypy invocation runs in a fresh process that calls ``mypy.api.run``,
so the plugin is imported anew each time and no module state can leak from
one run into the next.  By default the process is forked from a *fork
server*, a Python process (one per pytest worker) that has imported mypy but
has never imported the plugin nor run a build: that halves the cost of a run
(importing mypy is about 0.12 s of a 0.3 s run).  With ``--no-fork-server``
each run is a new ``sys.executable -c <_RUNNER>`` instead.

A case is checked twice with the same cache directory:

* **cold**: the case's own modules have never been seen.  The cache directory
  starts as a copy of a shared *base cache* (builtins, typing, fearless, a few
  stdlib modules), built once per session with the same mypy.ini, hence the
  same plugin; ``--no-base-cache`` makes the cold run truly cold.
* **warm**: a comment line is appended to main.py (line numbers unchanged) and
  mypy runs again, so main is re-checked while every other module (the
  case's [file]s, fearless, the stdlib) is loaded from the cache.  The run is
  verbose, and the harness reads mypy's log to make sure that is really what
  happened.

Both runs must print exactly the expected output.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import difflib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from case_file import MAIN, Case, normalise_output

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: every worker builds its own
    fcntl = None  # type: ignore[assignment]

MYPY_INI = "[mypy]\nplugins = mypy_ownership\nshow_error_codes = True\n"
#: Module name of the seed that builds the base cache (never a case module).
SEED_MODULE = "_ownership_harness_seed"
#: What the base cache holds: everything these imports pull in.
SEED_SOURCE = """\
import fearless
import fearless.markers
import collections
import concurrent.futures
import contextlib
import dataclasses
import queue
import threading
import typing
import typing_extensions
"""
WARM_MARKER = "# harness: warm run\n"
RUN_TIMEOUT = 300.0

# Runs in the child process: argv[1] is where to write the result, the rest
# is mypy's command line.  The result goes to a file, not stdout, so that a
# stray print() in the plugin cannot corrupt it (it is reported instead).
_RUNNER = """\
import json, sys
from mypy import api
stdout, stderr, status = api.run(sys.argv[2:])
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump({"stdout": stdout, "stderr": stderr, "status": status}, f)
"""

# The fork server: imports mypy once, then for each request (a JSON line on
# stdin) forks a child that runs mypy.api.run like _RUNNER, with its stdout
# and stderr sent to a file, and answers with a JSON line on stdout.  The
# plugin is imported by each child only, so every run gets it fresh.
_FORK_SERVER = """\
import json, os, signal, sys, traceback
import mypy.api, mypy.build, mypy.main  # the expensive imports, done once
for line in sys.stdin:
    req = json.loads(line)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            out = os.open(req["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.chdir(req["cwd"])
            signal.alarm(int(req["timeout"]) + 1)
            stdout, stderr, status = mypy.api.run(req["args"])
            with open(req["result"], "w", encoding="utf-8") as f:
                json.dump({"stdout": stdout, "stderr": stderr, "status": status}, f)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    _, wait_status = os.waitpid(pid, 0)
    sys.stdout.write(json.dumps({"returncode": os.waitstatus_to_exitcode(wait_status)}) + "\\n")
    sys.stdout.flush()
"""


class _ForkServer:
    def __init__(self, env: MypyEnv) -> None:
        self.proc = subprocess.Popen(
            [env.python, "-c", _FORK_SERVER],
            env=env.subprocess_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, cwd: Path, args: list[str], result: Path, output: Path, timeout: float) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        request = {
            "cwd": str(cwd),
            "args": args,
            "result": str(result),
            "output": str(output),
            "timeout": timeout,
        }
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise OSError("the fork server died")
        return int(json.loads(answer)["returncode"])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# One server per (python, PYTHONPATH), the only things of the environment
# that differ between runs; started on first use, closed at exit.
_servers: dict[tuple[str, str], _ForkServer] = {}


def _fork_server(env: MypyEnv) -> _ForkServer:
    key = (env.python, env.subprocess_env().get("PYTHONPATH", ""))
    server = _servers.get(key)
    if server is None or server.proc.poll() is not None:
        if server is not None:
            server.close()
        server = _servers[key] = _ForkServer(env)
    return server


@atexit.register
def _close_fork_servers() -> None:
    for server in _servers.values():
        server.close()
    _servers.clear()


_LOG_PARSING_RE = re.compile(r"^LOG:  Parsing \S.* \((?P<module>[^()\s]+)\)$", re.M)
_LOG_SCC_RE = re.compile(r"^LOG:  Scheduling SCC of size \d+ \((?P<modules>[^()]*)\)", re.M)
_LOG_LINE_RE = re.compile(r"^(LOG|TRACE): ")
_CRASH_MARKERS = ("INTERNAL ERROR", "Traceback (most recent call last)")


@dataclass(frozen=True)
class MypyEnv:
    """How to run mypy for the cases of one session."""

    python: str = sys.executable
    #: Directory put on PYTHONPATH so that mypy finds ``fearless`` (None when
    #: the installed package is visible to mypy as it is).
    fearless_path: Path | None = None
    #: Copied into each case's cache directory before the cold run.
    base_cache: Path | None = None
    config: str = MYPY_INI
    timeout: float = RUN_TIMEOUT
    #: Fork each run from a server process that has imported mypy (but never
    #: the plugin, and never run a build) instead of starting Python afresh.
    fork_server: bool = hasattr(os, "fork")

    def subprocess_env(self) -> dict[str, str]:
        env = dict(os.environ)
        for var in ("MYPYPATH", "MYPY_CACHE_DIR", "MYPY_FORCE_COLOR"):
            env.pop(var, None)
        if self.fearless_path is not None:
            paths = [str(self.fearless_path), env.get("PYTHONPATH", "")]
            env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        return env


@dataclass
class RunResult:
    args: list[str]
    cwd: Path
    seconds: float
    stdout: str = ""  # mypy's output, as mypy.api.run returned it
    stderr: str = ""  # mypy's stderr without LOG lines
    log: str = ""  # LOG/TRACE lines of a verbose run
    status: int | None = None  # mypy's exit status; None if it never returned
    process_returncode: int = 0
    process_output: str = ""  # whatever the child printed outside mypy.api

    @property
    def command(self) -> str:
        return "mypy " + " ".join(self.args)

    def problem(self) -> str | None:
        """Why this run is broken regardless of the expected output
        (a crash, a traceback, status 2, stray output), or None."""
        if self.status is None:
            return (
                f"the runner process died (exit code {self.process_returncode})"
                f" before mypy.api.run returned:\n{self.process_output}"
            )
        everything = "\n".join((self.stdout, self.stderr, self.process_output))
        for marker in _CRASH_MARKERS:
            if marker in everything:
                return f"mypy crashed ({marker!r} in its output)"
        if self.status == 2 and "errors prevented further checking" not in self.stdout:
            return "mypy exited with status 2 (crash, bad flag or bad configuration)"
        if self.status not in (0, 1, 2):
            return f"mypy exited with unexpected status {self.status}"
        if self.stderr.strip():
            return "mypy wrote to stderr"
        if self.process_output.strip():
            return "something (the plugin?) printed outside mypy's output"
        return None

    def report(self) -> str:
        parts = [f"command (in {self.cwd}): {self.command}", f"exit status: {self.status}"]
        for title, text in (
            ("stdout", self.stdout),
            ("stderr", self.stderr),
            ("printed outside mypy.api", self.process_output),
        ):
            if text.strip():
                parts.append(f"--- {title} ---\n{text.rstrip()}")
        return "\n".join(parts)


def run_mypy(
    env: MypyEnv,
    cwd: Path,
    modules: list[str],
    cache_dir: Path,
    flags: Sequence[str] = (),
    verbose: bool = False,
    config_file: str = "mypy.ini",
) -> RunResult:
    """One mypy run in a fresh process (forked from the fork server, or a new
    Python), checking ``modules`` (with ``-m``) from ``cwd``."""
    args = ["--config-file", config_file, "--cache-dir", str(cache_dir), "--show-traceback"]
    args += flags
    if verbose:
        args.append("-v")
    for module in modules:
        args += ["-m", module]
    stem = cache_dir.parent / f"run-{os.getpid()}-{time.monotonic_ns()}"
    result_file = stem.with_suffix(".json")
    start = time.perf_counter()
    if env.fork_server:
        output_file = stem.with_suffix(".out")
        try:
            returncode = _fork_server(env).run(cwd, args, result_file, output_file, env.timeout)
        except (OSError, ValueError):  # the server is gone: start another one
            returncode = _fork_server(env).run(cwd, args, result_file, output_file, env.timeout)
        output = ""
        if output_file.exists():
            output = output_file.read_text(encoding="utf-8", errors="replace")
            output_file.unlink()
        if returncode == -signal.SIGALRM:
            output = f"timed out after {env.timeout:.0f}s\n{output}"
        result = RunResult(
            args, cwd, time.perf_counter() - start,
            process_returncode=returncode,
            process_output=output,
        )
    else:
        try:
            proc = subprocess.run(
                [env.python, "-c", _RUNNER, str(result_file), *args],
                cwd=cwd,
                env=env.subprocess_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=env.timeout,
            )
        except subprocess.TimeoutExpired as e:
            return RunResult(
                args, cwd, time.perf_counter() - start,
                process_returncode=-1,
                process_output=f"timed out after {env.timeout:.0f}s\n"
                f"{_text(e.stdout)}{_text(e.stderr)}",
            )
        result = RunResult(
            args, cwd, time.perf_counter() - start,
            process_returncode=proc.returncode,
            process_output=proc.stdout + proc.stderr,
        )
    if result_file.exists():
        data = json.loads(result_file.read_text(encoding="utf-8"))
        result_file.unlink()
        result.stdout, result.status = data["stdout"], data["status"]
        log: list[str] = []
        rest: list[str] = []
        for line in data["stderr"].splitlines(keepends=True):
            (log if verbose and _LOG_LINE_RE.match(line) else rest).append(line)
        result.log, result.stderr = "".join(log), "".join(rest)
    return result


def _text(output: str | bytes | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


# --------------------------------------------------------------------------
# Cases


@dataclass
class CaseOutcome:
    failure: str | None  # the failure message, None if the case passed
    runs: dict[str, RunResult] = field(default_factory=dict)


def write_case(case: Case, workdir: Path, config: str = MYPY_INI) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "mypy.ini").write_text(config, encoding="utf-8")
    for f in case.files:
        target = workdir / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f.text, encoding="utf-8")


def touch_main(workdir: Path) -> None:
    """Change main.py's content, size and mtime without moving any line."""
    main = workdir / MAIN
    text = main.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    main.write_text(text + WARM_MARKER, encoding="utf-8")
    st = main.stat()
    os.utime(main, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def run_case(case: Case, env: MypyEnv, tmp_path: Path) -> CaseOutcome:
    """Run ``case`` cold then warm; the outcome's ``failure`` says what went
    wrong, with a diff of expected vs actual output."""
    workdir = tmp_path / "case"
    cache_dir = tmp_path / "cache"
    write_case(case, workdir, env.config)
    if env.base_cache is not None:
        shutil.copytree(env.base_cache, cache_dir)
    expected = case.expected_output()
    outcome = CaseOutcome(None)

    cold = run_mypy(env, workdir, case.modules, cache_dir, case.flags)
    outcome.runs["cold"] = cold
    outcome.failure = _check_run(case, "cold", cold, expected)
    if outcome.failure:
        return outcome

    touch_main(workdir)
    warm = run_mypy(env, workdir, case.modules, cache_dir, case.flags, verbose=True)
    outcome.runs["warm"] = warm
    outcome.failure = _check_run(case, "warm", warm, expected)
    if outcome.failure is None and cold.status != 2 and _cache_in_use(case.flags):
        outcome.failure = _check_warm_used_cache(case, warm)
    return outcome


_RUN_TITLES = {
    "cold": "cold run (fresh cache: the case's modules are checked for the first time)",
    "warm": "warm run (main.py touched; everything else loaded from the cold run's cache)",
}


def _header(case: Case, run: str) -> str:
    mapping = ", ".join(
        f"{f.display}:N is {case.test_file.name}:{f.first_line - 1}+N" for f in case.files
    )
    return f"case {case.name} ({case.location}), {_RUN_TITLES[run]}\n(line numbers: {mapping})"


def _check_run(case: Case, run: str, result: RunResult, expected: list[str]) -> str | None:
    problem = result.problem()
    if problem is not None:
        return f"{_header(case, run)}\n{problem}\n{result.report()}"
    actual = normalise_output(result.stdout)
    if actual == expected:
        return None
    diff = difflib.unified_diff(
        expected, actual, fromfile="expected", tofile=f"actual ({run} run)", lineterm=""
    )
    return (
        f"{_header(case, run)}\nmypy's output differs from the expected output:\n"
        + "\n".join(diff)
        + f"\ncommand (in {result.cwd}): {result.command}"
    )


def _cache_in_use(flags: list[str]) -> bool:
    return not any(
        flag.split("=")[0] in ("--no-incremental", "--cache-dir") for flag in flags
    )


def modules_rechecked(result: RunResult) -> tuple[set[str], set[str]]:
    """From a verbose run's log: the modules mypy parsed (re-checked rather
    than loaded from the cache), and the modules of main's import cycle."""
    parsed = {m.group("module") for m in _LOG_PARSING_RE.finditer(result.log)}
    main_scc = {"main"}
    for m in _LOG_SCC_RE.finditer(result.log):
        modules = set(m.group("modules").split())
        if "main" in modules:
            main_scc |= modules
    return parsed, main_scc


def _check_warm_used_cache(case: Case, warm: RunResult) -> str | None:
    parsed, main_scc = modules_rechecked(warm)
    if "main" not in parsed:
        return (
            f"{_header(case, 'warm')}\nmain was not re-checked after it was touched"
            " (or mypy's -v log format changed: the harness looks for"
            " 'LOG:  Parsing ... (main)')\n" + warm.report()
        )
    extra = sorted(parsed - main_scc)
    if extra:
        return (
            f"{_header(case, 'warm')}\nthese modules should have been loaded from the"
            f" cache but were checked again: {', '.join(extra)}.\nSomething invalidates"
            " the cache between two identical runs (the plugin's report_config_data or"
            " version not stable? a flag?).\n" + warm.report()
        )
    return None


# --------------------------------------------------------------------------
# Session set-up: where mypy finds fearless, and the base cache


def fearless_search_path(shim_root: Path) -> Path | None:
    """A directory to put on mypy's search path so that it finds the
    ``fearless`` sources that Python imports, or None if mypy finds them
    already (see :func:`fearless_visibility_problem`)."""
    problem, source_dir = fearless_visibility_problem()
    if problem is None:
        return None
    shim_root.mkdir(parents=True, exist_ok=True)
    link = shim_root / "fearless"
    if not link.exists():
        link.symlink_to(source_dir, target_is_directory=True)
    return shim_root


def fearless_visibility_problem() -> tuple[str | None, Path]:
    """Why mypy, left alone, would not see the current ``fearless`` sources
    (None if it would), and the directory that holds them.

    A default editable install (``pip install -e .``) maps ``fearless`` onto
    ``runtime/`` with an import hook, which mypy cannot follow (it reads only
    the path entries of .pth files).  A strict editable install links each
    file into a directory on sys.path, but a file added to ``runtime/`` later
    is missing until the project is installed again.
    """
    spec = importlib.util.find_spec("fearless")
    if spec is None or spec.origin is None or not spec.submodule_search_locations:
        raise RuntimeError("the fearless package is not importable: is the project installed?")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    source_dir = Path(spec.origin).resolve().parent
    entries = {Path(p).resolve() for p in sys.path if p and Path(p).is_dir()}
    if package_dir.name != "fearless" or package_dir.resolve().parent not in entries:
        return (
            f"fearless is imported from {package_dir} through an import hook"
            " (a default editable install?), which mypy cannot follow",
            source_dir,
        )

    def python_files(d: Path) -> set[str]:
        return {str(p.relative_to(d)) for ext in ("*.py", "*.pyi") for p in d.rglob(ext)}

    missing = sorted(python_files(source_dir) - python_files(package_dir))
    if missing:
        return (
            f"the installed fearless ({package_dir}) lacks {', '.join(missing)} of"
            f" {source_dir}: install the project again (make setup)",
            source_dir,
        )
    return None, source_dir


def source_fingerprint() -> str:
    """A hash of everything the results depend on that may be edited while
    the suite runs: the plugin's sources and overlays, and fearless's."""
    dirs = []
    for name in ("mypy_ownership", "fearless"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin is not None:
            dirs.append(Path(spec.origin).resolve().parent)
    if dirs:
        dirs.append(dirs[0].parent / "stubs")
    digest = hashlib.sha256()
    for d in dirs:
        if not d.is_dir():
            continue
        for path in sorted(p for ext in ("*.py", "*.pyi") for p in d.rglob(ext)):
            digest.update(str(path).encode() + b"\0")
            try:
                digest.update(path.read_bytes())
            except OSError:  # removed while we look
                pass
    return digest.hexdigest()[:16]


def build_base_cache(env: MypyEnv, root: Path) -> Path:
    """Check the seed (fearless and common stdlib modules) once and return the
    cache directory, ``root/base-cache``; raises if the seed does not check
    cleanly."""
    workdir = root / "seed"
    cache_dir = root / "base-cache"
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "mypy.ini").write_text(env.config, encoding="utf-8")
    (workdir / f"{SEED_MODULE}.py").write_text(SEED_SOURCE, encoding="utf-8")
    result = run_mypy(env, workdir, [SEED_MODULE], cache_dir)
    problem = result.problem()
    if problem is not None or result.status != 0:
        raise RuntimeError(
            "building the base cache (checking only `import fearless` and a few stdlib"
            f" modules) failed: {problem or 'errors reported'}\n{result.report()}"
        )
    return cache_dir


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class MypyEnvs:
    """Hands out the :class:`MypyEnv` for the current sources.

    The base cache is keyed on :func:`source_fingerprint`: if the plugin or
    fearless is edited while the suite runs, the next case gets a base cache
    rebuilt with the new code instead of a stale one (which mypy would
    silently ignore, making every cold run slow).  Under pytest-xdist the
    workers share ``root`` and a file lock, so each base cache is built once.
    """

    def __init__(self, root: Path, lock: Path, use_base: bool, fork_server: bool = True) -> None:
        self.root, self.lock, self.use_base = root, lock, use_base
        self.fork_server = fork_server and hasattr(os, "fork")
        self.root.mkdir(exist_ok=True)
        self._current: tuple[str, MypyEnv] | None = None

    def get(self) -> MypyEnv:
        fingerprint = source_fingerprint()
        if self._current is not None and self._current[0] == fingerprint:
            return self._current[1]
        with _locked(self.lock):
            env = MypyEnv(
                fearless_path=fearless_search_path(self.root / "site"),
                fork_server=self.fork_server,
            )
            if self.use_base:
                root = self.root / fingerprint
                if not (root / "base-cache.ready").exists():
                    if root.exists():  # a build that failed half-way
                        shutil.rmtree(root)
                    root.mkdir()
                    build_base_cache(env, root)
                    (root / "base-cache.ready").write_text(str(os.getpid()))
                env = dataclasses.replace(env, base_cache=root / "base-cache")
        self._current = (fingerprint, env)
        return env
