"""fearless: Rust's ownership markers and thread primitives for Python.

Markers (checked by the ``mypy_ownership`` plugin, free at run time):
``Owned``, ``Borrowed``, ``MutBorrowed``, ``Send``, ``Sync``, ``NotSend``,
``NotSync``, ``unsafe_send``, ``unsafe_sync``.

Primitives (thread-safe without relying on the GIL; see docs/runtime.md):

* channels: ``channel``, ``sync_channel``, ``Sender``, ``Receiver``
* locks: ``Mutex``, ``MutexGuard``, ``RwLock``, ``RwLockReadGuard``,
  ``RwLockWriteGuard``
* shared ownership: ``Arc``, ``Rc``
* threads: ``spawn``, ``JoinHandle``, ``scope``, ``Scope``
* errors: see ``fearless.errors``
"""

from .arc import Arc, Rc
from .channel import Receiver, Sender, channel, sync_channel
from .errors import (
    ClosedError,
    DeadGuardError,
    DeadlockError,
    Empty,
    FearlessError,
    Full,
    JoinTimeout,
    PoisonError,
    RecvError,
    RecvTimeout,
    SendError,
    ThreadBoundError,
    WouldBlock,
)
from .markers import (
    Borrowed,
    MutBorrowed,
    NotSend,
    NotSync,
    Owned,
    Send,
    Sync,
    unsafe_send,
    unsafe_sync,
)
from .mutex import Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard
from .thread import JoinHandle, Scope, scope, spawn

__all__ = [
    # markers
    "Borrowed",
    "MutBorrowed",
    "NotSend",
    "NotSync",
    "Owned",
    "Send",
    "Sync",
    "unsafe_send",
    "unsafe_sync",
    # channels
    "channel",
    "sync_channel",
    "Sender",
    "Receiver",
    # locks
    "Mutex",
    "MutexGuard",
    "RwLock",
    "RwLockReadGuard",
    "RwLockWriteGuard",
    # shared ownership
    "Arc",
    "Rc",
    # threads
    "spawn",
    "JoinHandle",
    "scope",
    "Scope",
    # errors
    "FearlessError",
    "SendError",
    "Full",
    "RecvError",
    "Empty",
    "RecvTimeout",
    "ClosedError",
    "PoisonError",
    "WouldBlock",
    "DeadGuardError",
    "DeadlockError",
    "ThreadBoundError",
    "JoinTimeout",
]
