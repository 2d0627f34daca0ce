"""Thread-safety overlay for logging: "The logging module is intended to be
thread-safe without any special work needing to be done by its clients. It
achieves this though using threading locks; there is one lock to serialize
access to the module's shared data, and each handler also creates a lock to
serialize access to its underlying I/O" (the logging docs, Thread Safety).
Loggers and handlers are therefore Send and Sync (@unsafe_sync); their
subclasses (RootLogger, StreamHandler, FileHandler, ...) inherit it.
"""

from fearless import unsafe_sync


@unsafe_sync
class Logger:
    """the logging module is intended to be thread-safe: a lock guards its shared data (logging docs)"""


@unsafe_sync
class Handler:
    """each handler creates a lock to serialize access to its underlying I/O (logging docs)"""
