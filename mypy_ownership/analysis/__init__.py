"""Analysis: what the syntax of a function says, before any rule is applied.

``syntax`` lists a node's children and finds a function's closures;
``flow`` is the one control-flow walker (branches, loops, ``try``, ``match``)
that ``aliases`` and the move check build on; ``paths`` names places
(``v.items[0]``) and computes their types; ``copyable`` says which types are
Rust's ``Copy`` (immutable values, never moved); ``made_with`` reads the
constant keywords a value was made with; ``checkpoint`` gives a function
with borrowed parameters a call back when mypy checks its body; ``handoff``
follows a value a library hands to a thread until a join gives it back;
``race_shapes`` lists the accesses to ``self`` that can race with another
thread's, and the locks held at each;
``loop_exit`` says whether every path from a point in a loop's body leaves
the loop before its next step.
Nothing here knows a rule or reports anything: the layers above do.
"""
