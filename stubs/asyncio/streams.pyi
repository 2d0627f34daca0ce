"""Thread-safety overlay for asyncio.streams: "Almost all asyncio objects are
not thread safe" (the asyncio docs, Concurrency and Multithreading).  A
stream reads and writes through its event loop's transport, in that loop's
thread.
"""

from fearless import NotSend


class StreamReader(NotSend):
    """almost all asyncio objects are not thread-safe (asyncio docs); a stream belongs to its event loop's thread

    help: read it in a coroutine on its loop, and hand the data to other threads
    """


class StreamWriter(NotSend):
    """almost all asyncio objects are not thread-safe (asyncio docs); a stream belongs to its event loop's thread

    help: write it in a coroutine on its loop; from another thread, schedule the write with asyncio.run_coroutine_threadsafe
    """
