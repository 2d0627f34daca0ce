"""Thread-safety overlay for _asyncio, where typeshed defines asyncio's Future
and Task (asyncio.futures and asyncio.tasks re-export them, so mypy names them
_asyncio.Future and _asyncio.Task).  Both belong to the event loop's thread.
"""

from fearless import NotSend


class Future(NotSend):
    """asyncio futures are not thread-safe (asyncio docs); a future belongs to its event loop's thread

    help: use it in its loop's thread; from another thread, reach the loop with loop.call_soon_threadsafe or asyncio.run_coroutine_threadsafe (which returns a concurrent.futures.Future)
    """


class Task(NotSend):
    """asyncio tasks are not thread-safe (asyncio docs); a task belongs to its event loop's thread

    help: to run a coroutine on a loop from another thread, use asyncio.run_coroutine_threadsafe (which returns a concurrent.futures.Future)
    """
