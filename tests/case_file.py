"""Parsing ``test-data/*.test`` files: mypy's data-driven case format (a subset).

This module is pure (no pytest, no mypy): it turns a ``.test`` file into
:class:`Case` objects and knows how to build the expected output of a case
and how to normalise and compare mypy's actual output.  Running mypy is
``case_runner.py``'s job.  The format is documented in docs/testing.md::

    [case moveThenUse]
    # flags: --warn-unused-ignores          (optional, first line of main only)
    from fearless import Owned
    def take(v: Owned[list[int]]) -> None: ...
    take(1)  # E: message  [code] # N: another message on the same line
    [file helper.py]
    x: int = ""  # E: Incompatible types ...  [assignment]
    [out]
    main:3: note: an expected line, spelled the way mypy prints it

Lines starting with ``--`` are comments everywhere; a line starting with
``[[`` stands for a line starting with ``[`` (so a Python line may begin
with a bracket).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAIN = "main.py"
#: How the main file is spelled in expected/actual output lines (mypy's own
#: test convention).
MAIN_DISPLAY = "main"

SEVERITIES = {"E": "error", "N": "note", "W": "warning"}

_HEADER_RE = re.compile(r"^\[([A-Za-z][A-Za-z0-9_]*)(?:[ \t]+([^\]]*?))?[ \t]*\]\s*$")
_CASE_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.]*(-skip|-xfail)?$")
# One expectation comment: ``# E: message`` up to the next one or the end.
_EXPECT_RE = re.compile(r"# ([ENW]): (.*?)(?=\s*# [ENW]: |\s*$)")
# Something that looks like an expectation but is not spelled exactly so
# (``#E: x``, ``# E:x``, ``# E : x``, ``# E:`` with no message).
_NEAR_MISS_RE = re.compile(r"#\s*[ENW]\s*:")
_FLAGS_RE = re.compile(r"^#\s*flags:(.*)$")
# ``file:line: severity: message`` as mypy prints it without columns.
_OUTPUT_RE = re.compile(r"^(?P<file>[^:\s][^:]*):(?P<line>\d+): (?P<sev>error|note|warning): ")
_SUMMARY_RE = re.compile(
    r"^(Found \d+ errors? in \d+ files?( \(.*\))?|Success: no issues found in \d+ source files?)$"
)


class CaseFileError(Exception):
    """A ``.test`` file that does not follow the format; the message names
    the file and line."""


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative, POSIX: "main.py", "helper.py", "pkg/mod.py"
    text: str
    first_line: int  # line of the .test file that is this file's line 1

    @property
    def display(self) -> str:
        """The file's name in output lines (``main`` for the main file)."""
        return MAIN_DISPLAY if self.path == MAIN else self.path

    @property
    def module(self) -> str | None:
        """The module name mypy gives the file, or None if it is not Python."""
        p = PurePosixPath(self.path)
        if p.suffix not in (".py", ".pyi"):
            return None
        parts = list(p.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts) if parts else None


@dataclass
class Case:
    name: str
    test_file: Path
    line: int  # line of the ``[case ...]`` header
    files: list[SourceFile]  # the main file first
    out: list[str] = field(default_factory=list)  # explicit [out] lines, normalised
    flags: list[str] = field(default_factory=list)
    skip: bool = False
    xfail: bool = False

    @property
    def id(self) -> str:
        return f"{self.test_file.name}::{self.name}"

    @property
    def location(self) -> str:
        return f"{self.test_file}:{self.line}"

    @property
    def main(self) -> SourceFile:
        return self.files[0]

    @property
    def modules(self) -> list[str]:
        """Module names to check, the main module first, without repeats."""
        seen: list[str] = []
        for f in self.files:
            mod = f.module
            if mod is not None and mod not in seen:
                seen.append(mod)
        return seen

    def expected_output(self) -> list[str]:
        """Inline expectations of every file merged with ``[out]``, sorted."""
        lines: list[str] = []
        for f in self.files:
            lines += expectations_in(f)
        return sort_output(lines + self.out)


def expectations_in(source: SourceFile) -> list[str]:
    """The expected output lines written as ``# E:``/``# N:``/``# W:``
    comments in ``source``, in file order then left to right."""
    found: list[str] = []
    for lineno, line in enumerate(source.text.split("\n"), start=1):
        matches = list(_EXPECT_RE.finditer(line))
        if len(_NEAR_MISS_RE.findall(line)) != len(matches):
            raise CaseFileError(
                f"{source.path} line {lineno} (test file line"
                f" {source.first_line + lineno - 1}): malformed expectation comment,"
                f" write '# E: message' (hash, space, E/N/W, colon, space, message): {line!r}"
            )
        for m in matches:
            message = m.group(2).strip()
            if not message:
                raise CaseFileError(
                    f"{source.path} line {lineno} (test file line"
                    f" {source.first_line + lineno - 1}): empty expectation message: {line!r}"
                )
            found.append(f"{source.display}:{lineno}: {SEVERITIES[m.group(1)]}: {message}")
    return found


def _output_key(line: str) -> tuple[int, str, int]:
    m = _OUTPUT_RE.match(line)
    if m is None:  # not a file:line line; keep such lines first
        return (0, "", 0)
    file = m.group("file")
    return (1 if file == MAIN_DISPLAY else 2, file, int(m.group("line")))


def sort_output(lines: list[str]) -> list[str]:
    """Stable sort by (file, line), the main file first: lines of one
    (file, line) keep their order."""
    return sorted(lines, key=_output_key)


def normalise_output(stdout: str) -> list[str]:
    """mypy's stdout as comparable lines: without the summary line, with
    ``main.py`` spelled ``main``, trailing spaces stripped, sorted."""
    lines: list[str] = []
    for raw in stdout.splitlines():
        line = raw.rstrip()
        if not line or _SUMMARY_RE.match(line):
            continue
        lines.append(_normalise_path(line))
    return sort_output(lines)


def _normalise_path(line: str) -> str:
    if line.startswith(MAIN + ":"):
        return MAIN_DISPLAY + line[len(MAIN) :]
    if line.startswith("./"):
        return line[2:]
    return line


# --------------------------------------------------------------------------
# Parsing


def parse_case_file(path: Path) -> list[Case]:
    return parse_cases(path.read_text(encoding="utf-8"), path)


def parse_cases(text: str, path: Path) -> list[Case]:
    """Every case of a ``.test`` file; raises :class:`CaseFileError`."""
    lines = text.split("\n")
    cases: list[Case] = []
    # The section being collected: (kind, argument, header line, body lines).
    sections: list[tuple[str, str, int, list[str]]] = []

    def where(lineno: int) -> str:
        return f"{path}:{lineno}"

    def finish_case() -> None:
        if sections:
            cases.append(_build_case(sections, path))
            sections.clear()

    for lineno, line in enumerate(lines, start=1):
        m = _HEADER_RE.match(line) if line.startswith("[") and not line.startswith("[[") else None
        if m is not None:
            kind, arg = m.group(1), (m.group(2) or "").strip()
            if kind == "case":
                finish_case()
            elif kind not in ("file", "out"):
                raise CaseFileError(
                    f"{where(lineno)}: unknown section [{kind}] (known: [case NAME],"
                    " [file PATH], [out]); a Python line starting with '[' is written '[['"
                )
            elif not sections:
                raise CaseFileError(f"{where(lineno)}: [{kind}] before the first [case]")
            sections.append((kind, arg, lineno, []))
            continue
        if line.startswith("--"):
            # A comment.  Inside code it becomes a blank line so that line
            # numbers still count physical lines of the .test file.
            if sections and sections[-1][0] != "out":
                sections[-1][3].append("")
            continue
        if line.startswith("[["):
            line = line[1:]
        if not sections:
            if line.strip():
                raise CaseFileError(f"{where(lineno)}: text before the first [case]: {line!r}")
            continue
        sections[-1][3].append(line)
    finish_case()

    seen: dict[str, int] = {}
    for case in cases:
        if case.name in seen:
            raise CaseFileError(
                f"{where(case.line)}: duplicate case name {case.name!r}"
                f" (first at line {seen[case.name]})"
            )
        seen[case.name] = case.line
    return cases


def _strip_trailing_blank(body: list[str]) -> list[str]:
    body = list(body)
    while body and not body[-1].strip():
        body.pop()
    return body


def _build_case(sections: list[tuple[str, str, int, list[str]]], path: Path) -> Case:
    kind, raw_name, case_line, main_body = sections[0]
    assert kind == "case"
    if not _CASE_NAME_RE.match(raw_name):
        raise CaseFileError(
            f"{path}:{case_line}: bad case name {raw_name!r} (letters, digits, '_' and '.',"
            " optionally ending in -skip or -xfail)"
        )
    name, skip, xfail = raw_name, False, False
    if name.endswith("-skip"):
        name, skip = name[: -len("-skip")], True
    elif name.endswith("-xfail"):
        name, xfail = name[: -len("-xfail")], True

    main_lines = _strip_trailing_blank(main_body)
    files = [SourceFile(MAIN, _join(main_lines), case_line + 1)]
    flags: list[str] = []
    if main_lines:
        fm = _FLAGS_RE.match(main_lines[0])
        if fm is not None:
            try:
                flags = shlex.split(fm.group(1))
            except ValueError as e:
                raise CaseFileError(f"{path}:{case_line + 1}: bad # flags: line: {e}") from None
    for i, line in enumerate(main_lines[1:], start=2):
        if _FLAGS_RE.match(line):
            raise CaseFileError(
                f"{path}:{case_line + i}: '# flags:' must be the first line of the main file"
            )

    out: list[str] = []
    have_out = False
    for kind, arg, header_line, body in sections[1:]:
        where = f"{path}:{header_line}"
        if kind == "file":
            rel = _check_file_path(arg, where)
            if any(f.path == rel for f in files):
                raise CaseFileError(f"{where}: file {rel!r} given twice in case {name!r}")
            files.append(SourceFile(rel, _join(_strip_trailing_blank(body)), header_line + 1))
        else:  # out
            if arg:
                raise CaseFileError(f"{where}: [out] takes no argument (got {arg!r})")
            if have_out:
                raise CaseFileError(f"{where}: second [out] section in case {name!r}")
            have_out = True
            for offset, line in enumerate(body, start=1):
                line = line.rstrip()
                if not line:
                    continue
                line = _normalise_path(line)
                if not _OUTPUT_RE.match(line):
                    raise CaseFileError(
                        f"{path}:{header_line + offset}: [out] line is not"
                        f" 'file:line: error|note|warning: message': {line!r}"
                    )
                out.append(line)

    known_files = {f.display for f in files}
    for line in out:
        m = _OUTPUT_RE.match(line)
        assert m is not None
        if m.group("file") not in known_files:
            raise CaseFileError(
                f"{path}:{case_line}: [out] of case {name!r} names {m.group('file')!r},"
                f" which is not one of the case's files {sorted(known_files)}"
            )
    case = Case(name, path, case_line, files, out, flags, skip, xfail)
    for f in files:  # fail at parse time on malformed expectation comments
        expectations_in(f)
    return case


def _join(lines: list[str]) -> str:
    return "\n".join(lines) + "\n" if lines else ""


def _check_file_path(arg: str, where: str) -> str:
    if not arg:
        raise CaseFileError(f"{where}: [file] needs a path, e.g. [file helper.py]")
    p = PurePosixPath(arg)
    if p.is_absolute() or ".." in p.parts or "\\" in arg:
        raise CaseFileError(f"{where}: [file {arg}] must be a relative POSIX path inside the case")
    rel = str(p)
    if rel == MAIN:
        raise CaseFileError(f"{where}: [file main.py]: the case body is already main.py")
    if rel == "mypy.ini" or p.parts[0] == ".mypy_cache":
        raise CaseFileError(f"{where}: [file {arg}] would overwrite the harness's own files")
    return rel
