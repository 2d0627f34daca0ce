"""Use after move: print_vec(vec) takes ownership, then vec is iterated again.

The Rust original ("Background: ownership" in the seed article)::

    fn print_vec(vec: Vec<i32>) { for i in vec.iter() { println!("{}", i) } }

    fn use_vec() {
        let vec = make_vec();  // take ownership of the vector
        print_vec(vec);        // pass ownership to `print_vec`
        for i in vec.iter() {  // continue using `vec`
            println!("{}", i * 2)
        }
    }

    error: use of moved value: `vec`

``print_vec`` owns the vector once it is called and destroys it when it
returns, so the loop would read freed memory.  Python frees nothing early, but
the same contract holds when the callee keeps the list (stores it, sends it to
another thread, mutates it later): after the call, ``vec`` is no longer
yours.  ``Owned[list[int]]`` says so, and mypy with the ``mypy_ownership``
plugin reports::

    use_after_move.py:NN: error: Use of moved value "vec"  [use-after-move]

with a note at the ``print_vec(vec)`` line where the value moved.

The fix, as in the article: ``print_vec`` only needs to *look* at the vector,
so it borrows it (``Borrowed[...]``, Rust's ``&Vec<i32>``) and the caller keeps
ownership.  Rebinding ``vec`` to a new value after the move would also be fine.
"""

from __future__ import annotations

from fearless import Borrowed, Owned


def make_vec() -> list[int]:
    vec: list[int] = []  # owned by make_vec's scope
    vec.append(0)
    vec.append(1)
    return vec  # transfer ownership to the caller


# -- the mistake ------------------------------------------------------------


def print_vec(vec: Owned[list[int]]) -> None:
    # the `vec` parameter is part of this scope, so it's owned by `print_vec`
    for i in vec:
        print(i)


def use_vec() -> None:
    vec = make_vec()  # take ownership of the vector
    print_vec(vec)  # pass ownership to `print_vec`
    for i in vec:  # expected: use-after-move
        print(i * 2)


# -- the fix: lend the vector instead of giving it away ----------------------


def print_vec_borrowed(vec: Borrowed[list[int]]) -> None:
    # the `vec` parameter is borrowed for this scope
    for i in vec:
        print(i)
    # now, the borrow ends


def use_vec_fixed() -> None:
    vec = make_vec()  # take ownership of the vector
    print_vec_borrowed(vec)  # lend access to `print_vec_borrowed`
    for i in vec:  # continue using `vec`
        print(i * 2)


if __name__ == "__main__":
    use_vec_fixed()
