#!/usr/bin/env bash
# Print the path of a free-threaded CPython, building one once if none is found.
#
# Looks, in order, for $FT_PYTHON, python3.14t / python3.13t on PATH, and the
# cached build under ${FT_CACHE:-$HOME/.cache/mypy-ownership/ft}.  If none is
# there it builds Debian's python3.13 source package with --disable-gil into
# that cache (about 6 minutes on 2 cores; needs root for apt-get, and the
# headers libssl-dev libsqlite3-dev libffi-dev zlib1g-dev) and installs pytest
# into it.  Idempotent: a second run prints the cached interpreter at once.
# With FT_NO_BUILD set it never builds: it exits with status 3 instead.
# Progress goes to stderr; stdout is only the interpreter's path.
set -euo pipefail

CACHE=${FT_CACHE:-$HOME/.cache/mypy-ownership/ft}

is_free_threaded() {
    "$1" -X gil=0 -c 'import sys, sysconfig; sys.exit(0 if sysconfig.get_config_var("Py_GIL_DISABLED") and not sys._is_gil_enabled() else 1)' 2>/dev/null
}

has_test_deps() {
    "$1" -c 'import pytest, typing_extensions' 2>/dev/null
}

candidates=()
[ -n "${FT_PYTHON:-}" ] && candidates+=("$FT_PYTHON")
for name in python3.14t python3.13t; do
    found=$(command -v "$name" 2>/dev/null || true)
    [ -n "$found" ] && candidates+=("$found")
done
candidates+=("$CACHE/bin/python3.13t")

for py in "${candidates[@]}"; do
    if [ -x "$py" ] && is_free_threaded "$py"; then
        if ! has_test_deps "$py"; then
            echo "installing pytest into $py" >&2
            "$py" -m ensurepip >&2 || true
            "$py" -m pip install --quiet pytest typing-extensions >&2
        fi
        echo "$py"
        exit 0
    fi
done

if [ -n "${FT_NO_BUILD:-}" ]; then
    echo "no free-threaded CPython found (FT_NO_BUILD set: not building one)" >&2
    exit 3
fi
echo "no free-threaded CPython found; building one into $CACHE (about 6 minutes)" >&2
if ! ls /etc/apt/sources.list.d/ 2>/dev/null | grep -q trixie-src; then
    echo 'deb-src http://deb.debian.org/debian trixie main' > /etc/apt/sources.list.d/trixie-src.list
    apt-get update -qq >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
    cd "$work"
    apt-get source --download-only python3.13 >&2
    tar xf python3.13_*.orig.tar.xz
    cd Python-3.13*/
    ./configure --disable-gil --prefix="$CACHE" --without-ensurepip >"$work/configure.log" 2>&1 \
        || { tail -50 "$work/configure.log" >&2; exit 1; }
    make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -50 "$work/make.log" >&2; exit 1; }
    make install >"$work/install.log" 2>&1 || { tail -50 "$work/install.log" >&2; exit 1; }
)
py="$CACHE/bin/python3.13t"
"$py" -m ensurepip >&2
"$py" -m pip install --quiet pytest typing-extensions >&2
is_free_threaded "$py" || { echo "built $py but it is not free-threaded" >&2; exit 1; }
echo "$py"
