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
