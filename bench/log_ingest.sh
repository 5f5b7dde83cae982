#!/usr/bin/env bash
# Benchmark: log ingest. One job prints MB (200) megabytes of 64-byte
# lines (`yes LINE | head -c`); the buildlet streams them as `log`
# messages, the coordinator stores them in SQLite. The coordinator runs
# with --max-log-bytes 0 (no cap; the default 64M would keep head and tail
# only), so every byte is stored. Figures:
#   MB/s: MB / (POST returned -> stored log bytes reach MB), the stored
#     count read from /metrics (rfarm_log_bytes_total) every 20 ms; also
#     the time until the job is `passed` (the `done` comes after the log);
#   the coordinator's (and the buildlet's) peak RSS growth: VmHWM after
#     the run (once the dashboard has written the job's page: that is
#     the coordinator's work on this log too) minus VmRSS before it,
#     with the peak reset (clear_refs 5) just before the job.
# The stored size is checked in the db (sum of chunk lengths). Medians
# over RUNS (3), each on a fresh coordinator, each bounded to 300 s.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_dir bench
MB=${MB:-200}
RUNS=${RUNS:-3}
BYTES=$((MB * 1000000))
LINE='a line of log text, as long as a compiler line: -O2 -Wall foo.c'
trap bench_cleanup EXIT

now() { date +%s.%N; }
metric() { curl -s "$RFARM_URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
t=$(now); { yes "$LINE" || true; } | head -c "$BYTES" >/dev/null
printf 'the command alone (to /dev/null): %.2f s\n' "$(echo "$(now) - $t" | bc -l)"

for r in $(seq 1 "$RUNS"); do
  d=$T/run$r
  farm_start "$d" 1 1 --max-log-bytes 0
  BL=${PIDS[1]}
  plat=$(curl -s "$RFARM_URL/api/v1/buildlets" | jq -r '.buildlets[0].platforms[0]')
  echo 5 >"/proc/$COORD/clear_refs"; echo 5 >"/proc/$BL/clear_refs"
  c0=$(rss_kb "$COORD"); b0=$(rss_kb "$BL")
  body=$(jq -cn --arg p "$plat" --arg s "yes '$LINE' | head -c $BYTES" \
    '{platforms: [$p], command: ["sh", "-c", $s], no_cache: true}')
  job=$(curl -s -X POST -d "$body" "$RFARM_URL/api/v1/builds" | jq '.jobs[0].id')
  t0=$(now); stored= passed=
  for _ in $(seq 1 15000); do
    if [ -z "$stored" ] && [ "$(metric rfarm_log_bytes_total)" -ge "$BYTES" ]; then stored=$(now); fi
    if [ -n "$stored" ] && [ "$(curl -s "$RFARM_URL/api/v1/jobs/$job" | jq -r .state)" = passed ]; then
      passed=$(now); break
    fi
    sleep 0.02
  done
  cp=$(hwm_kb "$COORD")
  # The coordinator's work on this log is not over at `passed`: its
  # dashboard writes the job's page (and raw .log) after a debounce. The
  # peak is read once that page shows the final state (bounded: 60 s).
  page=$d/data/dashboard/jobs/$job.html dash=
  for _ in $(seq 1 600); do
    if [ -n "$passed" ] && grep -q 'data-state="passed"' "$page" 2>/dev/null; then dash=$(now); break; fi
    sleep 0.1
  done
  c1=$(hwm_kb "$COORD"); b1=$(hwm_kb "$BL")
  [ -n "$dash" ] && printf 'run %d: dashboard page of the job written %.1f s after passed (%s bytes, raw log %s bytes)\n' \
    "$r" "$(echo "$dash - $passed" | bc -l)" "$(stat -c %s "$page")" \
    "$(stat -c %s "${page%.html}.log" 2>/dev/null || echo 0)"
  farm_stop
  size=$(sqlite3 -readonly "$d/data/rfarm.db" "select sum(length(data)) from log_chunks where job_id = $job")
  [ -n "$passed" ] || { echo "run $r: the job did not pass in time"; continue; }
  [ "$size" = "$BYTES" ] || { echo "run $r: stored $size bytes of $BYTES: no figure"; continue; }
  echo "$MB / ($stored - $t0)" | bc -l >>"$T/rate"
  echo "$MB / ($passed - $t0)" | bc -l >>"$T/rate_passed"
  echo "($c1 - $c0) / 1024" | bc -l >>"$T/crss"
  echo "($b1 - $b0) / 1024" | bc -l >>"$T/brss"
  echo "($cp - $c0) / 1024" | bc -l >>"$T/crss_passed"
  printf 'run %d: %.0f MB/s stored, %.0f MB/s to passed; stored %s bytes of %s; RSS growth coordinator %.1f MiB (%.1f MiB until passed), buildlet %.1f MiB\n' \
    "$r" "$(tail -1 "$T/rate")" "$(tail -1 "$T/rate_passed")" "$size" "$BYTES" \
    "$(tail -1 "$T/crss")" "$(tail -1 "$T/crss_passed")" "$(tail -1 "$T/brss")"
done
[ -s "$T/rate" ] || exit 1
figure "log ingest ($MB MB): output -> stored" "$(printf '%.0f' "$(median <"$T/rate")")" MB/s "≥ 100"
figure "log ingest: output -> job passed" "$(printf '%.0f' "$(median <"$T/rate_passed")")" MB/s "-"
figure "log ingest: coordinator peak RSS growth" "$(printf '%.1f' "$(median <"$T/crss")")" MiB "< 64"
figure "log ingest: coordinator peak RSS growth until passed" "$(printf '%.1f' "$(median <"$T/crss_passed")")" MiB "-"
figure "log ingest: buildlet peak RSS growth" "$(printf '%.1f' "$(median <"$T/brss")")" MiB "-"
