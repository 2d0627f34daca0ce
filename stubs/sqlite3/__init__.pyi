"""Thread-safety overlay for sqlite3, where typeshed defines Connection,
Cursor and Blob (sqlite3.connect is _sqlite3.connect to mypy and returns a
Connection).

"check_same_thread: If True (default), ProgrammingError will be raised if the
database connection is used by a thread other than the one that created it.
If False, the connection may be accessed in multiple threads; write
operations may need to be serialized by the user to avoid data corruption"
(the sqlite3 docs).  So a connection is thread-bound unless the call that
made it passed check_same_thread=False (``__send_if__``); it is never Sync,
as writes must still be serialised.  Cursors and blobs are checked against
their connection's thread: they are thread-bound unless their connection was
opened with check_same_thread=False (the plugin counts what made the
connection as making what its methods return: ``cur = conn.cursor()``,
``self.cur = self.conn.execute(...)``).
"""

from fearless import NotSend, NotSync


class Connection(NotSend, NotSync):
    """sqlite3 checks that a connection is used only by the thread that opened it

    help: open the connection in the thread that uses it, or pass check_same_thread=False and serialise its writes (a Mutex)
    """

    __send_if__ = {"check_same_thread": False}


class Cursor(NotSend):
    """sqlite3 checks that a cursor is used only by the thread that opened its connection

    help: create the cursor in the thread that uses it
    """

    __send_if__ = {"check_same_thread": False}


class Blob(NotSend):
    """sqlite3 checks that a blob is used only by the thread that opened its connection

    help: open the blob in the thread that uses it
    """

    __send_if__ = {"check_same_thread": False}
