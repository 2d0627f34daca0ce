"""Running a case through mypy's daemon, one edit after another.

``dmypy run`` keeps a build in memory and, on the next run, re-checks only
what changed: the edited modules, and every *target* (function, method,
module top level) that depends on them or that had errors last time.  The
plugin's hooks then run again on ASTs that mypy partly keeps (the MypyFile,
FuncDef and TypeInfo objects of an edited module survive, merged; a
re-checked target keeps its very nodes, stripped and analysed again) while
the plugin object, and any state it keeps, lives on.  A case passes here when
every run of the daemon prints what a cold ``mypy`` run prints on the same
files.

How a case is run (:func:`daemon_steps` builds the steps):

* The case's files are written to a work directory, and the daemon is asked
  to check them (the ``-m`` targets of the cold harness become file paths
  plus ``--explicit-package-bases``: dmypy watches files only, and gives
  them the same module names so).
* Then, one step at a time, the files are edited and the daemon is asked
  again: ``main.py`` touched (same content: nothing to re-check), a comment
  appended to ``main.py``, a comment appended to every other Python file of
  the case, the first statement of ``main.py`` that has an expected error
  replaced by ``pass`` (its lines kept), and that statement put back;
  last, if the case has ``[file lib.py.2]`` files (mypy's own convention for
  daemon tests), each such file's content replaces ``lib.py``'s (a signature
  that changes, say).  To the cold harness ``lib.py.2`` is just a file.
* After each step the daemon's output is compared with a cold mypy run on
  the same contents (see ``tests/test_daemon.py``).

The daemon is mypy's own ``mypy.dmypy_server.Server``, driven in process the
way ``dmypy run`` drives it (``cmd_run`` with the same arguments, and a new
server when it answers that the configuration changed), without the client,
the socket and the daemonising.  To keep the cost of a case low, a *daemon
server* (one per pytest worker) starts a server, checks a seed module that
imports fearless and the stdlib modules the cases use (as the cold harness's
base cache does), and then forks one child per case: each case starts from
that same warm daemon, never from another case's leftovers.  In the child
the case's first run is therefore an increment (the seed leaves the build,
the case's modules come in), as on a daemon that checked other files
before.  A case whose flags change mypy's options makes the child start a
new server, whose first run is the daemon's initial build.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from case_file import MAIN, Case
from case_runner import SEED_MODULE, SEED_SOURCE, MypyEnv

#: What every daemon run gets besides the case's flags and files: files as
#: targets get the module names the cold harness's ``-m`` gives them.
DAEMON_FLAGS = ["--explicit-package-bases"]
EDIT_COMMENT = "# daemon harness: edit\n"
SEED_FILE = f"{SEED_MODULE}.py"
#: ``[file lib.py.2]`` in a case is lib.py's content at the daemon's last run.
NEXT_VERSION = ".2"

# The daemon server.  First line on stdin: {"workdir", "files", "args"}: it
# writes the seed's files, runs the seed check and answers with its result.
# Then, per request (a JSON line), it forks a child that empties the work
# directory (but for the seed's files), writes the case's files and runs its
# steps on the inherited server, writing the results to a file; it answers
# with the child's exit code.
_DAEMON_SERVER = r"""
import json, os, shutil, signal, sys, time, traceback
import mypy.build, mypy.main  # the expensive imports, done once
from mypy.dmypy_server import Server, process_start_options
from mypy.version import __version__

STATUS = ".dmypy-harness.json"


def write(path, text, mtime=None):
    d = os.path.dirname(path)
    if d:
        os.makedirs(d, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def run(box, args):
    # What `dmypy run -- ARGS` does: ask the running server; start a new
    # one when it says that the options (or plugins) changed.
    t0 = time.perf_counter()
    result = {"restart": None, "crashed": False}
    try:
        if box[0] is None:
            box[0] = Server(process_start_options(list(args), allow_sources=True), STATUS)
        resp = box[0].cmd_run(__version__, list(args), False, False, 80)
        if "restart" in resp:
            result["restart"] = resp["restart"]
            box[0] = Server(process_start_options(list(args), allow_sources=True), STATUS)
            resp = box[0].cmd_run(__version__, list(args), False, False, 80)
    except SystemExit as e:
        resp = {"out": "", "err": "dmypy refused the flags: %s" % (e.code,), "status": 2}
    except BaseException:
        resp = {"out": "", "err": "the daemon crashed:\n" + traceback.format_exc(), "status": None}
        result["crashed"] = True
    result.update(out=resp.get("out", ""), err=resp.get("err", ""), status=resp.get("status"))
    result["seconds"] = time.perf_counter() - t0
    return result


def clean(keep):
    for name in os.listdir("."):
        if name in keep:
            continue
        if os.path.isdir(name) and not os.path.islink(name):
            shutil.rmtree(name)
        else:
            os.unlink(name)


init = json.loads(sys.stdin.readline())
os.makedirs(init["workdir"], exist_ok=True)
os.chdir(init["workdir"])
clean(set())
for path, text in init["files"].items():
    write(path, text)
keep = set(init["files"])
box = [None]
sys.stdout.write(json.dumps(run(box, init["args"])) + "\n")
sys.stdout.flush()
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
            signal.alarm(int(req["timeout"]) + 1)
            clean(keep)
            clock = time.time()
            for path, text in req["files"].items():
                write(path, text, clock)
            results = []
            for n, step in enumerate(req["steps"], start=1):
                # mtimes move forward, so that the daemon's file watcher
                # looks at each edited file again (it compares hashes then).
                for path, text in step["writes"].items():
                    write(path, text, clock + 10 * n)
                for path in step["touch"]:
                    os.utime(path, (clock + 10 * n, clock + 10 * n))
                result = run(box, step["args"])
                results.append(result)
                if result["crashed"]:
                    break
            with open(req["result"], "w", encoding="utf-8") as f:
                json.dump(results, f)
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
    sys.stdout.write(json.dumps({"returncode": os.waitstatus_to_exitcode(wait_status)}) + "\n")
    sys.stdout.flush()
"""


@dataclass
class Step:
    """One ``dmypy run`` of a case, after some edits."""

    name: str
    what: str  # what was done before the run, for the failure message
    args: list[str]
    writes: dict[str, str] = field(default_factory=dict)  # path -> new content
    touch: list[str] = field(default_factory=list)  # mtime only
    #: The case's files as they are at this step (for the cold reference).
    files: dict[str, str] = field(default_factory=dict)
    #: Whether the files' content differs from the case's in a way that may
    #: change mypy's output (then the reference is a cold run on them).
    changes_output: bool = False


@dataclass
class StepResult:
    step: Step
    out: str = ""
    err: str = ""
    status: int | None = None
    restart: str | None = None
    crashed: bool = False
    seconds: float = 0.0


@dataclass
class DaemonRun:
    results: list[StepResult]
    seconds: float
    process_returncode: int = 0
    process_output: str = ""  # whatever the child printed (a stray print())

    def problem(self) -> str | None:
        if self.process_returncode != 0:
            return (
                f"the daemon's child process failed (exit code {self.process_returncode}):\n"
                f"{self.process_output}"
            )
        if self.process_output.strip():
            return f"something (the plugin?) printed outside mypy's output:\n{self.process_output}"
        return None


def case_files(case: Case) -> dict[str, str]:
    return {f.path: f.text for f in case.files}


def python_paths(case: Case) -> list[str]:
    return [f.path for f in case.files if f.module is not None]


def daemon_args(case: Case, config_file: str = "mypy.ini") -> list[str]:
    # The seed stays in the build: a daemon that drops modules of the stdlib
    # from its build (queue, concurrent.futures) may crash on a later run
    # (an assertion in mypy's Errors), with or without the plugin.
    return ["--config-file", config_file, *DAEMON_FLAGS, *case.flags, SEED_FILE, *python_paths(case)]


def _appended(text: str) -> str:
    if text and not text.endswith("\n"):
        text += "\n"
    return text + EDIT_COMMENT


def removable_statement(case: Case) -> tuple[int, int] | None:
    """Lines (first, last) of the first statement of main.py with an
    expected error that can be replaced by ``pass`` without touching another
    statement: a simple statement, alone on its lines.  None if there is
    none (or main.py does not parse with this Python)."""
    import ast

    from case_file import expectations_in

    text = case.main.text
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    lines = text.split("\n")
    error_lines = sorted(
        {int(e.split(":")[1]) for e in expectations_in(case.main) if ": error: " in e}
    )
    statements = [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    compound = (
        ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor,
        ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match,
    )  # fmt: skip
    if hasattr(ast, "TryStar"):
        compound += (ast.TryStar,)
    for line in error_lines:
        around = [
            s for s in statements
            if not isinstance(s, compound) and s.lineno <= line <= (s.end_lineno or s.lineno)
        ]  # fmt: skip
        if not around:
            continue
        stmt = min(around, key=lambda s: (s.end_lineno or s.lineno) - s.lineno)
        first, last = stmt.lineno, stmt.end_lineno or stmt.lineno
        source_line = lines[first - 1]
        if stmt.col_offset != len(source_line) - len(source_line.lstrip()):
            continue  # after a compound header (`if x: f()`) or a `;`
        others = [
            s for s in statements
            if s is not stmt
            and s.lineno <= last and (s.end_lineno or s.lineno) >= first
            and not (s.lineno < first or (s.end_lineno or s.lineno) > last)
        ]  # fmt: skip
        if others:
            continue  # another statement on these lines
        return first, last
    return None


def _without(text: str, first: int, last: int) -> str:
    lines = text.split("\n")
    indent = lines[first - 1][: len(lines[first - 1]) - len(lines[first - 1].lstrip())]
    lines[first - 1] = indent + "pass"
    for i in range(first, last):
        lines[i] = ""
    return "\n".join(lines)


def daemon_steps(case: Case, config_file: str = "mypy.ini") -> list[Step]:
    """The runs of the daemon for ``case``, each after its edits."""
    args = daemon_args(case, config_file)
    files = case_files(case)
    steps = [Step("first", "the case's files checked by the daemon (its first run on them)", args, files=dict(files))]
    steps.append(
        Step("touch", f"{MAIN} touched (mtime only, same content)", args, touch=[MAIN], files=dict(files))
    )
    files[MAIN] = _appended(files[MAIN])
    steps.append(
        Step("edit-main", f"a comment line appended to {MAIN}", args,
             writes={MAIN: files[MAIN]}, files=dict(files))
    )  # fmt: skip
    others = {p: _appended(files[p]) for p in python_paths(case) if p != MAIN}
    if others:
        files.update(others)
        steps.append(
            Step("edit-others", f"a comment line appended to {', '.join(others)}", args,
                 writes=dict(others), files=dict(files))
        )  # fmt: skip
    removable = removable_statement(case)
    if removable is not None:
        first, last = removable
        where = f"line {first}" if first == last else f"lines {first}-{last}"
        appended_main = files[MAIN]
        files[MAIN] = _without(appended_main, first, last)
        steps.append(
            Step("remove", f"{MAIN} {where} (an expected error's statement) replaced by 'pass'",
                 args, writes={MAIN: files[MAIN]}, files=dict(files), changes_output=True)
        )  # fmt: skip
        files[MAIN] = appended_main
        steps.append(
            Step("restore", f"{MAIN} {where} put back", args,
                 writes={MAIN: files[MAIN]}, files=dict(files))
        )  # fmt: skip
    # `[file lib.py.2]`: lib.py's next version, as in mypy's own daemon tests.
    versions = {p: files[p + NEXT_VERSION] for p in python_paths(case) if p + NEXT_VERSION in files}
    if versions:
        files.update(versions)
        steps.append(
            Step("next-version",
                 f"{', '.join(versions)} replaced by {', '.join(p + NEXT_VERSION for p in versions)}",
                 args, writes=dict(versions), files=dict(files), changes_output=True)
        )  # fmt: skip
    return steps


def seed_source(cases: list[Case]) -> str:
    """The daemon's seed: the cold harness's, plus every stdlib module that
    a case imports.  A daemon asked to check a new file that imports a
    module its build does not hold yet may crash (``KeyError`` in
    ``Server.direct_imports``, with or without the plugin): with the seed,
    every such module is there before any case comes."""
    import ast
    import sys

    found: set[str] = set()
    for case in cases:
        for f in case.files:
            if f.module is None:
                continue
            try:
                tree = ast.parse(f.text)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module)
    stdlib = sorted(m for m in found if m.split(".")[0] in sys.stdlib_module_names)
    return SEED_SOURCE + "".join(f"import {m}\n" for m in stdlib)


class _DaemonServer:
    def __init__(self, env: MypyEnv, workdir: Path, seed: str) -> None:
        self.workdir = workdir
        self.proc = subprocess.Popen(
            [env.python, "-c", _DAEMON_SERVER],
            env=env.subprocess_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        init = {
            "workdir": str(workdir),
            "files": {"mypy.ini": env.config, SEED_FILE: seed},
            "args": ["--config-file", "mypy.ini", *DAEMON_FLAGS, SEED_FILE],
        }
        seed = self._ask(init)
        if seed.get("crashed") or seed.get("status") != 0 or seed.get("err"):
            self.close()
            raise RuntimeError(
                "the daemon's seed check (only `import fearless` and a few stdlib modules)"
                f" failed:\n{seed.get('out', '')}{seed.get('err', '')}"
            )
        self.seed_seconds = float(seed["seconds"])

    def _ask(self, request: dict[str, object]) -> dict[str, object]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise OSError("the daemon server died")
        result: dict[str, object] = json.loads(answer)
        return result

    def run(self, case: Case, steps: list[Step], scratch: Path, env: MypyEnv) -> DaemonRun:
        scratch.mkdir(parents=True, exist_ok=True)
        stem = scratch / f"daemon-{os.getpid()}-{time.monotonic_ns()}"
        result_file, output_file = stem.with_suffix(".json"), stem.with_suffix(".out")
        request = {
            "files": {"mypy.ini": env.config, **case_files(case)},
            "steps": [{"args": s.args, "writes": s.writes, "touch": s.touch} for s in steps],
            "result": str(result_file),
            "output": str(output_file),
            "timeout": env.timeout,
        }
        start = time.perf_counter()
        returncode = int(self._ask(request)["returncode"])
        seconds = time.perf_counter() - start
        output = ""
        if output_file.exists():
            output = output_file.read_text(encoding="utf-8", errors="replace")
            output_file.unlink()
        if returncode == -signal.SIGALRM:
            output = f"timed out after {env.timeout:.0f}s\n{output}"
        results: list[StepResult] = []
        if result_file.exists():
            for step, data in zip(steps, json.loads(result_file.read_text(encoding="utf-8"))):
                results.append(
                    StepResult(step, data["out"], data["err"], data["status"], data["restart"],
                               data["crashed"], data["seconds"])
                )  # fmt: skip
            result_file.unlink()
        return DaemonRun(results, seconds, returncode, output)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class DaemonServers:
    """One daemon server per environment (python, PYTHONPATH, configuration,
    sources of the plugin and fearless), started on first use."""

    def __init__(self, root: Path, seed: str = SEED_SOURCE) -> None:
        self.root, self.seed = root, seed
        self._servers: dict[tuple[object, ...], _DaemonServer] = {}
        atexit.register(self.close)

    def get(self, env: MypyEnv, fingerprint: str) -> _DaemonServer:
        key = (env.python, env.subprocess_env().get("PYTHONPATH", ""), env.config, fingerprint)
        server = self._servers.get(key)
        if server is None or server.proc.poll() is not None:
            for old in self._servers.values():  # a stale one (sources edited): stop it
                old.close()
            self._servers.clear()
            workdir = self.root / f"daemon-{os.getpid()}-{len(self._servers)}-{time.monotonic_ns()}"
            server = self._servers[key] = _DaemonServer(env, workdir, self.seed)
        return server

    def close(self) -> None:
        for server in self._servers.values():
            server.close()
        self._servers.clear()


def run_daemon_case(
    servers: DaemonServers, env: MypyEnv, fingerprint: str, case: Case, steps: list[Step], scratch: Path
) -> DaemonRun:
    try:
        return servers.get(env, fingerprint).run(case, steps, scratch, env)
    except OSError:  # the server is gone: start another one
        return servers.get(env, fingerprint).run(case, steps, scratch, env)
