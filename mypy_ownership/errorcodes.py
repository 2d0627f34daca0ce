"""The plugin's error codes: stable names users put in ``# type: ignore[...]``
and ``--disable-error-code``.  Each one is documented in docs/error-codes.md."""

from __future__ import annotations

from mypy.errorcodes import ErrorCode

USE_AFTER_MOVE = ErrorCode(
    "use-after-move", "A value is used after it was moved away", "Ownership"
)
BORROW_CONFLICT = ErrorCode(
    "borrow-conflict",
    "A value is borrowed mutably while another borrow of it is live",
    "Ownership",
)
BORROW_MUTATE = ErrorCode(
    "borrow-mutate", "A shared borrow is used to mutate the value", "Ownership"
)
BORROW_ESCAPE = ErrorCode(
    "borrow-escape", "A borrow outlives the value or lock it borrows", "Ownership"
)
NOT_SEND = ErrorCode(
    "not-send", "A value that cannot be sent crosses a thread boundary", "Ownership"
)
NOT_SYNC = ErrorCode(
    "not-sync", "A value that cannot be shared is shared between threads", "Ownership"
)
# Hazard detection: a thread's code and the spawning side's touch one
# attribute of ``self`` in a shape that breaks, with no lock in common.
DATA_RACE = ErrorCode(
    "data-race", "Two threads access an attribute with no common lock, and one writes", "Ownership"
)
# Misuse of the markers themselves (``Owned`` without a type argument, ...).
MARKER = ErrorCode("ownership-marker", "An ownership marker is used wrongly", "Ownership")

ALL_CODES = (
    USE_AFTER_MOVE,
    BORROW_CONFLICT,
    BORROW_MUTATE,
    BORROW_ESCAPE,
    NOT_SEND,
    NOT_SYNC,
    DATA_RACE,
    MARKER,
)
