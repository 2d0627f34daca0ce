"""Thread-safety overlay for multiprocessing.dummy, the threading API behind
multiprocessing's names.  Its Process is DummyProcess, a threading.Thread
whose own __init__ typeshed declares: the target and its arguments go to the
new thread and are moved, as with threading.Thread (stubs/threading.pyi).
Its Pool is a ThreadPool (stubs/multiprocessing/pool.pyi).
"""

from collections.abc import Callable

from fearless import Owned, Send


class DummyProcess:
    def __init__(self, group=None, target: Owned[Send[Callable]] = None, name=None,
                 args: Owned[Send[tuple]] = (), kwargs: Owned[Send[dict]] = {}): ...
