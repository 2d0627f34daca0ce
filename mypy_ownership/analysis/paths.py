"""Places: a local variable and the attributes and items reached from it
(``v``, ``v.items``, an item of ``v``), and the type of a place computed from
the type of its root.

The borrow checks run before mypy has inferred the body's expressions, so
the type of ``v.items[0]`` is computed here from the declared type of ``v``:
attributes from the class (and its bases, with their type arguments), items
through the ``Mapping``/``Sequence``/``Iterable`` the type implements.
"""

from __future__ import annotations

from mypy.expandtype import expand_type_by_instance
from mypy.maptype import map_instance_to_supertype
from mypy.nodes import (
    Decorator,
    Expression,
    FuncDef,
    IndexExpr,
    MemberExpr,
    NameExpr,
    OverloadedFuncDef,
    Var,
)
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    TupleType,
    Type,
    TypeOfAny,
    TypeVarType,
    UnionType,
    get_proper_type,
)

ITEM = "[]"
Path = tuple[str, ...]


class Place:
    """A local and the path below it.  A plain class with slots, not a
    NamedTuple: every mypy run imports this module."""

    __slots__ = ("root", "path")

    root: NameExpr  # the reference the place starts from
    path: Path  # attribute names, ITEM for an item

    def __init__(self, root: NameExpr, path: Path) -> None:
        self.root = root
        self.path = path

    def __repr__(self) -> str:
        return f"Place({self.root!r}, {self.path!r})"

    @property
    def var(self) -> Var:
        assert isinstance(self.root.node, Var)
        return self.root.node


def place_of(e: Expression, *, resolved: bool = True) -> Place | None:
    """The place ``e`` denotes, if it is a local reached through attributes
    and items (``resolved=False``: any name, before semantic analysis)."""
    path: list[str] = []
    while True:
        if isinstance(e, NameExpr):
            if resolved and not isinstance(e.node, Var):
                return None
            return Place(e, tuple(reversed(path)))
        if isinstance(e, MemberExpr):
            path.append(e.name)
            e = e.expr
        elif isinstance(e, IndexExpr):
            path.append(ITEM)
            e = e.base
        else:
            return None


def render(name: str, path: Path) -> str:
    """How messages show a place: ``"v"``, ``"v.items"``, ``an item of "v"``."""
    if path and path[-1] == ITEM:
        return f"an item of {render(name, path[:-1])}"
    return '"' + ".".join((name, *(p for p in path if p != ITEM))) + '"'


def type_at(root: Type | None, path: Path) -> Type | None:
    """The type of the place ``path`` below a value of type ``root``."""
    t: Type | None = root
    for step in path:
        if t is None:
            return None
        t = item_type(t) if step == ITEM else attribute_type(t, step)
    return t


def attribute_type(typ: Type, name: str) -> Type | None:
    t = get_proper_type(typ)
    if isinstance(t, TypeVarType):  # Self, or a bounded type variable
        t = get_proper_type(t.upper_bound)
    if isinstance(t, UnionType):
        return None
    if isinstance(t, TupleType):
        t = t.partial_fallback
    if not isinstance(t, Instance):
        return AnyType(TypeOfAny.special_form) if isinstance(t, AnyType) else None
    for base in t.type.mro:
        sym = base.names.get(name)
        if sym is None or sym.node is None:
            continue
        node = sym.node
        declared: Type | None = None
        if isinstance(node, Var):
            declared = node.type
        elif isinstance(node, Decorator) and node.func.is_property:
            declared = _return_type(node.func)
        elif isinstance(node, FuncDef) and node.is_property:
            declared = _return_type(node)
        elif isinstance(node, OverloadedFuncDef) and node.is_property and node.items:
            getter = node.items[0]
            declared = _return_type(getter.func if isinstance(getter, Decorator) else getter)
        if declared is None:
            return None
        return expand_type_by_instance(declared, map_instance_to_supertype(t, base))
    return None


def _return_type(func: FuncDef) -> Type | None:
    return func.type.ret_type if isinstance(func.type, CallableType) else None


_ITEM_PROTOCOLS = (
    ("typing.Mapping", 0),  # an item of a mapping, as in `d[k]`, is its value
    ("typing.Sequence", 0),
    ("typing.Iterable", 0),
)


def item_type(typ: Type) -> Type | None:
    """The type of an item (``x[i]``, ``for item in x``)."""
    t = get_proper_type(typ)
    if isinstance(t, TypeVarType):
        t = get_proper_type(t.upper_bound)
    if isinstance(t, TupleType):
        return None if not t.items else t.items[0]
    if isinstance(t, AnyType):
        return t
    if not isinstance(t, Instance):
        return None
    for base in t.type.mro:
        if base.fullname == "typing.Mapping":
            mapped = map_instance_to_supertype(t, base)
            return mapped.args[1] if len(mapped.args) == 2 else None
        if base.fullname in ("typing.Sequence", "typing.Iterable"):
            mapped = map_instance_to_supertype(t, base)
            return mapped.args[0] if mapped.args else None
    return None
