#!/usr/bin/env bash
# Benchmark: connected-buildlet scale. For each N in NS, a fresh Release
# coordinator and `swarm` (bench/swarm.c: N simulated buildlets in one
# process, real protocol library, real WebSocket connections) with
# capacity CAPACITY each. Prints: time until all N are connected; the
# coordinator's RSS with N connected; its CPU % of one core over IDLE_S
# seconds of heartbeats only; then JOBS trivial jobs (no cache) submitted
# by curl's parallel mode (8 at a time) and the time until
# all passed, with the submission's own share.
#
# Connections come from SOURCE_ADDRS loopback addresses (127.0.0.1..K)
# so the coordinator runs with its default per-address cap (256) as in a
# real farm where buildlets come from many addresses; --max-handshakes 0
# lets them in as fast as the coordinator can take them (the rate limit is
# the storm benchmark's business). Bounded: each wait has a limit
# (CONNECT_S, JOBS_S); about 1-2 minutes per N. Knobs: NS, CAPACITY,
# JOBS, IDLE_S, SOURCE_ADDRS, HEARTBEAT (coordinator --heartbeat).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_dir swarm
SWARM=${SWARM:-$(dirname "$RFARM")/bench/swarm}
NS=${NS:-"1000 5000 10000"}
CAPACITY=${CAPACITY:-1}
JOBS=${JOBS:-10000}
IDLE_S=${IDLE_S:-10}
SOURCE_ADDRS=${SOURCE_ADDRS:-64}
HEARTBEAT=${HEARTBEAT:-5s}
CONNECT_S=${CONNECT_S:-120}
JOBS_S=${JOBS_S:-300}
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
# 10,000 sockets each for the coordinator and the swarm.
ulimit -n "$(ulimit -Hn)"
HZ=$(getconf CLK_TCK)

# cpu_ticks PID: user + system time so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
metric() { curl -s "$URL/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }

# jobs_config FILE: a curl config posting JOBS builds of one trivial job.
# Connection: close, because a second POST on a keep-alive connection
# makes this coordinator spin (lws calls HTTP_BODY_COMPLETION for ever;
# see bench/README.md): one connection per request until that is fixed.
jobs_config() {
  for _ in $(seq 1 "$JOBS"); do
    printf 'url = "%s/api/v1/builds"\nheader = "Connection: close"\ndata = "{\\"platforms\\":[\\"linux/amd64\\"],\\"command\\":[\\"true\\"],\\"no_cache\\":true}"\noutput = "/dev/null"\nnext\n' "$URL"
  done | sed '$d' >"$1" # no "next" after the last
}

one_n() {
  local n=$1 d=$T/n$n coord swarm t0 t1 c0 c1 sub passed
  mkdir -p "$d"
  "$RFARM" coordinator --listen 127.0.0.1:0 --data "$d/data" --max-handshakes 0 \
    --heartbeat "$HEARTBEAT" 2>"$d/coord.log" &
  coord=$!; PIDS+=("$coord")
  for _ in $(seq 1 100); do [ -s "$d/data/url" ] && break; sleep 0.1; done
  URL=$(cat "$d/data/url")
  "$SWARM" --url "$URL" --n "$n" --capacity "$CAPACITY" --report \
    --source-addrs "$SOURCE_ADDRS" >"$d/swarm.out" 2>"$d/swarm.err" &
  swarm=$!; PIDS+=("$swarm")
  for _ in $(seq 1 $((CONNECT_S * 10))); do
    grep -qs "^all-connected" "$d/swarm.out" && break; sleep 0.1
  done
  if ! grep -qs "^all-connected" "$d/swarm.out"; then
    echo "N=$n: not all connected after ${CONNECT_S}s: $(tail -1 "$d/swarm.out")"
    tail -3 "$d/coord.log"
    kill "$swarm" "$coord"; wait "$swarm" "$coord" 2>/dev/null || true
    return 0
  fi
  figure "swarm N=$n: time to connect all" \
    "$(awk '/^all-connected/ { sub("after=", "", $4); print $4; exit }' "$d/swarm.out")" s -
  echo "coordinator sees $(metric rfarm_buildlet_sessions) sessions"
  sleep 2 # let the last welcomes' work settle
  figure "swarm N=$n: coordinator RSS" "$(( $(rss_kb "$coord") / 1024 ))" MiB \
    "$([ "$n" -ge 10000 ] && echo "< 256" || echo -)"
  c0=$(cpu_ticks "$coord"); t0=$(date +%s.%N)
  sleep "$IDLE_S"
  c1=$(cpu_ticks "$coord"); t1=$(date +%s.%N)
  figure "swarm N=$n: coordinator CPU at idle (heartbeats)" \
    "$(echo "($c1 - $c0) * 100 / $HZ / ($t1 - $t0)" | bc -l | xargs printf '%.1f')" \
    "% core" "$([ "$n" -ge 10000 ] && echo "< 5" || echo -)"

  jobs_config "$d/jobs.curl"
  t0=$(date +%s.%N)
  curl -s --no-progress-meter -Z --parallel-max 8 -K "$d/jobs.curl"
  sub=$(echo "$(date +%s.%N) - $t0" | bc -l)
  passed=0
  for _ in $(seq 1 $((JOBS_S * 5))); do
    passed=$(metric 'rfarm_jobs{state="passed"}')
    [ "${passed:-0}" -ge "$JOBS" ] && break; sleep 0.2
  done
  t1=$(date +%s.%N)
  printf 'N=%d: %d jobs submitted in %.2f s\n' "$n" "$JOBS" "$sub"
  if [ "${passed:-0}" -lt "$JOBS" ]; then
    echo "N=$n: only $passed of $JOBS jobs passed after ${JOBS_S}s: no figure"
  else
    figure "swarm N=$n: $JOBS jobs, submit to all passed" \
      "$(printf '%.2f' "$(echo "$t1 - $t0" | bc -l)")" s -
  fi
  figure "swarm N=$n: coordinator peak RSS" "$(( $(hwm_kb "$coord") / 1024 ))" MiB -
  kill "$swarm"; wait "$swarm" 2>/dev/null || true
  kill "$coord"; wait "$coord" 2>/dev/null || true
}

for n in $NS; do
  echo "-- N=$n"
  one_n "$n"
done
