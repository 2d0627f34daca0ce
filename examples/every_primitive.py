"""Every marker and every primitive of ``fearless``, used correctly.

``make test`` installs the project into a clean virtual environment and runs
mypy with the plugin over this file (tests/test_clean_install.py): it must
report no error.  It also runs as a program.
"""

from __future__ import annotations

from typing import Self

from fearless import (
    Arc,
    Borrowed,
    Mutex,
    MutBorrowed,
    NotSend,
    NotSync,
    Owned,
    Rc,
    RwLock,
    Send,
    Sync,
    channel,
    scope,
    spawn,
    sync_channel,
    unsafe_send,
    unsafe_sync,
)


class Inbox(NotSync):
    """Used by one thread at a time."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def push(self: MutBorrowed[Self], message: str) -> None:
        self.messages.append(message)

    def count(self: Borrowed[Self]) -> int:
        return len(self.messages)


class Handle(NotSend):
    """Bound to the thread that made it."""


@unsafe_send
class Pointer:
    """Trust me: checked by hand."""


@unsafe_sync
class Table:
    """Trust me: synchronised inside."""


def total(numbers: Borrowed[list[int]]) -> int:
    return sum(numbers)


def double_all(numbers: MutBorrowed[list[int]]) -> None:
    for i, n in enumerate(numbers):
        numbers[i] = n * 2


def consume(numbers: Owned[list[int]]) -> int:
    return len(numbers)


def share(value: Sync[Send[tuple[int, ...]]]) -> int:
    return len(value)


def main() -> None:
    numbers = [1, 2, 3]
    double_all(numbers)
    print(total(numbers), consume(numbers))
    numbers = [4, 5]  # rebound after the move: usable again

    tx, rx = channel[list[int]]()
    tx2 = tx.clone()
    worker = spawn(lambda: tx2.send([7, 8]))
    tx.send(numbers)
    tx.close()
    tx2.close()
    worker.join()
    print(sorted(len(batch) for batch in rx))

    btx, brx = sync_channel[int](1)
    with btx:
        btx.send(1)
    print(brx.recv(timeout=1.0))

    counter = Mutex(0)
    with counter.lock() as guard:
        guard.value += 1
    table = RwLock({"a": 1})
    with table.read() as reading:
        size = len(reading.value)
    with table.write() as writing:
        writing.value["b"] = size

    shared = Arc((1, 2, 3))
    print(share(shared.clone().value))
    local = Rc([1, 2])
    print(local.clone().value)

    inbox = Inbox()
    inbox.push("hello")
    print(inbox.count(), Handle(), Pointer(), Table())

    results = [0, 0]
    with scope() as s:
        s.spawn(lambda: print(total(results)))
        s.spawn(lambda: print(len(results)))


if __name__ == "__main__":
    main()
