"""Ownership overlay for _bisect, where typeshed defines bisect's functions
(bisect.pyi does ``from _bisect import *``, so mypy calls
``bisect.insort_left`` "_bisect.insort_left").  The insort functions insert
into the sequence they are given; the bisect functions only read it.
"""

from fearless import MutBorrowed

def insort_left(a: MutBorrowed[list], x, lo=..., hi=..., *, key=...) -> None: ...
def insort_right(a: MutBorrowed[list], x, lo=..., hi=..., *, key=...) -> None: ...
