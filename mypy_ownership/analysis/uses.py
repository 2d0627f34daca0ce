"""Uses: which use of a variable can come right after which, along every
path through a function body.

One walk of the body (``flow.FlowWalker``) computes, for every *use* of a
local -- every reference to it that is not an assignment -- the uses of the
same variable that may come next on some path with no rebinding and no other
use in between.  A move is a use, so the uses reached from a move are exactly
the first uses after it: the ones rustc reports (E0382).  The result is
gathered once per function and serves every move the checker later finds in
it; moves need types, which only the type checker knows, so this layer knows
nothing of moves.

The state at a point maps each variable to its *pending* uses: the uses that
are not yet followed by another use or a rebinding.  Branches join by union.
Between two statements of the body's top level (no loop around them, no
``try`` open) a variable that no later statement names is dropped from the
state: its pending uses can have no successor any more.  Long functions bind
many variables (mypy renames a loop's or a ``with``'s target at each new
binding, ``s1'``, ``s1''``...), and a state holding them all would make
every branch and loop cost as much as the function is long.
"""

from __future__ import annotations

from collections.abc import Iterable

from mypy.checker import TypeChecker
from mypy.nodes import Context, FuncItem, MypyFile, NameExpr, Statement, Var
from mypy.plugin import CheckerPluginInterface

from mypy_ownership.analysis.flow import FlowWalker, Source, UseKey
from mypy_ownership.analysis.syntax import names_in


class UseGraph:
    """The result of the flow analysis of one function (or module) body."""

    __slots__ = ("successors", "owned", "name_bound")

    def __init__(self) -> None:
        # use -> the uses of the same variable that can come next
        self.successors: dict[UseKey, set[UseKey]] = {}
        # variables this body owns: its parameters and the names it binds
        self.owned: set[Var] = set()
        # variables bound from another name or bound to one (`b = a`, `with
        # a as b`, `(b := a)`: both): the only ones that may alias another
        self.name_bound: set[Var] = set()

    def next_uses(self, use: UseKey) -> Iterable[UseKey]:
        return self.successors.get(use, ())


def context_of(use: UseKey) -> Context:
    """Where to report a use: the name, or the closure reference."""
    return use[0] if isinstance(use, tuple) else use


class UseGraphs:
    """The use graphs of the module being checked, by function (the module's
    own body too), each built on the first request from inside it and kept
    for the checks that ask after it."""

    def __init__(self) -> None:
        self._checker: TypeChecker | None = None
        self._graphs: dict[int, tuple[FuncItem | MypyFile, UseGraph]] = {}

    def of(self, api: CheckerPluginInterface) -> UseGraph | None:
        """The graph of the function (or module body) ``api`` is checking;
        None in a class body."""
        assert isinstance(api, TypeChecker)
        if api is not self._checker:
            # A new checker for each module (and, in the daemon, for each
            # re-check of one, whose functions keep their objects but may
            # have new bodies): the graphs of the last one are dropped.
            self._checker = api
            self._graphs = {}
        owner: FuncItem | MypyFile | None = api.scope.current_function()
        if owner is None:
            if not isinstance(api.scope.stack[-1], MypyFile):
                return None  # a class body: not analysed
            owner = api.tree
        cached = self._graphs.get(id(owner))
        if cached is not None and cached[0] is owner:
            return cached[1]
        graph = analyse_module(owner) if isinstance(owner, MypyFile) else analyse_function(owner)
        self._graphs[id(owner)] = (owner, graph)
        return graph


def analyse_function(func: FuncItem) -> UseGraph:
    walker = UseWalker(module_level=False)
    for arg in func.arguments:
        walker.graph.owned.add(arg.variable)
    if not func.body.is_unreachable:
        walker.top_level(func.body.body)
    return walker.graph


def analyse_module(tree: MypyFile) -> UseGraph:
    walker = UseWalker(module_level=True)
    walker.top_level(tree.defs)
    return walker.graph


class UseWalker(FlowWalker[UseKey]):
    """Which use of a variable can come right after which (see the module
    docstring): the state holds each variable's pending uses."""

    # A use replaces a variable's pending uses, a binding drops them: a
    # larger state in gives a larger state and more successors out.
    monotone = True

    def __init__(self, *, module_level: bool) -> None:
        super().__init__(module_level=module_level)
        self.graph = UseGraph()
        # captured by a local closure: used wherever the closure is named
        self.captured: set[Var] = set()

    def use(self, key: UseKey, var: Var) -> None:
        state = self.state
        if state is None:
            return
        pending = state.get(var)
        if pending:
            successors = self.graph.successors
            for before in pending:
                successors.setdefault(before, set()).add(key)
        state[var] = frozenset((key,))
        self.record(var)

    def bind(self, var: Var, kind: int | None, source: Source) -> None:
        if self.owns(var, kind):
            self.graph.owned.add(var)
        if isinstance(source, NameExpr) and isinstance(source.node, Var) and source.node is not var:
            self.graph.name_bound.update((var, source.node))
        if self.state is not None:
            self.state.pop(var, None)

    def closure(self, func: FuncItem) -> None:
        super().closure(func)
        # A later reference to the closure's name uses what it captured.
        self.captured.update(self.closures.get(func, ()))

    def top_level(self, body: list[Statement]) -> None:
        """Walk ``body``, the top level of the function or module, dropping
        each variable after the last statement that names it."""
        last: dict[Var, int] = {}
        for index, stmt in enumerate(body):
            for name in names_in(stmt):
                if isinstance(name.node, Var):
                    last[name.node] = index
        dead_after: dict[int, list[Var]] = {}
        for var, index in last.items():
            dead_after.setdefault(index, []).append(var)
        for index, stmt in enumerate(body):
            if self.state is None:
                return  # the rest is unreachable
            self.statement(stmt)
            dead = dead_after.get(index)
            if dead:
                self._forget(dead)

    def _forget(self, dead: list[Var]) -> None:
        """Drop ``dead`` from the state (when the flow goes on).  A method of
        its own: read in ``top_level`` right after ``self.statement(...)``,
        ``self.state`` would keep the narrowing of the test before the call,
        which mypyc trusts (the compiled plugin raised TypeError there)."""
        state = self.state
        if state is not None:
            for var in dead:
                if var not in self.captured:
                    state.pop(var, None)
