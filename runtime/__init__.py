"""fearless: Rust's ownership markers and thread primitives for Python."""

from fearless.markers import (
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

__all__ = [
    "Borrowed",
    "MutBorrowed",
    "NotSend",
    "NotSync",
    "Owned",
    "Send",
    "Sync",
    "unsafe_send",
    "unsafe_sync",
]
