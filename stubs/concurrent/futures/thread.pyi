"""Thread-safety overlay for concurrent.futures.thread, where typeshed defines
ThreadPoolExecutor.  Its submit and map are Executor's
(stubs/concurrent/futures/_base.pyi).  Every worker calls the initializer,
with the same initargs, as it starts: they are sent, and shared by the
workers at once (Send and Sync).
"""

from collections.abc import Callable

from fearless import Send, Sync, unsafe_sync


@unsafe_sync
class ThreadPoolExecutor:
    """submit and shutdown take an internal lock: an executor is shared by the threads that submit work"""

    def __init__(self, max_workers=None, thread_name_prefix="",
                 initializer: Send[Sync[Callable]] = None, initargs: Send[Sync[tuple]] = ()): ...
