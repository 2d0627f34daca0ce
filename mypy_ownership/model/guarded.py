"""Which of ``self``'s locks a method holds at each access to an attribute
of ``self``: the fact behind "a class that synchronises itself is ``Sync``"
(``thread_safety``), kept for a later data-race check (RacerD's "this write
is guarded here, unguarded there") to reuse.

Recorded by the class hook (``class_facts``), syntax only, for every
method (``__init__``'s too: the calls it makes tell which helpers run only
while the object is built) of the classes made for threads: those that
take a lock of their own somewhere (``with self.<x>:``,
``self.<x>.acquire()``), assign an attribute a value made for threads
(``made_for_threads``), or derive from such a class.  The others record
nothing, and say so: the reader trusts only a class whose every base with
source has the facts (``SYNCHRONISED``).  In a method's
facts, under ``"accesses"``:

    {attribute: [[kind, [held, ...], line], ...]}

one entry per distinct (kind, held), at the first line it occurs:

- ``kind``: ``"r"`` a read (``self.a``, ``self.a[k]``, ``len(self.a)``),
  ``"c"`` a method called on it (``self.a.f()``: it may change the value),
  ``"i"`` a call of it (``self.m()``: for a method, a call site),
  ``"w"`` a store or ``del`` of the attribute itself (``self.a = v``),
  ``"m"`` a write below it (``self.a[k] = v``, ``self.a.b += 1``),
  ``"rmw"`` an augmented assignment of the attribute (``self.a += 1``);
- ``held``: the attributes of ``self`` held as context managers or
  between ``acquire()`` and ``release()`` statements of one block (names
  only: whether they are locks is decided with types, by the reader).

In the class's facts, under ``"conditions"``: ``{attribute: lock}`` for
each attribute set to a ``Condition`` built on another one
(``self.not_empty = threading.Condition(self.mutex)``): holding either is
holding the lock (``held_locks``).

Nested functions and lambdas hold nothing (they run later, or elsewhere):
their accesses hold ``LATER`` alone, which no attribute is called.
Method names show up as attributes too (``self.m()`` calls ``m``): a
reader keeps the names that are attributes (``Var``\\ s), and reads the
call sites of the others with ``entry_locks``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mypy.nodes import (
    AssignmentStmt,
    Block,
    CallExpr,
    ClassDef,
    Decorator,
    DelStmt,
    Expression,
    ExpressionStmt,
    FuncDef,
    IndexExpr,
    LambdaExpr,
    ListExpr,
    MemberExpr,
    NameExpr,
    Node,
    OperatorAssignmentStmt,
    OpExpr,
    OverloadedFuncDef,
    StarExpr,
    Statement,
    TupleExpr,
    WithStmt,
)
import mypy.nodes
from mypy.server.subexpr import get_subexpressions

from mypy_ownership.analysis.syntax import inner_blocks

ACCESSES = "accesses"
SYNCHRONISED = "made_for_threads"  # the class fact: its accesses are recorded
CONDITIONS = "conditions"
LATER = "()"  # held by an access in a nested function or lambda
# (kind, held) -> line, per attribute
_Found = dict[str, dict[tuple[str, tuple[str, ...]], int]]


def method_accesses(
    func: FuncDef, self_name: str, conditions: dict[str, str]
) -> dict[str, list[list[Any]]]:
    """The ``"accesses"`` fact of one method (see the module's docstring).
    Also adds to ``conditions`` the attributes the method sets to a
    ``Condition`` built on another (``self.ready = Condition(self.lock)``):
    holding one holds the other (the class's ``"conditions"`` fact)."""
    found: _Found = {}
    _walk_block(func.body, self_name, (), found, conditions)
    return {
        attribute: [[kind, list(held), line] for (kind, held), line in sorted(by.items(), key=lambda i: i[1])]
        for attribute, by in sorted(found.items())
    }


def _walk_block(
    block: Block, self_name: str, held: tuple[str, ...], found: _Found, conditions: dict[str, str]
) -> None:
    for stmt in block.body:
        kind = type(stmt)
        if kind is ExpressionStmt:
            lock, acquires = _acquire_or_release(stmt.expr, self_name)  # type: ignore[attr-defined]
            if lock is not None:
                if acquires and lock not in held:
                    held = tuple(sorted((*held, lock)))
                elif not acquires:
                    held = tuple(h for h in held if h != lock)
        _walk_statement(stmt, self_name, held, found, conditions)


def _walk_statement(
    stmt: Node, self_name: str, held: tuple[str, ...], found: _Found, conditions: dict[str, str]
) -> None:
    kind = type(stmt)
    if kind in (FuncDef, Decorator, OverloadedFuncDef, ClassDef):
        for inner in inner_blocks(stmt, nested=True):
            _walk_block(inner, self_name, (LATER,), found, conditions)  # runs later, or elsewhere
        return
    if kind is AssignmentStmt:
        for target in stmt.lvalues:  # type: ignore[attr-defined]
            _target(target, "w", self_name, held, found)
            _condition(target, stmt.rvalue, self_name, conditions)  # type: ignore[attr-defined]
        _reads(stmt.rvalue, self_name, held, found)  # type: ignore[attr-defined]
        return
    if kind is OperatorAssignmentStmt:
        _target(stmt.lvalue, "rmw", self_name, held, found)  # type: ignore[attr-defined]
        _reads(stmt.rvalue, self_name, held, found)  # type: ignore[attr-defined]
        return
    if kind is DelStmt:
        _target(stmt.expr, "w", self_name, held, found)  # type: ignore[attr-defined]
        return
    inner_held = held
    if kind is WithStmt:
        for e in stmt.expr:  # type: ignore[attr-defined]
            _reads(e, self_name, held, found)
            name = _self_attribute(e, self_name)
            if name is not None and name not in inner_held:
                inner_held = tuple(sorted((*inner_held, name)))
    else:
        for e in _own_expressions(stmt):
            _reads(e, self_name, held, found)
    for block in inner_blocks(stmt, nested=True):
        _walk_block(block, self_name, inner_held, found, conditions)


def _condition(target: Expression, value: Expression, self_name: str, conditions: dict[str, str]) -> None:
    """``self.a = threading.Condition(self.b)``: ``conditions[a] = b``."""
    name = _self_attribute(target, self_name)
    if name is None or type(value) is not CallExpr or len(value.args) != 1:
        return
    callee = value.callee
    if type(callee) in (NameExpr, MemberExpr) and callee.name == "Condition":  # type: ignore[attr-defined]
        lock = _self_attribute(value.args[0], self_name)
        if lock is not None and lock != name:
            conditions[name] = lock


def made_for_threads(value: Expression) -> bool:
    """``threading.local()``, ``queue.Queue(n)``, ``(factory or local)()``:
    a call of a name in ``SYNC_MAKERS``."""
    if type(value) is not CallExpr:
        return False
    callees = [value.callee]
    while callees:
        callee = callees.pop()
        kind = type(callee)
        if kind in (NameExpr, MemberExpr) and callee.name in SYNC_MAKERS:  # type: ignore[attr-defined]
            return True
        if kind is OpExpr:
            callees += [callee.left, callee.right]  # type: ignore[attr-defined]
    return False


def _target(target: Expression, kind: str, self_name: str, held: tuple[str, ...], found: _Found) -> None:
    if isinstance(target, (TupleExpr, ListExpr)):
        for item in target.items:
            _target(item, kind, self_name, held, found)
        return
    if isinstance(target, StarExpr):
        _target(target.expr, kind, self_name, held, found)
        return
    name = _self_attribute(target, self_name)
    if name is not None:
        _add(found, name, kind, held, target.line)
        return
    root = _root_attribute(target, self_name)
    if root is not None:
        _add(found, root, "m", held, target.line)
    _reads(target, self_name, held, found)


def _reads(e: Expression, self_name: str, held: tuple[str, ...], found: _Found) -> None:
    """Every ``self.a`` in ``e``: ``"i"`` where it is called, ``"c"`` where a
    method of it is, else ``"r"``; held by nothing but ``LATER`` in a
    lambda.  One pass: mypy lists a node before what is inside it, so the
    call around an attribute, or the lambda, comes first."""
    called: dict[int, str] = {}  # id of a ``self.a`` -> "i" (called) or "c" (a method of it called)
    later: set[int] = set()  # ids of the expressions in a lambda's body
    for sub in get_subexpressions(e):
        kind = type(sub)  # mypy's node classes are final
        if kind is MemberExpr:
            base = sub.expr  # type: ignore[attr-defined]
            if type(base) is NameExpr and base.name == self_name:
                key = id(sub)
                _add(found, sub.name, called.get(key, "r"), (LATER,) if key in later else held, sub.line)  # type: ignore[attr-defined]
        elif kind is CallExpr and type(sub.callee) is MemberExpr:  # type: ignore[attr-defined]
            called[id(sub.callee)] = "i"  # type: ignore[attr-defined]
            called.setdefault(id(sub.callee.expr), "c")  # type: ignore[attr-defined]
        elif kind is LambdaExpr:
            later.update(id(inner) for inner in get_subexpressions(sub.body))  # type: ignore[attr-defined]


def _add(found: _Found, name: str, kind: str, held: tuple[str, ...], line: int) -> None:
    by = found.setdefault(name, {})
    if (kind, held) not in by:
        by[(kind, held)] = line


def _self_attribute(e: Expression, self_name: str) -> str | None:
    """``self.x``: ``"x"``."""
    if type(e) is MemberExpr and type(e.expr) is NameExpr and e.expr.name == self_name:
        return e.name
    return None


def _root_attribute(e: Expression, self_name: str) -> str | None:
    """``self.x[k].y``: ``"x"``."""
    while True:
        name = _self_attribute(e, self_name)
        if name is not None:
            return name
        if type(e) is MemberExpr:
            e = e.expr
        elif type(e) is IndexExpr:
            e = e.base
        else:
            return None


def _acquire_or_release(e: Expression, self_name: str) -> tuple[str | None, bool]:
    """``self.x.acquire()`` / ``self.x.release()`` as a statement."""
    if type(e) is CallExpr and type(e.callee) is MemberExpr and e.callee.name in ("acquire", "release"):
        return _self_attribute(e.callee.expr, self_name), e.callee.name == "acquire"
    return None, False


def _own_expressions(stmt: Node) -> list[Expression]:
    """The expressions of a statement that are not in its blocks (an
    ``if``'s conditions, a ``for``'s iterable, a ``return``'s value)."""
    out: list[Expression] = []
    for name in _OWN_FIELDS.get(type(stmt), _EXPRESSION_FIELDS):
        value = getattr(stmt, name, None)
        if isinstance(value, Expression):
            out.append(value)
        elif isinstance(value, list):
            out += [v for v in value if isinstance(v, Expression)]
    return out


_EXPRESSION_FIELDS = ("expr", "index", "cond", "value", "target")
# which of those each kind of statement has, in that order (asked of every
# statement walked: most have one or none)
_OWN_FIELDS: dict[type, tuple[str, ...]] = {
    kind: tuple(name for name in _EXPRESSION_FIELDS if hasattr(kind, name))
    for kind in vars(mypy.nodes).values()
    if isinstance(kind, type) and issubclass(kind, Statement)
}


LOCK_TYPES = frozenset({"_thread.lock", "_thread.LockType", "_thread.RLock", "threading._RLock", "threading.Condition"})
#: The methods of a lock or a Condition: an attribute whose type is unknown
#: (``self._cond = factory()``) that the class holds (``with self._cond:``)
#: and calls one of these on is read as a lock.
LOCK_METHODS = frozenset({"acquire", "release", "wait", "wait_for", "notify", "notify_all"})
#: The names that make a value made for threads (``queue.Queue()``,
#: ``threading.local()``, ``Condition(...)``): a class that assigns one to
#: an attribute of ``self``, like one that takes a lock of its own, gets
#: the lock facts (``made_for_threads``).
SYNC_MAKERS = frozenset(
    {
        "Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "Event", "Barrier", "local",
        "Queue", "LifoQueue", "PriorityQueue", "SimpleQueue",
    }
)
#: Per-thread state: each thread sees its own attributes of one.
THREAD_LOCAL_TYPES = frozenset({"_thread._local", "_threading_local.local"})


class Access:
    """One recorded access, read back from a class's facts."""

    __slots__ = ("held", "kind", "line", "method", "owner")

    def __init__(self, owner: str, method: str, kind: str, held: list[str], line: int) -> None:
        self.owner = owner  # the class whose method it is
        self.method = method
        self.kind = kind
        self.held = held
        self.line = line

    def __repr__(self) -> str:
        return f"Access({self.owner}.{self.method}, {self.kind!r}, {self.held!r}, line {self.line})"


#: Methods that run while no other thread can reach the object: it is
#: being built, or collected.
PRIVATE_TO_ONE_THREAD = frozenset({"__init__", "__del__"})


def entry_locks(accesses: dict[str, list[Access]], methods: Iterable[str]) -> dict[str, frozenset[str] | None]:
    """For each of a class's methods, the attributes of ``self`` held
    whenever it runs (RacerD's summary of a private method): none for a
    public method or a dunder (anybody may call it), the intersection over
    its call sites (``self._m()``) for a private one (``_m``) that is only
    called, never taken as a value (``self.cb = self._m``) and never in a
    nested function.  None: it runs only while the object is built
    (``__init__``, a helper only ``__init__`` calls) or collected."""
    entry: dict[str, frozenset[str] | None] = {}
    private: list[str] = []
    for method in methods:
        if method in PRIVATE_TO_ONE_THREAD:
            entry[method] = None
        elif method.startswith("_") and not method.endswith("__"):
            sites = accesses.get(method, [])
            escapes = not sites or any(a.kind != "i" or LATER in a.held for a in sites)
            entry[method] = frozenset() if escapes else None
            if not escapes:
                private.append(method)
        else:
            entry[method] = frozenset()
    changed = True
    while changed:  # each pass only shrinks a set (None is everything): it ends
        changed = False
        for method in private:
            found: frozenset[str] | None = None
            for site in accesses[method]:
                caller = entry.get(site.method, frozenset())
                if caller is None:
                    continue
                here = frozenset(site.held) | caller
                found = here if found is None else found & here
            if found != entry[method]:
                entry[method], changed = found, True
    return entry


def held_locks(held: Iterable[str], conditions: Mapping[str, str]) -> frozenset[str]:
    """What ``held`` holds, each ``Condition`` read as the lock it was built
    on (and the other way round: both names)."""
    out = set(held)
    for name in list(out):
        seen: set[str] = set()
        while name in conditions and name not in seen:
            seen.add(name)
            name = conditions[name]
            out.add(name)
    for condition, lock in conditions.items():
        if lock in out:
            out.add(condition)
    return frozenset(out)


def accesses_in(methods: dict[str, Any], owner: str) -> dict[str, list[Access]]:
    """Every recorded access of a class's methods (its ``"methods"``
    facts), by attribute."""
    out: dict[str, list[Access]] = {}
    for method, facts in methods.items():
        for attribute, entries in facts.get(ACCESSES, {}).items():
            out.setdefault(attribute, []).extend(
                Access(owner, method, kind, list(held), line) for kind, held, line in entries
            )
    return out
