"""Thread-safety overlay for multiprocessing.pool, where typeshed defines
ThreadPool: the standard library's other thread pool.  Its methods are Pool's
in typeshed; declared here on ThreadPool, they apply to a ThreadPool only (the
plugin takes the entry nearest the receiver's class).  A process Pool pickles
the function and its arguments into another process: nothing is shared with
a thread, so its methods stay unmarked.

What the workers get:

- apply, map and starmap wait until the workers are done with it: it must be
  Send, and it is the caller's again when the call returns (not moved);
- apply_async, map_async, imap, imap_unordered and starmap_async return at
  once and a worker uses it later: Send, and moved (usable afterwards only if
  Sync, as with Executor.submit);
- callback and error_callback run in the pool's result-handler thread;
- every worker calls the initializer, with the same initargs, as it starts:
  sent, and shared by the workers at once (Send and Sync), as for
  ThreadPoolExecutor.

multiprocessing.dummy.Pool(...) is typed Any in typeshed, so calls on what it
returns are not checked; annotate the variable as ThreadPool to have them
checked.
"""

from collections.abc import Callable

from fearless import Owned, Send, Sync


class ThreadPool:
    def __init__(self, processes=None, initializer: Send[Sync[Callable]] = None,
                 initargs: Send[Sync[tuple]] = ()): ...

    # Blocking: the arguments are lent to a worker for the call's length.
    def apply(self, func: Send[Callable], args: Send[tuple] = (), kwds: Send[dict] = {}): ...
    def map(self, func: Send[Callable], iterable: Send[object], chunksize=None): ...
    def starmap(self, func: Send[Callable], iterable: Send[object], chunksize=None): ...

    # Asynchronous: a worker takes them.
    def apply_async(self, func: Owned[Send[Callable]], args: Owned[Send[tuple]] = (),
                    kwds: Owned[Send[dict]] = {}, callback: Send[Callable] = None,
                    error_callback: Send[Callable] = None): ...
    def map_async(self, func: Owned[Send[Callable]], iterable: Owned[Send[object]], chunksize=None,
                  callback: Send[Callable] = None, error_callback: Send[Callable] = None): ...
    # The pool's task-handler thread iterates the iterable itself.
    def imap(self, func: Owned[Send[Callable]], iterable: Owned[Send[object]], chunksize=1): ...
    def imap_unordered(self, func: Owned[Send[Callable]], iterable: Owned[Send[object]], chunksize=1): ...
    def starmap_async(self, func: Owned[Send[Callable]], iterable: Owned[Send[object]], chunksize=None,
                      callback: Send[Callable] = None, error_callback: Send[Callable] = None): ...
