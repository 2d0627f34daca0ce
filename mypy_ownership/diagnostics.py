"""Every message the plugin prints, and the one way it leaves: worded like
rustc's, capitalised and quoted like mypy's.

A check does not call mypy's ``fail``: it describes what it found as a
:class:`Diagnostic` (the code, the message, the place, the notes, each help
text from here), and :class:`Reporter` reports it.  The reporter is the only
caller of ``fail``.  It applies mypy's speculative-check filter (see
:func:`reportable`) and reports each diagnostic once for as long as mypy
holds the error it made (mypy checks some bodies twice; the daemon clears a
module's errors before it checks the module again, and then it is reported
again).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from contextlib import contextmanager

from mypy.errorcodes import ErrorCode
from mypy.errors import ErrorInfo
from mypy.nodes import Context
from mypy.plugin import CheckerPluginInterface, TypeAnalyzerPluginInterface


# -- the way out ------------------------------------------------------------------


class Diagnostic:
    """One error and its notes, worded, not yet reported.

    ``key``: what makes two diagnostics the same report, within a module
    and an error code (by default the place and the message; a check whose
    rule is "one error per use" keys by the use)."""

    __slots__ = ("code", "message", "where", "notes", "key")

    code: ErrorCode
    message: str
    where: Context
    notes: tuple[tuple[str, Context], ...]
    key: Hashable

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        where: Context,
        notes: Iterable[tuple[str | None, Context]] = (),
        key: Hashable = None,
    ) -> None:
        self.code = code
        self.message = message
        self.where = where
        self.notes = tuple((text, at) for text, at in notes if text is not None)
        self.key = key if key is not None else (where.line, where.column, message)

    def __repr__(self) -> str:
        return f"Diagnostic({self.code.code!r}, {self.message!r}, line={self.where.line})"


class Reporter:
    """Reports diagnostics to mypy: the only caller of ``fail``.

    What it has reported is kept for the module mypy is checking, and only
    for it (a new module, or the same one checked again by the daemon with
    its old errors cleared, starts afresh)."""

    __slots__ = ("_file", "_reported")

    def __init__(self) -> None:
        self._file: str | None = None
        # (code, key) -> the error mypy was given for it
        self._reported: dict[tuple[str, Hashable], ErrorInfo] = {}

    def report(self, api: CheckerPluginInterface, diagnostics: Iterable[Diagnostic]) -> None:
        errors = api.msg.errors
        if errors.file != self._file:
            self._file = errors.file
            self._reported = {}
        for diagnostic in diagnostics:
            if not reportable(api):
                return
            key = (diagnostic.code.code, diagnostic.key)
            earlier = self._reported.get(key)
            if earlier is not None and _held(api, earlier):
                continue
            with unfiltered(api):
                error = api.msg.fail(diagnostic.message, diagnostic.where, code=diagnostic.code)
                for text, at in diagnostic.notes:
                    api.msg.note(
                        text, at, code=diagnostic.code, origin_context=diagnostic.where, parent_error=error
                    )
            self._reported[key] = error

    @staticmethod
    def report_in_type(api: TypeAnalyzerPluginInterface, diagnostic: Diagnostic) -> None:
        """A diagnostic found while mypy analyses a type (a marker written
        wrongly): semantic analysis has no speculative checks, and reports
        each annotation once."""
        api.fail(diagnostic.message, diagnostic.where, code=diagnostic.code)


def _held(api: CheckerPluginInterface, error: ErrorInfo) -> bool:
    """Does mypy still hold ``error`` for the module being checked?"""
    errors = api.msg.errors
    # ``in`` compares by identity here (ErrorInfo has no ``__eq__``), in C
    return error in errors.error_info_map.get(errors.file, ())


# -- speculative checks -----------------------------------------------------------
#
# When mypy picks an overload item it checks the call against each plausible
# item with errors switched off and keeps the first item that fits; the call
# hooks of that item fire only then, never again.  A call whose arguments fit
# (no error so far under the filter) is the one mypy keeps, so what it moves is
# real and is reported past the filter.  A call whose arguments did not fit is
# thrown away, and so are calls in files whose errors are ignored anyway.


def reportable(api: CheckerPluginInterface) -> bool:
    errors = api.msg.errors
    if not errors.prefer_simple_messages():
        return True
    if errors.file in errors.ignored_files or errors.options.ignore_errors:
        return False
    watchers = errors._watchers
    return bool(watchers) and not watchers[-1].has_new_errors()


@contextmanager
def unfiltered(api: CheckerPluginInterface) -> Iterator[None]:
    """Report past the watchers that would throw the errors away."""
    errors = api.msg.errors
    saved = errors._watchers
    errors._watchers = [w for w in saved if w._filter is False]
    try:
        yield
    finally:
        errors._watchers = saved


# -- the messages -----------------------------------------------------------------


def marker_arity(marker: str, given: int) -> str:
    hint = f' (put the type inside, e.g. "{marker}[list[int]]")' if given == 0 else ""
    return f'"{marker}" takes exactly one type argument, {given} given{hint}'


# -- use after move (E0382) ---------------------------------------------------------


def use_of_moved_value(name: str) -> str:
    return f'Use of moved value "{name}"'


def moved_here(name: str, *, callee: str | None, in_loop: bool) -> str:
    if in_loop:
        return f'"{name}" was moved here, in the previous iteration of the loop'
    if callee is None:
        return f'"{name}" was moved here, into the thread'
    return f'"{name}" was moved here, into {callee}'


def move_help(
    name: str, *, callee: str | None, from_runtime: bool, in_loop: bool, duplication: str = "copy"
) -> str | None:
    """``duplication``: how the value can be kept (see traits.duplication):
    "copy" (``copy.copy``), "clone" (``x.clone()``) or "unique" (neither:
    no copy is suggested, as rustc suggests no clone for a type without
    ``Clone``).  None: nothing to suggest."""
    if duplication == "unique":
        if in_loop:
            return f'help: create a new "{name}" for each iteration'
        if callee is None:
            return f'help: to keep using "{name}", share it through "Arc" and "Mutex"'
        if from_runtime:
            return None
        return f'help: declare the parameter "Borrowed[...]" if {callee} does not keep "{name}"'
    copy = f'a clone ("{name}.clone()")' if duplication == "clone" else f'a copy ("copy.copy({name})")'
    if in_loop:
        return f'help: rebind "{name}" before the next iteration, or pass {copy}'
    if callee is None:
        return f'help: to keep using "{name}", give the thread {copy} or share it through "Arc" or "Mutex"'
    if from_runtime:
        return f'help: to keep using "{name}", pass {copy}'
    return (
        f'help: to keep using "{name}", pass {copy},'
        f' or declare the parameter "Borrowed[...]" if {callee} does not keep it'
    )


def consumed_here(name: str, callee: str, *, in_loop: bool) -> str:
    """A method whose ``self`` is ``Owned[Self]`` (Rust's ``fn close(self)``)."""
    when = ", in the previous iteration of the loop" if in_loop else ""
    return f'"{name}" was moved here{when}: {callee} consumes its receiver'


def consumed_help(name: str, callee: str, duplication: str) -> str:
    if duplication == "unique":
        return f'help: call {callee} last'
    copy = f'a clone ("{name}.clone()")' if duplication == "clone" else f'a copy ("copy.copy({name})")'
    return f"help: call {callee} last, or on {copy}"


# -- borrows: conflicts at a call (E0499, E0502, E0505) -----------------------------


def borrow_conflict(name: str, later: str, earlier: str) -> str:
    """``later``/``earlier`` are the kinds of the two accesses, in argument
    order: "mutable", "immutable" or "move"."""
    if later == "move":
        if earlier == "move":
            return f'Cannot move out of "{name}" because it is also moved by the same call'
        return f'Cannot move out of "{name}" because it is borrowed'
    if earlier == "move":
        return f'Cannot borrow "{name}" because it is moved by the same call'
    if later == earlier == "mutable":
        return f'Cannot borrow "{name}" as mutable more than once at a time'
    return f'Cannot borrow "{name}" as {later} because it is also borrowed as {earlier}'


def lent_to_thread(name: str, *, caller_writes: bool) -> str:
    """A use between a thread's start and the point that orders its work
    before the caller (hazard detection: docs/thread-safety.md)."""
    if caller_writes:
        return f'Cannot write "{name}" while the thread it was handed to may use it'
    return f'Cannot read "{name}" while the thread it was handed to may write it'


def lent_here(name: str) -> str:
    return f'"{name}" was handed to the thread here'


def lent_help(name: str) -> str:
    return f'help: join the thread (or wait for its result) before using "{name}", or give the thread a copy'


def earlier_borrow(name: str, earlier: str, *, by_thread: bool = False) -> str:
    who = " by a scoped thread" if by_thread else ""
    if earlier == "move":
        return f'"{name}" is moved here'
    return f'"{name}" is borrowed as {earlier}{who} here'


def conflict_help(name: str) -> str:
    return f'help: pass a copy ("copy.copy({name})") as one of them'


# -- borrows: mutation while iterating (E0502 for a loop) ---------------------------


def resized_while_iterated(what: str, method: str | None) -> str:
    """``what``: the iterated collection, quoted; ``method``: a method of
    its owner that changes its size (None: the statement itself does)."""
    if method is None:
        return f"Cannot change the size of {what} while iterating over it"
    return f'Cannot call "{method}", which changes the size of {what}, while iterating over it'


def iterated_here(what: str) -> str:
    return f"{what} is iterated here"


# What Python does at the loop's next step, by the kind of collection.
_RESIZE_EFFECTS = {
    "dict": 'Python raises RuntimeError at the next step ("dictionary changed size during iteration")',
    "set": 'Python raises RuntimeError at the next step ("Set changed size during iteration")',
    "deque": 'Python raises RuntimeError at the next step ("deque mutated during iteration")',
    "list": "the loop's next step skips or repeats an item (a list is iterated by index)",
    "list-end": "the loop goes on over the items added at the end (it never ends if every step adds one)",
}


def resize_effect(kind: str) -> str:
    return _RESIZE_EFFECTS[kind]


def resize_help(what: str) -> str:
    copy = what.strip('"')
    return f'help: iterate over a copy ("list({copy})"), or leave the loop right after the change'


# -- borrows: mutation through a shared borrow (E0596, E0594) -------------------------


def mutate_through_shared(what: str, action: str) -> str:
    """``action``: how it is mutated, e.g. 'call mutating method "append" on',
    'assign to', 'delete an item of'."""
    return f"Cannot {action} {what}, which is behind a shared borrow"


def shared_borrow_declared(name: str) -> str:
    return f'"{name}" is a shared borrow ("Borrowed[...]") declared here'


def mutate_help(name: str) -> str:
    return f'help: declare "{name}" as "MutBorrowed[...]" to mutate it, or mutate a copy'


# -- borrows: escapes (E0521, E0597) ------------------------------------------------


def borrow_escapes(what: str, how: str) -> str:
    return f"Borrowed data {what} escapes the function: it is {how}"


def borrowed_here(name: str) -> str:
    return f'"{name}" is borrowed for the duration of the call only, from here'


def escape_help(name: str) -> str:
    return f'help: keep a copy ("copy.copy({name})"), or take the parameter as "Owned[...]"'


def guarded_data_used_after_release(what: str) -> str:
    return f"Lock-protected data {what} is used after the lock is released"


def guarded_data_escapes(what: str, how: str) -> str:
    return f"Lock-protected data {what} escapes the lock: it is {how}"


def guard_used_after_release(name: str) -> str:
    return f'Guard "{name}" is used after its lock was released'


def lock_released_here() -> str:
    return "lock released here"


def guard_help() -> str:
    return 'help: use it inside the "with" block, or copy the data out while the lock is held'


def arc_is_shared(what: str) -> str:
    return f'{what} is shared by every clone of the "Arc"'


def arc_help() -> str:
    return 'help: put the data in a "Mutex" inside the "Arc" to mutate it'


def read_guard_is_shared(name: str) -> str:
    return f'"{name}" is a read guard: it gives shared access only'


def read_guard_help() -> str:
    return 'help: take a "write()" guard to mutate it'


def borrow_as_mutable_behind_shared(what: str) -> str:
    return f"Cannot borrow {what} as mutable, as it is behind a shared borrow"


def move_out_of_shared(what: str) -> str:
    return f"Cannot move out of {what}, which is behind a shared borrow"


# -- thread safety (E0277: `Rc<T>` cannot be sent between threads safely) ------------


def cannot_send(typ: str) -> str:
    return f'"{typ}" cannot be sent between threads safely'


def cannot_share(typ: str) -> str:
    return f'"{typ}" cannot be shared between threads safely'


def captured_here(name: str) -> str:
    return f'"{name}" is captured here, by the function the thread runs'


def receiver_shared() -> str:
    return 'a bound method takes its "self" to the thread that runs it'


def receiver_sent(method: str) -> str:
    return f'"{method}" hands the object to the thread it starts, which runs its methods'


def because(chain: list[str], root: str) -> str:
    """``chain``: from the checked type down to the culprit, each link
    'attribute "conn" of "Worker" has type "Connection"'; ``root``: what is
    wrong with the last one ("which is thread-bound: ...")."""
    if not chain:
        return f"because {root}"
    return f"because {', '.join(chain)}, {root}"


def attribute_link(owner: str, attribute: str, typ: str) -> str:
    return f'attribute "{attribute}" of "{owner}" has type "{typ}"'


def part_link(owner: str, typ: str) -> str:
    return f'"{owner}" holds "{typ}"'


def member_link(union: str, typ: str) -> str:
    return f'"{union}" may be "{typ}"'


def root_not_shareable(typ: str | None, reason: str | None) -> str:
    subject = "which" if typ is None else f'"{typ}"'
    text = f"{subject} must not be used by two threads at once"
    return f"{text}: {reason}" if reason else text


def root_thread_bound(typ: str | None, reason: str | None) -> str:
    subject = "which" if typ is None else f'"{typ}"'
    text = f"{subject} is thread-bound"
    return f"{text}: {reason}" if reason else text


def root_mutable(typ: str | None) -> str:
    subject = "which" if typ is None else f'"{typ}"'
    return f"{subject} is mutable and not synchronised"


def root_not_declared(typ: str | None) -> str:
    subject = "which" if typ is None else f'"{typ}"'
    return f"{subject} is not declared thread-safe (an overlay can declare it)"


def root_reassignable(owner: str, attribute: str) -> str:
    return (
        f'attribute "{attribute}" of "{owner}" can be reassigned'
        f' ("{owner}" is not frozen and "{attribute}" is not "Final")'
    )


_ACCESS_VERBS = {"r": "reads", "c": "calls a method of", "i": "calls", "w": "assigns", "m": "writes into", "rmw": "updates"}

UNGUARDED_HELP = "hold the lock there too (\"with self.<lock>:\"), or make the attribute's value thread-safe"


UNLOCKED_HELP = "guard it with a lock (\"with self._lock:\" in every method), or make the attribute's value thread-safe"


def unguarded_access(attribute: str, owner: str, method: str, kind: str, line: int, locks: list[str]) -> str:
    """The access that keeps a class that synchronises itself from being
    Sync (``locks``: its locks; none: it relies on its synchronised
    attributes alone)."""
    verb = _ACCESS_VERBS.get(kind, "uses")
    if not locks:
        return f'"{owner}.{method}" {verb} "{attribute}" (line {line}), and no lock guards it'
    held = " or ".join(f'"{lock}"' for lock in locks)
    return f'"{owner}.{method}" {verb} "{attribute}" without holding {held} (line {line}), which guards it elsewhere'


def root_unguarded(typ: str, reason: str | None) -> str:
    return f'"{typ}" synchronises itself, but not everywhere: {reason}'


# -- data races (hazard detection) ------------------------------------------------

_RACE_HERE = {
    "cts": "is created lazily here",
    "it": "is iterated here",
    "m": "changes size here",
    "s": "gets a new item here",
    "rmw": "is updated here (\"+=\")",
    "irmw": "has an item updated here (\"+=\")",
    "w": "is assigned here",
}
_RACE_THERE = {
    "cts": "creates it lazily too",
    "it": "iterates it",
    "m": "changes its size",
    "s": "adds items to it",
    "rmw": "updates it (\"+=\")",
    "irmw": "updates its items (\"+=\")",
    "w": "assigns it",
}
_RACE_OUTCOME = {
    "cts": "two may be made, and one is lost",
    "it": "an item can be skipped, or the iteration fail",
    "m": "its iteration can skip an item, or fail",
    "s": "its iteration can fail",
    "rmw": "one update can be lost",
    "irmw": "one update can be lost",
    "w": "the assignment can be lost",
}


def data_race(what: str, mine: str, other: str, started: int) -> str:
    """An access on the spawning side that races with the thread's."""
    return (
        f'Data race: "{what}" {_RACE_HERE.get(mine, "is used here")} while the thread started at line {started}'
        f' {_RACE_THERE.get(other, "writes it")}, with no lock held by both: {_RACE_OUTCOME.get(mine, "")}'
    )


def race_elsewhere(module: str, line: int) -> str:
    return f'that access is in module "{module}", line {line}'


def race_other_access(what: str, kind: str, without: list[str], started: int, where: tuple[str, int] | None) -> str:
    verb = {"cts": "created lazily", "it": "iterated", "m": "resized", "s": "given a new item",
            "rmw": "updated", "irmw": "updated item by item", "w": "assigned"}.get(kind, "used")
    lock = " without " + " or ".join(f'"self.{h}"' for h in without) if without else ""
    place = f' (module "{where[0]}", line {where[1]})' if where is not None else " here"
    return f'"{what}" is {verb}{place}{lock}, on the thread started at line {started}'


def race_thread_started(target: str | None) -> str:
    if target is None:
        return "the thread that runs the closure is started here"
    return f'the thread that runs "{target}" is started here'


def race_help(what: str, mine: str, other: str, locks: list[str]) -> str:
    lock = f'"self.{locks[0]}"' if locks else "one lock"
    if "it" in (mine, other):
        return f'help: iterate over a copy ("list({what})"), or hold {lock} at both'
    if mine == "cts":
        return f'help: create it under {lock} (and test again inside it), or before the thread starts'
    return f"help: hold {lock} at both"


def unguarded_update(what: str, mine: str, lock: str, other: str, line: int) -> str:
    """An in-place update without the lock that guards another write of the
    same attribute (``checks.unguarded``)."""
    there = {"rmw": "its update", "irmw": "the update of its items", "s": "the store of its items"}.get(other, "its assignment")
    return (
        f'Data race: "{what}" {_RACE_HERE.get(mine, "is updated here")} without "self.{lock}",'
        f" which guards {there} at line {line}: {_RACE_OUTCOME.get(mine, '')}"
    )


def guarded_there(what: str, kind: str, lock: str, module: str | None) -> str:
    verb = {"rmw": "updated", "irmw": "updated item by item", "s": "given an item", "w": "assigned"}.get(kind, "written")
    place = f' in module "{module}"' if module is not None else " here"
    return f'"{what}" is {verb}{place} under "self.{lock}"'


def locks_itself(cls: str, lock: str) -> str:
    return f'"{cls}" takes a lock of its own ("self.{lock}"), so its methods may run on several threads at once'


def unguarded_help(lock: str) -> str:
    return f'help: hold "self.{lock}" here too'


def root_any(typ: str | None) -> str:
    subject = "which" if typ is None else "the value"
    return f"{subject} has type \"Any\", so its thread safety is unknown"


def trait_help(text: str) -> str:
    return f"help: {text}"


ANY_HELP = 'annotate it, or set "report_any = False" under [mypy_ownership]'


# The helps of the thread-safety derivation (see model.thread_safety).
MUTABLE_HELP = 'put it in a "Mutex" to share it ("Arc(Mutex(...))"), or share an immutable copy'
FROZEN_HELP = (
    'make the class frozen ("@dataclass(frozen=True)") or its attributes "Final",'
    ' or put it in a "Mutex" to share it'
)
NOT_SEND_HELP = "create the value in the thread that uses it"
NOT_SYNC_HELP = 'give each thread its own, or put it in a "Mutex"'
RC_HELP = 'use "Arc" instead of "Rc" to share a value between threads'
GUARD_THREAD_HELP = "take the lock inside the thread that uses the data"
