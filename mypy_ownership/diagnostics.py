"""Every message the plugin prints, in one place, worded like rustc's and
capitalised and quoted like mypy's."""

from __future__ import annotations


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


def earlier_borrow(name: str, earlier: str, *, by_thread: bool = False) -> str:
    who = " by a scoped thread" if by_thread else ""
    if earlier == "move":
        return f'"{name}" is moved here'
    return f'"{name}" is borrowed as {earlier}{who} here'


def conflict_help(name: str) -> str:
    return f'help: pass a copy ("copy.copy({name})") as one of them'


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


def root_any(typ: str | None) -> str:
    subject = "which" if typ is None else "the value"
    return f"{subject} has type \"Any\", so its thread safety is unknown"


def trait_help(text: str) -> str:
    return f"help: {text}"


ANY_HELP = 'annotate it, or set "report_any = False" under [mypy_ownership]'
