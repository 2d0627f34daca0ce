"""Reading an overlay file: its ``ast`` turned into the declarations of
:mod:`mypy_ownership.overlays.entries`, with a clear error (file and line) for
anything the format does not allow.  docs/overlays.md describes the format.
"""

from __future__ import annotations

import ast
import hashlib
import os
from collections.abc import Iterable

from mypy_ownership.markers import Marker
from mypy_ownership.overlays.entries import (
    CLASSMETHOD,
    FUNCTION,
    METHOD,
    PROPERTY,
    STATICMETHOD,
    OverlayClass,
    OverlayError,
    OverlayFunction,
    ParsedFile,
)

__all__ = ["parse_overlay"]

# Functions whose first parameter is the class, not an instance, without a
# decorator saying so.
_IMPLICIT_CLASS_FIRST = frozenset({"__new__", "__init_subclass__", "__class_getitem__"})


def parse_overlay(source: str | bytes, module: str, path: str | os.PathLike[str] = "<overlay>") -> ParsedFile:
    """Parse one overlay file's text as module ``module``."""
    raw = source.encode() if isinstance(source, str) else source
    try:
        tree = ast.parse(raw, filename=str(path))
    except SyntaxError as e:
        raise OverlayError(path, e.lineno, f"syntax error: {e.msg}") from None
    except ValueError as e:  # e.g. a NUL byte
        raise OverlayError(path, None, f"cannot parse: {e}") from None
    reader = _Reader(str(path), module)
    reader.read_module(tree)
    return ParsedFile(
        module=module,
        functions=tuple(reader.functions),
        classes=tuple(reader.classes),
        sha=hashlib.sha256(raw).hexdigest(),
    )


_MARKER_BY_NAME = {marker.value: marker for marker in Marker}
_MARKER_MODULES = ("fearless", "fearless.markers")
# What a class may say about threads: bases, and class decorators.
_NOT_SEND, _NOT_SYNC = "NotSend", "NotSync"
_UNSAFE_SEND, _UNSAFE_SYNC = "unsafe_send", "unsafe_sync"
_THREAD_NAMES = (_NOT_SEND, _NOT_SYNC, _UNSAFE_SEND, _UNSAFE_SYNC)
_SEND_IF = "__send_if__"
_HELP = "help:"
_DECORATORS = {
    "overload": "overload",
    "staticmethod": STATICMETHOD,
    "classmethod": CLASSMETHOD,
    "property": PROPERTY,
    "abstractmethod": "abstractmethod",
}
_DECORATOR_MODULES = ("typing", "typing_extensions", "abc", "builtins")


class _Reader:
    def __init__(self, path: str, module: str) -> None:
        self.path = path
        self.module = module
        self.functions: list[OverlayFunction] = []
        self.classes: list[OverlayClass] = []
        # Local names that mean a marker, and local names of the marker modules.
        self.marker_names: dict[str, Marker] = dict(_MARKER_BY_NAME)
        self.module_aliases: dict[str, str] = {m: m for m in _MARKER_MODULES}
        # Local names that mean NotSend, NotSync, unsafe_send or unsafe_sync.
        self.thread_names: dict[str, str] = {name: name for name in _THREAD_NAMES}

    def error(self, node: ast.AST | None, message: str) -> OverlayError:
        return OverlayError(self.path, getattr(node, "lineno", None), message)

    # -- statements --

    def read_module(self, tree: ast.Module) -> None:
        self.read_body(tree.body, self.module, in_class=False)

    def read_body(self, body: list[ast.stmt], prefix: str, in_class: bool) -> None:
        defs: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        order: list[str] = []  # names of functions and aliases, in order
        aliases: dict[str, tuple[str, ast.Assign]] = {}
        class_names: dict[str, int] = {}
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if stmt.name in aliases or stmt.name in class_names:
                    raise self.error(stmt, f'"{stmt.name}" is declared twice')
                if stmt.name not in defs:
                    order.append(stmt.name)
                defs.setdefault(stmt.name, []).append(stmt)
            elif isinstance(stmt, ast.ClassDef):
                if stmt.name in class_names or stmt.name in defs or stmt.name in aliases:
                    raise self.error(stmt, f'"{stmt.name}" is declared twice')
                class_names[stmt.name] = stmt.lineno
                self.read_class(stmt, prefix)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self.read_import(stmt)
            elif _assigns_send_if(stmt):
                if not in_class:
                    raise self.error(stmt, f"{_SEND_IF} outside a class")
                # read by read_class
            elif isinstance(stmt, ast.Assign):
                target = stmt.targets[0] if len(stmt.targets) == 1 else None
                if (
                    isinstance(target, ast.Name)
                    and isinstance(stmt.value, ast.Name)
                    and stmt.value.id in defs
                ):  # ``__copy__ = copy``: the same declaration under a second name
                    if target.id in defs or target.id in aliases or target.id in class_names:
                        raise self.error(stmt, f'"{target.id}" is declared twice')
                    aliases[target.id] = (stmt.value.id, stmt)
                    order.append(target.id)
                # Any other assignment (a TypeVar, __all__, ...) says nothing.
            elif isinstance(stmt, (ast.AnnAssign, ast.Pass)):
                pass  # attributes carry no ownership information (yet)
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                pass  # a docstring or ``...``
            elif isinstance(stmt, ast.If):
                raise self.error(
                    stmt,
                    "conditional declarations are not supported: declare every"
                    " variant unconditionally (a declaration for an API a Python"
                    " version lacks is harmless)",
                )
            elif type(stmt).__name__ == "TypeAlias":  # ``type X = ...`` (3.12+)
                pass
            else:
                raise self.error(
                    stmt, f"unsupported statement in an overlay: {type(stmt).__name__}"
                )
        for name in order:
            if name in aliases:
                target_name, stmt = aliases[name]
                original = self._function(defs[target_name], prefix, in_class)
                self.functions.append(
                    OverlayFunction(
                        fullname=f"{prefix}.{name}",
                        params=original.params,
                        kind=original.kind,
                        line=stmt.lineno,
                        path=self.path,
                        shapes=original.shapes,
                        any_thread=original.any_thread,
                    )
                )
            else:
                self.functions.append(self._function(defs[name], prefix, in_class))

    def read_class(self, node: ast.ClassDef, prefix: str) -> None:
        fullname = f"{prefix}.{node.name}"
        said: set[str] = set()  # NotSend, NotSync, unsafe_send, unsafe_sync
        for decorator in node.decorator_list:
            name = self._thread_name(decorator)
            if name not in (_UNSAFE_SEND, _UNSAFE_SYNC):
                raise self.error(
                    decorator,
                    f"unknown class decorator @{ast.unparse(decorator)} (an overlay"
                    " allows @unsafe_send and @unsafe_sync)",
                )
            if name in said:
                raise self.error(decorator, f"@{name} is given twice")
            said.add(name)
        for base in node.bases:
            self.check_markers_anywhere(base)
            name = self._thread_name(base)
            if name in (_NOT_SEND, _NOT_SYNC):
                if name in said:
                    raise self.error(base, f"{name} is listed twice")
                said.add(name)
        for opt_in, opt_out in ((_UNSAFE_SEND, _NOT_SEND), (_UNSAFE_SYNC, _NOT_SEND), (_UNSAFE_SYNC, _NOT_SYNC)):
            if opt_in in said and opt_out in said:
                raise self.error(
                    node,
                    f'class "{node.name}": @{opt_in} contradicts its {opt_out} base'
                    + (" (a NotSend class is bound to one thread)" if opt_out == _NOT_SEND else ""),
                )
        doc = ast.get_docstring(node)
        doc_node = node.body[0] if doc is not None else node
        reason, help_text = self._reason_and_help(doc, doc_node)
        if said:
            if reason is None:
                raise self.error(
                    node,
                    f'class "{node.name}" says {_says(said)}: its docstring must give'
                    " the reason, in one line, on its first line",
                )
            lines = doc.splitlines() if doc is not None else []
            if len(lines) > 1 and lines[1].strip() and not lines[1].strip().startswith(_HELP):
                raise self.error(
                    doc_node,
                    f'class "{node.name}": the reason must fit on the docstring\'s first'
                    " line (end it there, and leave a blank line before more text)",
                )
        send_if = self._send_if(node, thread_bound=_NOT_SEND in said)
        self.classes.append(
            OverlayClass(
                fullname=fullname,
                bases=tuple(ast.unparse(base) for base in node.bases),
                doc=doc,
                line=node.lineno,
                path=self.path,
                thread_bound=_NOT_SEND in said,
                not_sync=_NOT_SYNC in said,
                unsafe_send=_UNSAFE_SEND in said,
                unsafe_sync=_UNSAFE_SYNC in said,
                reason=reason,
                help=help_text,
                send_if=send_if,
            )
        )
        self.read_body(node.body, fullname, in_class=True)

    def _reason_and_help(self, doc: str | None, node: ast.AST) -> tuple[str | None, str | None]:
        """The docstring's first line (unless it is the ``help:`` line), and
        the paragraph that starts with ``help:``, without the prefix."""
        if doc is None:
            return None, None
        lines = doc.splitlines()
        first = lines[0].strip() if lines else ""
        reason = first if first and not first.startswith(_HELP) else None
        starts = [i for i, line in enumerate(lines) if line.strip().startswith(_HELP)]
        if not starts:
            return reason, None
        if len(starts) > 1:
            raise self.error(node, f'the docstring has more than one "{_HELP}" line')
        paragraph = [lines[starts[0]].strip()[len(_HELP):]]
        for line in lines[starts[0] + 1:]:
            if not line.strip():
                break
            paragraph.append(line)
        help_text = " ".join(" ".join(paragraph).split())
        if not help_text:
            raise self.error(node, f'"{_HELP}" needs text after it: what to do instead')
        return reason, help_text

    def _send_if(self, node: ast.ClassDef, thread_bound: bool) -> dict[str, object]:
        """``__send_if__ = {"check_same_thread": False}`` in the class body."""
        found: dict[str, object] | None = None
        for stmt in node.body:
            if not _assigns_send_if(stmt):
                continue
            assert isinstance(stmt, (ast.Assign, ast.AnnAssign))
            if isinstance(stmt, ast.Assign) and len(stmt.targets) != 1:
                raise self.error(stmt, f"assign {_SEND_IF} on its own")
            if found is not None:
                raise self.error(stmt, f'"{_SEND_IF}" is declared twice')
            if not thread_bound:
                raise self.error(
                    stmt,
                    f'{_SEND_IF} is allowed only on a NotSend class (it says which calls'
                    " make its value Send after all)",
                )
            found = self._send_if_value(stmt.value, stmt)
        return found if found is not None else {}

    def _send_if_value(self, value: ast.expr | None, stmt: ast.stmt) -> dict[str, object]:
        shape = (
            f"{_SEND_IF} must be a dict literal of keyword arguments to constant values,"
            ' e.g. {"check_same_thread": False}'
        )
        if not isinstance(value, ast.Dict):
            raise self.error(stmt, shape)
        if not value.keys:
            raise self.error(stmt, f"{_SEND_IF} is empty: name at least one keyword argument")
        out: dict[str, object] = {}
        for key, item in zip(value.keys, value.values):
            if key is None:
                raise self.error(item, f"{_SEND_IF}: ** is not allowed; " + shape)
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.isidentifier()):
                raise self.error(key, f"{_SEND_IF}: the key {ast.unparse(key)} is not a keyword argument name")
            if key.value in out:
                raise self.error(key, f'{_SEND_IF}: "{key.value}" is given twice')
            if not (isinstance(item, ast.Constant) and isinstance(item.value, (bool, int, str, type(None)))):
                raise self.error(
                    item,
                    f'{_SEND_IF}: the value of "{key.value}" must be a constant'
                    f" (True, False, None, a number or a string), not {ast.unparse(item)}",
                )
            out[key.value] = item.value
        return out

    def _thread_name(self, node: ast.expr) -> str | None:
        """NotSend, NotSync, unsafe_send or unsafe_sync, when ``node`` names one."""
        if isinstance(node, ast.Name):
            return self.thread_names.get(node.id)
        attr = self._marker_module_attr(node)
        return attr if attr in _THREAD_NAMES else None

    def read_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in _MARKER_MODULES:
                    if alias.asname is not None:
                        self.module_aliases[alias.asname] = alias.name
            return
        if node.level == 0 and node.module in _MARKER_MODULES:
            for alias in node.names:
                marker = _MARKER_BY_NAME.get(alias.name)
                if marker is not None:
                    self.marker_names[alias.asname or alias.name] = marker
                elif alias.name in _THREAD_NAMES:
                    self.thread_names[alias.asname or alias.name] = alias.name
                elif node.module == "fearless" and alias.name == "markers":
                    self.module_aliases[alias.asname or alias.name] = "fearless.markers"

    # -- functions --

    def _function(
        self, nodes: list[ast.FunctionDef | ast.AsyncFunctionDef], prefix: str, in_class: bool
    ) -> OverlayFunction:
        first = nodes[0]
        fullname = f"{prefix}.{first.name}"
        kinds: set[str] = set()
        overloads = 0
        params: dict[str, set[Marker]] = {}
        shapes: dict[str, str | None] = {}  # marked parameters only
        any_thread = False
        for node in nodes:
            kind, is_overload = self._decorations(node, in_class)
            any_thread = any_thread or self._declared_any_thread(node, in_class)
            kinds.add(kind)
            overloads += is_overload
            for name, markers, shape in self._params(node):
                params.setdefault(name, set()).update(markers)
                if not markers:
                    continue
                if name in shapes and shapes[name] != shape:
                    raise self.error(
                        node,
                        f'the overloads of "{first.name}" disagree on the type of "{name}"'
                        f" ({shapes[name] or 'no head name'} and {shape or 'no head name'})",
                    )
                shapes[name] = shape
            if node.returns is not None:
                self.check_markers_anywhere(node.returns)
        if len(nodes) > 1 and overloads != len(nodes):
            raise self.error(
                nodes[1],
                f'"{first.name}" is declared twice; mark every variant @overload'
                " (their markers are then merged per parameter name)",
            )
        if len(kinds) > 1:
            raise self.error(
                nodes[1], f'the overloads of "{first.name}" disagree on staticmethod/classmethod'
            )
        kind = kinds.pop()
        if kind == PROPERTY and len(nodes) > 1:
            raise self.error(nodes[1], f'property "{first.name}" is declared twice')
        if kind != FUNCTION and kind != STATICMETHOD and not params:
            raise self.error(first, f'"{first.name}" needs a first parameter (self or cls)')
        return OverlayFunction(
            fullname=fullname,
            params=tuple((name, frozenset(markers)) for name, markers in params.items()),
            kind=kind,
            line=first.lineno,
            path=self.path,
            shapes={n: shape for n, shape in shapes.items() if shape is not None},
            any_thread=any_thread,
        )

    def _decorations(self, node: ast.FunctionDef | ast.AsyncFunctionDef, in_class: bool) -> tuple[str, bool]:
        kind = METHOD if in_class else FUNCTION
        if in_class and node.name in _IMPLICIT_CLASS_FIRST:
            kind = STATICMETHOD if node.name == "__new__" else CLASSMETHOD
        is_overload = False
        for decorator in node.decorator_list:
            if self._thread_name(decorator) == _UNSAFE_SYNC:
                continue  # ``_declared_any_thread``
            name = self._decorator_name(decorator)
            what = _DECORATORS.get(name) if name is not None else None
            if what is None:
                raise self.error(
                    decorator,
                    f"unknown decorator @{ast.unparse(decorator)} (an overlay allows"
                    " @overload, @staticmethod, @classmethod, @property, @abstractmethod,"
                    " and @unsafe_sync on a method)",
                )
            if what == "overload":
                is_overload = True
            elif what == "abstractmethod":
                pass
            elif not in_class:
                raise self.error(decorator, f"@{name} outside a class")
            else:
                kind = what
        return kind, is_overload

    def _declared_any_thread(self, node: ast.FunctionDef | ast.AsyncFunctionDef, in_class: bool) -> bool:
        """``@unsafe_sync`` on a method: callable from any thread, on an
        object that is otherwise not (a thread-bound class's method that
        reads one flag).  Not on a function, and given once."""
        said = [d for d in node.decorator_list if self._thread_name(d) == _UNSAFE_SYNC]
        if not said:
            return False
        if not in_class:
            raise self.error(said[0], "@unsafe_sync on a function (it is said of a class, or of a method)")
        if len(said) > 1:
            raise self.error(said[1], "@unsafe_sync is given twice")
        return True

    def _decorator_name(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return node.id
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in _DECORATOR_MODULES
        ):
            return node.attr
        return None

    def _params(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> Iterable[tuple[str, frozenset[Marker], str | None]]:
        args = node.args
        every = [*args.posonlyargs, *args.args]
        if args.vararg is not None:
            every.append(args.vararg)
        every += args.kwonlyargs
        if args.kwarg is not None:
            every.append(args.kwarg)
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self.check_markers_anywhere(default, is_type=False)
        for arg in every:
            yield arg.arg, *self._param(arg.annotation)

    # -- annotations --

    def _as_expr(self, node: ast.expr) -> ast.expr:
        """A string annotation, parsed; anything else as it is."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                parsed = ast.parse(node.value.strip(), mode="eval").body
            except SyntaxError as e:
                raise self.error(node, f"syntax error in the annotation {node.value!r}: {e.msg}") from None
            return ast.increment_lineno(parsed, node.lineno - 1)
        return node

    def _marker_ref(self, node: ast.expr) -> Marker | None:
        """The marker a name or dotted name refers to, if any."""
        if isinstance(node, ast.Name):
            return self.marker_names.get(node.id)
        attr = self._marker_module_attr(node)
        return None if attr is None else _MARKER_BY_NAME.get(attr)

    def _marker_module_attr(self, node: ast.expr) -> str | None:
        """``x`` for ``fearless.x``, ``fearless.markers.x`` or an alias of
        either module (``f.x``); None for anything else."""
        if not isinstance(node, ast.Attribute):
            return None
        dotted = _dotted(node.value)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        module = self.module_aliases.get(head)
        if module is None:
            return None
        if rest:
            module = f"{module}.{rest}"
        return node.attr if module in _MARKER_MODULES else None

    def _marker_args(self, node: ast.expr) -> tuple[Marker, list[ast.expr]] | None:
        if isinstance(node, ast.Subscript):
            marker = self._marker_ref(node.value)
            if marker is None:
                return None
            index = node.slice
            args = list(index.elts) if isinstance(index, ast.Tuple) else [index]
            return marker, args
        marker = self._marker_ref(node)
        if marker is None:
            return None
        return marker, []

    def param_markers(self, annotation: ast.expr | None) -> frozenset[Marker]:
        """The markers wrapped around a parameter's annotation:
        ``Owned[Send[T]]`` -> {OWNED, SEND}."""
        return self._param(annotation)[0]

    def _param(self, annotation: ast.expr | None) -> tuple[frozenset[Marker], str | None]:
        """The markers wrapped around a parameter's annotation, and the head
        name of the type inside them: ``Owned[Send[Callable[..., T]]]`` ->
        ({OWNED, SEND}, "Callable"); no markers, no head name."""
        found: set[Marker] = set()
        node = annotation
        while node is not None:
            node = self._as_expr(node)
            hit = self._marker_args(node)
            if hit is None:
                break
            marker, args = hit
            self._check_arity(node, marker, args)
            found.add(marker)
            node = args[0]
        if node is not None:
            inner = self._find_marker(node)
            if inner is not None:
                hit = self._marker_args(inner)
                assert hit is not None
                self._check_arity(inner, *hit)
                raise self.error(
                    inner,
                    f"{ast.unparse(inner)}: a marker must wrap a parameter's whole"
                    " annotation (a marker nested in another type means nothing here)",
                )
        shape = _head_name(node) if found and node is not None else None
        return frozenset(found), shape

    def _check_arity(self, node: ast.expr, marker: Marker, args: list[ast.expr]) -> None:
        if len(args) != 1:
            raise self.error(
                node, f"{marker.value} takes exactly one type argument, got {len(args)}"
            )

    def _find_marker(self, node: ast.expr) -> ast.expr | None:
        """The first marker written anywhere inside ``node``."""
        node = self._as_expr(node)
        if self._marker_args(node) is not None:
            return node
        if isinstance(node, ast.Attribute):
            return None  # a dotted name that is not a marker
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                found = self._find_marker(child)
                if found is not None:
                    return found
        return None

    def check_markers_anywhere(self, node: ast.expr, *, is_type: bool = True) -> None:
        """Markers where they carry no meaning (return types, bases, defaults)
        are allowed but must still be well formed.  A string is read as a
        type only where one is expected (``is_type``): a default's string is
        a value (``thread_name_prefix=""``)."""
        if is_type:
            node = self._as_expr(node)
        hit = self._marker_args(node)
        if hit is not None:
            self._check_arity(node, *hit)
            for arg in hit[1]:
                self.check_markers_anywhere(arg)
            return
        if isinstance(node, ast.Attribute):
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.check_markers_anywhere(child, is_type=is_type)


def _head_name(node: ast.expr) -> str | None:
    """``Callable`` for ``Callable``, ``typing.Callable`` and
    ``Callable[..., T]``; None for a union, a constant, ..."""
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and _dotted(node) is not None:
        return node.attr
    return None


def _assigns_send_if(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == _SEND_IF for t in stmt.targets)
    if isinstance(stmt, ast.AnnAssign):
        return isinstance(stmt.target, ast.Name) and stmt.target.id == _SEND_IF
    return False


def _says(said: set[str]) -> str:
    order = [name for name in (_NOT_SEND, _NOT_SYNC) if name in said]
    order += [f"@{name}" for name in (_UNSAFE_SEND, _UNSAFE_SYNC) if name in said]
    return " and ".join(order)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None
