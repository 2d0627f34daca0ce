"""Ownership overlay for heapq: what typeshed defines in heapq itself.  The
public heap functions are _heapq's (stubs/_heapq.pyi); merge, nlargest and
nsmallest only read their iterables.
"""

from fearless import MutBorrowed

def _heapify_max(heap: MutBorrowed[list], /) -> None: ...  # undocumented, before 3.14's heapify_max
