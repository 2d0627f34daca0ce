"""Ownership overlay for concurrent.futures.process, where typeshed defines
ProcessPoolExecutor.  Its submit and map are Executor's in typeshed, but
they pickle the function and its arguments into another process: nothing is
shared with a thread, so nothing moves and nothing needs Send.  Declaring
them here, unmarked, overrides Executor's entries for this class (the plugin
takes the entry nearest the receiver's class).
"""


class ProcessPoolExecutor:
    def submit(self, fn, /, *args, **kwargs): ...
    def map(self, fn, *iterables, timeout=None, chunksize=1): ...
