#!/usr/bin/env bash
# Benchmark: dispatch latency. One idle buildlet (capacity 1); JOBS
# no-cache jobs submitted one after another, each once the previous one
# passed, by dispatchbench (C, libcurl, keep-alive connections: curl(1)
# alone takes longer to start than the 2 ms measured). Per job:
#   start   POST /api/v1/builds returned its 201 -> the job's process read
#           CLOCK_REALTIME (benchstamp prints it first thing in main; same
#           machine, same clock). Also with `bash -c 'echo $EPOCHREALTIME'`,
#           which adds bash's own start-up (~0.4 ms here).
#   passed  201 -> a GET /api/v1/jobs/ID says "passed". The client follows
#           the log (?follow=1, which the coordinator ends when the job
#           turns final) and then GETs the job once: resolution one
#           loopback request (~0.1-0.3 ms), no polling load.
# p50, p90, p99 of each run; the figures are the medians over RUNS runs,
# each on a fresh coordinator. Bounded: JOBS (1000) x RUNS (3) x 2 kinds,
# a few seconds each; every request has a 120 s limit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_dir bench
JOBS=${JOBS:-1000}
RUNS=${RUNS:-3}
trap bench_cleanup EXIT

# col N FILE: column N of dispatchbench's per-job lines.
col() { awk -v c="$1" '{print $c}' "$2"; }
for r in $(seq 1 "$RUNS"); do
  farm_start "$T/run$r" 1 1
  plat=$(curl -s "$RFARM_URL/api/v1/buildlets" | jq -r '.buildlets[0].platforms[0]')
  "$BIN/dispatchbench" latency "$RFARM_URL" "$plat" "$JOBS" "$BIN/benchstamp" >"$T/stamp.$r"
  "$BIN/dispatchbench" latency "$RFARM_URL" "$plat" "$JOBS" \
    bash -c 'echo $EPOCHREALTIME' >"$T/bash.$r"
  farm_stop
  for p in 50 90 99; do
    echo "$(col 2 "$T/stamp.$r" | pct $p)" >>"$T/start.p$p"
    echo "$(col 4 "$T/stamp.$r" | pct $p)" >>"$T/passed.p$p"
    echo "$(col 2 "$T/bash.$r" | pct $p)" >>"$T/bash.p$p"
  done
  printf 'run %d: start p50/p90/p99 %s/%s/%s ms, passed %s/%s/%s ms, bash start %s/%s/%s ms\n' "$r" \
    "$(tail -1 "$T/start.p50")" "$(tail -1 "$T/start.p90")" "$(tail -1 "$T/start.p99")" \
    "$(tail -1 "$T/passed.p50")" "$(tail -1 "$T/passed.p90")" "$(tail -1 "$T/passed.p99")" \
    "$(tail -1 "$T/bash.p50")" "$(tail -1 "$T/bash.p90")" "$(tail -1 "$T/bash.p99")"
done
target() { case $1 in start.p50) echo "< 2";; start.p99) echo "< 10";; *) echo "-";; esac; }
for f in start passed; do
  for p in 50 90 99; do
    figure "dispatch: API -> $f, p$p" "$(median <"$T/$f.p$p")" ms "$(target "$f.p$p")"
  done
done
figure "dispatch: API -> start under bash, p50" "$(median <"$T/bash.p50")" ms "-"
figure "dispatch: API -> start under bash, p99" "$(median <"$T/bash.p99")" ms "-"
