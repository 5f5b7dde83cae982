#!/usr/bin/env bash
# Build rfarm in Release mode and run every benchmark on loopback.
# Benchmarks print figures; nothing here is a pass/fail test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
dpkg-query -W -f='${Status}' bc 2>/dev/null | grep -q "ok installed" || apt-get install -y -qq bc >/dev/null
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DRFARM_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target rfarm dashbench swarm dispatchbench benchstamp >/dev/null
export RFARM=$PWD/build-release/rfarm
BENCH_FIGURES=$(mktemp "${TMPDIR:-/tmp}/rfarm-figures.XXXXXX")
export BENCH_FIGURES
trap 'rm -f "$BENCH_FIGURES"' EXIT
# ONLY="dispatch throughput" runs just those.
for b in bench/*.sh; do
  name=$(basename "$b" .sh)
  case $name in run|lib) continue;; esac
  if [ -n "${ONLY:-}" ] && ! grep -qw "$name" <<<"$ONLY"; then continue; fi
  echo "== $name"
  # One benchmark that breaks does not stop the others.
  bash "$b" || echo "(benchmark $name failed: exit $?)"
done
echo
echo "| figure | value | unit | target |"
echo "| --- | ---: | --- | --- |"
awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' "$BENCH_FIGURES"
