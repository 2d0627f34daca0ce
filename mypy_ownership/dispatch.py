"""The plugin class (the entry point ``mypy_ownership.plugin`` returns it): a
table from full names to handlers, and the one place where what the checks
find is handed to the reporter.

For a call of a callee the plugin has facts for, it builds the call's
:class:`~mypy_ownership.model.call.Call` once and hands it to every call
check in turn (:class:`CallCheck`); each returns diagnostics, and
:class:`~mypy_ownership.diagnostics.Reporter` reports them.  The hooks it
answers are cached per full name, because mypy asks for every call in the
program."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import partial
from collections.abc import Iterable
from typing import Any, Protocol, TypeVar

from mypy.nodes import MypyFile, SymbolNode, TypeAlias, TypeInfo
from mypy.plugin import (
    AnalyzeTypeContext,
    AttributeContext,
    ClassDefContext,
    FunctionContext,
    MethodContext,
    Plugin,
    ReportConfigContext,
)
from mypy.types import AnyType, Type, TypeOfAny

from mypy_ownership.analysis.checkpoint import CHECKPOINT_FULLNAME, request_checkpoint
from mypy_ownership.analysis.uses import UseGraphs
from mypy_ownership.checks import marker_syntax
from mypy_ownership.checks.borrows import BorrowChecker
from mypy_ownership.checks.boundaries import BoundaryChecker
from mypy_ownership.checks.conflicts import ConflictChecker
from mypy_ownership.checks.data_race import DataRaceChecker
from mypy_ownership.checks.unguarded import ENTER_HOOKS, UnguardedChecker
from mypy_ownership.checks.guards import GuardChecker
from mypy_ownership.checks.iteration import IterationChecker, watched_iterable
from mypy_ownership.checks.moves import MoveChecker
from mypy_ownership.checks.scoped import ScopedChecker
from mypy_ownership.config import ConfigError, Settings, read_settings
from mypy_ownership.diagnostics import Diagnostic, Reporter
from mypy_ownership.markers import MARKERS_MODULE, Marker
from mypy_ownership.model.call import Call
from mypy_ownership.model.callee import CalleeFacts, callee_facts
from mypy_ownership.analysis.class_memo import BodyExpressions
from mypy_ownership.model.class_facts import ClassFactsRecorder
from mypy_ownership.model.mutation import MutationOracle
from mypy_ownership.model.runtime import ARC_VALUE, GUARD_METHODS
from mypy_ownership.model.queue_items import QueueItemsRecorder
from mypy_ownership.model.reach import ReachRecorder
from mypy_ownership.model.thread_code import RaceFactsRecorder
from mypy_ownership.model.thread_safety import ThreadSafety
from mypy_ownership.overlays import OverlayError, Overlays, bundled_overlay_dir, load_overlays
from mypy_ownership.safety import debugging, guarded_call_hook
from mypy_ownership.version import plugin_version


class CallCheck(Protocol):
    """A check run at every call of a callee with facts."""

    def check_call(self, call: Call) -> Iterable[Diagnostic]: ...


class OwnershipPlugin(Plugin):
    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self._callees: dict[str, CalleeFacts | None] = {}
        settings, overlays = _configure(options)
        self._overlays = overlays
        # Whatever changes results must be here, or mypy's cache goes stale.
        self._config_data = {
            **settings.as_data(),
            "plugin": plugin_version(),
            "overlays": overlays.digest(),  # the content of every overlay, user ones too
        }
        self._reporter = Reporter()
        self._class_facts = ClassFactsRecorder(overlays.send_if_keywords())
        self._race_facts = RaceFactsRecorder()
        self._reach = ReachRecorder()
        self._queue_items = QueueItemsRecorder()
        self._safety = safety = ThreadSafety(overlays, report_any=settings.report_any)
        self._oracle = oracle = MutationOracle(overlays.mutates, overlays.function)
        self._borrows = BorrowChecker(oracle)
        self._guards = GuardChecker(oracle)
        self._iteration = IterationChecker()
        self._unguarded = UnguardedChecker()
        # The flow analysis of each function, for the checks of moves and
        # of conflicts alike.
        graphs = UseGraphs()
        # In this order at every call: a value that may not cross is
        # reported before its moves are.
        self._call_checks: tuple[CallCheck, ...] = (
            BoundaryChecker(safety),
            MoveChecker(safety, oracle, graphs),
            ConflictChecker(graphs),
            self._borrows,
            ScopedChecker(oracle, safety),
            DataRaceChecker(safety),
        )
        # mypy asks this for every type it analyses (tens of thousands per
        # run, typeshed's included): a dict's get answers without running
        # any Python code.
        # The same for every call and attribute: the answers are kept in
        # tables whose misses (once per full name) run the Python code.
        marker_hooks = {marker.fullname: partial(self._on_marker, marker=marker) for marker in Marker}
        self.get_type_analyze_hook = marker_hooks.get  # type: ignore[assignment]
        self._function_hooks = _HookTable(self._function_hook)
        self._method_hooks = _HookTable(self._method_hook)
        self.get_function_hook = self._function_hooks.__getitem__  # type: ignore[assignment]
        self.get_method_hook = self._method_hooks.__getitem__  # type: ignore[assignment]
        # The modules mypy has parsed: one parsed again is the daemon's
        # after an edit, whose declarations may have changed.
        self._parsed: set[str] = set()
        self.get_attribute_hook = {ARC_VALUE: self._on_arc_value}.get  # type: ignore[assignment]
        # By module (or enclosing class): whether its classes have bodies.
        self._class_hooks = _HookTable(self._class_hook)

    def get_customize_class_mro_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        # Called for every class: its methods' facts go into its metadata.
        # Most classes come from stubs (typeshed's thousands), which have no
        # bodies to learn from: answered here, without building a context.
        return self._class_hooks[fullname.rpartition(".")[0]]

    def _class_hook(self, prefix: str) -> Callable[[ClassDefContext], None] | None:
        return None if self._in_stub(prefix) else self._record_class_facts

    def _record_class_facts(self, ctx: ClassDefContext) -> None:
        """A class whose facts cannot be gathered has none (its methods count
        as doing nothing the analyses look for); mypy goes on."""
        expressions = BodyExpressions()  # listed once for both recorders that read them all
        try:
            self._class_facts.record(ctx, expressions)
        except Exception:
            if debugging():
                raise
        try:
            self._race_facts.record(ctx)
        except Exception:
            if debugging():
                raise
        try:
            self._reach.record(ctx, expressions)
        except Exception:
            if debugging():
                raise
        try:
            self._queue_items.record(ctx, expressions)
        except Exception:
            if debugging():
                raise

    def _in_stub(self, prefix: str) -> bool:
        """Is the module that ``prefix`` (a class's full name less its own
        name) belongs to a stub?"""
        modules = self._modules or {}
        module = prefix
        while module:
            tree = modules.get(module)
            if tree is not None:
                return tree.is_stub
            module = module.rpartition(".")[0]
        return False

    def _function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        if fullname == CHECKPOINT_FULLNAME:
            return guarded_call_hook(self._on_checkpoint)
        callee = self._callee(fullname)
        return None if callee is None else guarded_call_hook(partial(self._on_call, callee=callee))

    def _method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        if fullname in GUARD_METHODS:
            return guarded_call_hook(partial(self._on_lock, fullname=fullname))
        callee = self._callee(fullname)
        if fullname in ENTER_HOOKS:
            return guarded_call_hook(partial(self._on_lock_entered, callee=callee))
        if fullname.endswith(".__iter__") and self._iterates_collection(fullname):
            return guarded_call_hook(partial(self._on_iter, callee=callee))
        return None if callee is None else guarded_call_hook(partial(self._on_call, callee=callee))

    def _iterates_collection(self, fullname: str) -> bool:
        """Is ``fullname`` the ``__iter__`` of a class whose ``for`` loops
        are checked for mutation while iterating?"""
        sym = self.lookup_fully_qualified(fullname.rpartition(".")[0])
        return sym is not None and isinstance(sym.node, TypeInfo) and watched_iterable(sym.node)

    def report_config_data(self, ctx: ReportConfigContext) -> Any:
        return self._config_data

    def get_additional_deps(self, file: MypyFile) -> list[tuple[int, str, int]]:
        """Called once per module mypy parses: a module parsed a second time
        (the daemon, after an edit) may declare its functions otherwise, so
        what was learnt by full name, and about classes, is forgotten."""
        if file.fullname in self._parsed:
            self._callees.clear()
            self._function_hooks.clear()
            self._method_hooks.clear()
            self._safety.forget()
            self._oracle.forget()
        self._parsed.add(file.fullname)
        return []

    def _callee(self, fullname: str) -> CalleeFacts | None:
        """Facts for a callee (a function hook and a method hook may ask for
        the same class: remembered here too)."""
        try:
            return self._callees[fullname]
        except KeyError:
            pass
        try:
            facts = callee_facts(
                self._lookup(fullname),
                self._overlays,
                overlay_name=self._overlay_name(fullname),
                markers_loaded=MARKERS_MODULE in (self._modules or {}),
            )
        except Exception:
            if debugging():
                raise
            facts = None  # an unreadable declaration moves nothing
        self._callees[fullname] = facts
        return facts

    def _lookup(self, fullname: str) -> SymbolNode | None:
        """The function, method or class a hook's full name means.  A method
        hook names the receiver's class, which may inherit the method: look
        it up along the MRO, where the overlays name it too."""
        sym = self.lookup_fully_qualified(fullname)
        if sym is not None:
            return sym.node
        owner, _, name = fullname.rpartition(".")
        cls = self.lookup_fully_qualified(owner) if owner else None
        if cls is None or not isinstance(cls.node, TypeInfo):
            return None
        for base in cls.node.mro:
            found = base.names.get(name)
            if found is not None:
                return found.node
        return None

    def _overlay_name(self, fullname: str) -> str | None:
        """For a method, the overlay entry nearest the receiver's class along
        its MRO, when one comes before the class typeshed defines the method
        on (``ProcessPoolExecutor.submit`` pickles, ``Executor.submit`` does
        not: an overlay may say so without typeshed redeclaring it)."""
        owner, _, name = fullname.rpartition(".")
        if not self._overlays.names_function(name):
            return None
        cls = self.lookup_fully_qualified(owner) if owner else None
        if cls is None or not isinstance(cls.node, TypeInfo):
            return None
        for base in cls.node.mro:
            candidate = f"{base.fullname}.{name}"
            if self._overlays.function(candidate) is not None:
                return candidate
            if name in base.names:
                return None  # the defining class: its own name is used
        return None

    def _on_marker(self, ctx: AnalyzeTypeContext, marker: Marker) -> Type:
        sym = self.lookup_fully_qualified(marker.fullname)
        if sym is None or not isinstance(sym.node, TypeAlias):
            return AnyType(TypeOfAny.from_error)  # not fearless's marker: cannot be
        if marker in (Marker.BORROWED, Marker.MUT_BORROWED):
            request_checkpoint(ctx)
        return marker_syntax.check_marker_arity(ctx, sym.node)

    def _on_arc_value(self, ctx: AttributeContext) -> Type:
        try:
            self._reporter.report(ctx.api, self._borrows.check_arc_value(ctx))
        except Exception:
            if debugging():
                raise
        return ctx.default_attr_type

    def _on_lock(self, ctx: MethodContext, fullname: str) -> Type:
        self._reporter.report(ctx.api, self._guards.check_lock_call(ctx, fullname))
        return ctx.default_return_type

    def _on_lock_entered(self, ctx: MethodContext, callee: CalleeFacts | None) -> Type:
        """A threading lock's ``__enter__``: mypy is checking a ``with`` on
        it, in a method of the class the check reads."""
        self._reporter.report(ctx.api, self._unguarded.check_lock_entered(ctx))
        if callee is not None:
            self._on_call(ctx, callee)
        return ctx.default_return_type

    def _on_checkpoint(self, ctx: FunctionContext) -> Type:
        self._reporter.report(ctx.api, self._borrows.check_body(ctx))
        return ctx.default_return_type

    def _on_iter(self, ctx: MethodContext, callee: CalleeFacts | None) -> Type:
        """A collection's ``__iter__``: mypy is checking a loop over it."""
        self._reporter.report(ctx.api, self._iteration.check_iteration(ctx))
        if callee is not None:
            self._on_call(ctx, callee)
        return ctx.default_return_type

    def _on_call(self, ctx: FunctionContext | MethodContext, callee: CalleeFacts) -> Type:
        call = Call(ctx, callee)
        for check in self._call_checks:
            found = check.check_call(call)
            if found:  # most calls break no rule: nothing to hand the reporter
                self._reporter.report(ctx.api, found)
        return ctx.default_return_type


H = TypeVar("H")


class _HookTable(dict[str, H]):
    """Hooks by full name, computed on the first request for each."""

    def __init__(self, compute: Callable[[str], H]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, fullname: str) -> H:
        hook = self[fullname] = self._compute(fullname)
        return hook


def _cache_dir(options: Any) -> str | None:
    """mypy's cache directory, where the overlays' snapshots are kept too."""
    cache_dir = getattr(options, "cache_dir", None)
    if not cache_dir or cache_dir == os.devnull:
        return None
    return str(cache_dir)


def _configure(options: Any) -> tuple[Settings, Overlays]:
    """The settings and overlays; a bad one stops mypy with a clear message
    (exit status 2, like mypy's own configuration errors)."""
    try:
        settings = read_settings(getattr(options, "config_file", None))
        overlays = load_overlays(
            [bundled_overlay_dir(), *settings.overlay_dirs], cache_dir=_cache_dir(options)
        )
    except (ConfigError, OverlayError) as e:
        print(f"mypy_ownership: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    return settings, overlays

