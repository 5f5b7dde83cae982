#!/usr/bin/env bash
# One command to try rfarm: install dependencies, build, and run
# `rfarm up` (coordinator + embedded buildlet + dashboard on loopback).
# Extra arguments go to `rfarm up`, e.g. --listen 127.0.0.1:9090.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRFARM_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target rfarm
exec ./build/rfarm up "$@"
