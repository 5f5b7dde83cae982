#!/usr/bin/env bash
# Build rfarm in Release mode and run every benchmark on loopback.
# Benchmarks print figures; nothing here is a pass/fail test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
dpkg-query -W -f='${Status}' bc 2>/dev/null | grep -q "ok installed" || apt-get install -y -qq bc >/dev/null
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DRFARM_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target rfarm dashbench >/dev/null
export RFARM=$PWD/build-release/rfarm
for b in bench/*.sh; do
  [ "$(basename "$b")" = run.sh ] && continue
  echo "== $(basename "$b" .sh)"
  bash "$b"
done
