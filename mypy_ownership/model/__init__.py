"""Model: what calls and classes do, in the terms of the rules.

``callee`` reads what a callee's declaration (or its overlay) marks;
``call`` is the one object a call's checks share (the callee, the formals
mypy matched, what crosses into another thread); ``crossings`` finds those
values; ``class_facts`` records what each method of a user class does to
``self``; ``mutation`` decides which methods mutate; ``thread_safety``
derives ``Send`` and ``Sync``; ``made_with`` reads the keyword arguments a
value was made with; ``runtime`` is the catalogue of what ``fearless``'s own
types are to the checker.  The model reports nothing: the checks do.
"""
