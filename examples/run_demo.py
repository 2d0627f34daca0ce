"""``make demo``: the checker on the bundled examples, one per mistake of the
seed article ("Fearless Concurrency with Rust").

For each example it prints the mistake and the error code it should produce,
runs mypy with the plugin on the file (a subprocess, from the repository
root, ``--config-file examples/mypy.ini``) and shows mypy's output; at the
end, one summary line per example: which expected errors mypy reported, which
are "not yet reported" (the check is not written yet), and anything
unexpected (an error in a corrected function, or an error of another code).

Each example marks the line of its mistake with ``# expected: <code>``; an
error with that code anywhere in the same function counts as found (the
checker may point at a neighbouring line, as rustc does).

Exit status: 0 whenever mypy ran, errors or not (the examples make those
mistakes on purpose); 1 if mypy crashed (exit status 2, "INTERNAL ERROR" or a
traceback) on any example.  With ``--check``, also 1 if an expected error is
missing or an unexpected one appears.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent
REPO = EXAMPLES_DIR.parent
CONFIG = EXAMPLES_DIR / "mypy.ini"

#: The article's order; any other example file is shown after these.
ORDER = (
    "use_after_move.py",
    "push_all.py",
    "channel_send.py",
    "guard_escape.py",
    "rc_send.py",
    "sqlite_thread.py",
)

_EXPECTED = re.compile(r"#\s*expected:\s*([a-z][a-z-]*)")
_MYPY_LINE = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+):(?:\d+:)? (?P<kind>error|note): (?P<msg>.*?)"
    r"(?:  \[(?P<code>[a-z][a-z-]*)\])?$"
)


@dataclass
class Example:
    path: Path
    mistake: str  # first line of the module docstring
    #: code -> line range (first, last) of the function that makes the mistake
    expected: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    @property
    def rel(self) -> str:
        return self.path.relative_to(REPO).as_posix()


@dataclass
class Outcome:
    example: Example
    crashed: bool
    found: list[str]
    missing: list[str]
    unexpected: list[str]  # the mypy lines themselves
    errors: int


def load_example(path: Path) -> Example:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    doc = ast.get_docstring(tree) or path.stem
    example = Example(path, doc.strip().splitlines()[0])
    functions = [
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    for lineno, line in enumerate(source.splitlines(), start=1):
        m = _EXPECTED.search(line)
        if not m:
            continue
        # The innermost function around the marker, or just the line itself.
        around = [f for f in functions if f[0] <= lineno <= f[1]]
        span = min(around, key=lambda f: f[1] - f[0]) if around else (lineno, lineno)
        example.expected.setdefault(m.group(1), []).append(span)
    return example


def discover() -> list[Example]:
    files = {p.name: p for p in EXAMPLES_DIR.glob("*.py") if p.name != Path(__file__).name}
    names = [n for n in ORDER if n in files] + sorted(set(files) - set(ORDER))
    return [load_example(files[n]) for n in names]


def run_mypy(example: Example, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable, "-m", "mypy",
        "--config-file", CONFIG.relative_to(REPO).as_posix(),
        example.rel,
    ]  # fmt: skip
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)


def judge(example: Example, proc: subprocess.CompletedProcess[str]) -> Outcome:
    output = proc.stdout + proc.stderr
    crashed = (
        proc.returncode not in (0, 1)
        or "INTERNAL ERROR" in output
        or "Traceback (most recent call last)" in output
    )
    found: set[str] = set()
    unexpected: list[str] = []
    errors = 0
    for line in proc.stdout.splitlines():
        m = _MYPY_LINE.match(line)
        if not m or m["kind"] != "error":
            continue
        errors += 1
        code, lineno = m["code"] or "", int(m["line"])
        same_file = Path(m["path"]).name == example.path.name
        spans = example.expected.get(code, []) if same_file else []
        if any(first <= lineno <= last for first, last in spans):
            found.add(code)
        else:
            unexpected.append(line)
    missing = [code for code in example.expected if code not in found]
    return Outcome(example, crashed, sorted(found), missing, unexpected, errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the checker on the examples.")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 also if an expected error is missing or an unexpected one appears",
    )
    parser.add_argument("files", nargs="*", help="only these examples (names or paths)")
    args = parser.parse_args(argv)

    examples = discover()
    if args.files:
        wanted = {Path(f).name for f in args.files}
        examples = [e for e in examples if e.path.name in wanted]
        unknown = wanted - {e.path.name for e in examples}
        if unknown:
            parser.error(f"no such example: {', '.join(sorted(unknown))}")

    outcomes: list[Outcome] = []
    env = dict(os.environ)
    for example in examples:
        codes = ", ".join(example.expected) or "none"
        print("=" * 78)
        print(f"{example.rel}: {example.mistake}")
        print(f"expected error code: {codes}")
        print("-" * 78, flush=True)
        proc = run_mypy(example, env)
        sys.stdout.write(proc.stdout)
        if proc.stderr:
            sys.stdout.write(proc.stderr)
        outcome = judge(example, proc)
        if outcome.crashed:
            print(f"!!! mypy CRASHED on {example.rel} (exit status {proc.returncode})")
        print(flush=True)
        outcomes.append(outcome)

    print("=" * 78)
    print("Summary (every error above is a mistake the examples make on purpose,")
    print("unless it is listed as unexpected):")
    for o in outcomes:
        if o.crashed:
            status = "MYPY CRASHED"
        else:
            parts = [f"{o.errors} error(s)"]
            if o.found:
                parts.append("found: " + ", ".join(o.found))
            if o.missing:
                parts.append("not yet reported: " + ", ".join(o.missing))
            if o.unexpected:
                parts.append(f"UNEXPECTED: {len(o.unexpected)}")
            status = "; ".join(parts)
        print(f"  {o.example.path.name:<20} {status}")
    expected_codes = {c for o in outcomes for c in o.example.expected}
    found_codes = {c for o in outcomes for c in o.found}
    print(f"expected codes reported: {', '.join(sorted(found_codes)) or 'none'}")
    not_yet = sorted(expected_codes - found_codes)
    if not_yet:
        print(f"expected codes not yet reported: {', '.join(not_yet)}")
    unexpected = [line for o in outcomes for line in o.unexpected]
    if unexpected:
        print("unexpected errors (not a mistake an example makes on purpose):")
        for line in unexpected:
            print(f"  {line}")

    if any(o.crashed for o in outcomes):
        print("run_demo: mypy crashed; see above.", file=sys.stderr)
        return 1
    if args.check and (unexpected or any(o.missing for o in outcomes)):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
