#!/usr/bin/env bash
# Benchmark: throughput. 4 buildlets x 4 slots (BUILDLETS, CAPACITY);
# JOBS (5000) no-cache `true` jobs submitted as fast as CLIENTS (4)
# keep-alive connections allow (dispatchbench, curl multi). Figures:
#   jobs/s end to end: JOBS / (first submit -> all JOBS final), the end
#     seen by following the last job's log, then polling /metrics every
#     10 ms;
#   submit rate while the farm runs them: JOBS / submit phase;
#   submit rate alone: the same submissions to a coordinator with no
#     buildlet (the API and the store only);
# and every result durable: sqlite3 counts the passed jobs in rfarm.db
# (a separate reader sees committed transactions only) while the
# coordinator runs, and again after it stopped. Medians over RUNS (3)
# runs, each on a fresh coordinator; each run is bounded by TIMEOUT_S
# (300) for the jobs to end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_dir bench
JOBS=${JOBS:-5000}
RUNS=${RUNS:-3}
BUILDLETS=${BUILDLETS:-4}
CAPACITY=${CAPACITY:-4}
CLIENTS=${CLIENTS:-4}
TIMEOUT_S=${TIMEOUT_S:-300}
PAGES=/dev/shm/rfarm-bench-pages.$$
trap 'bench_cleanup "$PAGES"' EXIT

passed_in_db() { sqlite3 -readonly "$1/data/rfarm.db" "select count(*) from jobs where state = 'passed'"; }
# run_farm DIR RUN [COORDINATOR FLAG...]: one end-to-end run; appends to
# $T/rate-KIND (KIND: disk, or tmpfs with the pages on /dev/shm).
run_farm() {
  local d=$1 r=$2 kind=$3
  shift 3
  farm_start "$d" "$CAPACITY" "$BUILDLETS" "$@"
  plat=$(curl -s "$RFARM_URL/api/v1/buildlets" | jq -r '.buildlets[0].platforms[0]')
  "$BIN/dispatchbench" submit "$RFARM_URL" "$plat" "$JOBS" "$CLIENTS" "$TIMEOUT_S" >"$d/out" || true
  live=$(passed_in_db "$d")
  farm_stop
  after=$(passed_in_db "$d")
  sub_ms=$(awk '$1 == "submitted" {print $3}' "$d/out")
  end_ms=$(awk '$1 == "final" {print $3}' "$d/out")
  [ -n "$sub_ms" ] && [ -n "$end_ms" ] || { echo "run $r: incomplete: $(cat "$d/out")"; return 0; }
  echo "$JOBS / ($end_ms / 1000)" | bc -l >>"$T/rate-$kind"
  echo "$JOBS / ($sub_ms / 1000)" | bc -l >>"$T/submit-$kind"
  echo "$live $after" >>"$T/durable"
  printf 'run %d (%s): %d jobs in %.0f ms end to end (%.0f jobs/s), submitted in %.0f ms; passed in the db: %d running, %d after stop\n' \
    "$r" "$kind" "$JOBS" "$end_ms" "$(tail -1 "$T/rate-$kind")" "$sub_ms" "$live" "$after"
}

for r in $(seq 1 "$RUNS"); do
  d=$T/run$r
  run_farm "$d" "$r" disk
  # The same with the dashboard's pages on a tmpfs (--dashboard-dir):
  # the database stays on disk; only the pages' file churn goes.
  run_farm "$d-pages" "$r" tmpfs --dashboard-dir "$PAGES/$r"
  rm -rf "$PAGES"

  # The API alone: no buildlet, so every job stays queued.
  farm_start "$d-alone" 1 0
  "$BIN/dispatchbench" submit-only "$RFARM_URL" "$plat" "$JOBS" "$CLIENTS" "$TIMEOUT_S" >"$d/alone" || true
  farm_stop
  ms=$(awk '$1 == "submitted" {print $3}' "$d/alone")
  [ -n "$ms" ] && echo "$JOBS / ($ms / 1000)" | bc -l >>"$T/alone"
done
[ -s "$T/rate-disk" ] || exit 1
figure "throughput: $JOBS jobs on ${BUILDLETS}x$CAPACITY slots, end to end" \
  "$(printf '%.0f' "$(median <"$T/rate-disk")")" jobs/s "≥ 500"
figure "throughput: submit rate during the run" "$(printf '%.0f' "$(median <"$T/submit-disk")")" jobs/s "-"
[ -s "$T/rate-tmpfs" ] && figure "throughput: the same, dashboard pages on tmpfs" \
  "$(printf '%.0f' "$(median <"$T/rate-tmpfs")")" jobs/s "≥ 500"
[ -s "$T/alone" ] && figure "throughput: submit rate, no buildlet (API + store)" \
  "$(printf '%.0f' "$(median <"$T/alone")")" jobs/s "-"
figure "throughput: passed jobs in SQLite (min over runs, of $JOBS)" \
  "$(awk '{print ($1 < $2 ? $1 : $2)}' "$T/durable" | sort -n | head -1)" jobs "= $JOBS"
