"""The build's C parts: the runtime's ``Mutex`` and channel accelerators
(always tried, optional), and with ``MYPY_OWNERSHIP_COMPILE=1`` the plugin compiled with
mypyc, as mypy itself is compiled (``MYPY_USE_MYPYC``); without it the plugin
installs as plain Python.  Everything else is in ``pyproject.toml``.

Compiled: every module of ``mypy_ownership`` but ``dispatch.py``, whose
class derives from mypy's ``Plugin``: a class compiled apart from mypy
cannot derive from one of mypy's compiled classes (the run crashes), so the
plugin class stays interpreted and calls into the compiled modules.  The
compiler reads the modules with mypy, so the build needs mypy installed:

    MYPY_OWNERSHIP_COMPILE=1 pip install --no-build-isolation .

``make compiled`` does this in a venv of its own (``build/compiled``);
``make test-compiled`` runs the behaviour cases against it.
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import Extension, setup

#: Interpreted in a compiled build (see the module's docstring).
INTERPRETED = {"mypy_ownership/dispatch.py"}


def compiled_modules() -> list[str]:
    root = Path(__file__).resolve().parent
    return sorted(
        str(path.relative_to(root))
        for path in (root / "mypy_ownership").rglob("*.py")
        if str(path.relative_to(root)) not in INTERPRETED
    )


#: The runtime's hot paths in C (``Mutex``, the channels), always tried,
#: never required: a machine without a C compiler or PyPy runs the Python
#: classes of ``runtime/mutex.py`` and ``runtime/channel.py`` instead
#: (docs/runtime.md).
ACCEL = [
    Extension("fearless._mutex_accel", ["runtime/_mutex_accel.c"], optional=True),
    Extension("fearless._channel_accel", ["runtime/_channel_accel.c"], optional=True),
]

if os.environ.get("MYPY_OWNERSHIP_COMPILE") == "1":
    from mypyc.build import mypycify

    setup(ext_modules=[*ACCEL, *mypycify(compiled_modules(), opt_level="3")])
else:
    setup(ext_modules=ACCEL)
