"""Thread-safety overlay for threading: the classes typeshed defines in
threading itself.  Thread and Timer are thread boundaries that move: the
target and its arguments go to the new thread, and the caller may not use
them afterwards unless they are Sync.  Every class here synchronises itself
(@unsafe_sync: Send and Sync).

threading.Lock, RLock and local are _thread's classes (stubs/_thread.pyi);
Lock is _thread.LockType before Python 3.13 and _thread.lock from 3.13.
"""

from collections.abc import Callable

from typing import Self

from fearless import Owned, Send, unsafe_sync


@unsafe_sync
class Thread:
    """other threads call its join() and is_alive(): a thread handle is made to be shared"""

    def __init__(self, group=None, target: Owned[Send[Callable]] = None, name=None,
                 args: Owned[Send[tuple]] = (), kwargs: Owned[Send[dict]] = None, *,
                 daemon=None, context=None): ...  # context: 3.14

    # The new thread runs self.run(): a subclass's own attributes go with it
    # (the plugin checks the receiver of a user class; Thread's own state is
    # synchronised).
    def start(self: Send[Self]) -> None: ...


@unsafe_sync
class Timer:
    """a Timer is a Thread: other threads call its cancel() and join()"""

    def __init__(self, interval, function: Owned[Send[Callable]], args: Owned[Send[tuple]] = None,
                 kwargs: Owned[Send[dict]] = None): ...


@unsafe_sync
class Condition:
    """a synchronisation primitive: threads share it to wait and notify"""


@unsafe_sync
class Semaphore:
    """a synchronisation primitive: threads share it to acquire and release"""


@unsafe_sync
class BoundedSemaphore:
    """a synchronisation primitive: threads share it to acquire and release"""


@unsafe_sync
class Event:
    """a synchronisation primitive: one thread sets it, others wait on it"""


@unsafe_sync
class Barrier:
    """a synchronisation primitive: threads share it to wait for each other"""

    # The last thread to arrive calls action; the barrier orders the calls.
    def __init__(self, parties, action: Send[Callable] = None, timeout=None): ...
