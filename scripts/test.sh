#!/usr/bin/env bash
# One command to test rfarm: install dependencies, build with
# AddressSanitizer + UndefinedBehaviorSanitizer and -Werror, run every unit
# and end-to-end test, run each libFuzzer target for a bounded time
# (scripts/fuzz.sh), and end with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh || exit 1
./scripts/browser-deps.sh || echo "browser-deps failed: browser_dashboard will fail"
./scripts/arm64-deps.sh || echo "arm64-deps failed: e2e_test_arm64 will fail"

build=${RFARM_TEST_BUILD:-build-test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DRFARM_SANITIZE=ON \
  -DRFARM_WERROR=ON >/dev/null || exit 1
cmake --build "$build" -j"$(nproc)" >"$build.log" 2>&1 || {
  tail -50 "$build.log"; echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
# rfarm cross-compiled for linux/arm64, which e2e_test_arm64 runs under
# qemu-aarch64. Relinked every time, so a failed build leaves no stale
# binary and the test fails rather than passing on an old one.
export RFARM_ARM64
RFARM_ARM64=$(realpath -m "$build-arm64/rfarm")
rm -f "$RFARM_ARM64"
{ cmake -S . -B "$build-arm64" -DRFARM_TESTS=OFF -DRFARM_WERROR=ON \
    -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" &&
  cmake --build "$build-arm64" -j"$(nproc)" --target rfarm; } >"$build-arm64.log" 2>&1 ||
  echo "arm64 cross build failed (see $build-arm64.log): e2e_test_arm64 will fail"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log=$(mktemp)
(cd "$build" && ctest --output-on-failure --timeout 300 -j2 "$@") | tee "$log"
summary=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
skipped=$(grep -cE 'Test +#[0-9]+: .*\*\*\*Skipped' "$log" || true)
rm -f "$log"
if [ -z "$summary" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")
total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$summary")
passed=$((total - failed - skipped))

# The libFuzzer targets, each for a bounded time (clang build of its own);
# each target is one test. RFARM_NO_FUZZ=1, or picking ctest tests, skips.
if [ -z "${RFARM_NO_FUZZ:-}" ] && [ $# -eq 0 ]; then
  flog=$(mktemp)
  FUZZ_SECONDS=${FUZZ_SECONDS:-40} ./scripts/fuzz.sh "$build-fuzz" 2>&1 | tee "$flog"
  ok=$(grep -cE '^fuzz_[a-z]+: [0-9]+ execs, 0 crashes$' "$flog" || true)
  bad=$(grep -cE '^fuzz_[a-z]+: [0-9]+ execs, [1-9][0-9]* crashes$' "$flog" || true)
  [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ] && bad=1 # the fuzz build itself failed
  rm -f "$flog"
  passed=$((passed + ok))
  failed=$((failed + bad))
fi
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
