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
hand-off inside one statement).  An ``await`` that ends the hand-off can be
cancelled while the thread still runs: the handlers see the value lent.

The objects that stand for the thread (``holders``: the ``Thread`` or
``Future`` the call made, a list it was put in, a loop variable over that
list, the executor it was submitted to) are collected as the walk meets
them; joining one of them ends the hand-off on that path.

The result: for each use of the variable, the phases it can be reached in
(``found``), whether the caller writes there (``conflicts`` decides, given
the expressions around the use), the start it follows, and whether the
function has any ordering point at all (``joins``).
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import (
    AwaitExpr,
    CallExpr,
    DelStmt,
    Expression,
    ForStmt,
    IndexExpr,
    MemberExpr,
    NameExpr,
    NameExpr as _Name,
    OperatorAssignmentStmt,
    RefExpr,
    Statement,
    TupleExpr,
    Var,
    WithStmt,
)

from mypy_ownership.analysis.flow import (
    _MAX_LOOP_ROUNDS,
    FlowWalker,
    ItemOf,
    Source,
    State,
    UseKey,
    _copy,
    _join,
    _LoopFrame,
)

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
        if LENT in phases:
            parents = self.stack[:-1]
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

    def bind(self, var: Var, kind: int | None, source: Source) -> None:
        if self.state is not None and var is self.var:
            self.state.pop(var, None)  # a new value: not the one handed over
        if isinstance(source, ItemOf) and isinstance(source.expr, NameExpr) and source.expr.node in self.holders:
            self.holders.add(var)
        elif isinstance(source, Expression) and id(source) in self.ancestors:
            self.holders.add(var)
        elif var in self.holders and source is not None:
            self.holders.discard(var)

    def statement(self, s: Statement) -> None:
        # What a `try` around this statement sees if it raises: the state
        # before it (a raising hand-off handed nothing over).
        if self.collectors:
            self.record(self.var)
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
        super().with_stmt(s)
        for expr, target in zip(s.expr, s.target):
            if _var_of(target) in self.pools or _var_of(expr) in self.pools or id(expr) in self.ancestors:
                self._end()  # leaving `with executor:` waits for its work

    def _after_call(self, e: CallExpr) -> None:
        callee = e.callee
        if e is self.call:
            self.ancestors = {id(x) for x in self.stack}
            self.ancestors.add(id(e))
            if self.at_call:
                self._start(e)
            else:
                self._set(frozenset({BUILT}))
            return
        if isinstance(callee, MemberExpr):
            receiver = callee.expr
            mine = receiver is self.call or _var_of(receiver) in self.holders
            if callee.name == "start" and mine:
                self._start(e)
            elif callee.name in JOIN_METHODS and mine:
                self._end()
            elif callee.name in POOL_METHODS and _var_of(receiver) in self.pools and not _no_wait(e):
                self._end()
            elif callee.name in _STORE_METHODS and any(id(a) in self.ancestors for a in e.args):
                self._hold(receiver)
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
            phases = (phases - {BUILT}) | {LENT}
        else:
            return
        self.starts.append(at)
        self._set(phases)

    def for_stmt(self, s: ForStmt) -> None:
        if _var_of(s.expr) not in self.holders:
            super().for_stmt(s)
            return
        # `for t in threads: t.join()`: the list holds the threads started,
        # so the loop runs once for each of them; it ends after an
        # iteration, not straight from its entry.
        self.expr(s.expr)
        entry = _copy(self.state)
        head = entry
        frame: _LoopFrame[str] = _LoopFrame()
        after: State[str] | None = None
        for _ in range(_MAX_LOOP_ROUNDS):
            frame = _LoopFrame()
            self.loops.append(frame)
            self.state = _copy(head)
            self.target(s.index, ItemOf(s.expr))
            self.block(s.body)
            self.loops.pop()
            after = _join([self.state, *frame.continues])
            new_head = _join([entry, after])
            if new_head == head:
                break
            head = new_head
        self.after_loop(after, frame, s.else_body)

    def _end(self) -> None:
        if self._phases() & {LENT, DONE}:
            self.joins = True
        self._move(LENT, BACK)

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

