#!/usr/bin/env bash
# Compile the runtime's C hot paths (runtime/_*_accel.c: Mutex's and the
# channels') for the interpreter $1, beside the sources
# (runtime/_mutex_accel<EXT_SUFFIX>, e.g. .cpython-313t-x86_64-linux-gnu.so),
# for the runs that import `fearless` from runtime/ itself (make test-ft,
# bench_runtime's free-threaded side).  An installed package gets them from
# setup.py instead.  A module already newer than its source is left alone.
# Without a C compiler it says so and exits 0: the Python classes of
# runtime/mutex.py and runtime/channel.py run then.
set -euo pipefail
py=$1
cd "$(dirname "$0")/.."
read -r include suffix < <("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"], sysconfig.get_config_var("EXT_SUFFIX"))')
cc=${CC:-cc}
for src in runtime/_*_accel.c; do
    out="${src%.c}$suffix"
    if [ -f "$out" ] && [ "$out" -nt "$src" ]; then
        continue
    fi
    if ! command -v "$cc" >/dev/null; then
        echo "no C compiler ($cc): the Python classes run on $py" >&2
        exit 0
    fi
    "$cc" -shared -fPIC -O2 -Wall -I"$include" "$src" -o "$out"
    echo "built $out" >&2
done
