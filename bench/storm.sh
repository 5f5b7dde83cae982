#!/usr/bin/env bash
# Benchmark: the reconnect storm. N simulated buildlets (bench/swarm.c)
# connected to a Release coordinator; the coordinator is restarted
# (SIGTERM, then started again on the same port and data directory) RUNS
# times. Per restart: the time from SIGTERM, and from listening again,
# until all N are welcomed back; the peak of welcomes per second (the
# swarm's per-second report); and, while the storm goes on, PROBES
# trivial jobs submitted one after another, each timed from its POST to
# `passed`, which shows whether buildlets already back get work.
#
# The swarm reconnects as a real buildlet does (0.25-0.5 s of jitter, the
# backoff doubling while the coordinator is away, Retry-After honoured).
# The coordinator keeps its default handshake rate (--max-handshakes 1000
# per second, MAX_HS to change it) and per-address cap (the swarm spreads
# over SOURCE_ADDRS loopback addresses). Bounded: every wait has a limit
# (BACK_S per restart); about 30 s per restart. Knobs: N, RUNS, PROBES,
# MAX_HS, SOURCE_ADDRS.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_dir storm
SWARM=${SWARM:-$(dirname "$RFARM")/bench/swarm}
N=${N:-2000}
RUNS=${RUNS:-3}
PROBES=${PROBES:-5}
MAX_HS=${MAX_HS:-1000}
SOURCE_ADDRS=${SOURCE_ADDRS:-16}
BACK_S=${BACK_S:-60}
COORD=
cleanup() {
  for p in "${PIDS[@]}" $COORD; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"
now() { date +%s.%N; }

start_coord() { # LISTEN
  rm -f "$T/data/url"
  "$RFARM" coordinator --listen "$1" --data "$T/data" --max-handshakes "$MAX_HS" \
    2>>"$T/coord.log" &
  COORD=$!
  for _ in $(seq 1 200); do [ -s "$T/data/url" ] && return 0; sleep 0.05; done
  echo "coordinator did not start: $(tail -2 "$T/coord.log")"; return 1
}

stop_coord() {
  kill -TERM "$COORD"
  for _ in $(seq 1 300); do kill -0 "$COORD" 2>/dev/null || break; sleep 0.05; done
  kill -9 "$COORD" 2>/dev/null || true
  wait "$COORD" 2>/dev/null || true
}

# probe_jobs OUT: PROBES jobs one after another, each "SECONDS" to passed.
probe_jobs() {
  local id st t0
  for _ in $(seq 1 "$PROBES"); do
    t0=$(now)
    id=$(curl -s -H 'Connection: close' -X POST "$URL/api/v1/builds" \
      -d '{"platforms":["linux/amd64"],"command":["true"],"no_cache":true}' |
      jq -r '.jobs[0].id // empty') || true
    [ -n "$id" ] || { sleep 0.2; continue; }
    for _ in $(seq 1 1500); do
      st=$(curl -s "$URL/api/v1/jobs/$id" | jq -r .state) || true
      [ "$st" = passed ] && break; sleep 0.02
    done
    [ "$st" = passed ] && echo "$(now) - $t0" | bc -l >>"$1"
  done
}

start_coord 127.0.0.1:0
URL=$(cat "$T/data/url")
LISTEN=127.0.0.1:${URL##*:}
"$SWARM" --url "$URL" --n "$N" --report --source-addrs "$SOURCE_ADDRS" \
  >"$T/swarm.out" 2>"$T/swarm.err" &
PIDS+=($!)
for _ in $(seq 1 $((BACK_S * 10))); do grep -q '^all-connected' "$T/swarm.out" && break; sleep 0.1; done
grep -q '^all-connected' "$T/swarm.out" || { echo "not all $N connected"; exit 1; }
sleep 2

back=(); fromup=(); peaks=()
for r in $(seq 1 "$RUNS"); do
  seen=$(grep -c '^all-connected' "$T/swarm.out")
  t0=$(now)
  stop_coord
  start_coord "$LISTEN"
  tup=$(now)
  probe_jobs "$T/probe.$r" &
  probe=$!
  for _ in $(seq 1 $((BACK_S * 20))); do
    [ "$(grep -c '^all-connected' "$T/swarm.out")" -gt "$seen" ] && break; sleep 0.05
  done
  wait "$probe" || true
  tall=$(grep '^all-connected' "$T/swarm.out" | sed -n "$((seen + 1))p" |
    sed 's/.*t=\([0-9.]*\).*/\1/')
  if [ -z "$tall" ]; then
    echo "restart $r: not all back within ${BACK_S}s: $(tail -1 "$T/swarm.out")"
    continue
  fi
  peak=$(awk -v a="$t0" -v b="$tall" '/^t=/ {
      split($1, t, "="); split($4, w, "=")
      if (t[2] > a && t[2] <= b + 1.5 && w[2] > m) m = w[2] }
      END { print m + 0 }' "$T/swarm.out")
  refused=$(awk -v a="$t0" -v b="$tall" '/^t=/ {
      split($1, t, "="); split($5, x, "=")
      if (t[2] > a && t[2] <= b + 1.5) s += x[2] } END { print s + 0 }' "$T/swarm.out")
  back+=("$(echo "$tall - $t0" | bc -l)")
  fromup+=("$(echo "$tall - $tup" | bc -l)")
  peaks+=("$peak")
  printf 'restart %d: down for %.2f s, all %d back %.2f s after SIGTERM (%.2f s after listening), peak %d welcomes/s, %d told to retry later; probe jobs (s): %s\n' \
    "$r" "$(echo "$tup - $t0" | bc -l)" "$N" "${back[-1]}" "${fromup[-1]}" "$peak" \
    "$refused" "$(xargs printf '%.2f ' <"$T/probe.$r" 2>/dev/null)"
  sleep 3 # heartbeats settle before the next storm
done
[ "${#back[@]}" -gt 0 ] || exit 0
figure "storm N=$N: all back after SIGTERM, median" \
  "$(printf '%s\n' "${back[@]}" | median | xargs printf '%.2f')" s "< 10"
figure "storm N=$N: all back after listening again, median" \
  "$(printf '%s\n' "${fromup[@]}" | median | xargs printf '%.2f')" s -
figure "storm N=$N: peak welcomes per second" \
  "$(printf '%s\n' "${peaks[@]}" | sort -n | tail -1)" "/s" "(--max-handshakes $MAX_HS)"
cat "$T"/probe.* 2>/dev/null >"$T/probes" || true
if [ -s "$T/probes" ]; then
  figure "storm N=$N: jobs during the storm, POST to passed, median" \
    "$(median <"$T/probes" | xargs printf '%.2f')" s -
  figure "storm N=$N: jobs during the storm, max" \
    "$(sort -n "$T/probes" | tail -1 | xargs printf '%.2f')" s -
fi
figure "storm N=$N: jobs during the storm that passed" \
  "$(wc -l <"$T/probes")" "of $((PROBES * RUNS))" -
