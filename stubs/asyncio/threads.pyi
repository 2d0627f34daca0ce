"""Thread-safety overlay for asyncio.threads: to_thread runs its function in
the default executor's worker thread, so it moves the function and its
arguments there, like Executor.submit.
"""

from collections.abc import Callable

from fearless import Owned, Send

# typeshed: to_thread(func: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs)
async def to_thread(func: Owned[Send[Callable]], /, *args: Owned[Send[object]], **kwargs: Owned[Send[object]]): ...
