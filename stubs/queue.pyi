"""Thread-safety overlay for queue: the queues typeshed defines in queue
itself (SimpleQueue is _queue's: stubs/_queue.pyi).  "The Queue class in this
module implements all the required locking semantics" (the queue docs), so
each queue is Send and Sync (@unsafe_sync).  put moves its item to whichever
thread gets it.  LifoQueue and PriorityQueue inherit put from Queue in
typeshed, so Queue's declaration covers them.
"""

from fearless import Owned, Send, unsafe_sync


@unsafe_sync
class Queue:
    """the Queue class implements all the required locking semantics (queue docs)"""

    def put(self, item: Owned[Send[object]], block=True, timeout=None): ...
    def put_nowait(self, item: Owned[Send[object]]): ...


@unsafe_sync
class LifoQueue:
    """a Queue, which implements all the required locking semantics (queue docs)"""


@unsafe_sync
class PriorityQueue:
    """a Queue, which implements all the required locking semantics (queue docs)"""
