"""Facts about calls: what a call moves, read from the callee's declared
signature.

A callee is described once per full name (``CalleeFacts``) when mypy first
asks for a hook; callees without markers get no hook at all, so calls that
move nothing cost nothing.  At a call, ``moves_of_call`` maps the actual
arguments to the marked formals and lists what is moved:

- a plain name passed to an ``Owned[...]`` formal;
- what crosses into a thread (``Owned[Send[...]]``): the value, unless it is
  shared safely; for a callable, the locals its closure captures;
- the ``*args``/``**kwargs`` of a ``ParamSpec`` whose callable is marked
  ``Send`` (``spawn(fn, *args)``): they go to the thread with ``fn``.
"""

from __future__ import annotations

from enum import Enum
from typing import cast

from mypy.nodes import (
    ARG_STAR,
    ARG_STAR2,
    FUNC_NO_INFO,
    CallExpr,
    Context,
    Decorator,
    DictExpr,
    ListExpr,
    TupleExpr,
    Expression,
    FuncDef,
    FuncItem,
    MemberExpr,
    NameExpr,
    OverloadedFuncDef,
    SymbolNode,
    TypeInfo,
    Var,
)
from mypy.plugin import FunctionContext, MethodContext
from mypy.erasetype import erase_typevars
from mypy.subtypes import is_subtype
from mypy.types import (
    CallableType,
    Instance,
    Overloaded,
    ParamSpecType,
    TupleType,
    Type,
    UnpackType,
    get_proper_type,
)

from mypy_ownership.model.class_facts import method_facts
from mypy_ownership.analysis.flow import UseKey
from mypy_ownership.markers import Marker, has_marker, markers_of, strip_markers
from mypy_ownership.model.runtime import is_runtime_module
from mypy_ownership.overlays.entries import CLASSMETHOD, METHOD, PROPERTY, OverlayFunction, Overlays
from mypy_ownership.analysis.syntax import function_of
from mypy_ownership.analysis.copyable import is_copy

_OWNED_AND_SENT = frozenset({Marker.OWNED, Marker.SEND})


class CalleeFacts:
    """What is known about a callee from its declaration.

    Plain classes with slots, here and below, not NamedTuples: every mypy run
    imports this module."""

    __slots__ = ("label", "from_runtime", "signatures", "bound", "self_markers", "overlay", "fullname", "formals_by_names")

    # how messages name it: '"take"', '"send" of "Sender"', '"Box"'
    label: str
    # defined by the runtime (its moves need no "make it Borrowed" advice)
    from_runtime: bool
    # the declared signatures, markers included (several for an overload)
    signatures: tuple[CallableType, ...]
    # leading formals binding drops (self, cls) when called the usual way
    bound: int
    # the markers on ``self`` of a method (declared, or kept by class_facts)
    self_markers: frozenset[Marker]
    # the overlay entry that marks a library callee's parameters, by name
    overlay: OverlayFunction | None
    # the declaration's full name ("fearless.channel.Sender.send")
    fullname: str
    # ``formal_markers`` by the argument names of a call, where they alone
    # decide it (no overload to choose by the arguments' types): kept with
    # the facts, which the plugin keeps per callee and forgets with them
    formals_by_names: dict[tuple[str | None, ...], list[FormalMarkers] | None]

    def __init__(
        self,
        label: str,
        from_runtime: bool,
        signatures: tuple[CallableType, ...],
        bound: int = 0,
        self_markers: frozenset[Marker] = frozenset(),
        overlay: OverlayFunction | None = None,
        fullname: str = "",
    ) -> None:
        self.label = label
        self.from_runtime = from_runtime
        self.signatures = signatures
        self.bound = bound
        self.self_markers = self_markers
        self.overlay = overlay
        self.fullname = fullname
        self.formals_by_names = {}

    def __repr__(self) -> str:
        return f"CalleeFacts({self.label!r}, bound={self.bound!r}, self_markers={self.self_markers!r})"

    @property
    def declared_by_user(self) -> bool:
        """Marked in the user's own code (so the user may change the marks)."""
        return not self.from_runtime and self.overlay is None

    def declared_markers(self, sig: CallableType, index: int) -> frozenset[Marker]:
        """The markers of formal ``index`` of ``sig``: written on its type,
        or declared for its name by an overlay."""
        markers = markers_of(sig.arg_types[index])
        name = self._overlay_param(sig, index)
        if name is not None:
            assert self.overlay is not None
            markers |= self.overlay.markers_of(name)
        return markers

    def shape(self, sig: CallableType, index: int) -> str | None:
        """What an overlay says the formal holds: "Callable", "tuple", ..."""
        name = self._overlay_param(sig, index)
        if name is None:
            return None
        assert self.overlay is not None
        return self.overlay.shape_of(name)

    def _overlay_param(self, sig: CallableType, index: int) -> str | None:
        """The overlay's name for formal ``index``: the same name, or for a
        positional-only formal (mypy keeps no name for ``fn, /``) the
        overlay's parameter at the same position."""
        if self.overlay is None:
            return None
        name = sig.arg_names[index]
        if name is not None:
            return name
        params = self.overlay.params
        return params[index][0] if index < len(params) else None


class Move:
    """One value a call moves."""

    __slots__ = ("var", "key", "site", "into_thread", "callee", "handed_over", "receiver")

    var: Var
    # the use (see flow.UseKey) that moves it: the uses after it are errors
    key: UseKey
    # where the note goes: the argument
    site: Context
    into_thread: bool
    callee: CalleeFacts
    # handed to another thread by a library (Queue.put): it leaves at the call
    handed_over: bool
    # the receiver of a method that consumes it (``self: Owned[Self]``)
    receiver: bool

    def __init__(
        self,
        var: Var,
        key: UseKey,
        site: Context,
        into_thread: bool,
        callee: CalleeFacts,
        handed_over: bool = False,
        *,
        receiver: bool = False,
    ) -> None:
        self.var = var
        self.key = key
        self.site = site
        self.into_thread = into_thread
        self.callee = callee
        self.handed_over = handed_over
        self.receiver = receiver

    def __repr__(self) -> str:
        return f"Move({self.var!r}, {self.key!r}, into_thread={self.into_thread!r}, callee={self.callee!r})"


def callee_facts(
    node: SymbolNode | None,
    overlays: Overlays | None = None,
    *,
    overlay_name: str | None = None,
    markers_loaded: bool = True,
) -> CalleeFacts | None:
    """Facts for a function, method or class; None when nothing is marked,
    in its declaration or (for a library callee) in the overlays, under the
    node's own full name or ``overlay_name``.

    ``markers_loaded``: whether mypy has loaded ``fearless.markers``.  A
    signature can hold a marker only once it has (mypy loads a module's
    dependencies before the module), so without it only the overlays can
    mark a callee: plain threading code is answered without reading a
    signature."""
    if isinstance(node, TypeInfo):
        ctor = _constructor(node)
        if ctor is None:
            return None
        overlay = _overlay_of(ctor, overlays, overlay_name)
        if overlay is None and not markers_loaded:
            return None
        return _facts(
            f'"{node.name}"', node.module_name, _signatures(ctor), bound=1, overlay=overlay, fullname=node.fullname
        )
    if isinstance(node, Var) and overlays is not None:
        # A module variable holding a function (typeshed's ``shuffle =
        # _inst.shuffle``, ``insort = insort_right``): only an overlay marks it.
        sig = get_proper_type(node.type)
        overlay = _overlay_of(node, overlays, overlay_name)
        items = sig.items if isinstance(sig, Overloaded) else [sig]
        if overlay is None or not all(isinstance(item, CallableType) for item in items):
            return None
        # every item is a CallableType: checked just above
        signatures = cast("list[CallableType]", items)
        return _facts(
            f'"{node.name}"', node.fullname.rsplit(".", 1)[0], signatures, bound=0, overlay=overlay, fullname=node.fullname
        )
    if isinstance(node, (FuncDef, Decorator, OverloadedFuncDef)):
        # Asked once for every function the program calls; most mark nothing.
        overlay = _overlay_of(node, overlays, overlay_name)
        if overlay is None and not markers_loaded:
            return None
        signatures = _signatures(node)
        if overlay is None and not any(_is_marked(sig) for sig in signatures) and not _consumes_self(node):
            return None
        func = node.func if isinstance(node, Decorator) else node
        info = func.info if isinstance(func, FuncDef) else None
        if isinstance(node, OverloadedFuncDef) and node.items:
            first = node.items[0]
            info = (first.func if isinstance(first, Decorator) else first).info
        label = f'"{node.name}"'
        bound = 0
        self_markers: frozenset[Marker] = frozenset()
        if info is not None and info is not FUNC_NO_INFO:
            # An overlay entry nearer the receiver's class than typeshed's
            # definition names the class the call is about (ThreadPool's
            # imap, defined on Pool).
            owner = info.name if overlay is None or overlay.fullname == node.fullname else _class_of(overlay)
            label = f'"{node.name}" of "{owner}"'
            bound = 0 if func.is_static else 1
            self_markers = _self_markers(info, node.name, signatures) if bound else frozenset()
        if Marker.OWNED in self_markers and overlay is None:
            return CalleeFacts(
                label, is_runtime_module(node.fullname.rsplit(".", 1)[0]), tuple(signatures), bound, self_markers,
                None, node.fullname,
            )
        return _facts(
            label,
            node.fullname.rsplit(".", 1)[0],
            signatures,
            bound=bound,
            self_markers=self_markers,
            overlay=overlay,
            fullname=node.fullname,
        )
    return None


def _consumes_self(node: SymbolNode) -> bool:
    """Is ``node`` a method declared ``self: Owned[Self]`` (a marker
    class_facts took off the signature and kept)?"""
    func = node.func if isinstance(node, Decorator) else node
    if not isinstance(func, FuncDef) or func.info is FUNC_NO_INFO or func.info is None:
        return False
    facts = method_facts(func.info, func.name)
    return facts is not None and facts.get("declared") == "owned"


def _class_of(entry: OverlayFunction) -> str:
    """The short name of the class an overlay method entry is declared in."""
    return entry.fullname.rsplit(".", 2)[-2]


# What class_facts keeps of a marker it took off ``self`` (it had to: mypy
# rejects any annotation around ``Self`` there).
_KEPT_SELF_MARKERS = {"exclusive": Marker.MUT_BORROWED, "shared": Marker.BORROWED, "owned": Marker.OWNED}


def _self_markers(info: TypeInfo, name: str, signatures: list[CallableType]) -> frozenset[Marker]:
    declared = method_facts(info, name)
    kept = declared.get("declared") if declared else None
    if kept is not None:
        return frozenset({_KEPT_SELF_MARKERS.get(kept, Marker.BORROWED)})
    if signatures and signatures[0].arg_types:
        return markers_of(signatures[0].arg_types[0])
    return frozenset()


def _overlay_of(
    node: SymbolNode, overlays: Overlays | None, name: str | None = None
) -> OverlayFunction | None:
    """The overlay entry for a function or method, when it marks any of its
    arguments, or its receiver ``Send`` (the method hands its object to
    another thread); a receiver's borrow marker is the mutation oracle's
    business."""
    if overlays is None:
        return None
    entry = overlays.function(name or node.fullname)
    if entry is None:
        return None
    receiver = 1 if entry.kind in (METHOD, PROPERTY, CLASSMETHOD) else 0
    if Marker.SEND not in entry.self_markers and not any(markers for _, markers in entry.params[receiver:]):
        return None
    return entry


def _facts(
    label: str,
    module: str,
    signatures: list[CallableType],
    *,
    bound: int,
    self_markers: frozenset[Marker] = frozenset(),
    overlay: OverlayFunction | None = None,
    fullname: str = "",
) -> CalleeFacts | None:
    if overlay is None and not any(_is_marked(sig) for sig in signatures):
        return None
    return CalleeFacts(label, is_runtime_module(module), tuple(signatures), bound, self_markers, overlay, fullname)


def _is_marked(sig: CallableType) -> bool:
    return any(has_marker(t) for t in sig.arg_types)


def _constructor(info: TypeInfo) -> SymbolNode | None:
    """The method mypy builds the constructor signature from."""
    for base in info.mro:
        if base.fullname == "builtins.object":
            return None
        for name in ("__new__", "__init__"):
            sym = base.names.get(name)
            if sym is not None and sym.node is not None:
                if name == "__new__" and "__init__" in base.names:
                    continue  # both here: mypy prefers __init__
                return sym.node
    return None


def _signatures(node: SymbolNode) -> list[CallableType]:
    if isinstance(node, OverloadedFuncDef):
        items = [function_of(item) for item in node.items]
        types = [item.type for item in items if item is not None]
    else:
        func = function_of(node)
        types = [func.type] if func is not None else []
    return [t for t in types if isinstance(t, CallableType)]


# -- at a call -----------------------------------------------------------------


def local_moves_of_call(
    ctx: FunctionContext | MethodContext, callee: CalleeFacts, formals: list[FormalMarkers] | None
) -> list[Move]:
    """The moves of a call into its callee (``Owned`` formals that stay in
    this thread); what crosses into another thread is ``crossings``' part.
    ``formals``: see ``formal_markers``."""
    if formals is None:
        return []
    moves: list[Move] = []
    for actuals, kinds, types, (markers, role) in zip(ctx.args, ctx.arg_kinds, ctx.arg_types, formals):
        if Marker.OWNED not in markers or role is not Role.VALUE:
            continue
        if Marker.SEND in markers or Marker.SYNC in markers:
            continue
        for actual, kind, typ in zip(actuals, kinds, types):
            var = _moved_name(actual)
            if kind in (ARG_STAR, ARG_STAR2):
                typ = item_type_of(typ)
            if var is not None and not is_copy(typ):
                assert isinstance(actual, NameExpr)  # what _moved_name found a Var for
                moves.append(Move(var, actual, actual, False, callee))
    receiver = _consumed_receiver(ctx, callee)
    if receiver is not None:
        moves.append(receiver)
    return moves


def _consumed_receiver(ctx: FunctionContext | MethodContext, callee: CalleeFacts) -> Move | None:
    """A method whose ``self`` is ``Owned[Self]`` consumes its receiver
    (Rust's ``fn close(self)``): ``tx.close()`` moves ``tx``."""
    if Marker.OWNED not in callee.self_markers or not isinstance(ctx, MethodContext):
        return None
    if Marker.SEND in callee.self_markers:
        return None  # handed to another thread: the crossings' part
    call = ctx.context
    if not isinstance(call, CallExpr) or not isinstance(call.callee, MemberExpr):
        return None
    receiver = call.callee.expr
    var = _moved_name(receiver)
    if var is None or is_copy(ctx.type):
        return None
    assert isinstance(receiver, NameExpr)  # what _moved_name found a Var for
    return Move(var, receiver, receiver, False, callee, receiver=True)


class Role(Enum):
    VALUE = "value"  # an ordinary parameter
    CLOSURE = "closure"  # a callable that runs in another thread
    THREAD_ARG = "thread-arg"  # an argument that goes to that thread with it
    PACKED = "packed"  # a tuple or dict whose items go to that thread (Thread(args=...))
    HANDOFF = "handoff"  # a value a library hands to another thread (Queue.put)


FormalMarkers = tuple[frozenset[Marker], Role]


def formal_markers(
    ctx: FunctionContext | MethodContext, callee: CalleeFacts
) -> list[FormalMarkers] | None:
    """The markers of each formal of the signature mypy matched at this call.

    mypy hands the hook the formals after binding (``self``/``cls`` dropped)
    and after a ``ParamSpec`` is replaced by the parameters it stands for;
    those replace the ``*args: P.args, **kwargs: P.kwargs`` of the declaration
    and go to a thread with the callable when that is marked ``Send``.
    """
    key = tuple(ctx.callee_arg_names)
    if key in callee.formals_by_names:
        return callee.formals_by_names[key]
    names = list(key)
    candidates = [
        shape
        for sig in callee.signatures
        if (shape := _shape(sig, names, callee.bound)) is not None
    ]
    by_names = len(candidates) <= 1  # else the actual types choose: not kept
    if not by_names:
        # An overload: the item whose formals accept the actual types.
        candidates = [c for c in candidates if _accepts(c[0], c[1], ctx)] or candidates[:1]
    if not candidates:
        callee.formals_by_names[key] = None
        return None
    sig, indices = candidates[0]
    out: list[FormalMarkers] = []
    for index in indices:
        markers = callee.declared_markers(sig, index)
        out.append((markers, _role(callee, sig, index, markers)))
    rest = _OWNED_AND_SENT if _thread_paramspec(sig, callee) else frozenset()
    out += [(rest, Role.THREAD_ARG)] * (len(names) - len(indices))
    if by_names:
        callee.formals_by_names[key] = out  # read, never changed, by every check of every call
    return out


def _role(callee: CalleeFacts, sig: CallableType, index: int, markers: frozenset[Marker]) -> Role:
    if Marker.SEND not in markers:
        return Role.VALUE
    shape = callee.shape(sig, index)
    if shape == "Callable" or isinstance(get_proper_type(strip_markers(sig.arg_types[index])), CallableType):
        return Role.CLOSURE
    if shape in ("tuple", "dict"):
        return Role.PACKED
    if callee.overlay is not None and sig.arg_kinds[index] in (ARG_STAR, ARG_STAR2):
        return Role.THREAD_ARG  # run_in_executor(ex, fn, *args): they go with fn
    if callee.overlay is not None and Marker.OWNED in markers:
        return Role.HANDOFF
    return Role.VALUE


def _shape(
    sig: CallableType, names: list[str | None], bound: int
) -> tuple[CallableType, list[int]] | None:
    """How ``sig`` lines up with the formals mypy used: the index in ``sig``
    of each formal before a ``ParamSpec`` (the rest stand for it).

    mypy drops the bound leading formals (the usual binding first:
    ``Class.method(obj, ...)`` keeps ``self``), and a ``*args: *Ts`` that no
    argument fills (``call_soon_threadsafe(cb)``)."""
    for offset in (bound, 1 - bound):
        declared = list(range(offset, len(sig.arg_types)))
        spec_at = next(
            (i for i, at in enumerate(declared) if isinstance(sig.arg_types[at], ParamSpecType)), None
        )
        if spec_at is not None:
            if len(names) < spec_at:
                continue
            declared = declared[:spec_at]
        elif len(declared) == len(names) + 1:
            declared = [at for at in declared if not _unpacked_star(sig, at)]
        if spec_at is None and len(declared) != len(names):
            continue
        pairs = zip((sig.arg_names[at] for at in declared), names)
        if any(a is not None and b is not None and a != b for a, b in pairs):
            continue
        return sig, declared
    return None


def _unpacked_star(sig: CallableType, index: int) -> bool:
    """``*args: *Ts`` (or ``Unpack[Ts]``): it disappears when nothing fills it."""
    return sig.arg_kinds[index] == ARG_STAR and isinstance(sig.arg_types[index], UnpackType)


def _accepts(sig: CallableType, indices: list[int], ctx: FunctionContext | MethodContext) -> bool:
    for formal, actual_types in zip((sig.arg_types[at] for at in indices), ctx.arg_types):
        formal = erase_typevars(formal)
        if isinstance(get_proper_type(formal), ParamSpecType):
            continue
        if not all(is_subtype(t, formal) for t in actual_types):
            return False
    return True


def _thread_paramspec(sig: CallableType, callee: CalleeFacts) -> bool:
    """Does ``sig`` send a callable to a thread together with its arguments?"""
    for index, t in enumerate(sig.arg_types):
        if Marker.SEND in callee.declared_markers(sig, index):
            inner = get_proper_type(strip_markers(t))
            if isinstance(inner, CallableType) and inner.param_spec() is not None:
                return True
    return False


def _moved_name(actual: Expression) -> Var | None:
    if isinstance(actual, NameExpr) and isinstance(actual.node, Var):
        return actual.node
    return None


def packed_items(e: Expression) -> list[Expression]:
    """The items of a tuple, list or dict display (``args=(x, y)``); any
    other expression stands for itself."""
    if isinstance(e, DictExpr):
        return [value for _, value in e.items]
    if isinstance(e, (TupleExpr, ListExpr)):
        return list(e.items)
    return [e]


def item_type_of(typ: Type) -> Type:
    """The type of the items that ``*xs`` / ``**kw`` spreads."""
    t = get_proper_type(typ)
    if isinstance(t, TupleType):
        return t
    if isinstance(t, Instance) and t.args:
        return t.args[-1]
    return typ


def declared_function(node: SymbolNode | None) -> CallableType | None:
    """The declared signature of a function or method (the first item of an
    overload), markers included."""
    if node is None:
        return None
    signatures = _signatures(node)
    return signatures[0] if signatures else None


def borrowed_parameters(func: FuncItem) -> dict[Var, frozenset[Marker]]:
    """The parameters of ``func`` marked ``Borrowed``/``MutBorrowed``, with
    their markers (``self`` too, whose marker ``class_facts`` keeps)."""
    if not isinstance(func.type, CallableType):
        return {}
    out: dict[Var, frozenset[Marker]] = {}
    for i, (arg, typ) in enumerate(zip(func.arguments, func.type.arg_types)):
        markers = markers_of(typ)
        if i == 0 and isinstance(func, FuncDef) and func.info is not FUNC_NO_INFO:
            facts = method_facts(func.info, func.name)
            declared = facts.get("declared") if facts else None
            if declared is not None:
                markers = frozenset({Marker.MUT_BORROWED if declared == "exclusive" else Marker.BORROWED})
        if Marker.BORROWED in markers or Marker.MUT_BORROWED in markers:
            out[arg.variable] = markers
    return out
