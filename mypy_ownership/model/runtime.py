"""The catalogue of ``fearless``, the runtime: what its own types and methods
are to the checker, in one place.

Adding a primitive to the runtime means adding it here (and, when its
methods move or borrow, marking their signatures in ``runtime/`` with the
markers, which the checker reads like any user's):

- ``SEND_SYNC_RULES``: a generic type that is ``Send``/``Sync`` when its type
  arguments are (Rust's ``unsafe impl<T: Send> Send for Mutex<T>``);
- ``THREAD_BOUND``: a type that never leaves its thread, with the reason and
  the help the error prints;
- ``GUARD_METHODS``: the methods that hand out a lock guard (the data is
  lent for the ``with`` block), and whether the guard is shared;
- ``ARC_VALUE``, ``CHANNEL_SENDS``: the attribute every clone of an ``Arc``
  shares, and the methods that move a value onto a channel;
- ``NOT_SEND_BASE``/``NOT_SYNC_BASE`` and ``OPT_IN_DECORATORS``: the
  markers a user class opts out or in with.
"""

from __future__ import annotations

from mypy_ownership import diagnostics
from mypy_ownership.markers import Marker

#: The runtime's package: its callees' moves need no "declare it Borrowed" help.
RUNTIME_PACKAGE = "fearless"

_BOTH = frozenset({Marker.SEND, Marker.SYNC})
_SEND = frozenset({Marker.SEND})

#: class -> (what its type arguments must be for it to be Send, ... Sync);
#: None: the class is never that.
SEND_SYNC_RULES: dict[str, tuple[frozenset[Marker] | None, frozenset[Marker] | None]] = {
    "fearless.arc.Arc": (_BOTH, _BOTH),
    "fearless.mutex.Mutex": (_SEND, _SEND),
    "fearless.mutex.RwLock": (_SEND, _BOTH),
    "fearless.channel.Sender": (_SEND, _SEND),
    "fearless.channel.Receiver": (_SEND, None),
    "fearless.thread.JoinHandle": (_SEND, _SEND),
    "fearless.thread.Scope": (frozenset(), frozenset()),
}

_GUARD_REASON = "a lock is released by the thread that took it"

#: class -> (why it is thread-bound, what to do instead)
THREAD_BOUND: dict[str, tuple[str, str]] = {
    "fearless.arc.Rc": ("its reference count is not atomic", diagnostics.RC_HELP),
    "fearless.mutex.MutexGuard": (_GUARD_REASON, diagnostics.GUARD_THREAD_HELP),
    "fearless.mutex.RwLockReadGuard": (_GUARD_REASON, diagnostics.GUARD_THREAD_HELP),
    "fearless.mutex.RwLockWriteGuard": (_GUARD_REASON, diagnostics.GUARD_THREAD_HELP),
}

#: method -> whether the guard it hands out is shared (a read guard)
GUARD_METHODS: dict[str, bool] = {
    "fearless.mutex.Mutex.lock": False,
    "fearless.mutex.Mutex.try_lock": False,
    "fearless.mutex.RwLock.write": False,
    "fearless.mutex.RwLock.try_write": False,
    "fearless.mutex.RwLock.read": True,
    "fearless.mutex.RwLock.try_read": True,
}

#: Shared by every clone of the Arc: a shared borrow wherever it is read.
ARC_VALUE = "fearless.arc.Arc.value"

#: The methods that move their argument onto a channel.
CHANNEL_SENDS = frozenset({"fearless.channel.Sender.send", "fearless.channel.Sender.try_send"})

NOT_SEND_BASE = "fearless.markers.NotSend"
NOT_SYNC_BASE = "fearless.markers.NotSync"

#: class decorators a user vouches for a class with -> the fact recorded
OPT_IN_DECORATORS = {"fearless.markers.unsafe_send": "unsafe_send", "fearless.markers.unsafe_sync": "unsafe_sync"}


def is_runtime_module(module: str) -> bool:
    return module == RUNTIME_PACKAGE or module.startswith(RUNTIME_PACKAGE + ".")
