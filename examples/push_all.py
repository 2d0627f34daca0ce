"""Borrow conflict: push_all(vec, vec) lends vec shared and exclusive at once.

The Rust original ("Background: borrowing" in the seed article)::

    fn push_all(from: &Vec<i32>, to: &mut Vec<i32>) {
        for i in from.iter() {
            to.push(*i);
        }
    }

    push_all(&vec, &mut vec)

    error: cannot borrow `vec` as mutable because it is also borrowed as immutable

In Rust the iterator over ``from`` would dangle once ``to`` reallocates.  In
Python nothing dangles, but it is no better: the loop walks a list that grows
by one element per step, so ``push_all(vec, vec)`` never returns and eats all
memory.  ``MutBorrowed[...]`` means "nobody else touches this value during
the call", so passing the same list as ``src`` too breaks the contract, and
mypy with the ``mypy_ownership`` plugin reports (once the borrow-conflict
check lands; until then the demo shows it as "not yet reported")::

    push_all.py:NN: error: ... "vec" ... borrowed ...  [borrow-conflict]

The fix: lend ``push_all`` two different lists, here a snapshot of ``vec``
taken before the call, so that ``src`` stays still while ``dst`` grows.
"""

from __future__ import annotations

from fearless import Borrowed, MutBorrowed


def push_all(src: Borrowed[list[int]], dst: MutBorrowed[list[int]]) -> None:
    for i in src:
        dst.append(i)


# -- the mistake ------------------------------------------------------------


def double_up(vec: list[int]) -> None:
    push_all(vec, vec)  # expected: borrow-conflict


# -- the fix: a separate list to read from -----------------------------------


def double_up_fixed(vec: list[int]) -> None:
    snapshot = list(vec)
    push_all(snapshot, vec)


if __name__ == "__main__":
    numbers = [1, 2, 3]
    double_up_fixed(numbers)
    print(numbers)  # [1, 2, 3, 1, 2, 3]
