"""Ownership overlay for _io (io.StringIO and io.BytesIO are defined here):
which stream methods mutate the stream.  And what the io docs say about
threads ("Multi-threading"): "Binary buffered objects (instances of
BufferedReader, BufferedWriter, BufferedRandom and BufferedRWPair) protect
their internal structures using a lock; it is therefore safe to call them from
multiple threads at once.  TextIOWrapper objects are not thread-safe."  These
are what open() returns to mypy: _io.TextIOWrapper in text mode,
_io.BufferedReader, BufferedWriter or BufferedRandom in binary mode.
"""

from typing import Self

from fearless import Borrowed, MutBorrowed, NotSync, unsafe_sync


class _IOBase:
    """Reading a stream advances its position, so it mutates the stream (as
    Rust's Read takes &mut self).  Inherited by every stream class (files
    too); only StringIO and BytesIO are declared in full, the other stream
    classes redeclare many of these methods and are not covered yet."""

    def __iter__(self: Borrowed[Self]): ...  # returns self
    def __next__(self: MutBorrowed[Self]): ...  # reads a line: advances the position
    def __enter__(self: Borrowed[Self]): ...  # returns self
    def __exit__(self: MutBorrowed[Self], exc_type, exc_val, exc_tb): ...  # closes it
    def close(self: MutBorrowed[Self]): ...
    def fileno(self: Borrowed[Self]): ...
    def flush(self: MutBorrowed[Self]): ...  # writes out buffered data
    def isatty(self: Borrowed[Self]): ...
    def readable(self: Borrowed[Self]): ...
    def readlines(self: MutBorrowed[Self], hint=..., /): ...  # advances the position
    def seek(self: MutBorrowed[Self], offset, whence=..., /): ...  # moves the position
    def seekable(self: Borrowed[Self]): ...
    def tell(self: Borrowed[Self]): ...  # reads the position
    def truncate(self: MutBorrowed[Self], size=..., /): ...
    def writable(self: Borrowed[Self]): ...
    def writelines(self: MutBorrowed[Self], lines, /): ...
    def readline(self: MutBorrowed[Self], size=..., /): ...  # advances the position
    def __del__(self: MutBorrowed[Self]): ...  # closes it
    @property
    def closed(self: Borrowed[Self]): ...


class _TextIOBase:
    def __iter__(self: Borrowed[Self]): ...  # returns self
    def __next__(self: MutBorrowed[Self]): ...  # reads a line: advances the position
    def detach(self: MutBorrowed[Self]): ...  # unusable afterwards
    def write(self: MutBorrowed[Self], s, /): ...
    def writelines(self: MutBorrowed[Self], lines, /): ...
    def readline(self: MutBorrowed[Self], size=..., /): ...  # advances the position
    def readlines(self: MutBorrowed[Self], hint=..., /): ...  # advances the position
    def read(self: MutBorrowed[Self], size=..., /): ...  # advances the position


class _BufferedIOBase:
    def detach(self: MutBorrowed[Self]): ...  # unusable afterwards
    def readinto(self: MutBorrowed[Self], buffer: MutBorrowed[object], /): ...  # advances the position, fills buffer
    def write(self: MutBorrowed[Self], buffer, /): ...
    def readinto1(self: MutBorrowed[Self], buffer: MutBorrowed[object], /): ...  # advances the position, fills buffer
    def read(self: MutBorrowed[Self], size=..., /): ...  # advances the position
    def read1(self: MutBorrowed[Self], size=..., /): ...  # advances the position


class StringIO:
    """Inherits read/write from _TextIOBase."""

    def __init__(self: MutBorrowed[Self], initial_value=..., newline=...): ...  # resets the contents
    def getvalue(self: Borrowed[Self]): ...
    @property
    def line_buffering(self: Borrowed[Self]): ...
    def seek(self: MutBorrowed[Self], pos, whence=..., /): ...  # moves the position
    def truncate(self: MutBorrowed[Self], pos=..., /): ...


class BytesIO:
    """Inherits read/write from _BufferedIOBase."""

    def __init__(self: MutBorrowed[Self], initial_bytes=...): ...  # resets the contents
    def getvalue(self: Borrowed[Self]): ...
    def getbuffer(self: MutBorrowed[Self]): ...  # a writable view of the contents; pins the size while it lives
    def read1(self: MutBorrowed[Self], size=..., /): ...  # advances the position
    def readlines(self: MutBorrowed[Self], size=..., /): ...  # advances the position
    def seek(self: MutBorrowed[Self], pos, whence=..., /): ...  # moves the position


# --- threads -----------------------------------------------------------------


class TextIOWrapper(NotSync):
    """TextIOWrapper objects are not thread-safe (io docs)

    help: use the file from one thread at a time: move it, or guard it with a Mutex
    """


@unsafe_sync
class BufferedReader:
    """binary buffered objects protect their internal structures using a lock (io docs)"""


@unsafe_sync
class BufferedWriter:
    """binary buffered objects protect their internal structures using a lock (io docs)"""


@unsafe_sync
class BufferedRandom:
    """binary buffered objects protect their internal structures using a lock (io docs)"""


@unsafe_sync
class BufferedRWPair:
    """binary buffered objects protect their internal structures using a lock (io docs)"""
