"""Ownership overlay for bisect: the module's own alias.  typeshed declares
``insort = insort_right`` here, and mypy calls ``bisect.insort`` by that name
("bisect.insort", not "_bisect.insort_right"); insort_left and insort_right
are _bisect's (stubs/_bisect.pyi).
"""

from fearless import MutBorrowed

def insort(a: MutBorrowed[list], x, lo=..., hi=..., *, key=...) -> None: ...
