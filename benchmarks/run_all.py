"""``make bench``: run every ``benchmarks/bench_*.py`` in turn.

Each module is imported by path (the benchmarks directory is not a package)
and its ``main([])`` is called, i.e. with its default options.  A module that
cannot be imported, or has no ``main``, is skipped with a message; a
benchmark that raises, or whose ``main`` returns a non-zero status, is
reported loudly and makes this script exit 1 (after the others have run).

    .venv/bin/python benchmarks/run_all.py [NAME ...]   # e.g. flow runtime
"""

from __future__ import annotations

import importlib.util
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent


def load(path: Path) -> ModuleType:
    name = f"_bench_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


#: Benchmarks the project has (or is writing): a missing one is mentioned.
KNOWN = ("bench_flow.py", "bench_runtime.py")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    paths = sorted(BENCH_DIR.glob("bench_*.py"))
    absent = [name for name in KNOWN if not (BENCH_DIR / name).exists()]
    if argv:
        wanted = {a.removeprefix("bench_").removesuffix(".py") for a in argv}
        missing = wanted - {p.stem.removeprefix("bench_") for p in paths}
        for name in sorted(missing):
            print(f"run_all: SKIPPED bench_{name}.py: no such file", flush=True)
        absent = [f"bench_{name}.py" for name in sorted(missing)]
        paths = [p for p in paths if p.stem.removeprefix("bench_") in wanted]
    else:
        for name in absent:
            print(f"run_all: SKIPPED {name}: no such file (not written yet?)", flush=True)

    ran: list[str] = []
    skipped: list[str] = list(absent)
    failed: list[str] = []
    for path in paths:
        banner = f" {path.name} "
        print(f"\n{banner:=^78}", flush=True)
        try:
            module = load(path)
        except Exception:
            print(f"run_all: SKIPPED {path.name}: it failed to import:", flush=True)
            traceback.print_exc(limit=-3, file=sys.stdout)
            skipped.append(path.name)
            continue
        bench_main = getattr(module, "main", None)
        if not callable(bench_main):
            print(f"run_all: SKIPPED {path.name}: it has no main(argv)", flush=True)
            skipped.append(path.name)
            continue
        start = time.perf_counter()
        try:
            status = bench_main([])
        except SystemExit as exit_:  # argparse and friends
            status = exit_.code
        except Exception:
            print(f"\nrun_all: !!! {path.name} FAILED with an exception:", flush=True)
            traceback.print_exc(file=sys.stdout)
            failed.append(path.name)
            continue
        finally:
            sys.stdout.flush()
        elapsed = time.perf_counter() - start
        if status not in (None, 0):
            print(f"\nrun_all: !!! {path.name} FAILED: main([]) returned {status!r}", flush=True)
            failed.append(path.name)
        else:
            print(f"\nrun_all: {path.name} done in {elapsed:.1f} s", flush=True)
            ran.append(path.name)

    print("\n" + "=" * 78)
    print(f"run_all: ran {len(ran)}: {', '.join(ran) or '-'}")
    if skipped:
        print(f"run_all: skipped {len(skipped)}: {', '.join(skipped)}")
    if failed:
        sys.stdout.flush()
        print(f"run_all: FAILED {len(failed)}: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
