"""Borrow escape: the data behind a Mutex guard is used after the with block.

The Rust original ("Shared state" in the seed article), a buggy refactoring
of ``use_lock``::

    fn use_lock(mutex: &Mutex<Vec<i32>>) {
        let vec = {
            let mut guard = lock(mutex);  // acquire the lock
            access(&mut guard)            // attempt to return a borrow of the data
            // guard is destroyed here, releasing the lock
        };
        vec.push(3);  // attempt to access the data outside of the lock
    }

    error: `guard` does not live long enough

"Lock data, not code": a ``Mutex`` owns its list, and ``guard.value`` is a
borrow of it that is good only while the lock is held.  Python's ``with``
block releases the lock at its end, but the name ``vec`` still points at the
protected list, so ``vec.append(3)`` mutates it with no lock held: a data
race with every thread that (correctly) locks first.  At run time nothing
notices (only touching ``guard.value`` after the block raises).  mypy with the
``mypy_ownership`` plugin reports it (once the borrow-escape check lands;
until then the demo shows it as "not yet reported")::

    guard_escape.py:NN: error: ... "vec" ... outlives the lock ...  [borrow-escape]

The fix: touch the data only inside the ``with`` block.  (Copying it out
inside the block, ``snapshot = list(guard.value)``, is fine too: the copy is
yours, the protected list is not.)
"""

from __future__ import annotations

import threading

from fearless import Mutex

# -- the mistake ------------------------------------------------------------


def use_lock(mutex: Mutex[list[int]]) -> None:
    with mutex.lock() as guard:  # acquire the lock
        vec = guard.value  # a borrow of the data, valid while the lock is held
    # the lock is released here
    vec.append(3)  # expected: borrow-escape


# -- the fix: keep the access inside the lock --------------------------------


def use_lock_fixed(mutex: Mutex[list[int]]) -> None:
    with mutex.lock() as guard:  # acquire the lock
        vec = guard.value
        vec.append(3)
    # lock automatically released here


def snapshot(mutex: Mutex[list[int]]) -> list[int]:
    with mutex.lock() as guard:
        return list(guard.value)  # a copy: ours to keep


if __name__ == "__main__":
    shared = Mutex([1, 2])
    workers = [threading.Thread(target=use_lock_fixed, args=(shared,)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(snapshot(shared))  # [1, 2, 3, 3, 3, 3]
