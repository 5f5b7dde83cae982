#!/usr/bin/env bash
# Benchmark: one 1 GiB artifact through the real path. A job on a real
# buildlet writes the file; the buildlet hashes it and streams it with
# libcurl to the coordinator, which hashes while receiving, fsyncs and
# renames it into the blob store. Prints MB/s of that step (from the job's
# start to the blob's "stored" log line, minus the command's run time) and
# the peak RSS growth of both processes. Not a test: it prints figures and
# fails only if the run does.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_dir bench
SIZE_MB=${SIZE_MB:-1024}
RUNS=${RUNS:-3}
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

"$RFARM" coordinator --listen 127.0.0.1:0 --data "$T/data" 2>"$T/coord.log" &
PIDS+=($!); COORD=$!
for _ in $(seq 1 100); do [ -s "$T/data/url" ] && break; sleep 0.1; done
export RFARM_URL=$(cat "$T/data/url")
(umask 077; "$RFARM" keygen linux-amd64 --data "$T/data" 2>/dev/null | tail -1 >"$T/key")
"$RFARM" buildlet --coordinator "$RFARM_URL" --name bench --token-file "$T/key" \
  --workdir "$T/work" 2>"$T/buildlet.log" &
PIDS+=($!); BL=$!
for _ in $(seq 1 100); do
  curl -s "$RFARM_URL/api/v1/buildlets" | grep -q '"connected":true' && break; sleep 0.1
done

c0=$(rss_kb "$COORD"); b0=$(rss_kb "$BL")

# When the coordinator first logged a line holding $1 (seconds, ms
# precision).
logged_at() {
  local ts
  ts=$(grep -m1 -F "$1" "$T/coord.log" | cut -d' ' -f1)
  date -d "${ts:?no \"$1\" in coord.log}" +%s.%N
}

# The step is timed on the coordinator's clock, from the job's start to
# the blob's "stored" line, minus the command's own run time: --wait
# polls every second at most, which would add up to a second, and neither
# dispatch nor what follows the upload (the buildlet removes the work
# directory, then reports) is the step; that tail is printed apart.
# No purge between runs: purge frees build and job ids for reuse, and a
# buildlet takes a second "run" of a job id and attempt it has just
# finished for a resend and drops it.
rates=()
for i in $(seq 1 "$RUNS"); do
  id=$("$RFARM" submit --platform linux/amd64 --no-cache --artifact big.bin --wait \
    --script "head -c $((SIZE_MB * 1048576)) /dev/urandom > big.bin; echo run $i" 2>/dev/null)
  job=$(curl -s "$RFARM_URL/api/v1/builds/$id" | jq '.jobs[0].id')
  detail=$(curl -s "$RFARM_URL/api/v1/jobs/$job")
  ms=$(jq '.duration_ms' <<<"$detail")
  sha=$(jq -r '.artifacts[0].sha256' <<<"$detail")
  start=$(logged_at "job $job: dispatched -> running")
  stored=$(logged_at "blob ${sha:0:12} stored")
  end=$(logged_at "job $job: running -> passed")
  rate=$(echo "$SIZE_MB * 1.048576 / (($stored - $start) - $ms / 1000)" | bc -l)
  rates+=("$rate")
  printf 'run %d: %.0f MB/s (job %.2f s, command %.2f s, after the upload %.2f s)\n' \
    "$i" "$rate" "$(echo "$end - $start" | bc -l)" "$(echo "$ms / 1000" | bc -l)" \
    "$(echo "$end - $stored" | bc -l)"
done
median=$(printf '%s\n' "${rates[@]}" | median)
figure "artifact upload (${SIZE_MB} MiB), median" "$(printf '%.0f' "$median")" MB/s "≥ 400"
figure "artifact upload: coordinator peak RSS growth" \
  "$(printf '%.1f' "$(echo "($(hwm_kb "$COORD") - $c0) / 1024" | bc -l)")" MiB "< 32"
figure "artifact upload: buildlet peak RSS growth" \
  "$(printf '%.1f' "$(echo "($(hwm_kb "$BL") - $b0) / 1024" | bc -l)")" MiB "< 32"
