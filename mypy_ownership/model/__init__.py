"""Model: what calls and classes do, in the terms of the rules.

``callee`` reads what a callee's declaration (or its overlay) marks;
``call`` is the one object a call's checks share (the callee, the formals
mypy matched, what crosses into another thread); ``crossings`` finds those
values; ``class_facts`` records what each method of a user class does to
``self`` and ``guarded`` which of its locks each access holds;
``mutation`` decides which methods mutate; ``thread_safety`` derives ``Send``
and ``Sync``; ``borrow_scan`` matches a body's mutations and stores against
its borrows; ``access`` says what code does to a value under Python's
rules (single operations are atomic; read-modify-write, iteration,
check-then-act are compound); ``hazards`` says whether a use races with the
thread a value was handed to; ``thread_code`` says which methods of a class
run on which thread, and what they do to ``self`` there; ``runtime`` is the
catalogue of what ``fearless``'s own types
are to the checker.  The model words findings but reports nothing: the
checks return them and ``dispatch`` reports them.
"""
