"""Not Send: an Rc (a single-thread reference count) is handed to spawn().

The Rust original ("Thread safety and Send" in the seed article): ``Rc<T>``
counts its references with plain reads and writes, so it must never migrate
to another thread; ``Arc<T>`` counts atomically and may.  Sending an ``Rc``
anyway::

    let numbers = Rc::new(vec![1, 2, 3]);
    let shared = numbers.clone();
    thread::spawn(move || total(&shared));

    error: `Rc<Vec<i32>>` cannot be sent between threads safely

``fearless.Rc`` is ``NotSend``: its count is meant for one thread, and its
value is shared without any lock.  At run time every use from another thread
raises ``ThreadBoundError`` (here, inside the worker: ``join()`` re-raises
it), which is late; ``spawn`` takes ``Send[...]``, so mypy with the
``mypy_ownership`` plugin reports it before the program runs::

    rc_send.py:48: error: "Rc[list[int]]" cannot be sent between threads safely  [not-send]
    rc_send.py:48: note: because "Rc[list[int]]" is thread-bound: its reference count is not atomic
    rc_send.py:48: note: help: use "Arc" instead of "Rc" to share a value between threads

The fix, as in Rust: share with an ``Arc``.  Its value must be safe to share
too (``Sync``): a tuple (immutable) is; a list is not, since any holder could
append to it while another thread reads (for shared mutation, put a
``Mutex`` inside: ``Arc(Mutex(numbers))``).
"""

from __future__ import annotations

from fearless import Arc, Rc, spawn


def total(numbers: Rc[list[int]]) -> int:
    return sum(numbers.value)


def total_shared(numbers: Arc[tuple[int, ...]]) -> int:
    return sum(numbers.value)


# -- the mistake ------------------------------------------------------------


def sum_twice(numbers: list[int]) -> int:
    shared = Rc(numbers)
    worker = spawn(total, shared.clone())  # expected: not-send
    mine = total(shared)
    return worker.join() + mine


# -- the fix: an atomically counted, thread-safe handle ------------------------


def sum_twice_fixed(numbers: list[int]) -> int:
    shared = Arc(tuple(numbers))
    worker = spawn(total_shared, shared.clone())
    mine = total_shared(shared)
    return worker.join() + mine


if __name__ == "__main__":
    print(sum_twice_fixed([1, 2, 3]))  # 12
