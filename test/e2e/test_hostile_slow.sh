#!/usr/bin/env bash
# Slow loris: with a short --io-timeout, connections that send request
# headers a byte a second, WebSocket upgrades that stop mid-header, half
# headers, idle sockets and bodies that stall are each dropped within a
# bound (measured), while a real buildlet keeps building and the API
# answers promptly throughout.
. "$(dirname "$0")/lib.sh"

FLOODPEER=${FLOODPEER:?set FLOODPEER to the floodpeer binary}
IO_MS=2000
COORD_ARGS=(--io-timeout 2s --heartbeat 1s)
start_coord
KEY=$(cat "$(keyfile linux-amd64)")
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

# field FILE KIND KEY: a number from floodpeer's "result KIND k=v ..." line.
field() {
  awk -v k="$2" -v f="$3" '$1 == "result" && $2 == k {
    for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print kv[2] } }' "$1"
}
now_ms() { date +%s%3N; }

# A real job that builds right through the slow clients.
JA=$(first_job "$(submit --platform linux/amd64 --script \
  'for i in 1 2 3 4 5 6; do echo tick $i; sleep 1; done')")

# Two of each header-phase kind, until each has an outcome (bounded).
"$FLOODPEER" --url "$RFARM_URL" --count 10 --trickle-ms 1000 --hold 20 --early \
  --mix trickle-header,stall-upgrade,stall-body,partial,idle >"$T/slow.out" 2>&1 &
SLOW=$!
PIDS+=("$SLOW")
# A body trickled faster than --io-timeout (a byte every 1.5 s) never
# stalls long enough for it; see how long it is kept.
"$FLOODPEER" --url "$RFARM_URL" --count 2 --trickle-ms 1500 --hold 10 \
  --mix trickle-body >"$T/trickle.out" 2>&1 &
TRICKLE=$!
PIDS+=("$TRICKLE")
# An upgraded buildlet session that never says hello.
{
  s=$(now_ms)
  peer --key "$KEY" --name silent --scenario silent --wait 10
  echo "elapsed_ms $(($(now_ms) - s))"
} >"$T/silent.out" 2>&1 &
SILENT=$!
PIDS+=("$SILENT")

# Meanwhile the API answers promptly and the farm builds.
max_alive=0 alive_fail=0 n_alive=0
for i in $(seq 1 60); do
  t=$(curl -s -m 5 -o /dev/null -w '%{http_code} %{time_total}' "$RFARM_URL/alive")
  [ "${t% *}" = 200 ] || alive_fail=$((alive_fail + 1))
  ms=$(awk '{printf "%d", $2 * 1000}' <<<"$t")
  [ "$ms" -gt "$max_alive" ] && max_alive=$ms
  n_alive=$((n_alive + 1))
  gone "$SLOW" && gone "$TRICKLE" && gone "$SILENT" && break
  sleep 0.5
done
eq "the real job built through it" passed "$(wait_job "$JA" 30)"
eq "its log" "$(printf 'tick %s\n' 1 2 3 4 5 6)" "$(api "jobs/$JA/log")"
JB=$(first_job "$(submit --platform linux/amd64 --script 'printf after-the-loris')")
eq "and the next one" passed "$(wait_job "$JB" 30)"
eq "/alive answered every time ($n_alive polls)" 0 "$alive_fail"
check "within 2 s each (slowest ${max_alive} ms)" test "$max_alive" -lt 2000

check "the slow clients are done" wait_for 30 eval 'gone $SLOW && gone $TRICKLE && gone $SILENT'
for p in "$SLOW" "$TRICKLE" "$SILENT"; do wait "$p" 2>/dev/null; forget_pid "$p"; done
echo "--- slow clients:"; cat "$T/slow.out" "$T/trickle.out" "$T/silent.out"

# A body that stalls longer than --io-timeout: dropped within it.
eq "stalled bodies: all dropped" 2 \
  $(($(field "$T/slow.out" stall-body closed) + $(field "$T/slow.out" stall-body reset)))
max=$(field "$T/slow.out" stall-body max_ms)
check "within --io-timeout + 1.5 s (slowest ${max} ms)" test "$max" -le $((IO_MS + 1500))

# Header phase: lws holds a half-read header for its own 10 s
# (timeout_secs_ah_idle), whatever --io-timeout says.
for k in trickle-header stall-upgrade partial idle; do
  n=$(field "$T/slow.out" "$k" n)
  max=$(field "$T/slow.out" "$k" max_ms)
  eq "$k: none answered" 0 "$(field "$T/slow.out" "$k" answered)"
  eq "$k: all $n dropped" "$n" \
    $(($(field "$T/slow.out" "$k" closed) + $(field "$T/slow.out" "$k" reset)))
  check "$k: within 12 s (slowest ${max} ms)" test "$max" -le 12000
  check "$k: within --io-timeout + 1.5 s (slowest ${max} ms)" test "$max" -le $((IO_MS + 1500))
done

check "a body trickled a byte every 1.5 s is dropped within 10 s (open: $(field "$T/trickle.out" trickle-body open) of 2)" \
  test "$(field "$T/trickle.out" trickle-body open)" = 0
el=$(awk '/^elapsed_ms/{print $2}' "$T/silent.out")
check "an upgraded session that never says hello is closed after 3 heartbeats ($el ms; $(grep '^close' "$T/silent.out"))" \
  test "$el" -le 6000

check "coordinator still serves" curl -sf -m 5 "$RFARM_URL/alive" -o /dev/null
check "b1 is still connected" buildlet_connected b1
stop_pid TERM "$BL_PID" 10
stop_pid TERM "$COORD_PID" 15
eq "coordinator exits 0 on SIGTERM" 0 "$STOP_STATUS"
finish
