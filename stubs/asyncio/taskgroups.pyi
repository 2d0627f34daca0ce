"""Thread-safety overlay for asyncio.taskgroups: "Almost all asyncio objects
are not thread safe" (the asyncio docs, Concurrency and Multithreading), and
a task group belongs to the task that entered it.
"""

from fearless import NotSend


class TaskGroup(NotSend):
    """almost all asyncio objects are not thread-safe (asyncio docs); a task group belongs to its event loop's thread

    help: create tasks in it from coroutines on its loop; from another thread use asyncio.run_coroutine_threadsafe
    """
