"""Thread-safety overlay for asyncio.timeouts: "Almost all asyncio objects are
not thread safe" (the asyncio docs, Concurrency and Multithreading), and a
Timeout cancels the task that entered it, on that task's loop.
"""

from fearless import NotSend


class Timeout(NotSend):
    """almost all asyncio objects are not thread-safe (asyncio docs); a timeout belongs to its event loop's thread

    help: reschedule it from a coroutine on its loop
    """
