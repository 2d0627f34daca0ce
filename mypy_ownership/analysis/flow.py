"""Flow: the control flow of a function (or module) body, walked once, for
analyses that follow a state along every path (``FlowWalker``).

A subclass says what a reference to a variable (``use``) and a binding
(``bind``) do to the state, which maps each variable to a set
(``analysis.states``); the walker carries it through branches (joined by
union), loops (walked until the state at their head stops growing, usually
in two rounds), ``try`` (a handler sees every state its guarded body
passed), ``with``, ``match``, comprehensions and closures.  ``None`` is an
unreachable point (after ``return``, ``raise``, ``break``, ``continue`` or a
call that never returns).  ``analysis.uses`` is the first such analysis:
which use of a variable can come right after which.  Modelled on mypy's
``partially_defined.py``, whose visitor base a plugin cannot subclass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from mypy.nodes import (
    GDEF,
    LDEF,
    AssertStmt,
    AssignmentExpr,
    AssignmentStmt,
    Block,
    BreakStmt,
    ClassDef,
    ConditionalExpr,
    ContinueStmt,
    Context,
    Decorator,
    DelStmt,
    DictionaryComprehension,
    Expression,
    ExpressionStmt,
    ForStmt,
    FuncDef,
    FuncItem,
    GeneratorExpr,
    IfStmt,
    Import,
    ImportFrom,
    LambdaExpr,
    ListComprehension,
    ListExpr,
    MatchStmt,
    MypyFile,
    NameExpr,
    NonlocalDecl,
    OpExpr,
    OperatorAssignmentStmt,
    OverloadedFuncDef,
    RaiseStmt,
    ReturnStmt,
    SetComprehension,
    StarExpr,
    Statement,
    TryStmt,
    TupleExpr,
    Var,
    WhileStmt,
    WithStmt,
)
from mypy.patterns import AsPattern, MappingPattern, Pattern, StarredPattern

from mypy_ownership.analysis.states import (
    MAX_LOOP_ROUNDS,
    NOTHING,
    LoopFrame,
    LoopHeads,
    State,
    copy_state,
    join,
)
from mypy_ownership.analysis.syntax import (
    closure_references,
    EXPRESSION_LEAVES,
    expression_children,
    function_of,
    is_false_literal,
    is_noreturn_call,
    is_true_literal,
    pattern_children,
)

# A use is the NameExpr of the reference, or, for a reference to a local
# closure (``worker`` in ``spawn(worker)``), the pair (reference, captured var).
UseKey = NameExpr | tuple[Expression, Var]
# What the state holds per variable: uses, aliases or roots, by subclass.
T = TypeVar("T")

class ItemOf:
    """The source of a binding that takes one item of ``expr``: a loop
    variable, a comprehension variable, a target unpacked from it.  A plain
    class with slots, not a NamedTuple: every mypy run imports this module."""

    __slots__ = ("expr",)

    expr: Expression

    def __init__(self, expr: Expression) -> None:
        self.expr = expr

    def __repr__(self) -> str:
        return f"ItemOf({self.expr!r})"


Source = Expression | ItemOf | None


def _item_of(source: Source) -> Source:
    return ItemOf(source) if isinstance(source, Expression) else source


class FlowWalker(Generic[T]):
    """The control flow of a body; subclasses say what a reference and a
    binding do to the state (which maps each variable to a set of ``T``)."""

    #: A subclass whose ``use`` and ``bind`` are monotone (a larger state in:
    #: a larger state and a superset of the results out) sets this: a loop
    #: walked again, in an enclosing loop's next round, then starts from the
    #: head it reached before (``states.LoopHeads``), and nested loops cost
    #: one more round each instead of doubling at every level.
    monotone = False

    def __init__(self, *, module_level: bool) -> None:
        self.module_level = module_level
        self.state: State[T] | None = {}
        self.loops: list[LoopFrame[T]] = []
        self.loop_heads: LoopHeads[T] | None = LoopHeads() if self.monotone else None
        # Open `try` statements: every use inside a guarded body is added to
        # these, so each holds the join of all the states the body passed;
        # ``handling``: the ids of the ones that feed `except` handlers (the
        # others feed a `finally`, which a `return` reaches too).
        self.collectors: list[State[T]] = []
        self.handling: set[int] = set()
        self.nonlocal_names: set[str] = set()
        self.by_name: dict[str, Var] = {}
        # local closures -> the variables they capture, with their references
        self.closures: dict[FuncItem, dict[Var, list[NameExpr]]] = {}

    # -- events (what an analysis makes of a reference or a binding) ------------

    def use(self, key: UseKey, var: Var) -> None:
        """A reference to ``var`` that reads it."""
        raise NotImplementedError

    def bind(self, var: Var, kind: int | None, source: Source) -> None:
        """``var`` gets a new value, reached from ``source`` when known; or,
        with ``source`` None, none that the analysis can follow (``del``
        too)."""
        raise NotImplementedError

    def record(self, var: Var, *, raises: bool = True) -> None:
        """Fold the state of ``var`` into every open ``try``: a handler or
        ``finally`` block sees every state its guarded code passed (with
        ``raises`` False, a point no exception leaves: the ``finally`` only)."""
        if self.state is None:
            return
        now = self.state.get(var, NOTHING)
        for collector in self.collectors:
            if not raises and id(collector) in self.handling:
                continue
            mine = collector.get(var)
            collector[var] = now if mine is None else mine | now

    def owns(self, var: Var, kind: int | None) -> bool:
        """Is ``var`` a variable of this body (not of an enclosing one)?"""
        if var.name in self.nonlocal_names:
            return False
        return kind == (GDEF if self.module_level else LDEF)

    # -- statements --------------------------------------------------------

    def block(self, block: Block) -> None:
        if block.is_unreachable:
            return
        self.statements(block.body)

    def statements(self, body: list[Statement]) -> None:
        for stmt in body:
            if self.state is None:
                return  # the rest is unreachable: no use there counts
            self.statement(stmt)

    def branch(self, block: Block | None, entry: State[T] | None) -> State[T] | None:
        """Walk ``block`` from ``entry``; the state where it ends."""
        if block is not None and block.is_unreachable:
            return None
        self.state = copy_state(entry)
        if block is not None:
            self.block(block)
        return self.state

    def statement(self, s: Statement) -> None:
        handler = _STATEMENTS.get(type(s))
        if handler is not None:
            handler(self, s)
        elif isinstance(s, Block):
            self.block(s)

    def expression_stmt(self, s: ExpressionStmt) -> None:
        self.expr(s.expr)
        if is_noreturn_call(s.expr):
            self.state = None

    def assignment(self, s: AssignmentStmt) -> None:
        self.expr(s.rvalue)
        for lvalue in s.lvalues:
            self.target(lvalue, s.rvalue)

    def operator_assignment(self, s: OperatorAssignmentStmt) -> None:
        # `v += x` reads v first, then rebinds it
        self.expr(s.lvalue)
        self.expr(s.rvalue)
        if isinstance(s.lvalue, NameExpr):
            self.target(s.lvalue, s.lvalue)

    def delete(self, s: DelStmt) -> None:
        targets = s.expr.items if isinstance(s.expr, TupleExpr) else [s.expr]
        for t in targets:
            if isinstance(t, NameExpr) and isinstance(t.node, Var):
                self.bind(t.node, t.kind, None)  # unbound
            else:
                self.expr(t)

    def return_stmt(self, s: ReturnStmt) -> None:
        if s.expr is not None:
            self.expr(s.expr)
        self.state = None

    def raise_stmt(self, s: RaiseStmt) -> None:
        for e in (s.expr, s.from_expr):
            if e is not None:
                self.expr(e)
        self.state = None

    def assert_stmt(self, s: AssertStmt) -> None:
        self.expr(s.expr)
        if s.msg is not None:
            after = copy_state(self.state)
            self.expr(s.msg)  # evaluated only on failure, which raises
            self.state = after
        if is_false_literal(s.expr):
            self.state = None

    def break_stmt(self, s: BreakStmt) -> None:
        if self.loops:
            self.loops[-1].breaks.append(copy_state(self.state))
        self.state = None

    def continue_stmt(self, s: ContinueStmt) -> None:
        if self.loops:
            self.loops[-1].continues.append(copy_state(self.state))
        self.state = None

    def if_stmt(self, s: IfStmt) -> None:
        exits: list[State[T] | None] = []
        for cond, body in zip(s.expr, s.body):
            self.expr(cond)
            after_cond = copy_state(self.state)
            exits.append(self.branch(body, after_cond))
            self.state = after_cond
        exits.append(self.branch(s.else_body, self.state))
        self.state = join(exits)

    def while_stmt(self, s: WhileStmt) -> None:
        exit_state, frame = self.loop(s.body, condition=s.expr, forever=is_true_literal(s.expr))
        self.after_loop(exit_state, frame, s.else_body)

    def for_stmt(self, s: ForStmt) -> None:
        self.expr(s.expr)
        exit_state, frame = self.loop(s.body, target=s.index, source=s.expr)
        self.after_loop(exit_state, frame, s.else_body)

    def loop(
        self,
        body: Block,
        *,
        condition: Expression | None = None,
        target: Expression | None = None,
        source: Expression | None = None,
        forever: bool = False,
    ) -> tuple[State[T] | None, LoopFrame[T]]:
        """Walk a loop body until the state at its head stops growing.

        Every iteration starts by checking ``condition`` (a ``while``) and
        may leave the loop there; then it binds ``target`` (a ``for``).
        Returns the state in which the loop ends normally, and the frame
        with the states at its ``break``s."""
        entry = copy_state(self.state)
        heads = self.loop_heads
        head = entry if heads is None else heads.start(body, entry)
        frame: LoopFrame[T] = LoopFrame()
        exit_state: State[T] | None = None
        for _ in range(MAX_LOOP_ROUNDS):
            frame = LoopFrame()
            self.loops.append(frame)
            self.state = copy_state(head)
            if condition is not None:
                self.expr(condition)
            exit_state = None if forever else copy_state(self.state)
            if target is not None:
                self.target(target, _item_of(source))
            self.block(body)
            self.loops.pop()
            new_head = join([entry, self.state, *frame.continues])
            if new_head == head:
                break
            head = new_head
        if heads is not None:
            heads.reached(body, entry, head)
        return exit_state, frame

    def after_loop(self, exit_state: State[T] | None, frame: LoopFrame[T], else_body: Block | None) -> None:
        self.state = exit_state
        if else_body is not None and self.state is not None:
            self.block(else_body)
        self.state = join([self.state, *frame.breaks])

    def try_stmt(self, s: TryStmt) -> None:
        entry = copy_state(self.state) or {}
        to_handlers: State[T] = dict(entry)
        to_finally: State[T] | None = dict(entry) if s.finally_body is not None else None
        if to_finally is not None:
            self.collectors.append(to_finally)
        self.collectors.append(to_handlers)
        self.handling.add(id(to_handlers))
        self.block(s.body)
        self.collectors.pop()
        self.handling.discard(id(to_handlers))
        if s.else_body is not None and self.state is not None:
            self.block(s.else_body)
        exits: list[State[T] | None] = [self.state]
        for typ, name, handler in zip(s.types, s.vars, s.handlers):
            # copy_state: typed State | None, so that the test below the
            # handler's walk is not taken as always true (mypyc trusts it)
            self.state = copy_state(to_handlers)
            if typ is not None:
                self.expr(typ)
            if name is not None:
                self.target(name, None)
            self.block(handler)
            if name is not None and self.state is not None and isinstance(name.node, Var):
                self.bind(name.node, name.kind, None)  # Python deletes it after the handler
            exits.append(self.state)
        if to_finally is not None:
            self.collectors.pop()
        self.state = join(exits)
        if s.finally_body is not None:
            normal = self.state
            # On the way out of an exception the finally block sees every
            # state the guarded code passed; that path then re-raises.
            self.state = to_finally
            self.block(s.finally_body)
            self.state = normal
            if self.state is not None:
                self.block(s.finally_body)

    def with_stmt(self, s: WithStmt) -> None:
        for expr, target in zip(s.expr, s.target):
            self.expr(expr)
            if target is not None:
                self.target(target, expr)
        self.block(s.body)

    def match_stmt(self, s: MatchStmt) -> None:
        """A case is tried when those above failed, on a pattern or after a
        guard ran: what a guard moves is moved for the cases below."""
        self.expr(s.subject)
        untried = copy_state(self.state)
        exits: list[State[T] | None] = []
        exhaustive = False
        for pattern, guard, body in zip(s.patterns, s.guards, s.bodies):
            self.state = copy_state(untried)
            self.pattern(pattern, ItemOf(s.subject))
            if guard is not None:
                self.expr(guard)
                untried = join([untried, self.state])
            exits.append(self.branch(body, self.state))
            if guard is None and isinstance(pattern, AsPattern) and pattern.pattern is None:
                exhaustive = True  # `case _:` or `case name:`
        if not exhaustive:
            exits.append(untried)
        self.state = join(exits)

    def pattern(self, p: Pattern, subject: Source) -> None:
        for child in pattern_children(p):
            if isinstance(child, Pattern):
                self.pattern(child, subject)
            else:
                self.expr(child)
        name = (
            p.name if isinstance(p, AsPattern)
            else p.capture if isinstance(p, StarredPattern)
            else p.rest if isinstance(p, MappingPattern)
            else None
        )
        if name is not None:
            self.target(name, subject)

    def func_def(self, s: FuncItem) -> None:
        for arg in s.arguments:
            if arg.initializer is not None:
                self.expr(arg.initializer)
        if not self.module_level:
            self.closure(s)

    def decorator(self, s: Decorator) -> None:
        for d in s.decorators:
            self.expr(d)
        self.func_def(s.func)

    def overloaded(self, s: OverloadedFuncDef) -> None:
        for item in s.items:
            self.statement(item)

    def class_def(self, s: ClassDef) -> None:
        for d in s.decorators:
            self.expr(d)
        # The class body runs right here; its assignments bind class
        # attributes, which `bind` does not take for locals.
        self.block(s.defs)

    def import_stmt(self, s: Import | ImportFrom) -> None:
        if isinstance(s, Import):
            names = [alias or name.split(".")[0] for name, alias in s.ids]
        else:
            names = [alias or name for name, alias in s.names]
        for name in names:
            var = self.by_name.get(name)
            if var is not None:
                self.bind(var, LDEF if not self.module_level else GDEF, None)

    def nonlocal_decl(self, s: NonlocalDecl) -> None:
        self.nonlocal_names.update(s.names)

    # -- expressions and targets -----------------------------------------------

    def target(self, t: Expression, source: Source) -> None:
        """An assignment target: names are rebound, the rest is evaluated."""
        if isinstance(t, NameExpr):
            if isinstance(t.node, Var):
                if self.owns(t.node, t.kind):
                    self.by_name[t.node.name] = t.node
                self.bind(t.node, t.kind, source)
        elif isinstance(t, (TupleExpr, ListExpr)):
            items = source.items if isinstance(source, (TupleExpr, ListExpr)) else None
            paired = items is not None and len(items) == len(t.items)
            for i, item in enumerate(t.items):
                if paired and items is not None:
                    self.target(item, items[i])
                else:
                    self.target(item, _item_of(source))
        elif isinstance(t, StarExpr):
            self.target(t.expr, source)
        else:
            self.expr(t)  # `obj.x = ...` and `obj[i] = ...` use obj

    def expr(self, e: Expression) -> None:
        handler = _EXPRESSIONS.get(type(e))
        if handler is not None:
            handler(self, e)
        elif type(e) not in EXPRESSION_LEAVES:  # a literal: nothing below it
            for child in expression_children(e):
                self.expr(child)

    def name_expr(self, e: NameExpr) -> None:
        node = e.node
        if isinstance(node, Var):
            self.use(e, node)
        elif node is not None and not self.module_level:
            func = function_of(node)
            captures = self.closures.get(func) if func is not None else None
            if captures:
                # Referring to a local closure reads what it captured.
                for var in captures:
                    self.use((e, var), var)

    def op_expr(self, e: OpExpr) -> None:
        self.expr(e.left)
        if e.op in ("and", "or"):
            skipped = copy_state(self.state)
            self.expr(e.right)
            self.state = join([skipped, self.state])
        else:
            self.expr(e.right)

    def conditional_expr(self, e: ConditionalExpr) -> None:
        self.expr(e.cond)
        before = copy_state(self.state)
        self.expr(e.if_expr)
        taken = self.state
        self.state = before
        self.expr(e.else_expr)
        self.state = join([taken, self.state])

    def assignment_expr(self, e: AssignmentExpr) -> None:
        self.expr(e.value)
        self.target(e.target, e.value)

    def lambda_expr(self, e: LambdaExpr) -> None:
        for arg in e.arguments:
            if arg.initializer is not None:
                self.expr(arg.initializer)
        self.closure(e)

    def list_comprehension(self, e: ListComprehension | SetComprehension) -> None:
        self.comprehension(e.generator)

    def closure(self, func: FuncItem) -> None:
        """Creating a closure uses every variable it captures, right here."""
        refs = closure_references(func)
        captures: dict[Var, list[NameExpr]] = {}
        for ref in refs:
            var = ref.node
            assert isinstance(var, Var)
            captures.setdefault(var, []).append(ref)
            self.use(ref, var)
        if isinstance(func, FuncDef):
            self.closures[func] = captures

    def comprehension(self, g: GeneratorExpr | DictionaryComprehension) -> None:
        # The first iterable is evaluated once, outside; everything else runs
        # once per item, so it is a loop.
        self.expr(g.sequences[0])
        elements = [g.left_expr] if isinstance(g, GeneratorExpr) else [g.value] if g.key is None else [g.key, g.value]

        def iteration() -> None:
            for i, (seq, index, conds) in enumerate(zip(g.sequences, g.indices, g.condlists)):
                if i:
                    self.expr(seq)
                self.target(index, _item_of(seq))
                for cond in conds:
                    self.expr(cond)
            for element in elements:
                self.expr(element)

        entry = copy_state(self.state)
        head = entry
        for _ in range(MAX_LOOP_ROUNDS):
            self.state = copy_state(head)
            iteration()
            new_head = join([entry, self.state])
            if new_head == head:
                break
            head = new_head
        self.state = head


# Each handler takes the statement type it is filed under (hence Any).
_STATEMENTS: dict[type[Statement], Callable[[FlowWalker[Any], Any], None]] = {
    ExpressionStmt: FlowWalker.expression_stmt,
    AssignmentStmt: FlowWalker.assignment,
    OperatorAssignmentStmt: FlowWalker.operator_assignment,
    DelStmt: FlowWalker.delete,
    ReturnStmt: FlowWalker.return_stmt,
    RaiseStmt: FlowWalker.raise_stmt,
    AssertStmt: FlowWalker.assert_stmt,
    BreakStmt: FlowWalker.break_stmt,
    ContinueStmt: FlowWalker.continue_stmt,
    IfStmt: FlowWalker.if_stmt,
    WhileStmt: FlowWalker.while_stmt,
    ForStmt: FlowWalker.for_stmt,
    TryStmt: FlowWalker.try_stmt,
    WithStmt: FlowWalker.with_stmt,
    MatchStmt: FlowWalker.match_stmt,
    FuncDef: FlowWalker.func_def,
    Decorator: FlowWalker.decorator,
    OverloadedFuncDef: FlowWalker.overloaded,
    ClassDef: FlowWalker.class_def,
    Import: FlowWalker.import_stmt,
    ImportFrom: FlowWalker.import_stmt,
    NonlocalDecl: FlowWalker.nonlocal_decl,
    Block: FlowWalker.block,
}

# Expressions with more to them than their children, evaluated in order:
# by exact type (mypy's node classes are final), the rest walks the children.
_EXPRESSIONS: dict[type[Expression], Callable[[FlowWalker[Any], Any], None]] = {
    NameExpr: FlowWalker.name_expr,
    OpExpr: FlowWalker.op_expr,
    ConditionalExpr: FlowWalker.conditional_expr,
    AssignmentExpr: FlowWalker.assignment_expr,
    LambdaExpr: FlowWalker.lambda_expr,
    ListComprehension: FlowWalker.list_comprehension,
    SetComprehension: FlowWalker.list_comprehension,
    GeneratorExpr: FlowWalker.comprehension,
    DictionaryComprehension: FlowWalker.comprehension,
}
