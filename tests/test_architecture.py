"""The plugin's layers, as docs/architecture.md draws them, held by tests.

Layers, lowest first; a module imports only from its own layer or below:

0. the foundation at the package's top: ``markers``, ``errorcodes``,
   ``config``, ``version``, ``safety``, ``diagnostics``;
1. ``overlays/``: the declarations the plugin reads;
2. ``analysis/``: syntax and control flow;
3. ``model/``: what calls and classes do;
4. ``checks/``: one per error family, and no check imports another;
5. ``dispatch`` and the entry point ``__init__``.

Also: no import circle, at most 12 modules at the top, none over 650 lines,
one module that calls mypy's ``fail`` (diagnostics), no ``global``
statement, and a cache key (``version.source_digest``) that covers every
source file of the plugin.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from mypy_ownership import version

PACKAGE = Path(__file__).resolve().parent.parent / "mypy_ownership"
FOUNDATION = {"markers", "errorcodes", "config", "version", "safety", "diagnostics"}
LAYERS = {"overlays": 1, "analysis": 2, "model": 3, "checks": 4}
TOP = {"dispatch", "__init__"}


def _modules() -> dict[str, Path]:
    """Dotted names below ``mypy_ownership`` ("checks.moves") -> file."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        out[".".join(parts)] = path
    return out


def _layer(module: str) -> int:
    head = module.split(".")[0]
    if head in LAYERS:
        return LAYERS[head]
    if head in FOUNDATION:
        return 0
    assert head in TOP, f"mypy_ownership/{head}: a top-level module in no layer (add it to docs/architecture.md)"
    return 5


def _imports(path: Path) -> set[str]:
    """The plugin modules a file imports, at its top or inside a function."""
    found: set[str] = set()
    modules = _modules()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            if not name.startswith("mypy_ownership."):
                continue
            inner = name[len("mypy_ownership.") :]
            while inner:
                if inner in modules:
                    found.add(inner)
                    break
                if f"{inner}.__init__" in modules:
                    found.add(f"{inner}.__init__")
                    break
                inner = inner.rpartition(".")[0]
    return found


def test_every_module_sits_in_a_layer_and_imports_only_below_it() -> None:
    wrong = []
    for module, path in _modules().items():
        for imported in _imports(path):
            imported_layer = _layer(imported)
            if imported_layer > _layer(module):
                wrong.append(f"{module} (layer {_layer(module)}) imports {imported} (layer {imported_layer})")
    assert wrong == []


def test_no_check_imports_another() -> None:
    wrong = [
        f"{module} imports {imported}"
        for module, path in _modules().items()
        if module.startswith("checks.")
        for imported in _imports(path)
        if imported.startswith("checks.") and imported != module
    ]
    assert wrong == []


def test_no_import_circle() -> None:
    graph = {module: _imports(path) - {module} for module, path in _modules().items()}
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        for imported in sorted(graph[module]):
            if imported in trail:
                cycles.append([*trail[trail.index(imported) :], imported])
            elif imported not in done:
                visit(imported, [*trail, imported])
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert cycles == []


def test_the_top_holds_at_most_twelve_modules() -> None:
    top = [p.name for p in PACKAGE.glob("*.py")]
    assert len(top) <= 12, top


@pytest.mark.parametrize("module", sorted(_modules()))
def test_no_module_over_650_lines(module: str) -> None:
    lines = len(_modules()[module].read_text().splitlines())
    assert lines <= 650, f"{module}: {lines} lines"


def test_only_diagnostics_calls_fail() -> None:
    callers = sorted(
        module
        for module, path in _modules().items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "fail"
    )
    assert set(callers) == {"diagnostics"}, callers


def test_no_global_statement() -> None:
    found = [
        f"{module}:{node.lineno}"
        for module, path in _modules().items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Global)
    ]
    assert found == []


def test_the_cache_key_covers_every_source_file() -> None:
    """mypy's cache is keyed on the plugin's version, which hashes the stat
    of its files: every ``.py`` below the package must be among them."""
    listed = {f"{sub}/" if sub else "" for sub in ("", *version.SUBPACKAGES)}
    on_disk = {str(p.parent.relative_to(PACKAGE)).replace(".", "") for p in PACKAGE.rglob("*.py")}
    assert {f"{d}/" if d else "" for d in on_disk} <= listed


def test_a_change_in_a_subpackage_changes_the_cache_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "mypy_ownership"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "stubs"))
    monkeypatch.setattr(version, "_PACKAGE_DIR", copy)
    before = version.source_digest()
    assert version.source_digest() == before
    for sub in version.SUBPACKAGES:
        target = next((copy / sub).glob("*.py"))
        target.write_text(target.read_text() + "\n# edited\n")
        after = version.source_digest()
        assert after != before, f"an edit in {sub}/ left the cache key as it was"
        before = after
