"""Every Python example in README.md and docs/*.md runs, as rustdoc runs a crate's.

The convention is described in docs/testing.md, "Examples in the docs". In
short: every ```python block is an example, checked by mypy with the plugin
in a directory of its own, and must print exactly what the doc shows (the
plain ``` block right after it, and `# error:` comments on its lines), or
nothing at all when it shows nothing. A block that is not a complete program
says so with `<!-- docs-test: fragment -->` on the line before it, and is
only parsed. `<!-- docs-test: file=PATH -->` before a block makes it a file
of the next example (a mypy.ini, an overlay, a second module).

One pytest item per block: `test_example[docs/borrowing.md:22]` names the
line of the opening fence.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

DEFAULT_CONFIG = "[mypy]\nplugins = mypy_ownership\n"

MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)```\s*([\w+-]*)\s*$")
# A line of mypy's output: file, line, severity, message.
OUTPUT_LINE = re.compile(r"^(?P<file>[\w./-]+\.pyi?):(?P<line>\d+): (?P<severity>error|note|warning): ")
SUMMARY_LINE = re.compile(r"^(Found \d+ errors? in \d+ files? |Success: )")
COMMAND_LINE = re.compile(r"^\$ (mypy(?: .*)?)$")
# `code  # error: message` on a line of an example.
INLINE = re.compile(r"#\s(error|note|warning): (.+)$")
ELLIPSIS = " ..."


@dataclass
class Block:
    doc: str  # path relative to the repository
    fence_line: int  # 1-based line of the opening fence
    lang: str
    lines: list[str]
    marker: str | None  # the text of a docs-test marker just before it
    follows: Block | None = None  # the block just before it, if only blank lines separate them


@dataclass
class Example:
    block: Block
    name: str  # file name of the snippet
    command: list[str]  # mypy's arguments
    expected: list[str]  # lines as mypy prints them (summary included only if shown)
    files: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.block.doc}:{self.block.fence_line}"


def read_blocks(rel: str, markdown: str) -> list[Block]:
    text = markdown.splitlines()
    blocks: list[Block] = []
    i = 0
    last_end = -2  # index of the previous block's closing fence
    while i < len(text):
        m = FENCE.match(text[i])
        if not m:
            i += 1
            continue
        indent, lang = m.group(1), m.group(2)
        j = i + 1
        while j < len(text) and text[j].strip() != "```":
            j += 1
        body = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in text[i + 1 : j]]
        k = i - 1
        while k >= 0 and not text[k].strip():
            k -= 1
        marker = None
        if k >= 0 and (mm := MARKER.match(text[k])):
            marker = mm.group(1)
        follows = blocks[-1] if blocks and k == last_end else None
        blocks.append(Block(rel, i + 1, lang, body, marker, follows))
        last_end = j
        i = j + 1
    return blocks


def shown_output(block: Block) -> tuple[list[str] | None, list[str]]:
    """The command and the lines of an output block, or the problems with it."""
    lines = [line for line in block.lines if line.strip()]
    command = None
    if lines and (m := COMMAND_LINE.match(lines[0])):
        command = m.group(1).split()[1:]
        lines = lines[1:]
    bad = [line for line in lines if not (OUTPUT_LINE.match(line) or SUMMARY_LINE.match(line))]
    if bad:
        raise ValueError(
            f"the plain block after a python example must show mypy's output"
            f" (an optional `$ mypy ...` line, then `file.py:N: error: ...` lines); not: {bad[0]!r}"
        )
    return command, lines


def collect(docs: dict[str, str]) -> tuple[list[Example], list[Block], list[str]]:
    """The examples, the fragments, and the problems with the markers of `docs` (name: text)."""
    examples: list[Example] = []
    fragments: list[Block] = []
    problems: list[str] = []
    for doc, markdown in docs.items():
        blocks = read_blocks(doc, markdown)
        pending: dict[str, str] = {}
        for n, block in enumerate(blocks):
            marker = block.marker or ""
            if marker and marker != "fragment" and not marker.startswith("file="):
                problems.append(f"{block.doc}:{block.fence_line}: unknown docs-test marker {marker!r}")
                continue
            output = blocks[n + 1] if n + 1 < len(blocks) and blocks[n + 1].follows is block else None
            if output is not None and output.lang != "":
                output = None
            if block.lang != "python":
                if marker.startswith("file="):
                    pending[marker[5:]] = "\n".join(block.lines) + "\n"
                continue
            if marker == "fragment":
                fragments.append(block)
                continue
            if marker.startswith("file=") and output is None:
                pending[marker[5:]] = "\n".join(block.lines) + "\n"
                continue
            examples.append(make_example(block, output, marker[5:] if marker else None, pending))
            pending = {}
        if pending:
            problems.append(f"{doc}: files {sorted(pending)} belong to no example after them")
    return examples, fragments, problems


def make_example(block: Block, output: Block | None, name: str | None, files: dict[str, str]) -> Example:
    command: list[str] | None = None
    shown: list[str] = []
    problems: list[str] = []
    if output is not None:
        try:
            command, shown = shown_output(output)
        except ValueError as e:
            problems.append(str(e))
    if name is None and command:
        name = next((a for a in command if a.endswith(".py")), None)
    if name is None and shown and (m := OUTPUT_LINE.match(shown[0])):
        name = m.group("file")
    name = name or "example.py"
    inline = [
        f"{name}:{lineno}: {m.group(1)}: {m.group(2)}"
        for lineno, line in enumerate(block.lines, 1)
        if (m := INLINE.search(line))
    ]
    if output is None:
        shown = inline
    else:  # the block is the whole expectation; a comment must agree with it
        problems += [
            f"`{line}` is not in the output block" for line in inline if not any(matches(line, s) for s in shown)
        ]
    return Example(block, name, command or [name], shown, dict(files), problems)


def sort_key(line: str) -> tuple[int, str, int]:
    m = OUTPUT_LINE.match(line)
    if m is None:  # the summary goes last
        return (1, "", 0)
    return (0, m.group("file"), int(m.group("line")))


def matches(shown: str, printed: str) -> bool:
    """A shown line ending in " ..." stands for any printed line that starts with
    everything before the dots (the space included) and goes on past it."""
    if shown.endswith(ELLIPSIS):
        prefix = shown[: -len("...")]
        return printed.startswith(prefix) and len(printed) > len(prefix)
    return shown == printed


EXAMPLES, FRAGMENTS, PROBLEMS = collect({d.relative_to(ROOT).as_posix(): d.read_text(encoding="utf-8") for d in DOCS})


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One mypy cache for the examples of this process (one per xdist worker):
    # the standard library and fearless are checked once, not once per example.
    return tmp_path_factory.mktemp("docs-mypy-cache")


def check(example: Example, tmp_path: Path, cache_dir: Path) -> str | None:
    """Run the example in tmp_path; what is wrong with it, or None."""
    if example.problems:
        return f"{example.where}: " + "; ".join(example.problems)
    files = {"mypy.ini": DEFAULT_CONFIG, **example.files}
    files[example.name] = "\n".join(example.block.lines) + "\n"
    for rel, content in files.items():
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    cmd = [sys.executable, "-m", "mypy", "--cache-dir", str(cache_dir), *example.command]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    printed = proc.stdout.splitlines()
    if proc.stderr or proc.returncode not in (0, 1):
        return (
            f"{example.where}: mypy {' '.join(example.command)} failed (status {proc.returncode}):\n"
            + proc.stdout
            + proc.stderr
        )
    shows_summary = any(SUMMARY_LINE.match(line) for line in example.expected)
    if not shows_summary:
        printed = [line for line in printed if not SUMMARY_LINE.match(line)]
    expected = sorted(example.expected, key=sort_key)
    printed = sorted(printed, key=sort_key)
    if len(expected) == len(printed) and all(matches(s, p) for s, p in zip(expected, printed)):
        return None
    return (
        f"{example.where} ({example.name}, `mypy {' '.join(example.command)}`): the doc shows\n"
        + "".join(f"    {line}\n" for line in expected or ["(nothing)"])
        + "mypy printed\n"
        + "".join(f"    {line}\n" for line in printed or ["(nothing)"])
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.where for e in EXAMPLES])
def test_example(example: Example, tmp_path: Path, cache_dir: Path) -> None:
    problem = check(example, tmp_path, cache_dir)
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.mark.parametrize("block", FRAGMENTS, ids=[f"{b.doc}:{b.fence_line}" for b in FRAGMENTS])
def test_fragment_parses(block: Block) -> None:
    """A fragment is not run, but it is Python: a typo still fails."""
    try:
        ast.parse("\n".join(block.lines))
    except SyntaxError as e:
        pytest.fail(f"{block.doc}:{block.fence_line + (e.lineno or 0)}: {e.msg}", pytrace=False)


def test_doc_markers_are_well_formed() -> None:
    assert not PROBLEMS, "\n".join(PROBLEMS)


def test_every_doc_is_read() -> None:
    """The docs test is not silently empty: the README's quick start is among its examples."""
    assert any(e.block.doc == "README.md" and e.expected for e in EXAMPLES)


# --------------------------------------------------------------------------
# The convention itself, on made-up docs.

FENCE3 = "`" * 3


def doc(*parts: str) -> dict[str, str]:
    return {"made-up.md": "\n".join(parts) + "\n"}


def py(*lines: str) -> str:
    return "\n".join([FENCE3 + "python", *lines, FENCE3])


def out(*lines: str) -> str:
    return "\n".join([FENCE3, *lines, FENCE3])


def test_an_unmarked_example_that_does_not_run_fails(tmp_path: Path, cache_dir: Path) -> None:
    (example,), fragments, problems = collect(doc("Text.", "", py("tx.send(batch)")))
    assert not fragments and not problems
    assert example.where == "made-up.md:3" and example.name == "example.py" and example.expected == []
    problem = check(example, tmp_path, cache_dir)
    assert problem is not None and 'example.py:1: error: Name "tx" is not defined  [name-defined]' in problem


def test_a_fragment_is_only_parsed() -> None:
    examples, (fragment,), problems = collect(doc("<!-- docs-test: fragment -->", py("tx.send(batch)")))
    assert not examples and not problems and fragment.lines == ["tx.send(batch)"]


def test_the_output_block_names_the_file_and_the_command(tmp_path: Path, cache_dir: Path) -> None:
    (example,), _, _ = collect(
        doc(
            py("x: int = ''  # error: Incompatible types in assignment (expression has type ...", "y = 1"),
            "",
            out(
                "$ mypy --strict shown.py",
                'shown.py:1: error: Incompatible types in assignment (expression has type "str", ...',
                "Found 1 error in 1 file (checked 1 source file)",
            ),
        )
    )
    assert example.name == "shown.py" and example.command == ["--strict", "shown.py"] and not example.problems
    assert check(example, tmp_path, cache_dir) is None


def test_inline_comments_must_agree_with_the_output_block() -> None:
    (example,), _, _ = collect(doc(py("x: int = ''  # error: wrong"), out("a.py:1: error: right  [code]")))
    assert example.problems == ["`a.py:1: error: wrong` is not in the output block"]


def test_a_plain_block_after_an_example_must_be_output() -> None:
    (example,), _, _ = collect(doc(py("x = 1"), out("x is 1")))
    assert example.problems and "must show mypy's output" in example.problems[0]


def test_files_go_to_the_next_example_and_none_may_be_left_over() -> None:
    (example,), _, problems = collect(
        doc(
            "<!-- docs-test: file=mypy.ini -->",
            FENCE3 + "ini\n[mypy]\n" + FENCE3,
            "<!-- docs-test: file=pkg/lib.py -->",
            py("X = 1"),
            py("from pkg.lib import X"),
            "<!-- docs-test: file=left.py -->",
            py("Y = 2"),
            "<!-- docs-test: nonsense -->",
            py("Z = 3"),
        )
    )
    assert example.files == {"mypy.ini": "[mypy]\n", "pkg/lib.py": "X = 1\n"}
    assert problems == [
        "made-up.md:17: unknown docs-test marker 'nonsense'",
        "made-up.md: files ['left.py'] belong to no example after them",
    ]


def test_an_elided_line_matches_a_longer_line_with_its_prefix() -> None:
    assert matches("a.py:1: note: help: do it, ...", "a.py:1: note: help: do it, or not")
    assert not matches("a.py:1: note: help: do it, ...", "a.py:1: note: help: do it, ")
    assert not matches("a.py:1: note: help: do it, ...", "a.py:1: note: help: do that")
    assert not matches("a.py:1: note: x...", "a.py:1: note: xyz")  # no space before the dots: exact
