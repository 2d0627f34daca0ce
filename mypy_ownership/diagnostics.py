"""Every message the plugin prints, in one place, worded like rustc's and
capitalised and quoted like mypy's."""

from __future__ import annotations


def marker_arity(marker: str, given: int) -> str:
    return (
        f'"{marker}" takes exactly one type argument, {given} given'
        f' (write "{marker}[list[int]]", not "{marker}")'
        if given == 0
        else f'"{marker}" takes exactly one type argument, {given} given'
    )


# -- use after move (E0382) ---------------------------------------------------------


def use_of_moved_value(name: str) -> str:
    return f'Use of moved value "{name}"'


def moved_here(name: str, *, callee: str | None, in_loop: bool) -> str:
    if in_loop:
        return f'"{name}" was moved here, in the previous iteration of the loop'
    if callee is None:
        return f'"{name}" was moved here, into the thread'
    return f'"{name}" was moved here, into {callee}'


def move_help(name: str, *, callee: str | None, from_runtime: bool, in_loop: bool) -> str:
    copy = f'"copy.copy({name})"'
    if in_loop:
        return f'help: rebind "{name}" before the next iteration, or pass a copy ({copy})'
    if callee is None:
        return (
            f'help: to keep using "{name}", give the thread a copy ({copy})'
            ' or share it through "Arc" or "Mutex"'
        )
    if from_runtime:
        return f'help: to keep using "{name}", pass a copy ({copy})'
    return (
        f'help: to keep using "{name}", pass a copy ({copy}),'
        f' or declare the parameter "Borrowed[...]" if {callee} does not keep it'
    )
