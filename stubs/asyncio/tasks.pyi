"""Thread-safety overlay for asyncio.tasks: run_coroutine_threadsafe, the
documented way to run a coroutine on a loop from another thread.  The
coroutine object goes to the loop's thread, so it must be Send; the loop is
the target, not a value that crosses (AbstractEventLoop is @unsafe_sync,
stubs/asyncio/events.pyi).  Task is _asyncio's (stubs/_asyncio.pyi).
"""

from fearless import Send

def run_coroutine_threadsafe(coro: Send[object], loop): ...
