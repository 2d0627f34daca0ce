"""Thread-safety overlay for asyncio.locks: "asyncio primitives are not
thread-safe, therefore they should not be used for OS thread synchronization
(use threading for that)" (the asyncio docs, Synchronization Primitives).
Each is bound to the event loop's thread.
"""

from fearless import NotSend


class Lock(NotSend):
    """asyncio primitives are not thread-safe (asyncio docs)

    help: use threading.Lock to synchronise threads
    """


class Event(NotSend):
    """asyncio primitives are not thread-safe (asyncio docs)

    help: use threading.Event to synchronise threads, or set it through loop.call_soon_threadsafe
    """


class Condition(NotSend):
    """asyncio primitives are not thread-safe (asyncio docs)

    help: use threading.Condition to synchronise threads
    """


class Semaphore(NotSend):
    """asyncio primitives are not thread-safe (asyncio docs)

    help: use threading.Semaphore to synchronise threads
    """


class BoundedSemaphore(NotSend):
    """asyncio primitives are not thread-safe (asyncio docs)

    help: use threading.BoundedSemaphore to synchronise threads
    """


class Barrier(NotSend):
    """asyncio primitives are not thread-safe (asyncio docs)

    help: use threading.Barrier to synchronise threads
    """
