"""Access kinds under Python's own rules: what one side's code does to a
value another thread may use (docs/thread-safety.md, "Two modes", what is
atomic).

Single operations are atomic in CPython, with the GIL and free-threaded
(where each builtin container locks itself per operation): an attribute or
item load or store, one method of a builtin container, ``len``, ``in``, a
truth test, a copy.  An access is *compound* when another thread's write
can come between its steps and spoil it:

- read-modify-write: ``x[k] += 1``, ``obj.n = obj.n + 1``;
- iteration: ``for a in x``, a comprehension over it, ``sum(x)``;
- check-then-act: a test of the value whose branch writes it;
- writes to two or more parts of it (an invariant seen half-done);
- code without source that is not a known-atomic builtin (a library
  method, a function whose body the analysis cannot see).

A call into code with source (a method of the value, a function it is
handed to; an overloaded one's implementation) is what that code does to
it.  A method called on a part that synchronises itself (``Sync``: a lock,
an ``Event``, the event loop, a class that locks itself) only reads the
value: that part orders its own changes.  What is handed back to an event
loop's thread (``loop.call_soon_threadsafe(cb, v)``) is not touched by the
code that hands it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from mypy.nodes import (
    ARG_POS,
    FUNC_NO_INFO,
    AssignmentStmt,
    CallExpr,
    DelStmt,
    DictExpr,
    DictionaryComprehension,
    EllipsisExpr,
    Expression,
    ExpressionStmt,
    ForStmt,
    FuncItem,
    GeneratorExpr,
    IfStmt,
    IndexExpr,
    ListExpr,
    MemberExpr,
    NameExpr,
    Node,
    OperatorAssignmentStmt,
    RefExpr,
    StrExpr,
    TupleExpr,
    Var,
    WhileStmt,
)
from mypy.types import AnyType, Instance, get_proper_type

from mypy_ownership.analysis.copyable import is_copy
from mypy_ownership.analysis.paths import ITEM, type_at
from mypy_ownership.analysis.syntax import code_of, expression_children, statement_children
from mypy_ownership.model.crossings import calls_into_loop
from mypy_ownership.model.mutation import MutationOracle


class Access(NamedTuple):
    writes: bool
    compound: bool  # steps another thread's write can come between


READ = Access(False, False)
WRITE = Access(True, False)
SCAN = Access(False, True)  # iteration, a check acted on
UPDATE = Access(True, True)  # read-modify-write, two writes, code without source


def races(a: Access, b: Access) -> bool:
    """Can two sides' accesses interleave badly: one writes while the
    other's access is compound?"""
    return (a.writes and b.compound) or (b.writes and a.compound)


def _max(a: Access, b: Access) -> Access:
    return Access(a.writes or b.writes, a.compound or b.compound)


# Methods of builtin containers that are one operation (one lock of the
# object in free-threaded CPython): the ones that write, and the ones that
# read.  Other mutating methods (``sort`` calls back into Python code) are
# compound.
ATOMIC_WRITERS = frozenset(
    {
        "append", "appendleft", "pop", "popleft", "popitem", "extend", "extendleft", "insert",
        "remove", "clear", "add", "discard", "setdefault", "update", "rotate", "put", "put_nowait",
        "__setitem__", "__delitem__",
    }
)
ATOMIC_READERS = frozenset(
    {
        "get", "copy", "count", "index", "keys", "values", "items", "__len__", "__contains__",
        "__getitem__", "qsize", "empty", "full", "is_set",
    }
)
# Builtins that step through an iterable, running between the steps (the
# copies ``list(x)``, ``dict(x)``, ``sorted(x)``, ``len``, ``repr`` are one
# operation of the container).
ITERATING = frozenset(
    {
        "builtins.iter", "builtins.next", "builtins.enumerate", "builtins.zip", "builtins.map",
        "builtins.filter", "builtins.reversed", "builtins.sum", "builtins.min", "builtins.max",
        "builtins.any", "builtins.all",
    }
)
# Views an iteration goes through: ``for k, v in d.items()`` iterates ``d``.
_VIEWS = frozenset({"items", "keys", "values", "__iter__"})
# Where the classes live whose methods the tables above name.
_NAMED_MODULES = frozenset({"builtins", "collections", "array", "queue"})
# How deep calls into code with source are followed.
_MAX_DEPTH = 4

Path = tuple[str, ...]


class _Summary:
    """What a piece of code does to the value: each use's access, and the
    parts written."""

    def __init__(self) -> None:
        self.uses: dict[int, Access] = {}
        self.access = READ
        self.paths: set[Path] = set()

    def add(self, name: NameExpr | None, access: Access, path: Path = ()) -> None:
        if name is not None:
            self.uses[id(name)] = _max(self.uses.get(id(name), READ), access)
        self.access = _max(self.access, access)
        if access.writes:
            self.paths.add(path)

    def merge(self, other: _Summary, *, compound: bool = False) -> None:
        for key, access in other.uses.items():
            self.uses[key] = _max(self.uses.get(key, READ), access)
        self.access = _max(self.access, other.access)
        self.paths |= other.paths
        if compound:
            self.access = _max(self.access, SCAN)

    def total(self) -> Access:
        return _max(self.access, SCAN) if len(self.paths) > 1 else self.access


class AccessReader:
    """Reads what code does to one value (``var``), following calls into
    code with source."""

    def __init__(
        self,
        oracle: MutationOracle,
        only_reads: Callable[[str], bool],
        synchronised: Callable[[Instance], bool] = lambda typ: False,
    ) -> None:
        self._oracle = oracle
        self._only_reads = only_reads
        # is a value of this type made to be used by several threads at
        # once (``Sync``: a lock, the event loop, a class that locks itself)?
        self._synchronised = synchronised
        self._active: set[tuple[int, int]] = set()

    def in_function(self, func: FuncItem, var: Var, *, rebinding: bool, depth: int = 0) -> Access:
        """What the body of ``func`` does to ``var``'s value (with
        ``rebinding``, a store to the variable itself writes: a closure's
        ``nonlocal``)."""
        if not func.body.body or _placeholder(func):
            # no source (a function from mypy's cache, a library's), or a
            # body that stands for code not written here (`...`)
            return UPDATE
        key = (id(func), id(var))
        if key in self._active or depth > _MAX_DEPTH:
            return READ if key in self._active else UPDATE
        self._active.add(key)
        try:
            return self.summary(func.body.body, var, rebinding=rebinding, depth=depth).total()
        finally:
            self._active.discard(key)

    def summary(self, nodes: Iterable[Node], var: Var, *, rebinding: bool, depth: int = 0) -> _Summary:
        walk = _Walk(self, var, rebinding, depth)
        out = _Summary()
        for node in nodes:
            walk.node(node, out)
        return out

    def use(self, name: NameExpr, parents: list[Expression], depth: int = 0) -> tuple[Access, Path]:
        """One reference's access, from the expressions around it (innermost
        last)."""
        inner: Expression = name
        path: list[str] = []
        for parent in reversed(parents):
            if isinstance(parent, CallExpr):
                if parent.callee is inner:
                    if isinstance(inner, MemberExpr):
                        return self._method(name, tuple(path[:-1]), inner.name, depth), tuple(path[:-1])
                    return UPDATE, tuple(path)  # the value called: its code is unknown
                return self._argument(parent, inner, name, path, depth), tuple(path)
            if isinstance(parent, MemberExpr) and parent.expr is inner:
                inner = parent
                path.append(parent.name)
                continue
            if isinstance(parent, IndexExpr) and parent.base is inner:
                inner = parent
                path.append(ITEM)
                continue
            if isinstance(parent, (TupleExpr, ListExpr, DictExpr)):
                inner = parent  # packed into an argument: `Thread(args=(v,))`
                continue
            return READ, tuple(path)
        return READ, tuple(path)

    def _method(self, name: NameExpr, path: Path, method: str, depth: int) -> Access:
        root = name.node.type if isinstance(name.node, Var) else None
        typ = get_proper_type(type_at(root, path))
        if not isinstance(typ, Instance):
            # an unknown receiver: the builtin containers' names are taken at their word
            return WRITE if method in ATOMIC_WRITERS else READ if method in ATOMIC_READERS else UPDATE
        if path and typ.type.module_name not in _NAMED_MODULES and self._synchronised(typ):
            # a part made to be shared (a lock, an Event, the event loop, a
            # class that locks itself) orders its own changes, and the
            # value holding it still holds the same part
            return READ
        for base in typ.type.mro:
            sym = base.names.get(method)
            if sym is None or sym.node is None:
                continue
            if isinstance(sym.node, Var) and not sym.node.is_property:
                return READ  # a callable stored in an attribute: it is not given the value
            func = code_of(sym.node)
            if func is not None and func.body.body and not _placeholder(func) and func.arguments:
                return self.in_function(func, func.arguments[0].variable, rebinding=False, depth=depth + 1)
            break
        mutates = self._oracle.may_mutate(typ, method)
        if typ.type.module_name in _NAMED_MODULES:
            atomic = method in (ATOMIC_WRITERS if mutates else ATOMIC_READERS)
            return Access(mutates, not atomic)
        return UPDATE if mutates else READ

    def _argument(self, call: CallExpr, inner: Expression, name: NameExpr, path: list[str], depth: int) -> Access:
        callee = call.callee
        fullname = callee.fullname if isinstance(callee, RefExpr) else ""
        if fullname == "builtins.next":
            return UPDATE  # runs the iterator's code and moves it on
        if fullname in ITERATING:
            return SCAN
        if fullname.startswith("builtins."):
            return READ
        if calls_into_loop(call):
            return READ  # handed back to its event loop's thread: not touched by this one
        if path and not _part_may_be_mutated(name, path):
            return READ
        if fullname and self._only_reads(fullname):
            return READ
        if isinstance(callee, MemberExpr) and self._only_reads_method(callee):
            return READ
        if fullname == "functools.partial" and call.args and call.args[0] is not inner:
            # partial(f, ..., v): what f does with v, when it runs
            param = _parameter(call, inner, callee=call.args[0], skip=1)
        else:
            param = _parameter(call, inner)
        if param is not None:
            return self.in_function(param[0], param[1], rebinding=False, depth=depth + 1)
        return UPDATE

    def _only_reads_method(self, callee: MemberExpr) -> bool:
        receiver = callee.expr
        typ = receiver.node.type if isinstance(receiver, NameExpr) and isinstance(receiver.node, Var) else None
        t = get_proper_type(typ)
        if not isinstance(t, Instance):
            return False
        return any(self._only_reads(f"{base.fullname}.{callee.name}") for base in t.type.mro)


class _Walk:
    """One walk of some statements for one value."""

    def __init__(self, reader: AccessReader, var: Var, rebinding: bool, depth: int) -> None:
        self.reader = reader
        self.var = var
        self.rebinding = rebinding
        self.depth = depth
        self.done: set[int] = set()  # references classified by their statement

    def node(self, node: Node, out: _Summary) -> None:
        if isinstance(node, (IfStmt, WhileStmt)):
            conds = node.expr if isinstance(node, IfStmt) else [node.expr]
            branches = [*node.body] if isinstance(node, IfStmt) else [node.body]
            test, acts = _Summary(), _Summary()
            for cond in conds:
                self.node(cond, test)
            for block in [*branches, *([node.else_body] if node.else_body else [])]:
                self.node(block, acts)
            # check-then-act: the test's answer may be stale when the branch writes
            acted = bool(test.uses) and acts.access.writes
            if acted:
                test.uses = {k: _max(a, SCAN) for k, a in test.uses.items()}
                acts.uses = {k: _max(a, SCAN) if a.writes else a for k, a in acts.uses.items()}
            out.merge(test, compound=acted)
            out.merge(acts)
            return
        if isinstance(node, ForStmt):
            self._iterated(node.expr, out)
            self._target(node.index, out, rmw=False)
        elif isinstance(node, AssignmentStmt):
            rhs = _Summary()
            self.node(node.rvalue, rhs)
            for t in node.lvalues:
                self._target(t, out, rmw=bool(rhs.uses))
            out.merge(rhs)
            return
        elif isinstance(node, OperatorAssignmentStmt):
            self._target(node.lvalue, out, rmw=True, rebinds=True)  # `rows += more` extends in place
        elif isinstance(node, DelStmt):
            for t in node.expr.items if isinstance(node.expr, TupleExpr) else [node.expr]:
                self._target(t, out, rmw=False)
        if isinstance(node, Expression):
            self._expression(node, out)
            return
        for child in statement_children(node):
            self.node(child, out)

    def _expression(self, e: Expression, out: _Summary) -> None:
        stack: list[tuple[Expression, list[Expression]]] = [(e, [])]
        while stack:
            x, parents = stack.pop()
            if isinstance(x, NameExpr) and x.node is self.var:
                if id(x) not in self.done:
                    access, path = self.reader.use(x, parents, self.depth)
                    out.add(x, access, path)
                continue
            if isinstance(x, (GeneratorExpr, DictionaryComprehension)):
                for seq in x.sequences:
                    self._iterated(seq, out)
            stack.extend((child, [*parents, x]) for child in expression_children(x))

    def _iterated(self, e: Expression, out: _Summary) -> None:
        """An iteration over ``e``: over the value, when ``e`` is a part of it."""
        if isinstance(e, CallExpr) and isinstance(e.callee, MemberExpr) and e.callee.name in _VIEWS:
            e = e.callee.expr
        root = _root(e)
        if root is not None and root[0].node is self.var:
            out.add(root[0], SCAN)
            self.done.add(id(root[0]))

    def _target(self, t: Expression, out: _Summary, *, rmw: bool, rebinds: bool = False) -> None:
        if isinstance(t, (TupleExpr, ListExpr)):
            for item in t.items:
                self._target(item, out, rmw=rmw, rebinds=rebinds)
            return
        root = _root(t)
        if root is None or root[0].node is not self.var:
            return
        name, path = root
        if not path and not (self.rebinding or rebinds):
            return  # a new value for the name: not the one handed over
        if path and path[-1] == ITEM:
            path = path[:-1]  # an item store writes the container
        out.add(name, UPDATE if rmw else WRITE, path)
        self.done.add(id(name))


def _placeholder(func: FuncItem) -> bool:
    """Is the body only ``...`` (after a docstring): code not written here?"""
    body = func.body.body
    if len(body) > 1 and isinstance(body[0], ExpressionStmt) and isinstance(body[0].expr, StrExpr):
        body = body[1:]
    return len(body) == 1 and isinstance(body[0], ExpressionStmt) and isinstance(body[0].expr, EllipsisExpr)


def _root(e: Expression) -> tuple[NameExpr, Path] | None:
    path: list[str] = []
    while isinstance(e, (IndexExpr, MemberExpr)):
        path.append(ITEM if isinstance(e, IndexExpr) else e.name)
        e = e.base if isinstance(e, IndexExpr) else e.expr
    return (e, tuple(reversed(path))) if isinstance(e, NameExpr) else None


def _part_may_be_mutated(name: NameExpr, path: list[str]) -> bool:
    """Is the part of ``name``'s value at ``path`` of a known type that is
    not immutable (a list attribute, an item of a list of lists)?"""
    root = name.node.type if isinstance(name.node, Var) else None
    part = get_proper_type(type_at(root, tuple(path)))
    return part is not None and not isinstance(part, AnyType) and not is_copy(part)


def _parameter(
    call: CallExpr, arg: Expression, *, callee: Expression | None = None, skip: int = 0
) -> tuple[FuncItem, Var] | None:
    """The function with source a call runs (``callee``, by default the
    call's, with the call's first ``skip`` arguments not its own), and the
    parameter ``arg`` becomes (positional or by keyword; none through
    ``*args``)."""
    callee = call.callee if callee is None else callee
    func = code_of(callee.node) if isinstance(callee, RefExpr) else None
    if func is None or not func.body.body:
        return None
    offset = 1 if isinstance(callee, MemberExpr) and func.info is not FUNC_NO_INFO and not func.is_static else 0
    offset -= skip
    for i, (actual, kind, name) in enumerate(zip(call.args, call.arg_kinds, call.arg_names)):
        if actual is not arg:
            continue
        if kind == ARG_POS and 0 <= i + offset < len(func.arguments):
            return func, func.arguments[i + offset].variable
        found = [a.variable for a in func.arguments if name is not None and a.variable.name == name]
        return (func, found[0]) if found else None
    return None
