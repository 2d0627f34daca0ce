"""The data-race check (hazard detection only): at a thread boundary an
overlay declares, where a thread runs code of a user class on ``self``
(``Thread(target=self.run)``, a ``Thread`` subclass started, an executor's
``submit(self.work)``, a closure capturing ``self``), the accesses of the
thread's code and of the spawning side's to one attribute are paired up
(``model.thread_code``), and a pair no common lock orders is reported where
it can really go wrong in Python:

- check-then-set of a lazily made attribute on both sides (two made, one
  lost);
- a Python-level iteration of a container on one side while the other
  changes its size (an item skipped, or ``RuntimeError``);
- ``self.a += v`` on one side and a store (``+=`` or ``=``) on the other
  (one update lost); ``self.a[k] += v`` on both sides.

Not reported: a single store read by single loads (atomic in CPython,
free-threaded too), a container that is ``Sync`` (a ``Queue``), what
``__init__`` (or a test's ``setUp``) does, an access of the spawning
method (or of a method calling it) before the thread starts (or before a
``t.start()`` in its method), or after a join in its method.  Reported at
the access on the spawning side (at the boundary, when that access is in
another module), with notes at the thread's access and at the boundary.
"""

from __future__ import annotations

from mypy.nodes import CallExpr, Context, FuncDef, FuncItem, LambdaExpr, MemberExpr, NameExpr, TypeInfo, Var
from mypy.types import Instance, get_proper_type

from mypy_ownership import diagnostics
from mypy_ownership.analysis.syntax import function_of
from mypy_ownership.diagnostics import Diagnostic
from mypy_ownership.errorcodes import DATA_RACE
from mypy_ownership.model.call import Call
from mypy_ownership.model.crossings import TO_LOOP_THREAD, Crossing
from mypy_ownership.model.thread_code import Access, ClassCode, closure_accesses
from mypy_ownership.model.thread_safety import ThreadSafety

# The pairs that break (thread's kind, spawning side's kind), either way round.
_BREAKS = frozenset(
    {("cts", "cts"), ("it", "m"), ("m", "it"), ("it", "s"), ("s", "it"), ("rmw", "rmw"), ("rmw", "w"), ("w", "rmw"), ("irmw", "irmw")}
)
_SIZE = frozenset({"it", "m", "s"})
# an item store changes the size of these only (a list's does not)
_KEYED = ("builtins.dict", "builtins.set", "collections.OrderedDict", "collections.defaultdict")


class DataRaceChecker:
    def __init__(self, safety: ThreadSafety) -> None:
        self._safety = safety

    def check_call(self, call: Call) -> list[Diagnostic]:
        overlay = call.callee.overlay
        if overlay is None or overlay.fullname in TO_LOOP_THREAD or not isinstance(call.context, CallExpr):
            return []  # ownership discipline, or back to the loop's own thread
        found: list[Diagnostic] = []
        for crossing in call.crossings:
            if crossing.how in ("receiver", "captured-self", "sent-self"):
                found += self._crossing(call, crossing)
        return found

    def _crossing(self, call: Call, crossing: Crossing) -> list[Diagnostic]:
        receiver = get_proper_type(crossing.typ)
        if not isinstance(receiver, Instance):
            return []
        code = ClassCode(receiver.type)
        if not code.has_facts():
            return []
        module = call.api.tree.fullname
        owner = receiver.type.name
        thread: list[Access]
        if crossing.how == "captured-self":
            closure = _closure(crossing.carrier)
            if closure is None or crossing.var is None:
                return []
            thread, calls = closure_accesses(closure.body, crossing.var.name, module, owner, "<closure>")
            entry, on_thread = "<closure>", code.reach(set(calls))
            for callee, held in calls.items():  # each called under what the closure holds there
                thread += code.accesses({callee}, held)
        else:
            entry = crossing.carrier.name if crossing.how == "receiver" and isinstance(crossing.carrier, MemberExpr) else "run"
            if not code.defines(entry):
                return []
            on_thread = code.reach({entry})
            thread = code.accesses({entry})
        spawning = code.accesses(code.public() - on_thread - {entry})
        spawning = self._unordered(call, code, receiver.type, spawning)
        return self._pairs(call, crossing, code, thread, spawning, entry)

    def _unordered(self, call: Call, code: ClassCode, info: TypeInfo, accesses: list[Access]) -> list[Access]:
        """Drops what the spawning method does before the thread starts, and
        what any method does after it waits for the thread's end."""
        func = call.api.scope.current_function()
        here = func.name if isinstance(func, FuncDef) and func.info is not None and func.info in info.mro else None
        before = code.ordered_before(here) if here is not None else {}
        if here is not None:
            before[here] = call.context.line
        out = []
        for access in accesses:
            if access.method in before and access.line < before[access.method]:
                continue
            started = code.starts(access.method)
            if started is not None and access.line < started:
                continue  # before the method starts the thread (``Thread(...)`` made elsewhere)
            joined = code.joins(access.method)
            if joined is not None and access.line > joined:
                continue
            out.append(access)
        return out

    def _pairs(
        self, call: Call, crossing: Crossing, code: ClassCode, thread: list[Access], spawning: list[Access], entry: str
    ) -> list[Diagnostic]:
        by_attribute: dict[str, list[Access]] = {}
        for access in thread:
            by_attribute.setdefault(access.attribute, []).append(access)
        found: list[Diagnostic] = []
        for mine in spawning:
            theirs = by_attribute.get(mine.attribute)
            if not theirs:
                continue
            for other in theirs:
                if (other.kind, mine.kind) in _BREAKS and not (other.held & mine.held) and self._racy(code, mine, other):
                    found.append(self._diagnostic(call, crossing, code, mine, other, [*thread, *spawning], entry))
                    break
        return found

    def _racy(self, code: ClassCode, mine: Access, other: Access) -> bool:
        """A container that synchronises itself (``Sync``) is not changed
        under an iteration unsafely; an item store changes the size of a
        dict or a set only."""
        if mine.kind not in _SIZE:
            return True
        sym = code.info.get(mine.attribute)
        typ = sym.type if sym is not None and isinstance(sym.node, Var) else None
        proper = get_proper_type(typ)
        if isinstance(proper, Instance):
            if self._safety.is_sync(proper):
                return False
            if "s" in (mine.kind, other.kind) and not any(proper.type.has_base(k) for k in _KEYED):
                return False
        return True

    def _diagnostic(
        self, call: Call, crossing: Crossing, code: ClassCode, mine: Access, other: Access, every: list[Access], entry: str
    ) -> Diagnostic:
        module = call.api.tree.fullname
        site = crossing.site
        started = site.line
        what = f"self.{mine.attribute}"
        at: Context = _at(mine.line) if mine.module == module else site
        elsewhere = None if mine.module == module else diagnostics.race_elsewhere(mine.module, mine.line)
        message = diagnostics.data_race(what, mine.kind, other.kind, started)
        notes: list[tuple[str | None, Context]] = []
        if elsewhere is not None:
            notes.append((elsewhere, site))
        where_other = None if other.module == module else (other.module, other.line)
        notes.append(
            (diagnostics.race_other_access(what, other.kind, sorted(mine.held - other.held), started, where_other),
             _at(other.line) if other.module == module else site)
        )
        target = f"{code.info.name}.{entry}" if entry != "<closure>" else None
        notes.append((diagnostics.race_thread_started(target), site))
        locks = sorted({lock for a in every if a.attribute == mine.attribute for lock in a.held})
        notes.append((diagnostics.race_help(what, mine.kind, other.kind, locks), at))
        key = (mine.module, mine.line, mine.attribute, mine.kind)
        return Diagnostic(DATA_RACE, message, at, notes, key=key)


def _at(line: int) -> Context:
    return Context(line=line, column=-1)


def _closure(carrier: object) -> FuncItem | None:
    if isinstance(carrier, LambdaExpr):
        return carrier
    if isinstance(carrier, NameExpr):
        return function_of(carrier.node)
    return None
