"""Thread-safety overlay for concurrent.futures._base, where typeshed defines
Future and Executor (concurrent.futures re-exports them).

Executor.submit and Executor.map are thread boundaries that move: the
function and its arguments go to a worker.  ThreadPoolExecutor and
ProcessPoolExecutor inherit both from Executor in typeshed, so mypy's defining
class, and the name these declarations go by, is
concurrent.futures._base.Executor.  (For a ProcessPoolExecutor the arguments
are pickled rather than shared, so the move is stricter than it needs to be.)

A future is completed by a worker and waited on by other threads; an executor
is shared by the threads that submit work.  Both take an internal lock
(@unsafe_sync).
"""

from collections.abc import Callable

from fearless import Owned, Send, unsafe_sync


@unsafe_sync
class Future:
    """an internal Condition guards its state: it is completed in one thread and waited on in others"""

    # "called in a thread belonging to the process that added them": maybe a worker.
    def add_done_callback(self, fn: Send[Callable]): ...


@unsafe_sync
class Executor:
    """submit and shutdown take an internal lock: an executor is shared by the threads that submit work"""

    # typeshed: submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs)
    def submit(self, fn: Owned[Send[Callable]], /, *args: Owned[Send[object]], **kwargs: Owned[Send[object]]): ...
    # The caller's thread iterates the iterables; their items go to the workers.
    def map(self, fn: Owned[Send[Callable]], *iterables: Owned[Send[object]], timeout=None, chunksize=1,
            buffersize=None): ...  # buffersize: 3.14
