"""Use after move: tx.send(vec) hands vec to another thread, then print_vec(vec).

The Rust original ("Message passing" in the seed article)::

    // Suppose chan: Channel<Vec<i32>>
    let mut vec = Vec::new();
    // do some computation
    send(&chan, vec);
    print_vec(&vec);

    Error: use of moved value `vec`

A channel transfers ownership of the messages sent along it: once ``vec`` is
sent, the receiving thread may mutate it (here it sorts it in place) while
this thread goes on reading it: a race, which Python's GIL does not prevent
(the two threads interleave between any two bytecodes).  ``Sender.send``
takes ``Owned[...]``, so mypy with the ``mypy_ownership`` plugin reports::

    channel_send.py:NN: error: Use of moved value "vec"  [use-after-move]

with a note at the ``tx.send(vec)`` line where the value moved.

The fix: finish using the vector before giving it away (or send a copy, if
this thread really needs to keep one).
"""

from __future__ import annotations

from fearless import Borrowed, Receiver, channel, spawn


def make_vec() -> list[int]:
    return [3, 1, 2]


def print_vec(vec: Borrowed[list[int]]) -> None:
    for i in vec:
        print(i)


def largest_first(rx: Receiver[list[int]]) -> int:
    """The receiving thread: owns every vector it receives, and sorts it."""
    received = 0
    for vec in rx:
        vec.sort(reverse=True)
        received += 1
    return received


# -- the mistake ------------------------------------------------------------


def produce() -> int:
    tx, rx = channel[list[int]]()
    consumer = spawn(largest_first, rx)
    vec = make_vec()
    vec.append(sum(vec))  # do some computation
    tx.send(vec)  # ownership moves to the receiving thread
    print_vec(vec)  # expected: use-after-move
    tx.close()
    return consumer.join()


# -- the fix: use the vector while it is ours, then send it -------------------


def produce_fixed() -> int:
    tx, rx = channel[list[int]]()
    consumer = spawn(largest_first, rx)
    vec = make_vec()
    vec.append(sum(vec))  # do some computation
    print_vec(vec)
    tx.send(vec)  # the last use: from here on, the vector is the receiver's
    tx.close()
    return consumer.join()


if __name__ == "__main__":
    print("vectors received:", produce_fixed())
