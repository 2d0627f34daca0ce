"""Not Send, in plain threading code: a worker's sqlite3 connection goes to another thread.

No ``fearless`` import and no annotation of the author's: the plugin knows
from its overlays that ``threading.Thread`` runs ``target`` in a new thread
(a bound method takes its ``self`` along) and that a ``sqlite3.Connection``
is bound to the thread that opened it (sqlite3's ``check_same_thread``).  At
run time the first query in the worker raises ``sqlite3.ProgrammingError``;
mypy with the plugin reports it before the program runs::

    sqlite_thread.py:33: error: "Exporter" cannot be sent between threads safely  [not-send]
    sqlite_thread.py:33: note: a bound method takes its "self" to the thread that runs it
    sqlite_thread.py:33: note: because attribute "conn" of "Exporter" has type "Connection", which is thread-bound: ...

The fix: open the connection in the thread that uses it.
"""

from __future__ import annotations

import sqlite3
import threading


class Exporter:
    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path)

    def run(self) -> None:
        print(self.conn.execute("select 1").fetchall())


def export_in_background(path: str) -> None:
    exporter = Exporter(path)
    threading.Thread(target=exporter.run).start()  # expected: not-send


# -- the fix: the connection is opened by the thread that uses it --------------


class ExporterFixed:
    def __init__(self, path: str) -> None:
        self.path = path

    def run(self) -> None:
        with sqlite3.connect(self.path) as conn:
            print(conn.execute("select 1").fetchall())


def export_in_background_fixed(path: str) -> None:
    exporter = ExporterFixed(path)
    threading.Thread(target=exporter.run).start()


if __name__ == "__main__":
    export_in_background_fixed(":memory:")
