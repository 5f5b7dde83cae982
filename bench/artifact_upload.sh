#!/usr/bin/env bash
# Benchmark: one 1 GiB artifact through the real path. A job on a real
# buildlet writes the file; the buildlet hashes it and streams it with
# libcurl to the coordinator, which hashes while receiving, fsyncs and
# renames it into the blob store. Prints MB/s of that step (job end-to-end
# time minus the command's own run time) and the peak RSS growth of both
# processes. Not a test: it prints figures and fails only if the run does.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
RFARM=${RFARM:?set RFARM to a Release rfarm binary}
SIZE_MB=${SIZE_MB:-1024}
RUNS=${RUNS:-3}
T=$(mktemp -d "${TMPDIR:-/tmp}/rfarm-bench.XXXXXX")
PIDS=()
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

rates=()
for i in $(seq 1 "$RUNS"); do
  start=$(date +%s.%N)
  id=$("$RFARM" submit --platform linux/amd64 --no-cache --artifact big.bin --wait \
    --script "head -c $((SIZE_MB * 1048576)) /dev/urandom > big.bin; echo run $i" 2>/dev/null)
  end=$(date +%s.%N)
  job=$(curl -s "$RFARM_URL/api/v1/builds/$id" | jq '.jobs[0].id')
  ms=$(curl -s "$RFARM_URL/api/v1/jobs/$job" | jq '.duration_ms')
  rate=$(echo "$SIZE_MB / (($end - $start) - $ms / 1000)" | bc -l)
  rates+=("$rate")
  printf 'run %d: %.0f MB/s (job %.2f s, command %.2f s)\n' "$i" "$rate" \
    "$(echo "$end - $start" | bc -l)" "$(echo "$ms / 1000" | bc -l)"
  "$RFARM" purge --before 0s >/dev/null
done
median=$(printf '%s\n' "${rates[@]}" | median)
figure "artifact upload (${SIZE_MB} MiB), median" "$(printf '%.0f' "$median")" MB/s "≥ 400"
figure "artifact upload: coordinator peak RSS growth" \
  "$(printf '%.1f' "$(echo "($(hwm_kb "$COORD") - $c0) / 1024" | bc -l)")" MiB "< 32"
figure "artifact upload: buildlet peak RSS growth" \
  "$(printf '%.1f' "$(echo "($(hwm_kb "$BL") - $b0) / 1024" | bc -l)")" MiB "< 32"
