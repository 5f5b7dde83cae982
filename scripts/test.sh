#!/usr/bin/env bash
# One command to test rfarm: install dependencies, build with
# AddressSanitizer + UndefinedBehaviorSanitizer and -Werror, run every unit
# and end-to-end test, and end with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh || exit 1

build=${RFARM_TEST_BUILD:-build-test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DRFARM_SANITIZE=ON \
  -DRFARM_WERROR=ON >/dev/null || exit 1
cmake --build "$build" -j"$(nproc)" >"$build.log" 2>&1 || {
  tail -50 "$build.log"; echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log=$(mktemp)
(cd "$build" && ctest --output-on-failure --timeout 300 -j2 "$@") | tee "$log"
summary=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
rm -f "$log"
if [ -z "$summary" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")
total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$summary")
echo "$((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
