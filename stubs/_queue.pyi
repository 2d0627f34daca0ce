"""Thread-safety overlay for _queue: queue.SimpleQueue, which mypy names
_queue.SimpleQueue (typeshed's queue does ``from _queue import SimpleQueue``).
It is made for threads (the queue module's multi-producer, multi-consumer
queues), and put moves its item to whichever thread gets it.
"""

from fearless import Owned, Send, unsafe_sync


@unsafe_sync
class SimpleQueue:
    """a multi-producer, multi-consumer queue for exchanging data between threads (queue docs)"""

    def put(self, item: Owned[Send[object]], block=True, timeout=None): ...
    def put_nowait(self, item: Owned[Send[object]]): ...
