"""Thread-safety overlay for asyncio.base_events, where typeshed defines
BaseEventLoop, the base of the concrete loops.  typeshed redeclares
call_soon_threadsafe and run_in_executor on it, so they are declared again
here; see stubs/asyncio/events.pyi for why the loop is @unsafe_sync.
"""

from collections.abc import Callable

from fearless import Owned, Send, unsafe_sync


@unsafe_sync
class BaseEventLoop:
    """call_soon_threadsafe and run_coroutine_threadsafe are its documented thread-safe entry points"""

    def call_soon_threadsafe(self, callback: Send[Callable], *args: Send[object], context=None): ...
    def run_in_executor(self, executor, func: Owned[Send[Callable]], *args: Owned[Send[object]]): ...
