"""Thread-safety overlay for _asyncio, where typeshed defines asyncio's Future
and Task (asyncio.futures and asyncio.tasks re-export them, so mypy names them
_asyncio.Future and _asyncio.Task).  Both belong to the event loop's thread.

Two methods of a future only read its state, one field, and hand nothing
over: cancelled() and done() (@unsafe_sync on the method).  A worker thread
that is given a future may ask them, before it hands the future back to its
loop (loop.call_soon_threadsafe(report, future, ...)), as anyio's workers do;
the loop's thread settles it.  Task inherits them.
"""

from fearless import NotSend, unsafe_sync


class Future(NotSend):
    """asyncio futures are not thread-safe (asyncio docs); a future belongs to its event loop's thread

    help: use it in its loop's thread; from another thread, reach the loop with loop.call_soon_threadsafe or asyncio.run_coroutine_threadsafe (which returns a concurrent.futures.Future)
    """

    @unsafe_sync
    def cancelled(self) -> bool: ...
    @unsafe_sync
    def done(self) -> bool: ...


class Task(NotSend):
    """asyncio tasks are not thread-safe (asyncio docs); a task belongs to its event loop's thread

    help: to run a coroutine on a loop from another thread, use asyncio.run_coroutine_threadsafe (which returns a concurrent.futures.Future)
    """
