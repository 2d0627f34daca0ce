#!/usr/bin/env bash
# The former name of tools/build_accel.sh, which now compiles every C hot
# path of the runtime (Mutex's and the channels') for the interpreter $1.
exec "$(dirname "$0")/build_accel.sh" "$@"
