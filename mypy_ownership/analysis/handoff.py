"""Hand-off: where a value given to another thread by a library call (an
overlay-declared boundary) is really the thread's, along every path.

One walk of the function body (the flow walker's, with its branch states and
loop fixed points) follows one moved variable through three phases:

- ``built``: the call that takes it ran, but no thread may run yet
  (``t = Thread(target=f, args=(x,))`` before ``t.start()``);
- ``lent``: the thread may be running with it (after ``t.start()``, after
  ``submit``/``put``/``to_thread`` returned);
- ``back``: the caller reached a point that orders the thread's work before
  it (``t.join()``, ``future.result()``, ``wait``/``as_completed`` of the
  futures, leaving ``with executor:``, ``executor.shutdown()``, ``await``
  of the call itself).

A call that raises hands nothing over: the ``except`` handlers of a ``try``
around it see the states before it (the walker folds the state into an open
``try`` before each statement and at each use, never right after the
hand-off inside one statement; not at all for a statement that cannot raise,
``may_raise``, which reaches only a ``finally``).  An ``await`` that ends the
hand-off can be cancelled while the thread still runs: the handlers see the
value lent.  An exception that leaves ``with executor:`` waits for its work
too: what the body passes reaches an enclosing ``try`` after the wait.

The objects that stand for the thread (``holders``: the ``Thread`` or
``Future`` the call made, a list it was put in or appended to, a loop
variable over that list, a future wrapping it, the executor it was submitted
to) are collected as the walk meets them; joining one of them ends the
hand-off on that path, and a callback added to one runs after the work.

Building another thread with the lent value (a closure capturing it,
``args=(v,)``, the same construction in the next iteration) is no use: the
uses there wait (``pending``, then ``built`` by the name or list holding
that thread) for its ``start()``, where the value reaches a second thread
while ours may still run: a conflict when either thread's code writes.

The result: for each use of the variable, the phases it can be reached in
(``found``), whether the caller writes there (``conflicts`` decides, given
the expressions around the use), the start it follows, and whether the
function has any ordering point at all (``joins``).
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import (
    AwaitExpr,
    BreakStmt,
    BytesExpr,
    CallExpr,
    ContinueStmt,
    DelStmt,
    Expression,
    ExpressionStmt,
    FloatExpr,
    ForStmt,
    IndexExpr,
    IntExpr,
    LambdaExpr,
    MemberExpr,
    NameExpr,
    NameExpr as _Name,
    OperatorAssignmentStmt,
    PassStmt,
    RefExpr,
    ReturnStmt,
    Statement,
    StrExpr,
    TupleExpr,
    Var,
    WithStmt,
)
from mypy.types import Instance, get_proper_type

from mypy_ownership.analysis.flow import FlowWalker, ItemOf, Source, UseKey
from mypy_ownership.analysis.states import MAX_LOOP_ROUNDS, LoopFrame, State, copy_state, join

BUILT = "built"
LENT = "lent"
BACK = "back"
# After a use that was reported: the first conflicting use on a path is the
# one to report, as rustc reports the first use after a move.
DONE = "done"

# Methods of a thread, a future or an executor after which the thread's work
# is over (for an executor: after ``shutdown``, unless ``wait=False``).
JOIN_METHODS = frozenset({"join", "result", "exception"})
POOL_METHODS = frozenset({"shutdown"})
# Functions that wait for the futures they are given.
WAIT_FUNCTIONS = frozenset(
    {
        "concurrent.futures._base.wait",
        "concurrent.futures._base.as_completed",
        "concurrent.futures.wait",
        "concurrent.futures.as_completed",
    }
)
# Constructors that hand nothing over until the object's ``start()``.
STARTED_LATER = frozenset(
    {"threading.Thread", "threading.Timer", "multiprocessing.dummy.DummyProcess", "multiprocessing.dummy.Process"}
)
# Calls that wrap a future into one that is done when it is.
FUTURE_WRAPPERS = frozenset({"asyncio.futures.wrap_future", "asyncio.wrap_future", "tornado.gen.convert_yielded"})
# Methods of a future whose callable runs once the future's work is done.
DONE_CALLBACKS = frozenset({"add_done_callback"})
# Logging calls: logging swallows what goes wrong while it logs.
_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})
_LOGGERS = frozenset({"logging.Logger", "logging.LoggerAdapter", "logging.RootLogger"})
# Methods that put the new thread or future into a container.
_STORE_METHODS = frozenset({"append", "add", "extend", "insert", "appendleft", "put", "setdefault"})

# Does the caller's use race with the thread, and is it a write (it mutates
# the value or hands it on)?  Given the use, the expressions around it
# (innermost last), whether it is stored to, and whether it is handed on to
# the same call again (the next iteration's thread).
Conflicts = Callable[[UseKey, list[Expression], bool, bool], "tuple[bool, bool]"]


class HandoffWalker(FlowWalker[str]):
    def __init__(
        self,
        *,
        module_level: bool,
        call: CallExpr,
        var: Var,
        at_call: bool,
        conflicts: Conflicts,
    ) -> None:
        super().__init__(module_level=module_level)
        self.call = call
        self.var = var
        self.at_call = at_call
        self.conflicts = conflicts
        self.stack: list[Expression] = []
        self.ancestors: set[int] = set()
        self.holders: set[Var] = set()
        self.pools: set[Var] = set()
        self.written: set[int] = set()
        # the uses to report: does the caller write there?
        self.reported: dict[UseKey, bool] = {}
        self.starts: list[Expression] = []
        self.joins = False
        self.quiet = False
        # Other threads built with the lent value, not started yet: the
        # uses at their construction (does that thread's code race with ours,
        # does it write?), by the
        # expressions that hold them, then by the variables they are bound to.
        self.pending: dict[int, dict[UseKey, tuple[bool, bool]]] = {}
        self.built: dict[Var, dict[UseKey, tuple[bool, bool]]] = {}
        callee = call.callee
        if isinstance(callee, MemberExpr) and isinstance(callee.expr, NameExpr) and isinstance(callee.expr.node, Var):
            self.pools.add(callee.expr.node)

    # -- the phases -----------------------------------------------------------

    def _phases(self) -> frozenset[str]:
        if self.state is None:
            return frozenset()
        return self.state.get(self.var, frozenset())

    def _set(self, phases: frozenset[str]) -> None:
        if self.state is not None:
            self.state[self.var] = phases

    def _move(self, old: str, new: str) -> None:
        phases = self._phases()
        if old in phases:
            self._set((phases - {old}) | {new})

    # -- events ---------------------------------------------------------------

    def use(self, key: UseKey, var: Var) -> None:
        if var is not self.var or self.state is None:
            return
        phases = self._phases()
        parents = self.stack[:-1]
        if LENT in phases and not self._later(key, parents):
            store = bool(self.stack) and id(self.stack[-1]) in self.written
            if parents and isinstance(parents[-1], (IndexExpr, MemberExpr)) and id(parents[-1]) in self.written:
                store = True
            # used again in the call that hands it over (the next iteration's): handed on
            handed_on = any(p is self.call for p in parents)
            races, writes = self.conflicts(key, parents, store, handed_on)
            if races:
                self.reported[key] = self.reported.get(key, False) or writes
                self._set((phases - {LENT}) | {DONE})
        self.record(var)

    def _later(self, key: UseKey, parents: list[Expression]) -> bool:
        """Is this use one that happens later, or elsewhere: the callback
        a future of ours runs once done, or the construction of another
        thread (that thread gets the value at its ``start()``)?"""
        closure = isinstance(key, tuple) or (bool(self.stack) and isinstance(self.stack[-1], LambdaExpr))
        if closure and parents and isinstance(parents[-1], CallExpr):
            callee = parents[-1].callee
            if isinstance(callee, MemberExpr) and callee.name in DONE_CALLBACKS and self._mine(callee.expr):
                return True
        if self.at_call:
            return False
        if any(p is self.call for p in parents):
            return True  # the next iteration's thread: at its start
        for i in range(len(parents) - 1, -1, -1):
            p = parents[i]
            if isinstance(p, CallExpr) and isinstance(p.callee, RefExpr) and p.callee.fullname in STARTED_LATER:
                found = self.conflicts(key, parents, False, False)
                for holder in self.stack[:i + 1]:
                    self.pending.setdefault(id(holder), {})[key] = found
                return True
        return False

    def bind(self, var: Var, kind: int | None, source: Source) -> None:
        if self.state is not None and var is self.var:
            self.state.pop(var, None)  # a new value: not the one handed over
        self.built.pop(var, None)
        other = self._other(source.expr if isinstance(source, ItemOf) else source)
        if other:
            self.built[var] = other
        if isinstance(source, CallExpr) and isinstance(source.callee, RefExpr) and source.callee.fullname in FUTURE_WRAPPERS:
            if any(self._mine(a) for a in source.args):
                self.holders.add(var)
                return
        if isinstance(source, ItemOf) and isinstance(source.expr, NameExpr) and source.expr.node in self.holders:
            self.holders.add(var)
        elif isinstance(source, Expression) and id(source) in self.ancestors:
            self.holders.add(var)
        elif var in self.holders and source is not None:
            self.holders.discard(var)

    def statement(self, s: Statement) -> None:
        # What a `try` around this statement sees if it raises: the state
        # before it (a raising hand-off handed nothing over).  A statement
        # that cannot raise (`return`, `pass`, a logging call) reaches only
        # a `finally`.
        raises = may_raise(s)
        if self.collectors:
            self.record(self.var, raises=raises)
        self.quiet = not raises  # nor do the uses in it
        # (the walker's table of handlers holds its own methods, not these)
        if isinstance(s, WithStmt):
            self.with_stmt(s)
        elif isinstance(s, OperatorAssignmentStmt):
            self.operator_assignment(s)
        elif isinstance(s, DelStmt):
            self.delete(s)
        elif isinstance(s, ForStmt):
            self.for_stmt(s)
        else:
            super().statement(s)
        self.quiet = False

    def record(self, var: Var, *, raises: bool = True) -> None:
        super().record(var, raises=raises and not self.quiet)

    def expr(self, e: Expression) -> None:
        self.stack.append(e)
        super().expr(e)
        self.stack.pop()
        if isinstance(e, CallExpr):
            self._after_call(e)
        elif isinstance(e, AwaitExpr) and (e.expr is self.call or _var_of(e.expr) in self.holders):
            # An await can be cancelled while the thread still runs: the
            # handlers of a `try` around it see the value lent.
            if self.collectors:
                self.record(self.var)
            self._end()

    def target(self, t: Expression, source: Source) -> None:
        if isinstance(t, (IndexExpr, MemberExpr)):
            self.written.add(id(t))
            if isinstance(t, IndexExpr) and id(source) in self.ancestors:
                self._hold(t.base)
        super().target(t, source)

    def operator_assignment(self, s: OperatorAssignmentStmt) -> None:
        self.written.add(id(s.lvalue))
        super().operator_assignment(s)

    def delete(self, s: DelStmt) -> None:
        targets = s.expr.items if isinstance(s.expr, TupleExpr) else [s.expr]
        self.written.update(id(t) for t in targets)
        super().delete(s)

    def with_stmt(self, s: WithStmt) -> None:
        pool = False
        for expr, target in zip(s.expr, s.target):
            self.expr(expr)
            if target is not None:
                self.target(target, expr)
            pool = pool or _var_of(target) in self.pools or _var_of(expr) in self.pools or id(expr) in self.ancestors
        if not pool:
            self.block(s.body)
            return
        # Leaving `with executor:` waits for its work, on every way out:
        # what raises out of the body reaches an enclosing `try` after it.
        outer, leaving = self.collectors, {self.var: self._phases()} if self.state is not None else {}
        self.collectors = [leaving]
        self.block(s.body)
        self.collectors = outer
        normal, self.state = self.state, leaving
        self._end()
        if outer:
            self.record(self.var)
        self.state = normal
        self._end()

    def _after_call(self, e: CallExpr) -> None:
        callee = e.callee
        if e is self.call:
            self.ancestors = {id(x) for x in self.stack}
            self.ancestors.add(id(e))
            if self.at_call:
                self._start(e)
            else:
                # (a thread of an earlier iteration may still have it)
                self._set((self._phases() & {LENT, DONE}) | {BUILT})
            return
        if isinstance(callee, MemberExpr):
            receiver = callee.expr
            mine = self._mine(receiver)
            if callee.name == "start" and mine:
                self._start(e)
            elif callee.name == "start" and self._other(receiver):
                self._start_other(e, self._other(receiver) or {})
            elif callee.name in JOIN_METHODS and mine:
                self._end()
            elif callee.name in POOL_METHODS and _var_of(receiver) in self.pools and not _no_wait(e):
                self._end()
            elif callee.name in _STORE_METHODS:
                if any(id(a) in self.ancestors or _var_of(a) in self.holders for a in e.args):
                    self._hold(receiver)
                container = _var_of(receiver)
                for a in e.args:
                    other = self._other(a)
                    if other and container is not None:
                        self.built.setdefault(container, {}).update(other)
        elif isinstance(callee, RefExpr) and callee.fullname in WAIT_FUNCTIONS:
            if any(_var_of(a) in self.holders or id(a) in self.ancestors for a in e.args):
                self._end()

    def _start(self, at: Expression) -> None:
        if self.state is None:
            return
        phases = self._phases()
        if self.at_call and at is self.call:
            phases = frozenset({LENT})
        elif BUILT in phases:
            if LENT in phases:
                # the thread of an earlier iteration still has it: a second
                # thread running the same code gets it too
                key: UseKey = (at, self.var)
                self._start_other(at, {key: self.conflicts(key, [], False, True)})
                phases = self._phases()
            phases = (phases - {BUILT}) | {LENT}
        else:
            return
        self.starts.append(at)
        self._set(phases)

    def _start_other(self, at: Expression, uses: dict[UseKey, tuple[bool, bool]]) -> None:
        """Another thread, built with the value, starts while ours may still
        run with it: a conflict when the two threads' accesses race (one
        writes while the other's access is compound, ``model.access``)."""
        phases = self._phases()
        if LENT not in phases or not uses:
            return
        if any(races for races, _ in uses.values()):
            writes = any(writes for _, writes in uses.values())
            key: UseKey = (at, self.var)
            self.reported[key] = self.reported.get(key, False) or writes
            self._set((phases - {LENT}) | {DONE})

    def for_stmt(self, s: ForStmt) -> None:
        if _var_of(s.expr) not in self.holders:
            super().for_stmt(s)
            return
        # `for t in threads: t.join()`: the list holds the threads started,
        # so the loop runs once for each of them; it ends after an
        # iteration, not straight from its entry.
        self.expr(s.expr)
        entry = copy_state(self.state)
        head = entry
        frame: LoopFrame[str] = LoopFrame()
        after: State[str] | None = None
        for _ in range(MAX_LOOP_ROUNDS):
            frame = LoopFrame()
            self.loops.append(frame)
            self.state = copy_state(head)
            self.target(s.index, ItemOf(s.expr))
            self.block(s.body)
            self.loops.pop()
            after = join([self.state, *frame.continues])
            new_head = join([entry, after])
            if new_head == head:
                break
            head = new_head
        self.after_loop(after, frame, s.else_body)

    def _end(self) -> None:
        if self._phases() & {LENT, DONE}:
            self.joins = True
        self._move(LENT, BACK)

    def _other(self, e: Expression | None) -> dict[UseKey, tuple[bool, bool]] | None:
        """The uses of the value at the construction of another thread that
        ``e`` stands for (that thread, a list of them), if any."""
        if e is None:
            return None
        found = self.pending.get(id(e))
        var = _var_of(e)
        return found if found is not None or var is None else self.built.get(var)

    def _mine(self, e: Expression) -> bool:
        """Does ``e`` stand for the thread (or future) the value went to?"""
        return e is self.call or _var_of(e) in self.holders

    def _hold(self, e: Expression) -> None:
        var = _var_of(e)
        if var is not None:
            self.holders.add(var)


def _var_of(e: Expression | None) -> Var | None:
    if isinstance(e, _Name) and isinstance(e.node, Var):
        return e.node
    return None


def _no_wait(call: CallExpr) -> bool:
    for name, arg in zip(call.arg_names, call.args):
        if name == "wait" and isinstance(arg, NameExpr) and arg.fullname == "builtins.False":
            return True
    return bool(call.args) and call.arg_names[0] is None and isinstance(call.args[0], NameExpr) and call.args[0].fullname == "builtins.False"



def may_raise(s: Statement) -> bool:
    """Can an exception leave ``s``?  Not ``pass``, ``break``, ``continue``,
    a ``return`` of a name or a constant, nor a logging call of names,
    constants and their attributes (logging swallows what goes wrong while
    it logs)."""
    if isinstance(s, (PassStmt, BreakStmt, ContinueStmt)):
        return False
    if isinstance(s, ReturnStmt):
        return s.expr is not None and not _plain(s.expr)
    if isinstance(s, ExpressionStmt) and isinstance(s.expr, CallExpr):
        return not (_logging(s.expr.callee) and all(_plain(a) for a in s.expr.args))
    return True


def _plain(e: Expression) -> bool:
    while isinstance(e, MemberExpr):
        e = e.expr
    return isinstance(e, (NameExpr, StrExpr, IntExpr, FloatExpr, BytesExpr))


def _logging(callee: Expression) -> bool:
    if isinstance(callee, NameExpr) and callee.fullname.startswith("logging.") and callee.name in _LOG_METHODS:
        return True  # logging.debug(...)
    if not isinstance(callee, MemberExpr) or callee.name not in _LOG_METHODS:
        return False
    logger = callee.expr.node if isinstance(callee.expr, RefExpr) else None
    typ = get_proper_type(logger.type) if isinstance(logger, Var) else None
    return isinstance(typ, Instance) and typ.type.fullname in _LOGGERS
