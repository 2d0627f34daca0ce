"""Mutation while iterating (``borrow-conflict``): a ``for`` loop over a
list, dict, set or deque holds a shared borrow of it for as long as the loop
can take another step, and a change of its size in the body conflicts.

Python raises "changed size during iteration" for dicts, sets and deques at
the loop's next step, and a list's iterator, which walks by index, skips or
repeats items.  This applies to all code, with or without ``fearless``.

mypy has no statement hook: the check runs when mypy checks the loop's
iterable (the ``__iter__`` method hook of the collection's class, of a dict
view, or of ``enumerate``), finds the ``for`` statement whose iterable that
is, and walks its body once.  Reported in the body, for the collection
itself (the same local, or the same attribute path from the same local):

- a call of a method that changes its size (``append``, ``pop``,
  ``setdefault``, ``discard``, ...), an augmented assignment that does
  (``lst += ...``, ``s |= ...``), ``del c[i]``, and for a dict ``d[k] = v``;
- a call of a method of the collection's owner (``self.remove(h)`` while
  iterating ``self.handlers``) whose class facts show a size-changing call
  on that very attribute, directly or through other methods of ``self``;
- a call of a function of the module being checked (a closure, or a module
  function when the collection is a global) whose body changes it.

Clean, as Python is: a copy (``list(d)``, ``d.copy()``, a comprehension:
not the collection itself), assigning to the loop's own key (``d[k] = 0``,
``d.setdefault(k, ...)``, ``s.add(x)``: the size stays), a change after
which every path leaves the loop before its next step (``break``,
``return``, ``raise``: ``analysis.loop_exit``), a change inside a function
or lambda defined in the body that the body does not call, and any loop whose body rebinds the
collection's name or attribute (what it then changes may be another object).
"""

from __future__ import annotations

from collections.abc import Iterator

from mypy.checker import TypeChecker
from mypy.nodes import (
    AssignmentExpr,
    AssignmentStmt,
    Block,
    CallExpr,
    ClassDef,
    Decorator,
    DelStmt,
    Expression,
    ForStmt,
    FuncDef,
    FuncItem,
    IfStmt,
    IndexExpr,
    LambdaExpr,
    ListExpr,
    MatchStmt,
    MemberExpr,
    MypyFile,
    NameExpr,
    Node,
    OperatorAssignmentStmt,
    OverloadedFuncDef,
    StarExpr,
    Statement,
    TryStmt,
    TupleExpr,
    TypeInfo,
    Var,
    WhileStmt,
    WithStmt,
)
from mypy.plugin import MethodContext
from mypy.typevars import fill_typevars
from mypy.types import Instance, Type, get_proper_type

from mypy_ownership import diagnostics
from mypy_ownership.analysis.loop_exit import Frame, leaves_before_next_step
from mypy_ownership.analysis.paths import ITEM, Place, place_of, render, type_at
from mypy_ownership.analysis.syntax import expression_children, function_of, inner_blocks, statement_children
from mypy_ownership.diagnostics import Diagnostic
from mypy_ownership.errorcodes import BORROW_CONFLICT
from mypy_ownership.model.class_facts import method_facts

# The collections whose iteration is checked, by the class that defines them.
_KINDS = {
    "builtins.dict": "dict",
    "builtins.set": "set",
    "builtins.list": "list",
    "collections.deque": "deque",
}
# Classes whose ``__iter__`` runs over another collection, as the loop does.
_VIEWS = frozenset(
    {
        "_collections_abc.dict_keys",
        "_collections_abc.dict_values",
        "_collections_abc.dict_items",
        "builtins.enumerate",
    }
)
_VIEW_METHODS = frozenset({"keys", "values", "items"})

# Methods that change the size of a collection of each kind.
_RESIZING = {
    "list": frozenset({"append", "insert", "extend", "pop", "remove", "clear"}),
    "dict": frozenset({"pop", "popitem", "setdefault", "update", "clear"}),
    "set": frozenset(
        {
            "add",
            "discard",
            "remove",
            "pop",
            "clear",
            "update",
            "difference_update",
            "intersection_update",
            "symmetric_difference_update",
        }
    ),
    "deque": frozenset(
        {"append", "appendleft", "extend", "extendleft", "insert", "pop", "popleft", "remove", "clear", "rotate"}
    ),
}
# Augmented assignments that change it in place.
_RESIZING_OPS = {"list": {"+", "*"}, "dict": {"|"}, "set": {"|", "-", "&", "^"}, "deque": {"+", "*"}}
# List methods that add at the end (and ``+=``, ``*=``): no item is skipped.
_GROWS_AT_END = frozenset({"append", "extend"})
# Methods that keep the size when given the loop's own key or element.
_OWN_KEY_METHODS = {"dict": frozenset({"setdefault"}), "set": frozenset({"add"})}


def watched_iterable(info: TypeInfo) -> bool:
    """Does a ``for`` over an instance of ``info`` get checked?"""
    return info.fullname in _VIEWS or _kind_of_info(info) is not None


def _kind_of_info(info: TypeInfo) -> str | None:
    for base in info.mro:
        kind = _KINDS.get(base.fullname)
        if kind is not None:
            return kind
    return None


def _kind_of(typ: Type | None) -> str | None:
    t = get_proper_type(typ)
    return _kind_of_info(t.type) if isinstance(t, Instance) else None


class IterationChecker:
    def __init__(self) -> None:
        self._checker: TypeChecker | None = None
        # by function (or module): the function and its loops by iterable
        self._loops: dict[int, tuple[Node, dict[int, ForStmt]]] = {}

    def check_iteration(self, ctx: MethodContext) -> list[Diagnostic]:
        """mypy is checking the iterable of a ``for`` (or of a comprehension,
        which holds no statement and is passed over)."""
        api = ctx.api
        assert isinstance(api, TypeChecker)
        loop = self._loop_of(api, ctx.context)
        if loop is None or loop.is_async:
            return []
        found = _iterated(loop, api)
        if found is None:
            return []
        place, kind, own_key, root_type = found
        func = api.scope.current_function()
        walk = _BodyWalk(place, kind, own_key, root_type, {func} if isinstance(func, FuncDef) else set())
        walk.block(loop.body, [], loop_body=False)
        if walk.rebound:
            return []
        what = render(place.root.name, place.path)
        return [
            Diagnostic(
                BORROW_CONFLICT,
                diagnostics.resized_while_iterated(what, method),
                where,
                [
                    (diagnostics.iterated_here(what), loop.expr),
                    (diagnostics.resize_effect(effect), where),
                    (diagnostics.resize_help(what), where),
                ],
            )
            for where, method, frames, effect in walk.sites
            if not leaves_before_next_step(frames)
        ]

    def _loop_of(self, api: TypeChecker, iterable: object) -> ForStmt | None:
        if api is not self._checker:
            self._checker = api
            self._loops = {}
        container: Node = api.scope.current_function() or api.tree
        known = self._loops.get(id(container))
        if known is None or known[0] is not container:
            loops: dict[int, ForStmt] = {}
            _collect_loops(container, loops)
            known = self._loops[id(container)] = (container, loops)
        loop = known[1].get(id(iterable))
        return loop if loop is not None and loop.expr is iterable else None


def _collect_loops(container: Node, out: dict[int, ForStmt]) -> None:
    """The ``for`` statements of a function's (or module's) own body, class
    bodies included, nested functions not."""
    stack: list[Statement] = list(container.defs if isinstance(container, MypyFile) else container.body.body)  # type: ignore[attr-defined]
    while stack:
        node = stack.pop()
        if type(node) is ForStmt:
            out[id(node.expr)] = node
        if type(node) is ClassDef:
            stack += node.defs.body
        elif not isinstance(node, (FuncItem, Decorator, OverloadedFuncDef)):
            for block in inner_blocks(node, nested=False):
                stack += block.body


def _iterated(loop: ForStmt, api: TypeChecker) -> tuple[Place, str, Var | None, Type | None] | None:
    """The collection a loop walks (its place and kind), the loop's own key
    (a variable whose value is a key or element of it), and the type of the
    place's root."""
    e = loop.expr
    view = None
    if isinstance(e, CallExpr) and isinstance(e.callee, MemberExpr) and e.callee.name in _VIEW_METHODS and not e.args:
        view, e = e.callee.name, e.callee.expr
    elif isinstance(e, CallExpr) and isinstance(e.callee, NameExpr) and e.callee.fullname == "builtins.enumerate":
        if len(e.args) != 1:
            return None
        view, e = "enumerate", e.args[0]
    place = place_of(e)
    if place is None or ITEM in place.path:
        return None
    kind = _kind_of(api.lookup_type_or_none(e))
    if kind is None:
        return None
    target: Expression | None = loop.index
    if view == "items" and isinstance(target, TupleExpr) and target.items:
        target = target.items[0]
    elif view not in (None, "keys") or kind not in ("dict", "set"):
        target = None
    own_key = target.node if isinstance(target, NameExpr) and isinstance(target.node, Var) else None
    root_type = api.lookup_type_or_none(place.root) or place.var.type
    return place, kind, own_key, root_type


class _BodyWalk:
    """One walk of a loop's body: where it changes the collection's size,
    each with the frames from the body to the statement, and whether it
    rebinds the collection."""

    def __init__(
        self, place: Place, kind: str, own_key: Var | None, root_type: Type | None, visited: set[FuncDef]
    ) -> None:
        self.place = place
        self.kind = kind
        self.own_key = own_key
        self.root_type = root_type
        # the functions whose bodies are read (the loop's own, and the ones it calls)
        self.visited = visited
        self.rebound = False
        # where, the owner's method (None: the collection's own), frames, effect
        self.sites: list[tuple[Node, str | None, list[Frame], str]] = []

    # -- statements ----------------------------------------------------------------

    def block(self, block: Block, frames: list[Frame], *, loop_body: bool) -> None:
        for index, stmt in enumerate(block.body):
            self.statement(stmt, [*frames, Frame(block, index, loop_body)])

    def statement(self, s: Statement, frames: list[Frame]) -> None:
        if isinstance(s, (FuncItem, Decorator, OverloadedFuncDef, ClassDef)):
            return  # runs when called, not here
        if isinstance(s, AssignmentStmt):
            for target in s.lvalues:
                self.assigned(target, frames)
            self.expression(s.rvalue, frames)
        elif isinstance(s, OperatorAssignmentStmt):
            if self._is_collection(s.lvalue) and s.op in _RESIZING_OPS[self.kind]:
                self.sites.append((s, None, frames, self._effect("extend")))
            else:
                self.assigned(s.lvalue, frames)
            self.expression(s.rvalue, frames)
        elif isinstance(s, DelStmt):
            self.deleted(s.expr, frames)
        elif isinstance(s, (ForStmt, WhileStmt)):
            self.expression(s.expr, frames)
            if isinstance(s, ForStmt):
                self.assigned(s.index, frames)
            self.block(s.body, frames, loop_body=True)
            if s.else_body is not None:
                self.block(s.else_body, frames, loop_body=False)
        elif isinstance(s, IfStmt):
            for cond in s.expr:
                self.expression(cond, frames)
            for branch in (*s.body, s.else_body):
                if branch is not None:
                    self.block(branch, frames, loop_body=False)
        elif isinstance(s, WithStmt):
            for manager, bound in zip(s.expr, s.target):
                self.expression(manager, frames)
                if bound is not None:
                    self.assigned(bound, frames)
            self.block(s.body, frames, loop_body=False)
        elif isinstance(s, TryStmt):
            for var in s.vars:
                if var is not None:
                    self.assigned(var, frames)
            for part in (s.body, *s.handlers, s.else_body, s.finally_body):
                if part is not None:
                    self.block(part, frames, loop_body=False)
        elif isinstance(s, MatchStmt):
            self.expression(s.subject, frames)
            for guard, body in zip(s.guards, s.bodies):
                if guard is not None:
                    self.expression(guard, frames)
                self.block(body, frames, loop_body=False)
        else:
            for child in statement_children(s):
                if isinstance(child, Expression):
                    self.expression(child, frames)

    def assigned(self, target: Expression, frames: list[Frame]) -> None:
        """A target of an assignment (or of ``for``, ``with``, ``as``)."""
        if isinstance(target, (TupleExpr, ListExpr)):
            for item in target.items:
                self.assigned(item, frames)
            return
        if isinstance(target, StarExpr):
            self.assigned(target.expr, frames)
            return
        if self._rebinds(target):
            self.rebound = True
            return
        if isinstance(target, IndexExpr):
            if self._is_collection(target.base) and self._new_key(target.index):
                self.sites.append((target, None, frames, self.kind))
            self.expression(target.index, frames)
        if isinstance(target, (IndexExpr, MemberExpr)):
            self.expression(target.base if isinstance(target, IndexExpr) else target.expr, frames)

    def deleted(self, target: Expression, frames: list[Frame]) -> None:
        if isinstance(target, (TupleExpr, ListExpr)):
            for item in target.items:
                self.deleted(item, frames)
            return
        if self._rebinds(target):
            self.rebound = True
        elif isinstance(target, IndexExpr) and self._is_collection(target.base) and self.kind != "set":
            self.sites.append((target, None, frames, self.kind))
        else:
            self.expression(target, frames)

    # -- expressions ---------------------------------------------------------------

    def expression(self, e: Expression, frames: list[Frame]) -> None:
        for sub in _subexpressions(e):
            if isinstance(sub, AssignmentExpr):
                self.assigned(sub.target, frames)
            elif isinstance(sub, CallExpr) and isinstance(sub.callee, MemberExpr):
                self.call(sub, sub.callee, frames)
            elif isinstance(sub, CallExpr) and isinstance(sub.callee, NameExpr):
                self.local_call(sub, sub.callee, frames)

    def local_call(self, call: CallExpr, callee: NameExpr, frames: list[Frame]) -> None:
        """A call of a function of this module (a closure, or a module
        function when the collection is a global) whose body changes the
        collection's size: read its body, which mypy still holds."""
        func = function_of(callee.node)
        if not isinstance(func, FuncDef) or func in self.visited or len(self.visited) > 20:
            return
        self.visited.add(func)
        inner = _BodyWalk(self.place, self.kind, None, self.root_type, self.visited)
        inner.block(func.body, [], loop_body=False)
        if inner.sites:
            self.sites.append((call, callee.name, frames, inner.sites[0][3]))

    def call(self, call: CallExpr, callee: MemberExpr, frames: list[Frame]) -> None:
        name = callee.name
        if self._is_collection(callee.expr):
            if name in _RESIZING[self.kind] and not self._keeps_size(name, call):
                self.sites.append((call, None, frames, self._effect(name)))
            return
        owner = place_of(callee.expr)
        if owner is None or not self._below(owner) or ITEM in owner.path:
            return
        owner_type = get_proper_type(type_at(self.root_type, owner.path))
        if not isinstance(owner_type, Instance):
            return
        rest = self.place.path[len(owner.path) :]
        if _method_resizes(owner_type.type, name, rest, self.kind, set()):
            self.sites.append((call, name, frames, self.kind))

    def _effect(self, method: str) -> str:
        """What Python does at the next step (see diagnostics.resize_effect):
        a list grown at its end is walked on into the new items."""
        return "list-end" if self.kind == "list" and method in _GROWS_AT_END else self.kind

    # -- places ----------------------------------------------------------------------

    def _is_collection(self, e: Expression) -> bool:
        p = place_of(e)
        return p is not None and p.root.node is self.place.root.node and p.path == self.place.path

    def _below(self, owner: Place) -> bool:
        """Is the collection an attribute reached from ``owner``?"""
        n = len(owner.path)
        return owner.root.node is self.place.root.node and n < len(self.place.path) and (
            self.place.path[:n] == owner.path
        )

    def _rebinds(self, target: Expression) -> bool:
        """Does assigning to ``target`` rebind the collection (or what it is
        reached from)?"""
        p = place_of(target)
        if p is None or p.root.node is not self.place.root.node:
            return False
        n = len(p.path)
        return n <= len(self.place.path) and self.place.path[:n] == p.path

    def _new_key(self, index: Expression) -> bool:
        """Can ``c[index] = v`` change the collection's size?"""
        if self.kind != "dict":
            return False  # a list's or deque's item: the size stays (a slice is not checked)
        return not self._is_own_key(index)

    def _keeps_size(self, method: str, call: CallExpr) -> bool:
        if method not in _OWN_KEY_METHODS.get(self.kind, ()):
            return False
        return bool(call.args) and self._is_own_key(call.args[0])

    def _is_own_key(self, e: Expression) -> bool:
        return self.own_key is not None and isinstance(e, NameExpr) and e.node is self.own_key


def _subexpressions(e: Expression) -> Iterator[Expression]:
    """``e`` and the expressions below it, except in lambdas (which run
    when called)."""
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, LambdaExpr) and node is not e:
            continue
        yield node
        stack.extend(reversed(expression_children(node)))


def _method_resizes(info: TypeInfo, method: str, path: tuple[str, ...], kind: str, seen: set[tuple[str, str]]) -> bool:
    """Does ``method`` of ``info`` change the size of the collection at
    ``path`` below ``self`` (from the class facts: a size-changing call on
    that path, or on something below it through another method)?"""
    key = (info.fullname, method)
    if key in seen or len(seen) > 50:
        return False
    seen.add(key)
    facts = None
    for base in info.mro:
        if method in base.names:
            facts = method_facts(base, method)
            break
    if not facts:
        return False
    self_type = fill_typevars(info)
    for attr_path, called in facts.get("attr_calls", []):
        attr_path = tuple(attr_path)
        if attr_path == path and called in _RESIZING[kind]:
            return True
        n = len(attr_path)
        if n < len(path) and path[:n] == attr_path and ITEM not in attr_path:
            below = get_proper_type(type_at(self_type, attr_path))
            if isinstance(below, Instance) and _method_resizes(below.type, called, path[n:], kind, seen):
                return True
    return any(_method_resizes(info, called, path, kind, seen) for called in facts.get("self_calls", []))
