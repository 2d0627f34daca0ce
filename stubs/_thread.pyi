"""Thread-safety overlay for _thread: what typeshed defines here and mypy
names by it.  threading.Lock() is _thread.LockType to mypy before Python 3.13
and _thread.lock from 3.13 (typeshed's ``LockType = lock``); threading.RLock()
is _thread.RLock and threading.local() is _thread._local.  All are made to be
shared between threads (@unsafe_sync).  start_new_thread is the low-level
thread boundary under threading.Thread: it moves its function and arguments.
"""

from collections.abc import Callable

from fearless import Owned, Send, unsafe_sync


@unsafe_sync
class lock:
    """a lock is made to be shared between threads (threading.Lock from Python 3.13)"""


@unsafe_sync
class LockType:
    """a lock is made to be shared between threads (threading.Lock before Python 3.13)"""


@unsafe_sync
class RLock:
    """a lock is made to be shared between threads"""


@unsafe_sync
class _local:
    """each thread sees its own attributes: sharing one is the point"""


def start_new_thread(function: Owned[Send[Callable]], args: Owned[Send[tuple]],
                     kwargs: Owned[Send[dict]] = ..., /): ...
def start_new(function: Owned[Send[Callable]], args: Owned[Send[tuple]],
              kwargs: Owned[Send[dict]] = ..., /): ...  # undocumented alias
def start_joinable_thread(function: Owned[Send[Callable]], handle=None, daemon=True): ...  # 3.13, used by threading
