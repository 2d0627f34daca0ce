"""Type traits: which values behave like Rust's ``Copy`` types, and which are
shared between threads safely.

Immutable values (``int``, ``str``, ``None``, tuples and frozensets of them,
frozen dataclasses and ``NamedTuple``s of them, functions, classes, enum
members) are never moved: passing one hands over nothing that anybody could
mutate.

``Send`` and ``Sync`` are derived like Rust's auto traits, in
``thread_safety``; this module keeps the ``Copy`` rule they build on, and
what stands for ``Clone`` (``duplication``).
"""

from __future__ import annotations

from mypy.nodes import Decorator, TypeInfo, Var
from mypy.types import (
    CallableType,
    Instance,
    LiteralType,
    NoneType,
    Overloaded,
    TupleType,
    Type,
    TypeType,
    UninhabitedType,
    UnionType,
    get_proper_type,
)

_IMMUTABLE_SCALARS = frozenset(
    {
        "builtins.int",
        "builtins.float",
        "builtins.complex",
        "builtins.bool",
        "builtins.str",
        "builtins.bytes",
        "builtins.range",
        "builtins.object",  # a bare object() has no state to mutate
        "types.NoneType",
        "types.EllipsisType",
        "builtins.ellipsis",
        # immutable value types of the standard library
        "datetime.date",
        "datetime.time",
        "datetime.datetime",
        "datetime.timedelta",
        "datetime.timezone",
        "decimal.Decimal",
        "fractions.Fraction",
        "uuid.UUID",
        "pathlib.PurePath",
        "ipaddress.IPv4Address",
        "ipaddress.IPv6Address",
        "ipaddress.IPv4Network",
        "ipaddress.IPv6Network",
        "re.Pattern",
        "types.ModuleType",
    }
)
_IMMUTABLE_CONTAINERS = frozenset({"builtins.tuple", "builtins.frozenset"})
# Mutable classes whose bases are no immutable scalar, no enum and no frozen
# dataclass, by their own full name (a subclass is read as usual).
_MUTABLE_BUILTINS = frozenset(
    {"builtins.list", "builtins.dict", "builtins.set", "builtins.bytearray", "collections.deque",
     "collections.defaultdict", "collections.OrderedDict", "collections.Counter"}
)
# The scalars a class can derive from and stay immutable (not ``object``).
_IMMUTABLE_BASES = _IMMUTABLE_SCALARS - {"builtins.object"}


def is_copy(typ: Type | None) -> bool:
    """Is a value of this type immutable, so that passing it moves nothing?"""
    return _is_copy(typ, set())


def _is_copy(typ: Type | None, seen: set[str]) -> bool:
    t = get_proper_type(typ)
    if t is None:
        return False
    if isinstance(t, (NoneType, LiteralType, UninhabitedType, CallableType, Overloaded, TypeType)):
        return True
    if isinstance(t, TupleType):
        return all(_is_copy(item, seen) for item in t.items)
    if isinstance(t, UnionType):
        return all(_is_copy(item, seen) for item in t.items)
    if isinstance(t, Instance):
        info = t.type
        fullname = info.fullname
        if fullname in _IMMUTABLE_BASES:
            return True
        if fullname == "builtins.object":
            return False  # an `object` parameter may hold anything
        if fullname in _MUTABLE_BUILTINS:
            return False  # the commonest answer, without reading the MRO
        if fullname in _IMMUTABLE_CONTAINERS:
            return all(_is_copy(arg, seen) for arg in t.args)
        if info.is_enum:
            return True
        if any(base.fullname in _IMMUTABLE_BASES for base in info.mro):
            return True  # subclasses of int/str/... (IntEnum, StrEnum, NewType)
        if _is_frozen_dataclass(info):
            return _fields_are_copy(info, seen)
    return False


def _is_frozen_dataclass(info: TypeInfo) -> bool:
    for base in info.mro:
        data = base.metadata.get("dataclass")
        if data is not None:
            return bool(data.get("frozen"))
    return False


def _fields_are_copy(info: TypeInfo, seen: set[str]) -> bool:
    if info.fullname in seen:
        return True  # a recursive frozen type is as immutable as its other fields
    seen.add(info.fullname)
    for base in info.mro:
        if base.fullname == "builtins.object":
            continue
        for name, sym in base.names.items():
            node = sym.node
            if not isinstance(node, Var) or node.is_classvar:  # frozen fields are "properties"
                continue
            if name.startswith("__"):
                continue  # dunder bookkeeping such as __match_args__
            if not _is_copy(node.type, seen):
                return False
    return True


# How to keep a value that is not Copy while giving it away (the move help).
COPIED = "copy"  # ``copy.copy(x)``: most values
CLONED = "clone"  # ``x.clone()``: the runtime's handles (Arc, Rc, Sender)
UNIQUE = "unique"  # neither: ``__copy__`` never returns (Receiver, Mutex, a guard)


def duplication(typ: Type | None) -> str:
    """COPIED, CLONED or UNIQUE for a value of this type.  Like Rust's
    ``Clone``, read from the type: a runtime class with a ``clone()`` method
    makes a new handle to the same value; a class whose ``__copy__`` is
    declared ``NoReturn`` cannot be copied at all."""
    t = get_proper_type(typ)
    if isinstance(t, UnionType):
        # ``Receiver | None``: what the value is when there is one.  A copy
        # for all only if each can be copied, a clone only if each clones.
        kinds = {duplication(item) for item in t.items if not isinstance(get_proper_type(item), NoneType)}
        if UNIQUE in kinds:
            return UNIQUE
        return CLONED if kinds == {CLONED} else COPIED
    if not isinstance(t, Instance):
        return COPIED
    clone = t.type.get_method("clone")
    if clone is not None and clone.info is not None and clone.info.module_name.split(".")[0] == "fearless":
        return CLONED
    copy = t.type.get_method("__copy__")
    func = copy.func if isinstance(copy, Decorator) else copy
    sig = getattr(func, "type", None)
    if isinstance(sig, CallableType) and isinstance(get_proper_type(sig.ret_type), UninhabitedType):
        return UNIQUE
    return COPIED
