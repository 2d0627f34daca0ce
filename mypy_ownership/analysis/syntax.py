"""Small facts about mypy's AST that the analyses share.

mypy's visitor bases are compiled and cannot be subclassed from a plugin, so
the tree is walked with plain ``isinstance`` dispatch.  ``children`` lists a
node's sub-nodes in evaluation order; it is the generic fallback used where a
construct has no control-flow meaning of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from mypy.nodes import (
    GDEF,
    LDEF,
    AssertStmt,
    AssertTypeExpr,
    AssignmentExpr,
    AssignmentStmt,
    AwaitExpr,
    Block,
    BytesExpr,
    CallExpr,
    CastExpr,
    ClassDef,
    ComparisonExpr,
    ComplexExpr,
    ConditionalExpr,
    Decorator,
    DelStmt,
    DictExpr,
    DictionaryComprehension,
    EllipsisExpr,
    Expression,
    ExpressionStmt,
    FloatExpr,
    ForStmt,
    FuncDef,
    FuncItem,
    GeneratorExpr,
    IfStmt,
    IndexExpr,
    IntExpr,
    LambdaExpr,
    ListComprehension,
    ListExpr,
    MatchStmt,
    MemberExpr,
    NameExpr,
    Node,
    OperatorAssignmentStmt,
    OpExpr,
    OverloadedFuncDef,
    RaiseStmt,
    ReturnStmt,
    RevealExpr,
    SetComprehension,
    SetExpr,
    SliceExpr,
    StarExpr,
    StrExpr,
    TemplateStrExpr,
    TryStmt,
    TupleExpr,
    TypeApplication,
    UnaryExpr,
    Var,
    WhileStmt,
    WithStmt,
    YieldExpr,
    YieldFromExpr,
)
from mypy.patterns import (
    AsPattern,
    ClassPattern,
    MappingPattern,
    OrPattern,
    Pattern,
    SequencePattern,
    StarredPattern,
    ValuePattern,
)
from mypy.traverser import NameAndMemberCollector
from mypy.types import CallableType, UninhabitedType, get_proper_type

# Expressions without sub-expressions: most nodes of any tree, so answered
# first (mypy's node classes are final: an exact type check is enough).
EXPRESSION_LEAVES = frozenset({NameExpr, IntExpr, StrExpr, BytesExpr, FloatExpr, ComplexExpr, EllipsisExpr})


def expression_children(e: Expression) -> list[Expression]:
    """The sub-expressions of ``e`` in evaluation order (lambdas and
    comprehensions included, as if evaluated inline)."""
    if type(e) in EXPRESSION_LEAVES:
        return []
    if isinstance(e, (MemberExpr, StarExpr, UnaryExpr, CastExpr, AssertTypeExpr, AwaitExpr, YieldFromExpr, TypeApplication)):
        return [e.expr]
    if isinstance(e, CallExpr):
        return [e.callee, *e.args]
    if isinstance(e, (OpExpr,)):
        return [e.left, e.right]
    if isinstance(e, ComparisonExpr):
        return list(e.operands)
    if isinstance(e, IndexExpr):
        return [e.base, e.index]
    if isinstance(e, (ListExpr, TupleExpr, SetExpr)):
        return list(e.items)
    if isinstance(e, DictExpr):
        return [x for pair in e.items for x in pair if x is not None]
    if isinstance(e, ConditionalExpr):
        return [e.cond, e.if_expr, e.else_expr]
    if isinstance(e, SliceExpr):
        return [x for x in (e.begin_index, e.end_index, e.stride) if x is not None]
    if isinstance(e, (YieldExpr, RevealExpr)):
        return [e.expr] if e.expr is not None else []
    if isinstance(e, AssignmentExpr):
        return [e.value, e.target]
    if isinstance(e, (ListComprehension, SetComprehension)):
        return expression_children(e.generator)
    if isinstance(e, GeneratorExpr):
        out: list[Expression] = []
        for seq, index, conds in zip(e.sequences, e.indices, e.condlists):
            out += [seq, index, *conds]
        return [*out, e.left_expr]
    if isinstance(e, DictionaryComprehension):
        out = []
        for seq, index, conds in zip(e.sequences, e.indices, e.condlists):
            out += [seq, index, *conds]
        if e.key is not None:  # None: ``{**d for ...}`` (Python 3.15)
            out.append(e.key)
        return [*out, e.value]
    if isinstance(e, TemplateStrExpr):
        out = []
        for item in e.items:
            if isinstance(item, tuple):
                out.append(item[0])
                if item[3] is not None:
                    out.append(item[3])
            else:
                out.append(item)
        return out
    return []


def pattern_children(p: Pattern) -> Iterator[Pattern | Expression]:
    if isinstance(p, AsPattern):
        if p.pattern is not None:
            yield p.pattern
    elif isinstance(p, OrPattern):
        yield from p.patterns
    elif isinstance(p, ValuePattern):
        yield p.expr
    elif isinstance(p, SequencePattern):
        yield from p.patterns
    elif isinstance(p, MappingPattern):
        for key, value in zip(p.keys, p.values):
            yield key
            yield value
    elif isinstance(p, ClassPattern):
        yield p.class_ref
        yield from p.positionals
        yield from p.keyword_values


def pattern_captures(p: Pattern) -> Iterator[NameExpr]:
    """The names a ``match`` pattern binds."""
    if isinstance(p, AsPattern) and p.name is not None:
        yield p.name
    elif isinstance(p, StarredPattern) and p.capture is not None:
        yield p.capture
    elif isinstance(p, MappingPattern) and p.rest is not None:
        yield p.rest
    for child in pattern_children(p):
        if isinstance(child, Pattern):
            yield from pattern_captures(child)


def local_var(e: Node) -> Var | None:
    """The variable a plain name refers to, if it is a function local or a
    module global (not a class attribute or anything else)."""
    if isinstance(e, NameExpr) and isinstance(e.node, Var) and e.kind in (LDEF, GDEF):
        return e.node
    return None


def function_of(node: Node | None) -> FuncItem | None:
    """The function a name refers to (through a decorator)."""
    if isinstance(node, Decorator):
        return node.func
    if isinstance(node, FuncItem):
        return node
    return None


def code_of(node: Node | None) -> FuncItem | None:
    """The function whose code a call of ``node`` runs: ``function_of``,
    and for an overloaded function its implementation."""
    if isinstance(node, OverloadedFuncDef):
        return overload_implementation(node)
    return function_of(node)


def overload_implementation(node: OverloadedFuncDef) -> FuncItem | None:
    """The implementation of an overloaded function (what its calls run),
    None when it has none (a stub's, a protocol's) or ``node`` is a
    property with a setter.  mypy's parser puts the implementation last
    among the items, after variants that are all decorated ``@overload``;
    semantic analysis moves it to ``impl`` (a class hook may see either)."""
    if node.impl is not None:
        return function_of(node.impl)
    variants, last = node.items[:-1], node.items[-1] if node.items else None
    if last is None or not variants or not all(_is_overload_variant(v) for v in variants):
        return None
    return None if _is_overload_variant(last) else function_of(last)


def _is_overload_variant(item: Node | None) -> bool:
    """``@overload def f(...)``: by mypy's flag once analysed, by the
    decorator's name before (``overload``, ``typing.overload``)."""
    func = function_of(item)
    if func is not None and func.is_overload:
        return True
    return isinstance(item, Decorator) and any(
        isinstance(d, (NameExpr, MemberExpr)) and d.name == "overload" for d in item.decorators
    )


def is_true_literal(e: Expression) -> bool:
    """``True`` or a non-zero int (``while 1:``)."""
    if isinstance(e, NameExpr) and e.fullname == "builtins.True":
        return True
    return isinstance(e, IntExpr) and e.value != 0


def is_false_literal(e: Expression) -> bool:
    """``False`` or ``0`` (``assert False``)."""
    if isinstance(e, NameExpr) and e.fullname == "builtins.False":
        return True
    return isinstance(e, IntExpr) and e.value == 0


def is_noreturn_call(e: Expression) -> bool:
    """Is ``e`` a call of a function declared to never return (``sys.exit``)?"""
    if not isinstance(e, CallExpr) or not isinstance(e.callee, (NameExpr, MemberExpr)):
        return False
    func = function_of(e.callee.node)
    if func is None or not isinstance(func.type, CallableType):
        return False
    return isinstance(get_proper_type(func.type.ret_type), UninhabitedType)


def closure_references(func: FuncItem) -> list[NameExpr]:
    """Every reference to a variable in ``func``'s body, nested closures
    included, in textual order.  The ones that name variables of an enclosing
    scope are its captures; the caller decides which those are (its own
    locals), since the closure's locals have Var objects of their own."""
    own = {arg.variable for arg in func.arguments}
    refs: list[NameExpr] = []
    _collect_names(func.body, refs)
    return [r for r in refs if isinstance(r.node, Var) and r.node not in own]


def names_in(node: Node) -> list[NameExpr]:
    """Every name in ``node`` (a statement or an expression), nested
    functions, lambdas and classes included.  mypy's own traverser, which
    is compiled: several times faster than a walk written here."""
    collector = NameAndMemberCollector()
    node.accept(collector)
    return collector.name_exprs


def _collect_names(node: Node, out: list[NameExpr]) -> None:
    if isinstance(node, NameExpr):
        out.append(node)
        return
    if isinstance(node, Expression):
        if isinstance(node, LambdaExpr):
            _collect_names(node.body, out)
            return
        for child in expression_children(node):
            _collect_names(child, out)
        return
    for sub in _statement_children(node):
        _collect_names(sub, out)


def _statement_children(node: Node) -> list[Node]:
    """Sub-nodes of a statement-level node (statements, expressions, patterns)."""
    if isinstance(node, Block):
        return list(node.body)
    if isinstance(node, ExpressionStmt):
        return [node.expr]
    if isinstance(node, AssignmentStmt):
        return [node.rvalue, *node.lvalues]
    if isinstance(node, OperatorAssignmentStmt):
        return [node.lvalue, node.rvalue]
    if isinstance(node, (ReturnStmt,)):
        return [node.expr] if node.expr is not None else []
    if isinstance(node, RaiseStmt):
        return [x for x in (node.expr, node.from_expr) if x is not None]
    if isinstance(node, AssertStmt):
        return [x for x in (node.expr, node.msg) if x is not None]
    if isinstance(node, DelStmt):
        return [node.expr]
    if isinstance(node, IfStmt):
        out: list[Node] = []
        for cond, body in zip(node.expr, node.body):
            out += [cond, body]
        return out + ([node.else_body] if node.else_body else [])
    if isinstance(node, WhileStmt):
        return [node.expr, node.body] + ([node.else_body] if node.else_body else [])
    if isinstance(node, ForStmt):
        return [node.expr, node.index, node.body] + ([node.else_body] if node.else_body else [])
    if isinstance(node, WithStmt):
        out = []
        for expr, target in zip(node.expr, node.target):
            out.append(expr)
            if target is not None:
                out.append(target)
        return out + [node.body]
    if isinstance(node, TryStmt):
        out = [node.body]
        for typ, var, handler in zip(node.types, node.vars, node.handlers):
            out += [x for x in (typ, var) if x is not None]
            out.append(handler)
        return out + [x for x in (node.else_body, node.finally_body) if x is not None]
    if isinstance(node, MatchStmt):
        out = [node.subject]
        for pattern, guard, body in zip(node.patterns, node.guards, node.bodies):
            out += list(_pattern_nodes(pattern))
            if guard is not None:
                out.append(guard)
            out.append(body)
        return out
    if isinstance(node, Decorator):
        return [*node.decorators, node.func]
    if isinstance(node, FuncItem):
        defaults = [a.initializer for a in node.arguments if a.initializer is not None]
        return [*defaults, node.body]
    if isinstance(node, OverloadedFuncDef):
        return list(node.items)
    if isinstance(node, ClassDef):
        return [*node.decorators, node.defs]
    return []


def _pattern_nodes(p: Pattern) -> Iterator[Node]:
    yield from pattern_captures(p)
    for child in pattern_children(p):
        if isinstance(child, Pattern):
            yield from _pattern_nodes(child)
        else:
            yield child


statement_children = _statement_children


def inner_blocks(stmt: Node, *, nested: bool) -> list[Block]:
    """The blocks directly inside a statement, in source order (a ``try``'s
    body, ``else`` and ``finally``, then its handlers; a ``match``'s case
    bodies).  With ``nested``, also the bodies of the functions and classes
    it defines (a decorated ``def``, an overload's implementation and items,
    a class); a plain ``def``'s body comes either way.  Asked of every
    statement of every method walked: found by the statement's exact type
    (mypy's node classes are final), and most statements hold no block."""
    blocks = _INNER_BLOCKS.get(type(stmt))
    if blocks is None:
        return []
    found = blocks(stmt)
    if nested:
        return found
    return [] if type(stmt) in _DEFINITIONS else found


def _overload_blocks(stmt: OverloadedFuncDef) -> list[Block]:
    impl = [stmt.impl.body] if type(stmt.impl) is FuncDef else []
    return impl + [i.func.body if isinstance(i, Decorator) else i.body for i in stmt.items]


def _try_blocks(stmt: TryStmt) -> list[Block]:
    return [stmt.body, *(b for b in (stmt.else_body, stmt.finally_body) if b is not None), *stmt.handlers]


def _loop_blocks(stmt: WhileStmt | ForStmt) -> list[Block]:
    return [stmt.body] if stmt.else_body is None else [stmt.body, stmt.else_body]


_INNER_BLOCKS: dict[type, Callable[[Any], list[Block]]] = {
    IfStmt: lambda s: [*s.body, s.else_body] if s.else_body is not None else list(s.body),
    WhileStmt: _loop_blocks,
    ForStmt: _loop_blocks,
    WithStmt: lambda s: [s.body],
    TryStmt: _try_blocks,
    MatchStmt: lambda s: list(s.bodies),
    FuncDef: lambda s: [s.body],
    Decorator: lambda s: [s.func.body],
    OverloadedFuncDef: _overload_blocks,
    ClassDef: lambda s: [s.defs],
}
# the definitions whose bodies come only with ``nested`` (a plain ``def``'s
# always does: its ``body`` is a block like a loop's)
_DEFINITIONS = frozenset({Decorator, OverloadedFuncDef, ClassDef})
