"""Thread-safety overlay for asyncio.queues: "Although asyncio queues are not
thread-safe, they are designed to be used specifically in async/await code"
(the asyncio docs, Queues).  Each is bound to the event loop's thread.
"""

from fearless import NotSend


class Queue(NotSend):
    """asyncio queues are not thread-safe (asyncio docs)

    help: use queue.Queue between threads, or put into it through loop.call_soon_threadsafe
    """


class PriorityQueue(NotSend):
    """asyncio queues are not thread-safe (asyncio docs)

    help: use queue.PriorityQueue between threads, or put into it through loop.call_soon_threadsafe
    """


class LifoQueue(NotSend):
    """asyncio queues are not thread-safe (asyncio docs)

    help: use queue.LifoQueue between threads, or put into it through loop.call_soon_threadsafe
    """
