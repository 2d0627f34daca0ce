#!/usr/bin/env bash
# Compile runtime/_mutex_accel.c for the interpreter $1, beside the sources
# (runtime/_mutex_accel<EXT_SUFFIX>, e.g. .cpython-313t-x86_64-linux-gnu.so),
# for the runs that import `fearless` from runtime/ itself (make test-ft,
# bench_runtime's free-threaded side).  An installed package gets it from
# setup.py instead.  Without a C compiler it says so and exits 0: the
# Python classes of runtime/mutex.py run then.
set -euo pipefail
py=$1
cd "$(dirname "$0")/.."
read -r include suffix < <("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"], sysconfig.get_config_var("EXT_SUFFIX"))')
out="runtime/_mutex_accel$suffix"
if [ -f "$out" ] && [ "$out" -nt runtime/_mutex_accel.c ]; then
    exit 0
fi
cc=${CC:-cc}
if ! command -v "$cc" >/dev/null; then
    echo "no C compiler ($cc): Mutex runs its Python classes on $py" >&2
    exit 0
fi
"$cc" -shared -fPIC -O2 -Wall -I"$include" runtime/_mutex_accel.c -o "$out"
echo "built $out" >&2
