"""Facts about each user class's methods, gathered when mypy analyses the
class: which methods write to ``self`` and which other methods they call.

mypy frees function bodies once a module is checked and never loads them
from its cache, so what the mutation inference needs from a method body is
written into ``TypeInfo.metadata`` here (kept in the cache) and resolved
later, with types, by ``mutation``.  The facts are syntactic:

- ``writes``: the method assigns, deletes or augments an attribute of
  ``self`` or an item or attribute below one (``self.x = ...``,
  ``del self.items[k]``, ``self.count += 1``);
- ``self_calls``: methods it calls on ``self``;
- ``attr_calls``: ``[path, method]`` for calls on something reached from
  ``self`` (``self.items.append(...)`` is ``[["items"], "append"]``);
- ``accesses``: in a class made for threads (``made_for_threads``), each
  access to an attribute of ``self`` and the locks held there (see
  ``guarded``).

and about the class itself, for the thread-safety derivation:

- ``unsafe_send`` / ``unsafe_sync``: the class is decorated so (trusted);
- ``made_for_threads``: the class takes a lock of its own, assigns an
  attribute a value made for threads or derives from such a class: it has
  the ``accesses`` facts;
- ``conditions``: the attributes set to a ``Condition`` built on another
  attribute, and that one (see ``guarded``);
- ``made_with``: for an attribute every assignment of which in the class's
  methods is a call, the constant keyword arguments all those calls pass
  (``self.conn = sqlite3.connect(path, check_same_thread=False)``); a call
  on another attribute passes that one's too (``self.cur =
  self.conn.cursor()``).

An overloaded method's facts are its implementation's.  A class has these
facts exactly when mypy analysed its source (not a stub).
Only what differs from the default is written (a method that neither writes
nor calls on ``self`` has no entry; an empty ``made_with`` is left out).
"""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import Any

from mypy.nodes import (
    AssignmentStmt,
    Block,
    CallExpr,
    ClassDef,
    Decorator,
    DelStmt,
    Expression,
    ForStmt,
    FuncDef,
    IfStmt,
    IndexExpr,
    ListExpr,
    MatchStmt,
    MemberExpr,
    NameExpr,
    Node,
    OperatorAssignmentStmt,
    OverloadedFuncDef,
    ReturnStmt,
    StarExpr,
    TryStmt,
    TupleExpr,
    WhileStmt,
    WithStmt,
)
from mypy.plugin import ClassDefContext
from mypy.types import CallableType, UnboundType

from mypy_ownership.analysis.checkpoint import add_checkpoint
from mypy_ownership.analysis.class_memo import BodyExpressions, BodyMemo
from mypy_ownership.analysis.made_with import agree, constant_keywords, is_none_literal, maker_of
from mypy_ownership.markers import Marker
from mypy_ownership.model.guarded import ACCESSES, CONDITIONS, SYNCHRONISED, made_for_threads, method_accesses
from mypy_ownership.model.runtime import OPT_IN_DECORATORS

from mypy_ownership.analysis.paths import place_of
from mypy_ownership.analysis.syntax import overload_implementation

METADATA_KEY = "mypy_ownership"


class ClassFactsRecorder:
    """Records the facts of each class mypy analyses (the class hook).  What
    the bodies say is walked once per module analysed (``BodyMemo``); the
    names in signatures are looked up on every pass."""

    __slots__ = ("_kept", "_watched")

    def __init__(self, watched: Container[str] = frozenset()) -> None:
        self._kept = BodyMemo()
        # the keywords an overlay's ``__send_if__`` names: an expression
        # passed to one of them is recorded too (``NOT_CONSTANT``)
        self._watched = watched

    def record(self, ctx: ClassDefContext, expressions: BodyExpressions) -> None:
        if getattr(ctx.api, "is_stub_file", False):
            return  # stubs have no bodies to learn from (overlays speak for them)
        funcs = [
            func
            for func in map(_method, _class_level(ctx.cls.defs.body))
            if func is not None and not func.is_static and not func.is_class and func.arguments
        ]
        bodies, made_with, conditions, synchronised = self._bodies_facts(ctx, funcs, expressions)
        methods: dict[str, dict[str, Any]] = {}
        for func, facts in zip(funcs, bodies):
            # Names resolve only as the analysis goes on: looked up every pass.
            declared = _take_self_marker(ctx, func)
            recorded = {**facts, "declared": declared} if declared is not None else facts
            if recorded:
                methods[func.name] = recorded
        # Only what differs from the defaults is kept: the metadata goes into
        # every cache file, and most methods neither write nor call on self.
        recorded_class: dict[str, Any] = {opt_in: True for opt_in in _opt_ins(ctx)}
        if synchronised:
            recorded_class[SYNCHRONISED] = True
        if methods:
            recorded_class["methods"] = methods
        if made_with:
            recorded_class["made_with"] = made_with
        if conditions:
            recorded_class[CONDITIONS] = conditions
        ctx.cls.info.metadata[METADATA_KEY] = recorded_class

    def _bodies_facts(
        self, ctx: ClassDefContext, funcs: list[FuncDef], expressions: BodyExpressions
    ) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, str], bool]:
        module = getattr(ctx.api, "cur_mod_id", None)
        bodies_walked = [func.body for func in funcs]
        kept: Any = self._kept.get(module, ctx.cls, bodies_walked)
        if kept is not None:
            return kept  # type: ignore[no-any-return]
        made: _Assignments = {}
        walked = [_method_facts(func, expressions.of(func.body), made, self._watched) for func in funcs]
        bodies = [facts for facts, _ in walked]
        conditions: dict[str, str] = {}
        synchronised = any(made_for_threads for _, made_for_threads in walked) or any(
            class_traits(b).get(SYNCHRONISED) for base in ctx.cls.info.bases for b in base.type.mro
        )
        if synchronised:
            for func, facts in zip(funcs, bodies):
                accesses = method_accesses(func, func.arguments[0].variable.name, conditions)
                if accesses:
                    facts[ACCESSES] = accesses
        helpers = {helper for assigned in made.values() for _, _, helper in assigned if helper is not None}
        returned = {func.name: _returned_keywords(func, self._watched) for func in funcs if func.name in helpers}
        resolved = {name: _agreed_keywords(name, made, returned, frozenset()) for name in made}
        kept_made_with = {name: kw for name, kw in resolved.items() if kw}
        found = (bodies, kept_made_with, conditions, synchronised)
        self._kept.keep(module, ctx.cls, bodies_walked, found)
        return found


def class_traits(info: Any) -> dict[str, Any]:
    """The facts recorded about a class with source; empty for a stub's."""
    data: dict[str, Any] = info.metadata.get(METADATA_KEY) or {}
    return data


def is_source_class(info: Any) -> bool:
    return METADATA_KEY in info.metadata


def _opt_ins(ctx: ClassDefContext) -> list[str]:
    """``@unsafe_send`` / ``@unsafe_sync`` on the class (resolved by name:
    the decorators are not analysed yet when the MRO hook runs)."""
    found = []
    for decorator in ctx.cls.decorators:
        dotted = _dotted(decorator)
        if dotted is None:
            continue
        sym = ctx.api.lookup_qualified(dotted, decorator, suppress_errors=True)
        if sym is not None and sym.fullname in OPT_IN_DECORATORS:
            found.append(OPT_IN_DECORATORS[sym.fullname])
    return found


def _dotted(e: Expression) -> str | None:
    if isinstance(e, NameExpr):
        return e.name
    if isinstance(e, MemberExpr):
        head = _dotted(e.expr)
        return None if head is None else f"{head}.{e.name}"
    return None


def _take_self_marker(ctx: ClassDefContext, func: FuncDef) -> str | None:
    """Takes a borrow marker off ``self``'s annotation, and says what it was:
    ``self: Borrowed[Self]`` / ``self: MutBorrowed[Self]`` /
    ``self: Owned[Self]``: "shared", "exclusive" or "owned", else None.

    This changes the method: mypy rejects an explicit ``self`` annotation
    next to ``Self`` unless it is ``Self`` itself, so the marker is taken off
    the signature here, before mypy looks, and kept in the class's facts;
    the method gets its checkpoint (see ``analysis.checkpoint``) here too.
    """
    sig = func.type
    if not isinstance(sig, CallableType) or not sig.arg_types:
        return None
    annotation = sig.arg_types[0]
    if not isinstance(annotation, UnboundType) or len(annotation.args) != 1:
        return None
    sym = ctx.api.lookup_qualified(annotation.name, annotation, suppress_errors=True)
    if sym is None or sym.fullname not in _SELF_MARKERS:
        return None
    inner = annotation.args[0]
    declared = _SELF_MARKERS[sym.fullname]
    if isinstance(inner, UnboundType):
        inner_sym = ctx.api.lookup_qualified(inner.name, inner, suppress_errors=True)
        if inner_sym is not None and inner_sym.fullname in _SELF_NAMES:
            sig.arg_types[0] = inner
            if declared != "owned":  # a consumed receiver is no borrow
                add_checkpoint(ctx.api, func)
    return declared


_SELF_MARKERS = {
    Marker.BORROWED.fullname: "shared",
    Marker.MUT_BORROWED.fullname: "exclusive",
    Marker.OWNED.fullname: "owned",  # the method consumes its receiver (moves.md)
}
_SELF_NAMES = frozenset({"typing.Self", "typing_extensions.Self"})


def method_facts(info: Any, name: str) -> dict[str, Any] | None:
    data = info.metadata.get(METADATA_KEY)
    if not data:
        return None
    facts: dict[str, Any] | None = data.get("methods", {}).get(name)
    return facts


def _class_level(body: list[Any]) -> list[Any]:
    """Statements of a class body, looking into ``if`` blocks (version checks)."""
    out = []
    for stmt in body:
        if isinstance(stmt, IfStmt):
            for block in [*stmt.body, stmt.else_body]:
                if isinstance(block, Block):
                    out += _class_level(block.body)
        else:
            out.append(stmt)
    return out


def _method(stmt: Node) -> FuncDef | None:
    if isinstance(stmt, FuncDef):
        return stmt
    if isinstance(stmt, Decorator):
        return stmt.func
    if isinstance(stmt, OverloadedFuncDef):
        # the code its calls run (the class hook runs before semantic
        # analysis has set ``impl`` apart from the ``@overload`` variants)
        impl = overload_implementation(stmt)
        return impl if isinstance(impl, FuncDef) else None
    return None


# The statements inside a statement that holds statements (every other kind
# holds only expressions), by its exact type (mypy's node classes are final).
_INNER_STATEMENTS: dict[type, Callable[[Any], list[Node]]] = {
    IfStmt: lambda s: [*s.body, *([s.else_body] if s.else_body else [])],
    WhileStmt: lambda s: [s.body, *([s.else_body] if s.else_body else [])],
    ForStmt: lambda s: [s.body, *([s.else_body] if s.else_body else [])],
    WithStmt: lambda s: [s.body],
    TryStmt: lambda s: [s.body, *s.handlers, *(b for b in (s.else_body, s.finally_body) if b)],
    MatchStmt: lambda s: list(s.bodies),
    Decorator: lambda s: [s.func],
    FuncDef: lambda s: [s.body],
    OverloadedFuncDef: lambda s: list(s.items),
    ClassDef: lambda s: [s.defs],
}


def _method_facts(
    func: FuncDef, found: list[Expression], made_with: _Assignments, watched: Container[str]
) -> tuple[dict[str, Any], bool]:
    """Every class of every checked module comes through here: its
    statements are walked in Python (they are few), its expressions are
    listed by mypy's compiled traverser (most nodes are expressions).  Also
    whether the method makes its class one made for threads: it takes a
    lock of ``self``'s (``with self.x:``, ``self.x.acquire()``) or assigns
    an attribute a value made for threads (``self.q = queue.Queue()``);
    only such classes get the lock facts (``guarded``), found in the same
    walk."""
    self_name = func.arguments[0].variable.name
    writes = False
    for_threads = False
    stack: list[Node] = [func.body]
    while stack:
        node = stack.pop()
        kind = type(node)  # mypy's node classes are final
        if kind is Block:
            stack.extend(node.body)  # type: ignore[attr-defined]
        elif kind is AssignmentStmt:
            for target in node.lvalues:  # type: ignore[attr-defined]
                if type(target) is NameExpr:
                    continue  # a local: most assignments
                if not writes and _writes_below_self(target, self_name):
                    writes = True
                if type(target) is MemberExpr and _reached_from(target.expr, self_name):
                    if type(target.expr) is NameExpr:  # ``self.x = ...`` itself
                        _record_made_with(target.name, node.rvalue, self_name, made_with, watched)  # type: ignore[attr-defined]
                        for_threads = for_threads or made_for_threads(node.rvalue)  # type: ignore[attr-defined]
        elif kind is OperatorAssignmentStmt:
            writes = writes or _writes_below_self(node.lvalue, self_name)  # type: ignore[attr-defined]
        elif kind is DelStmt:
            writes = writes or _writes_below_self(node.expr, self_name)  # type: ignore[attr-defined]
        else:
            if kind is WithStmt and not for_threads:
                for_threads = any(_is_self_attribute(e, self_name) for e in node.expr)  # type: ignore[attr-defined]
            inner = _INNER_STATEMENTS.get(kind)
            if inner is not None:
                stack.extend(inner(node))
    self_calls: set[str] = set()
    attr_calls: list[list[Any]] = []
    for e in found:
        if type(e) is not CallExpr or type(e.callee) is not MemberExpr:
            continue
        callee = e.callee
        if not _reached_from(callee.expr, self_name):
            continue
        place = place_of(callee.expr, resolved=False)
        if place is None:
            continue
        if place.path:
            attr_calls.append([list(place.path), callee.name])
            if callee.name == "acquire" and _is_self_attribute(callee.expr, self_name):
                for_threads = True
        else:
            self_calls.add(callee.name)
    facts: dict[str, Any] = {}
    if writes:
        facts["writes"] = True
    if self_calls:
        facts["self_calls"] = sorted(self_calls)
    if attr_calls:
        facts["attr_calls"] = attr_calls
    return facts, for_threads


def _is_self_attribute(e: Expression, self_name: str) -> bool:
    """``self.x`` itself."""
    return type(e) is MemberExpr and type(e.expr) is NameExpr and e.expr.name == self_name


def _writes_below_self(target: Expression, self_name: str) -> bool:
    if isinstance(target, (TupleExpr, ListExpr)):
        return any(_writes_below_self(t, self_name) for t in target.items)
    if isinstance(target, StarExpr):
        return _writes_below_self(target.expr, self_name)
    return type(target) is not NameExpr and _reached_from(target, self_name)


def _reached_from(e: Expression, name: str) -> bool:
    """Is ``e`` the name ``name``, or reached from it through attributes and
    items?  (``place_of`` without building the place: asked of every
    assignment target and every method call of every class.)"""
    while True:
        kind = type(e)
        if kind is MemberExpr:
            e = e.expr  # type: ignore[attr-defined]
        elif kind is IndexExpr:
            e = e.base  # type: ignore[attr-defined]
        else:
            return kind is NameExpr and e.name == name  # type: ignore[attr-defined]


# For each attribute assigned on ``self``: what each assignment's call passes
# (None: not a call), the attribute it was made from or is (``self.cur =
# self.conn.cursor()``, ``self.getter = self.conn``), and the method of
# ``self`` whose value it is (``self.conn = self._connect(...)``).
_Assignments = dict[str, list[tuple[dict[str, Any] | None, str | None, str | None]]]


def _record_made_with(
    attribute: str, value: Expression, self_name: str, made: _Assignments, watched: Container[str]
) -> None:
    """``self.x = f(..., kw=<constant>)``: kept, to find the keywords every
    assignment of ``x`` agrees on once every method is read."""
    if is_none_literal(value):
        return  # ``self.conn = None`` until it is opened
    if type(value) is MemberExpr and _is_name(value.expr, self_name):
        made.setdefault(attribute, []).append(({}, value.name, None))  # another attribute's value
        return
    maker = maker_of(value)
    via = maker.name if type(maker) is MemberExpr and _is_name(maker.expr, self_name) else None
    helper = (
        value.callee.name  # type: ignore[attr-defined]
        if maker is not None and _is_name(maker, self_name)
        else None
    )
    made.setdefault(attribute, []).append((constant_keywords(value, watched), via, helper))


def _is_name(e: Expression, name: str) -> bool:
    return type(e) is NameExpr and e.name == name


def _returned_keywords(func: FuncDef, watched: Container[str]) -> dict[str, Any] | None:
    """The keywords every value ``func`` returns was made with: a call, or a
    local every (not None) assignment of which is a call (``conn =
    sqlite3.connect(...); ...; return conn``).  None: something else, or no
    return.  Syntax only, by name: asked only of a method whose value an
    attribute is assigned."""
    returned: list[Expression] = []
    assigned: dict[str, list[Expression]] = {}
    for e in _statements(func.body):
        if type(e) is ReturnStmt and e.expr is not None:
            returned.append(e.expr)
        elif type(e) is AssignmentStmt and not is_none_literal(e.rvalue):
            for target in e.lvalues:
                if type(target) is NameExpr:
                    assigned.setdefault(target.name, []).append(e.rvalue)
    agreed: dict[str, Any] | None = None
    for value in returned:
        values = assigned.get(value.name, []) if type(value) is NameExpr else [value]
        for made in values:
            keywords = constant_keywords(made, watched)
            if keywords is None:
                return None
            agreed = agree(agreed, keywords)
        if not values:
            return None
    return agreed


def _statements(body: Block) -> list[Node]:
    """Every statement in ``body``, nested ones too (not those of nested
    functions or classes)."""
    out: list[Node] = []
    stack: list[Node] = [body]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is Block:
            stack.extend(node.body)  # type: ignore[attr-defined]
            continue
        out.append(node)
        if kind not in (FuncDef, Decorator, ClassDef, OverloadedFuncDef):
            inner = _INNER_STATEMENTS.get(kind)
            if inner is not None:
                stack.extend(inner(node))
    return out


def _agreed_keywords(
    attribute: str, made: _Assignments, returned: dict[str, dict[str, Any] | None], asking: frozenset[str]
) -> dict[str, Any] | None:
    """The constant keywords every assignment of ``attribute`` passes, those
    that made the attribute it was made from included, and those of what
    the method of ``self`` it was assigned returns (None once one assignment
    is no call; a cycle adds nothing)."""
    agreed: dict[str, Any] | None = None
    for keywords, via, helper in made.get(attribute, []):
        if keywords is None:
            return None
        if helper is not None and helper in returned:
            from_helper = returned[helper]
            if from_helper is None:
                return None
            keywords = {**from_helper, **keywords}
        if via is not None and via in made and via not in asking | {attribute}:
            keywords = {**(_agreed_keywords(via, made, returned, asking | {attribute}) or {}), **keywords}
        agreed = agree(agreed, keywords)
    return agreed
