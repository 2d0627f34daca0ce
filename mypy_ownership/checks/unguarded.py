"""The unguarded-update check (hazard detection): a class that takes a
threading lock of its own (``with self._lock:``) says that its methods run
on several threads at once.  Where it updates an attribute under one of its
locks and elsewhere updates the same attribute in place (``+=``) without
that lock, two threads can interleave the load and the store of the
unguarded update with the guarded one, and one update is lost: RacerD's
"this write is guarded here, unguarded there"
(docs/thread-safety.md, "Races on shared state").

What counts, read from the race facts of ``analysis.race_shapes`` (the
accesses of the code other code enters, with the locks of ``self``'s held
at each, a helper's callers' included):

- the unguarded access is an in-place update, ``self.n += 1`` (``rmw``) or
  ``self.stats[k] += 1`` (``irmw``), made holding none of the class's
  locks, by a public method (or a special one but ``__init__`` and its
  kin) or what it calls: where the class's users enter it from their
  threads.  An update on a thread the class starts itself, ordered by
  that start and its join, is the thread-boundary check's business
  (``data_race``);
- the guarded one is an update or a store of the same attribute
  (``self.n += 1``, ``self.n = 0``; for an item update also
  ``self.stats[k] = 0`` and ``self.stats = Counter()``) under a lock of
  ``self``'s whose type is a threading lock (``Lock``, ``RLock``, a
  ``Condition``, which guards with the lock it was built on), in a public
  method or in a private one the class hands out instead of calling (a
  thread's target, a timer's function).

Two updates under two different locks are not reported: the class did
lock both, and which lock was meant cannot be told.

Asked when mypy checks a ``with`` on a threading lock in a method
(``_thread.lock.__enter__``): the class of that method is analysed once
per module checked, and each unguarded update of this module in a method
mypy checks (an annotated one, or any with ``--check-untyped-defs``) is
reported at its line, with a note at the guarded one.
"""

from __future__ import annotations

from typing import Any

from mypy.checker import TypeChecker
from mypy.nodes import Context, Decorator, FuncDef, OverloadedFuncDef, TypeInfo, Var
from mypy.plugin import MethodContext
from mypy.types import Instance, get_proper_type

from mypy_ownership import diagnostics
from mypy_ownership.diagnostics import Diagnostic
from mypy_ownership.errorcodes import DATA_RACE
from mypy_ownership.model.class_facts import class_traits
from mypy_ownership.model.guarded import CONDITIONS, LOCK_TYPES
from mypy_ownership.model.reach import names_used_on_self
from mypy_ownership.model.thread_code import METADATA_KEY as RACE_FACTS, Access, ClassCode

# the guarded accesses an unguarded in-place update of each kind races with
_RACES_WITH = {"rmw": frozenset({"rmw", "w"}), "irmw": frozenset({"irmw", "s", "w"})}
_GUARDED_KINDS = frozenset({"rmw", "irmw", "s", "w"})
# the lock types' ``__enter__``: the hook that asks this check
ENTER_HOOKS = frozenset(f"{lock}.__enter__" for lock in LOCK_TYPES)


class UnguardedChecker:
    """Analyses each class once: the answer is kept with the race facts it
    was read from (a class the daemon analyses again gets new facts, and is
    analysed again), and handed to the reporter at every ``with`` of a lock
    in the class (which reports it once per module checked)."""

    __slots__ = ("_found",)

    def __init__(self) -> None:
        # (file, class) -> (the race facts read, what they showed)
        self._found: dict[tuple[str, str], tuple[object, list[Diagnostic]]] = {}

    def check_lock_entered(self, ctx: MethodContext) -> list[Diagnostic]:
        api = ctx.api
        if not isinstance(api, TypeChecker):
            return []
        info = api.scope.current_class()
        facts = info.metadata.get(RACE_FACTS) if info is not None else None
        if info is None or facts is None:
            return []
        key = (api.path, info.fullname)
        kept = self._found.get(key)
        if kept is None or kept[0] is not facts:
            kept = self._found[key] = (facts, _unguarded(api, info))
        return kept[1]


def _unguarded(api: TypeChecker, info: TypeInfo) -> list[Diagnostic]:
    code = ClassCode(info)
    locks = _locks(info)
    if not locks:
        return []
    public = code.public()
    module = api.tree.fullname
    guarded: dict[str, list[tuple[Access, frozenset[str]]]] = {}
    for access in code.accesses(public | _callbacks(code, info)):
        held = frozenset(locks[h] for h in access.held if h in locks)
        if held and access.kind in _GUARDED_KINDS:
            guarded.setdefault(access.attribute, []).append((access, held))
    found: list[Diagnostic] = []
    for mine in code.accesses(public):
        races = _RACES_WITH.get(mine.kind)
        if races is None or any(h in locks for h in mine.held) or mine.attribute not in guarded:
            continue
        if mine.module != module or not _checked(api, info, mine):
            continue
        for other, held in guarded[mine.attribute]:
            if other.kind in races:
                found.append(_diagnostic(info, mine, other, held))
                break
    return found


def _callbacks(code: ClassCode, info: TypeInfo) -> set[str]:
    """The private methods the class hands out instead of calling (a
    thread's target, a timer's function: ``Thread(target=self._run)``):
    other code enters the class there too."""
    called: set[str] = set()
    for name in code.methods():
        called |= code.callees(name)
    named = names_used_on_self(info)
    return {name for name in code.methods() if name in named and name not in called and code.shared(name)}


def _locks(info: TypeInfo) -> dict[str, str]:
    """The attributes of ``self`` that are threading locks, each with the
    lock it holds (a ``Condition`` built on another attribute holds that
    one)."""
    conditions: dict[str, str] = {}
    for base in info.mro:
        conditions.update(class_traits(base).get(CONDITIONS, {}))
    out: dict[str, str] = {}
    for base in info.mro:
        for name, sym in base.names.items():
            if name in out or not isinstance(sym.node, Var):
                continue
            typ = get_proper_type(sym.node.type)
            if isinstance(typ, Instance) and any(b.fullname in LOCK_TYPES for b in typ.type.mro):
                out[name] = conditions.get(name, name)
    return out


def _checked(api: TypeChecker, info: TypeInfo, access: Access) -> bool:
    """Does mypy check the body of the method the access is in (annotated,
    or any with ``--check-untyped-defs``)?"""
    if api.options.check_untyped_defs:
        return True
    for base in info.mro:
        if base.name != access.owner or base.module_name != access.module:
            continue
        node: Any = base.names.get(access.method)
        node = node.node if node is not None else None
        if isinstance(node, Decorator):
            node = node.func
        elif isinstance(node, OverloadedFuncDef):
            node = node.impl.func if isinstance(node.impl, Decorator) else node.impl
        return isinstance(node, FuncDef) and not node.is_dynamic()
    return False


def _diagnostic(info: TypeInfo, mine: Access, other: Access, held: frozenset[str]) -> Diagnostic:
    what = f"self.{mine.attribute}"
    lock = sorted(held)[0]
    at = Context(line=mine.line, column=-1)
    there = Context(line=other.line, column=-1) if other.module == mine.module else at
    message = diagnostics.unguarded_update(what, mine.kind, lock, other.kind, other.line)
    notes: list[tuple[str | None, Context]] = [
        (diagnostics.guarded_there(what, other.kind, lock, None if other.module == mine.module else other.module), there),
        (diagnostics.locks_itself(info.name, lock), at),
        (diagnostics.unguarded_help(lock), at),
    ]
    key = (mine.module, mine.line, mine.attribute, mine.kind)
    return Diagnostic(DATA_RACE, message, at, notes, key=key)
