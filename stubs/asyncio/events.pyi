"""Thread-safety overlay for asyncio.events, where typeshed defines
AbstractEventLoop (what asyncio.get_running_loop() and new_event_loop()
return to mypy).

The loop is not thread-bound: handing it to a worker thread, which then calls
call_soon_threadsafe or asyncio.run_coroutine_threadsafe, is the documented
way back into the loop ("To schedule a callback from another OS thread, the
loop.call_soon_threadsafe() method should be used", asyncio's "Concurrency
and Multithreading").  So the loop is declared @unsafe_sync, although only
those entry points are thread-safe; calling its other methods from a worker
is a mistake this declaration does not catch.

call_soon_threadsafe hands its callback and arguments to the loop's thread:
they must be Send, but they are not moved.  run_in_executor moves its
function and arguments to an executor's worker, like Executor.submit.
BaseEventLoop redeclares both (stubs/asyncio/base_events.pyi).
"""

from collections.abc import Callable

from fearless import Owned, Send, unsafe_sync


@unsafe_sync
class AbstractEventLoop:
    """call_soon_threadsafe and run_coroutine_threadsafe are its documented thread-safe entry points"""

    def call_soon_threadsafe(self, callback: Send[Callable], *args: Send[object], context=None): ...
    def run_in_executor(self, executor, func: Owned[Send[Callable]], *args: Owned[Send[object]]): ...
