#!/usr/bin/env bash
# fuzz.sh [BUILD_DIR] - build the libFuzzer targets in fuzz/ with clang and
# run each for FUZZ_SECONDS (default 45) on a copy of its seed corpus.
#
# Prints one line per target ("fuzz_proto: 123456 execs, 0 crashes") and
# exits non-zero if any target crashed, leaked, hung or ran out of memory,
# printing where the input that did it was kept. Installs clang and the
# libFuzzer runtime with apt-get when missing (as root; like deps.sh).
# FUZZ_TARGETS picks targets ("proto tar"); FUZZ_OUT keeps the run's
# corpora and logs in that directory instead of a temporary one.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${TMPDIR:-/tmp}/rfarm-fuzz-build}
# absolute: the targets run from inside their work directories
mkdir -p "$build" && build=$(cd "$build" && pwd)
seconds=${FUZZ_SECONDS:-45}
targets=${FUZZ_TARGETS:-proto request route tar config}

"$here/scripts/deps.sh" clang libclang-rt-14-dev

CC=clang cmake -S "$here" -B "$build" -DRFARM_FUZZ=ON -DRFARM_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target $(printf 'fuzz_%s ' $targets) >/dev/null

out=${FUZZ_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/rfarm-fuzz.XXXXXX")}
mkdir -p "$out"
# fuzz_tar will not extract as root: it becomes nobody, who must be able
# to write its corpus and its findings.
[ "$(id -u)" -eq 0 ] && chmod 755 "$out"

failed=0
for t in $targets; do
  work=$out/$t
  rm -rf "$work" && mkdir -p "$work/corpus"
  cp "$here/fuzz/corpus/$t/." "$work/corpus/" -R
  [ "$(id -u)" -eq 0 ] && [ "$t" = tar ] && chown -R nobody: "$work"
  dict=()
  [ -f "$here/fuzz/dict/$t.dict" ] && dict=("-dict=$here/fuzz/dict/$t.dict")
  # -timeout: an input that takes 10 s is a hang, reported like a crash.
  rc=0
  (cd "$work" && timeout $((seconds + 120)) "$build/fuzz/fuzz_$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$work/" -print_final_stats=1 "${dict[@]}" corpus \
    >"$work/log" 2>&1) || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  [ -n "$execs" ] || execs=$({ grep -oE '^#[0-9]+' "$work/log" || true; } | tail -1 | tr -d '#')
  found=$(find "$work" -maxdepth 1 -type f \
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  crashes=$(printf '%s' "$found" | grep -c . || true)
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
    crashes=1 # died without saving an input (a timeout of the whole run)
  fi
  echo "fuzz_$t: ${execs:-0} execs, $crashes crashes"
  if [ "$crashes" -ne 0 ]; then
    failed=1
    for f in $found; do echo "  input: $f"; done
    echo "  log: $work/log"
    grep -m1 -E 'ERROR: |runtime error:|fuzz_[a-z]+: ' "$work/log" | sed 's/^/  /' || true
  fi
done

if [ "$failed" -eq 0 ] && [ -z "${FUZZ_OUT:-}" ]; then
  rm -rf "$out"
else
  echo "corpora and logs kept in $out"
fi
exit "$failed"
