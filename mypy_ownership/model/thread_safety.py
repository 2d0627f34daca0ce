"""``Send`` and ``Sync``: which values may cross into another thread, and which
may be shared by several threads at once, derived like Rust's auto traits.

- Immutable values (the ``Copy`` rule of :mod:`traits`) are both.
- Mutable builtins and containers are ``Send`` when their items are, never
  ``Sync``.
- The runtime's types follow ``std::sync``: ``Arc[T]`` is both when ``T`` is
  both; ``Mutex[T]`` both when ``T`` is ``Send``; ``RwLock[T]`` ``Send`` when
  ``T`` is ``Send`` and ``Sync`` when ``T`` is both; a channel end ``Send``
  when ``T`` is.  ``Rc`` and the guards are thread-bound.
- Standard-library classes say what they are in the overlays: thread-bound
  (``class Connection(NotSend)``), internally synchronised (``@unsafe_sync``)
  or nothing, in which case they are ``Send`` when their type arguments are
  and not ``Sync``.
- Classes with source derive it from their attributes (declared, assigned on
  ``self``, inherited), generics through their type arguments.  ``Sync`` also
  needs the class to be immutable (frozen, ``NamedTuple``, every attribute
  ``Final``) or marked ``@unsafe_sync``.  ``NotSend``/``NotSync`` bases opt
  out, ``@unsafe_send``/``@unsafe_sync`` opt in.
- Unions need every member; ``Any`` passes unless ``report_any`` is set.

A failed derivation is a :class:`Problem`: the chain from the checked type
down to the culprit, the reason, and a help line; :mod:`diagnostics` words
it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum

from mypy.expandtype import expand_type_by_instance
from mypy.maptype import map_instance_to_supertype
from mypy.nodes import Decorator, FuncDef, OverloadedFuncDef, TypeInfo, Var
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    LiteralType,
    NoneType,
    Overloaded,
    TupleType,
    Type,
    TypedDictType,
    TypeOfAny,
    TypeType,
    UnionType,
    get_proper_type,
)

from mypy_ownership import diagnostics
from mypy_ownership.analysis.copyable import is_copy
from mypy_ownership.analysis.made_with import is_not_constant
from mypy_ownership.markers import Marker
from mypy_ownership.model import runtime
from mypy_ownership.model.class_facts import class_traits, is_source_class
from mypy_ownership.model.queue_items import ItemUses, item_uses
from mypy_ownership.model.guarded import (
    CONDITIONS,
    LATER,
    LOCK_METHODS,
    LOCK_TYPES,
    SYNCHRONISED,
    THREAD_LOCAL_TYPES,
    Access,
    accesses_in,
    entry_locks,
    held_locks,
)
from mypy_ownership.overlays.entries import OverlayClass, Overlays


class Trait(Enum):
    SEND = "Send"
    SYNC = "Sync"


class Step:
    """One link from a type to the part of it that fails: an attribute of a
    class or a type argument of a container.

    Plain classes with slots, here and below, not NamedTuples: every mypy run
    imports this module."""

    __slots__ = ("owner", "attribute", "part")

    owner: Type
    attribute: str | None  # None: a type argument or item
    part: Type

    def __init__(self, owner: Type, attribute: str | None, part: Type) -> None:
        self.owner = owner
        self.attribute = attribute
        self.part = part

    def __repr__(self) -> str:
        return f"Step({self.owner!r}, {self.attribute!r}, {self.part!r})"


class Root(Enum):
    THREAD_BOUND = "thread-bound"
    MUTABLE = "mutable"
    NOT_DECLARED = "not declared thread-safe"
    REASSIGNABLE = "reassignable"
    NOT_SHAREABLE = "not shareable"  # NotSync: may move, not be shared
    ANY = "any"
    UNGUARDED = "unguarded"  # synchronises itself, but not at one access


class Problem:
    """Why a type is not ``Send`` (or not ``Sync``)."""

    __slots__ = ("trait", "steps", "culprit", "root", "reason", "help")

    trait: Trait
    steps: tuple[Step, ...]
    culprit: Type
    root: Root
    # the overlay's or the runtime's reason, and what to do instead
    reason: str | None
    help: str | None

    def __init__(
        self, trait: Trait, steps: tuple[Step, ...], culprit: Type, root: Root, reason: str | None, help: str | None
    ) -> None:
        self.trait = trait
        self.steps = steps
        self.culprit = culprit
        self.root = root
        self.reason = reason
        self.help = help

    def __repr__(self) -> str:
        return f"Problem({self.trait!r}, {self.steps!r}, {self.culprit!r}, {self.root!r}, {self.reason!r})"

    def with_trait(self, trait: Trait) -> Problem:
        """The same problem, reported as one of ``trait``."""
        return Problem(trait, self.steps, self.culprit, self.root, self.reason, self.help)


# -- the runtime's generic rules (std::sync), from its catalogue -------------

_BOTH = frozenset({Trait.SEND, Trait.SYNC})
_SEND = frozenset({Trait.SEND})


def _traits(markers: frozenset[Marker] | None) -> frozenset[Trait] | None:
    return None if markers is None else frozenset(Trait(marker.value) for marker in markers)


# class -> (what the type arguments need for the class to be Send, ... Sync)
_RUNTIME_RULES = {name: (_traits(send), _traits(sync)) for name, (send, sync) in runtime.SEND_SYNC_RULES.items()}

# Builtin containers whose items anybody holding them may change.
_MUTABLE_CONTAINERS = frozenset(
    {
        "builtins.list",
        "builtins.dict",
        "builtins.set",
        "builtins.bytearray",
        "builtins.memoryview",
        "collections.deque",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.Counter",
        "collections.ChainMap",
        "array.array",
    }
)


class ThreadSafety:
    """Answers "is this type Send / Sync?", with the reason when it is not.

    One per plugin: it reads the overlays, and remembers its answers per
    class and type arguments (a run sees the same few types many times)."""

    def __init__(self, overlays: Overlays, *, report_any: bool = False) -> None:
        self._overlays = overlays
        self._report_any = report_any
        self._memo: dict[tuple[str, Trait], Problem | None] = {}

    def forget(self) -> None:
        """Drop every answer (the classes they were about may have changed)."""
        self._memo.clear()

    def problem(self, typ: Type | None, trait: Trait) -> Problem | None:
        """Why ``typ`` is not ``trait``; None when it is."""
        if typ is None:
            return None
        return self._check(typ, trait, frozenset())

    def problem_within(self, typ: Type | None, trait: Trait, only: frozenset[str] | None) -> Problem | None:
        """Why ``typ`` is not ``trait``, asked of its attributes named in
        ``only`` (what a thread's code reaches: ``model.reach``) when it is
        a class with source; of all of them when ``only`` is None."""
        t = get_proper_type(typ)
        if only is None or not isinstance(t, Instance) or not is_source_class(t.type) or is_copy(t):
            return self.problem(typ, trait)
        return self._derive(t, trait, frozenset({str(t)}), only)

    def problem_of_items(self, typ: Type | None, uses: ItemUses, trait: Trait) -> Problem | None:
        """Why ``typ``, an item put on a queue whose taker does ``uses``
        with its items (``model.queue_items``), is not ``trait`` in the
        parts the taker touches."""
        if typ is None:
            return None
        return self._taken(typ, uses, trait, frozenset())

    def is_send(self, typ: Type | None) -> bool:
        return self.problem(typ, Trait.SEND) is None

    def is_sync(self, typ: Type | None) -> bool:
        return self.problem(typ, Trait.SYNC) is None

    def shared_safely(self, typ: Type | None) -> bool:
        """May a value of this type go to another thread without moving?
        Only when every thread may use it at once: ``Sync`` (a value that is
        ``Send`` only changes hands)."""
        if is_copy(typ):
            return True
        if isinstance(get_proper_type(typ), AnyType):
            return False  # an unknown value moves: the conservative reading
        return self.is_sync(typ)

    def released(self, typ: Type | None, keywords: Mapping[str, object] | None) -> bool:
        """Is a value of this thread-bound type made so that it may cross
        after all?  ``keywords``: the constant keyword arguments of the call
        that made it (``check_same_thread=False`` for ``sqlite3.connect``)."""
        if not keywords:
            return False
        t = get_proper_type(typ)
        if isinstance(t, UnionType):  # Connection | None
            items = [get_proper_type(i) for i in t.items]
            t = next((i for i in items if not isinstance(i, NoneType)), None)
        if not isinstance(t, Instance):
            return False
        entry = self.thread_bound_class(t.type)
        if entry is None or not entry.send_if:
            return False
        # A keyword given an expression counts as given the value that
        # releases: the author decides it explicitly (precision first).
        return all(k in keywords and (keywords[k] == v or is_not_constant(keywords[k])) for k, v in entry.send_if.items())

    def thread_bound_class(self, info: TypeInfo) -> OverlayClass | None:
        """The overlay entry that makes ``info`` thread-bound, if any."""
        for base in info.mro:
            entry = self._overlays.class_of(base.fullname)
            if entry is not None and entry.thread_bound:
                return entry
        return None

    # -- derivation --

    def _check(self, typ: Type, trait: Trait, seen: frozenset[str]) -> Problem | None:
        t = get_proper_type(typ)
        if isinstance(t, AnyType):
            if self._report_any and t.type_of_any not in (TypeOfAny.special_form, TypeOfAny.from_error):
                return Problem(trait, (), t, Root.ANY, None, None)
            return None
        if isinstance(t, (NoneType, LiteralType, CallableType, Overloaded, TypeType)):
            return None  # functions' captured state is checked where they cross
        if isinstance(t, UnionType):
            return self._first(((None, item) for item in t.items), t, trait, seen)
        if isinstance(t, TupleType):
            return self._first(((None, item) for item in t.items), t, trait, seen)
        if isinstance(t, TypedDictType):
            if trait is Trait.SYNC:
                return Problem(trait, (), t, Root.MUTABLE, None, diagnostics.MUTABLE_HELP)
            return self._first(((None, v) for v in t.items.values()), t, trait, seen)
        if isinstance(t, Instance):
            return self._instance(t, trait, seen)
        return None  # type variables, ParamSpecs, ...: checked where instantiated

    def _first(
        self, parts: Iterable[tuple[str | None, Type]], owner: Type, trait: Trait, seen: frozenset[str]
    ) -> Problem | None:
        for attribute, part in parts:
            found = self._check(part, trait, seen)
            if found is not None:
                return _through(Step(owner, attribute, part), found)
        return None

    def _instance(self, t: Instance, trait: Trait, seen: frozenset[str]) -> Problem | None:
        if is_copy(t):
            return None
        key = (str(t), trait)  # str() names the class and its type arguments
        if key in self._memo:
            return self._memo[key]
        if key[0] in seen:
            return None  # a recursive type is as safe as its other parts
        found = self._derive(t, trait, seen | {key[0]})
        self._memo[key] = found
        return found

    def _derive(
        self, t: Instance, trait: Trait, seen: frozenset[str], only: frozenset[str] | None = None
    ) -> Problem | None:
        info = t.type
        name = info.fullname
        bound = runtime.THREAD_BOUND.get(name)
        if bound is not None:
            return Problem(trait, (), t, Root.THREAD_BOUND, *bound)
        opted_out = self._opted_out(info, t, trait)
        if opted_out is not None:
            return opted_out
        rule = _RUNTIME_RULES.get(name)
        if rule is not None:
            return self._by_arguments(t, rule[0] if trait is Trait.SEND else rule[1], trait, seen)
        if name == "builtins.object":
            return None  # could hold anything: as unknown as Any, and as lenient
        if info.tuple_type is not None:  # a NamedTuple read as an instance
            return self._check(info.tuple_type, trait, seen)
        if is_source_class(info):
            opted = class_traits(info)
            if opted.get("unsafe_sync") or (trait is Trait.SEND and opted.get("unsafe_send")):
                return None  # trusted: the author vouches for it
            return self._attributes(t, trait, seen, only)
        return self._library_class(t, trait, seen)

    def _by_arguments(
        self, t: Instance, needs: frozenset[Trait] | None, trait: Trait, seen: frozenset[str]
    ) -> Problem | None:
        """A generic whose safety is its type arguments' (``needs``: what each
        argument must be; None: the class is never ``trait``)."""
        if needs is None:
            return Problem(trait, (), t, Root.MUTABLE, None, diagnostics.MUTABLE_HELP)
        for need in sorted(needs, key=lambda n: n.value):
            found = self._first(((None, arg) for arg in t.args), t, need, seen)
            if found is not None:
                # Reported as what was asked: an Arc[list] is not Send
                # because its list is not Sync.
                return found.with_trait(trait)
        return None

    def _opted_out(self, info: TypeInfo, t: Instance, trait: Trait) -> Problem | None:
        """A ``NotSend``/``NotSync`` base, or a base the overlays declare
        thread-bound (``NotSend`` implies not ``Sync``)."""
        for base in info.mro:
            if base.fullname == runtime.NOT_SEND_BASE:
                return Problem(
                    trait, (), t, Root.THREAD_BOUND,
                    f'"{_declaring(info, base)}" derives from "NotSend"',
                    diagnostics.NOT_SEND_HELP,
                )
            if trait is Trait.SYNC and base.fullname == runtime.NOT_SYNC_BASE:
                return Problem(
                    trait, (), t, Root.NOT_SHAREABLE,
                    f'"{_declaring(info, base)}" derives from "NotSync"',
                    diagnostics.NOT_SYNC_HELP,
                )
            entry = self._overlays.class_of(base.fullname)
            if entry is not None and entry.thread_bound:
                return Problem(trait, (), t, Root.THREAD_BOUND, entry.reason, entry.help)
            if entry is not None and trait is Trait.SYNC and entry.not_sync:
                return Problem(trait, (), t, Root.NOT_SHAREABLE, entry.reason, entry.help)
        return None

    def _library_class(self, t: Instance, trait: Trait, seen: frozenset[str]) -> Problem | None:
        """A class known from a stub only: its overlay entry, else ``Send``
        when its type arguments are and ``Sync`` never."""
        for base in t.type.mro:
            entry = self._overlays.class_of(base.fullname)
            if entry is not None and (entry.unsafe_sync or entry.unsafe_send):
                if trait is Trait.SEND or entry.unsafe_sync:
                    return self._by_arguments(t, _SEND, trait, seen)
                break
        if trait is Trait.SYNC:
            mutable = _is_mutable_container(t.type)
            return Problem(
                trait, (), t, Root.MUTABLE if mutable else Root.NOT_DECLARED, None, diagnostics.MUTABLE_HELP
            )
        return self._by_arguments(t, _SEND, trait, seen)

    def _attributes(
        self, t: Instance, trait: Trait, seen: frozenset[str], only: frozenset[str] | None = None
    ) -> Problem | None:
        """A class with source: every attribute's type (or those of
        ``only``), inherited ones too, and for ``Sync`` attributes that
        cannot be reassigned (a frozen class, or ``Final``), unless the
        class locks itself (``_self_locked``)."""
        frozen = _is_immutable(t.type)
        if trait is Trait.SYNC and not frozen:
            locks_itself, problem = self._self_locked(t, seen)
            if locks_itself:
                return problem
        for base in t.type.mro:
            if base.fullname == "builtins.object":
                continue
            as_base = map_instance_to_supertype(t, base)
            if not is_source_class(base):
                # A library base: only what the overlays or the container
                # rules know (its own state is its own methods' business).
                if _is_mutable_container(base) or self._overlays.class_of(base.fullname):
                    found = self._library_class(as_base, trait, seen)
                    if found is not None:
                        return _through(Step(t, None, as_base), found)
                continue
            made_with = class_traits(base).get("made_with", {})
            for name, sym in base.names.items():
                node = sym.node
                if not isinstance(node, Var) or name.startswith("__") or node.type is None:
                    continue
                if only is not None and name not in only:
                    continue
                part = expand_type_by_instance(node.type, as_base)
                if trait is Trait.SEND and self.released(part, made_with.get(name)):
                    continue
                uses = item_uses(t.type, name) if only is not None and trait is Trait.SEND else None
                if uses is not None and self._is_hand_off(part):
                    found = self._taken_from(part, uses, trait, seen)
                    if found is not None:
                        return _through(Step(t, name, part), found)
                    continue
                if trait is Trait.SYNC and not (frozen or node.is_final or node.is_property):
                    return _through(
                        Step(t, name, part), Problem(trait, (), t, Root.REASSIGNABLE, None, diagnostics.FROZEN_HELP)
                    )
                found = self._check(part, trait, seen)
                if found is not None:
                    return _through(Step(t, name, part), found)
        return None


    # -- queue items the taker leaves alone (model.queue_items) --

    def _is_hand_off(self, typ: Type) -> bool:
        """A queue the overlays declare synchronised (``queue.Queue[T]``):
        what goes through it is its taker's."""
        t = get_proper_type(typ)
        return isinstance(t, Instance) and len(t.args) == 1 and self._synchronises(t)

    def _taken_from(self, queue: Type, uses: ItemUses, trait: Trait, seen: frozenset[str]) -> Problem | None:
        t = get_proper_type(queue)
        assert isinstance(t, Instance)
        found = self._taken(t.args[0], uses, trait, seen)
        return None if found is None else _through(Step(t, None, t.args[0]), found)

    def _taken(self, item: Type, uses: ItemUses, trait: Trait, seen: frozenset[str]) -> Problem | None:
        """``trait`` asked of the parts of ``item`` its taker touches: the
        whole item, or each position of a tuple unpacked (a union, each
        member)."""
        t = get_proper_type(item)
        if isinstance(t, UnionType):
            for member in t.items:
                found = self._taken(member, uses, trait, seen)
                if found is not None:
                    return _through(Step(t, None, member), found)
            return None
        if uses.whole:
            return None if self._left_alone(t, uses.parts[0]) else self._check(t, trait, seen)
        if not isinstance(t, TupleType) or len(t.items) != len(uses.parts):
            return self._check(t, trait, seen)  # not the shape the taker unpacks
        for part, methods in zip(t.items, uses.parts):
            if self._left_alone(part, methods):
                continue
            found = self._check(part, trait, seen)
            if found is not None:
                return _through(Step(t, None, part), found)
        return None

    def _left_alone(self, typ: Type, methods: list[str] | None) -> bool:
        """Does the taker only call, on a part of this type, methods the
        overlays declare callable from any thread (besides handing it back
        to its loop)?"""
        if methods is None:
            return False
        if not methods:
            return True
        t = get_proper_type(typ)
        members = [get_proper_type(m) for m in t.items] if isinstance(t, UnionType) else [t]
        for member in members:
            if isinstance(member, NoneType):
                continue
            if not isinstance(member, Instance):
                return False
            for method in methods:
                if not any(self._any_thread(f"{base.fullname}.{method}") for base in member.type.mro):
                    return False
        return True

    def _any_thread(self, fullname: str) -> bool:
        entry = self._overlays.function(fullname)
        return entry is not None and entry.any_thread

    def _self_locked(self, t: Instance, seen: frozenset[str]) -> tuple[bool, Problem | None]:
        """Does the class synchronise itself (RacerD's rule)?  Once built
        (outside ``__init__``, ``__del__`` and the private helpers only they
        call, ``guarded.entry_locks``), every access to an attribute must
        hold one of its own locks (a ``Lock``, ``RLock`` or ``Condition``
        attribute; a private helper holds what all its callers hold), unless
        the attribute needs none: its type is ``Sync`` and it is not updated
        (``+=``) or written into, or it is a ``threading.local`` (per-thread
        state), or it is never written once built (only read).  What needs
        no lock but is not ``Sync`` must be ``Send`` (as ``Mutex[T]`` needs
        of ``T``).

        It applies to a class that takes a lock of its own, and to one that
        holds a synchronised value (a ``Queue``, an ``Event``, a
        ``threading.local``: made for threads) without locking.

        (False, None): neither, the other rule decides; (True, None): it
        synchronises itself, it is ``Sync``; (True, problem): it does, but
        not everywhere, the problem names the first unguarded access."""
        attributes: dict[str, Type] = {}
        accesses: dict[str, list[Access]] = {}
        made_with: dict[str, Mapping[str, object]] = {}
        methods: set[str] = set()
        conditions: dict[str, str] = {}
        used_as_lock: set[str] = set()  # attributes the class calls a lock's method on
        for base in reversed(t.type.mro):
            if not is_source_class(base):
                continue
            if not class_traits(base).get(SYNCHRONISED):
                return False, None  # a base (or the class) whose accesses were not recorded
            made_with.update(class_traits(base).get("made_with", {}))
            conditions.update(class_traits(base).get(CONDITIONS, {}))
            for facts in class_traits(base).get("methods", {}).values():
                used_as_lock.update(p[0] for p, m in facts.get("attr_calls", []) if len(p) == 1 and m in LOCK_METHODS)
            as_base = map_instance_to_supertype(t, base)
            for name, sym in base.names.items():
                node = sym.node
                if isinstance(node, Var) and node.type is not None and not name.startswith("__"):
                    attributes[name] = expand_type_by_instance(node.type, as_base)
                elif isinstance(node, (FuncDef, Decorator, OverloadedFuncDef)):
                    methods.add(name)
            for name, found in accesses_in(class_traits(base).get("methods", {}), base.name).items():
                accesses.setdefault(name, []).extend(found)
        if conditions:  # holding a Condition holds the lock it was built on
            for found in accesses.values():
                for access in found:
                    access.held = sorted(held_locks(access.held, conditions))
        held = {h for found in accesses.values() for a in found for h in a.held}
        locks = {
            name
            for name, typ in attributes.items()
            if _is_lock(typ) or (name in used_as_lock and name in held and isinstance(get_proper_type(typ), AnyType))
        }
        if locks:
            if not locks & held:
                return False, None
        elif not any(self._synchronises(typ) for typ in attributes.values()):
            return False, None
        entry = entry_locks(accesses, methods)
        for name, part in attributes.items():
            if name in locks:
                continue
            shareable = self._check(part, Trait.SYNC, seen) is None
            once_built = _once_built(accesses.get(name, []), entry)
            read_only = all(access.kind in ("r", "i") for access, _ in once_built)
            unguarded = [
                access
                for access, held in once_built
                if not (held & locks or read_only or _is_thread_local(part))
                and not (shareable and access.kind not in ("m", "rmw"))
            ]
            if unguarded:
                # the first write, else the first read (a write makes the reads racy)
                access = min(unguarded, key=lambda a: a.kind in ("r", "i"))
                reason = diagnostics.unguarded_access(
                    name, access.owner, access.method, access.kind, access.line, sorted(locks)
                )
                help = diagnostics.UNGUARDED_HELP if locks else diagnostics.UNLOCKED_HELP
                return True, Problem(Trait.SYNC, (), t, Root.UNGUARDED, reason, help)
            if not shareable and not self.released(part, made_with.get(name)):
                unsendable = self._check(part, Trait.SEND, seen)
                if unsendable is not None:
                    return True, _through(Step(t, name, part), unsendable.with_trait(Trait.SYNC))
        return True, None

    def _synchronises(self, typ: Type) -> bool:
        """A value made to be shared between threads: a library class the
        overlays declare ``@unsafe_sync`` (a lock, a ``Queue``, an
        ``Event``), or a ``threading.local``."""
        known = _known_members(typ)
        return bool(known) and all(
            _is_thread_local(t) or any(self._declared_sync(base.fullname) for base in t.type.mro) for t in known
        )

    def _declared_sync(self, fullname: str) -> bool:
        entry = self._overlays.class_of(fullname)
        return entry is not None and entry.unsafe_sync


def _once_built(found: list[Access], entry: Mapping[str, frozenset[str] | None]) -> list[tuple[Access, frozenset[str]]]:
    """The accesses made once the object is built, each with every
    attribute held there (its own, and what its method runs under)."""
    out: list[tuple[Access, frozenset[str]]] = []
    for access in found:
        if LATER in access.held:
            out.append((access, frozenset()))  # a nested function: runs whenever
            continue
        on_entry = entry.get(access.method, frozenset())
        if on_entry is not None:
            out.append((access, on_entry.union(access.held)))
    return out


def _known_members(typ: Type) -> list[Instance]:
    """The classes a value of this type may be, when they are all known
    (``Any | local``: ``local``; ``None`` too is left out); else none."""
    t = get_proper_type(typ)
    items = [get_proper_type(i) for i in t.items] if isinstance(t, UnionType) else [t]
    known = [i for i in items if not isinstance(i, (AnyType, NoneType))]
    return [i for i in known if isinstance(i, Instance)] if all(isinstance(i, Instance) for i in known) else []


def _is_thread_local(typ: Type) -> bool:
    """Per-thread state (``threading.local``, ``Any | local`` too)."""
    known = _known_members(typ)
    return bool(known) and all(any(b.fullname in THREAD_LOCAL_TYPES for b in t.type.mro) for t in known)


def _is_lock(typ: Type) -> bool:
    t = get_proper_type(typ)
    return isinstance(t, Instance) and any(base.fullname in LOCK_TYPES for base in t.type.mro)


def _is_mutable_container(info: TypeInfo) -> bool:
    return any(base.fullname in _MUTABLE_CONTAINERS for base in info.mro)


def _through(step: Step, problem: Problem) -> Problem:
    return Problem(
        problem.trait, (step, *problem.steps), problem.culprit, problem.root, problem.reason, problem.help
    )


def _declaring(info: TypeInfo, base: TypeInfo) -> str:
    """The class in ``info``'s MRO that lists ``base`` directly."""
    for cls in info.mro:
        if any(b.type is base for b in cls.bases):
            return cls.name
    return info.name


def _is_immutable(info: TypeInfo) -> bool:
    for base in info.mro:
        data = base.metadata.get("dataclass")
        if data is not None:
            return bool(data.get("frozen"))
        attrs = base.metadata.get("attrs")
        if attrs is not None:
            return bool(attrs.get("frozen"))
    return False
