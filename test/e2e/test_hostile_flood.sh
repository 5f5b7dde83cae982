#!/usr/bin/env bash
# e2e: run alone (10,000 sockets and the machine's attention)
# A flood of 10,000 hostile connections from 127.0.0.2 (idle sockets,
# half-sent headers, GETs kept open, WebSocket upgrades with no or a bad
# key): each gets an answer or is dropped, the coordinator keeps serving
# 127.0.0.1 (the API answers within seconds, a real buildlet builds what
# the CLI submits), no result is lost, and its memory and sockets come
# back down afterwards. With --max-conns-per-addr, connections from
# 127.0.0.2 over the cap are refused at once (503 or closed).
. "$(dirname "$0")/lib.sh"

FLOODPEER=${FLOODPEER:?set FLOODPEER to the floodpeer binary}
COUNT=10000
HOLD=15

# ---- can this machine do it? ----
need=$((COUNT + 512)) # the flood's sockets, or the coordinator's
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  echo "SKIP: needs $need file descriptors; ulimit -n is $(ulimit -n) (hard limit $(ulimit -Hn))"
  exit 77
fi
read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
if [ $((hi - lo)) -lt $((COUNT + 1000)) ]; then
  echo "SKIP: needs $((COUNT + 1000)) ephemeral ports; ip_local_port_range is $lo-$hi"
  exit 77
fi

# Under AddressSanitizer freed memory waits in a 256 MiB quarantine and
# is not given back to the system, so RSS could never come back down.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16:allocator_release_to_os_interval_ms=200"
COORD_ARGS=(--io-timeout 5s)
# The per-address cap, where the coordinator has one (FLOOD_CAP=0 floods
# it uncapped).
CAP=0
if "$RFARM" coordinator --help 2>&1 | grep -q max-conns-per-addr; then
  CAP=${FLOOD_CAP:-256}
  COORD_ARGS+=(--max-conns-per-addr "$CAP")
fi
start_coord
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

"$FLOODPEER" --url "$RFARM_URL" --bind 127.0.0.2 --count 1 --mix get --early \
  --hold 5 >"$T/probe.out" 2>&1
if ! grep -q '^status get 200 1$' "$T/probe.out"; then
  echo "SKIP: cannot reach the coordinator from 127.0.0.2:"
  cat "$T/probe.out"
  exit 77
fi

rss() { awk '/^VmRSS/{print $2}' "/proc/$COORD_PID/status"; } # kB
fds() { find "/proc/$COORD_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
PEAK=0
sample() { local r; r=$(rss); [ "${r:-0}" -gt "$PEAK" ] && PEAK=$r; }
# field KIND KEY: a number from floodpeer's "result KIND k=v ..." line.
field() {
  awk -v k="$1" -v f="$2" '$1 == "result" && $2 == k {
    for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print kv[2] } }' \
    "$T/flood.out"
}
SUBMITTED=0
# build NAME: submit through the CLI, wait, check it passed on b1 with
# its log; counts what was submitted.
build() {
  local j
  j=$(first_job "$(submit --platform linux/amd64 --script "printf '$1'")")
  SUBMITTED=$((SUBMITTED + 1))
  eq "build $1 passes on b1" "passed b1" "$(wait_job "$j" 30) $(job_field "$j" buildlet)"
  eq "build $1: its log" "$1" "$(api "jobs/$j/log")"
}

build before-flood
RSS_BEFORE=$(rss)
FDS_BEFORE=$(fds)

# ---- the flood ----
"$FLOODPEER" --url "$RFARM_URL" --bind 127.0.0.2 --count "$COUNT" --batch 1000 \
  --hold "$HOLD" --connect-timeout 10000 --fast-ms 3000 \
  --mix idle,partial,get,ws-noauth,ws-badauth >"$T/flood.out" 2>&1 &
FLOOD=$!
PIDS+=("$FLOOD")
start=$SECONDS
check "the flood is up" wait_for 40 grep -q '^flood up' "$T/flood.out"
sample
FDS_DURING=$(fds)
echo "flood: $(head -1 "$T/flood.out"); the coordinator holds $FDS_DURING descriptors"

# ---- meanwhile, on 127.0.0.1 ----
max_alive=0 alive_fail=0
for i in $(seq 1 10); do
  t=$(curl -s -m 10 -o /dev/null -w '%{http_code} %{time_total}' "$RFARM_URL/alive")
  [ "${t% *}" = 200 ] || alive_fail=$((alive_fail + 1))
  ms=$(awk '{printf "%d", $2 * 1000}' <<<"$t")
  [ "$ms" -gt "$max_alive" ] && max_alive=$ms
  sample
  sleep 0.2
done
eq "/alive from 127.0.0.1 answered 10 times of 10" 0 "$alive_fail"
check "each within 3 s (slowest ${max_alive} ms)" test "$max_alive" -lt 3000
"$FLOODPEER" --url "$RFARM_URL" --count 50 --mix get --early --hold 10 >"$T/local.out" 2>&1
eq "50 GETs at once from 127.0.0.1 are all answered 200" "status get 200 50" \
  "$(grep '^status get' "$T/local.out")"
for i in 1 2 3; do
  build "during-flood-$i"
  sample
done
check "b1 is connected" buildlet_connected b1
check "and the flood was still on meanwhile ($((SECONDS - start)) s)" eval '! gone $FLOOD'

check "the flood ends in time" wait_for $((HOLD + 40)) gone "$FLOOD"
wait "$FLOOD" 2>/dev/null
forget_pid "$FLOOD"
echo "--- the flood, as the clients saw it:"
cat "$T/flood.out"

# ---- what each connection got ----
eq "all $COUNT were tried" "$COUNT" "$(field all n)"
failed=$(($(field all failed) + $(field all refused)))
check "at most 1% could not connect ($failed)" test "$failed" -le $((COUNT / 100))
eq "none was left hanging to the end" 0 "$(field all open)"
# Statuses each kind may be answered with (503: over the cap; 429: its
# address failed too many handshakes; 101: open mode, nobody enrolled).
while read -r _ kind code n; do
  case "$kind:$code" in
    all:*|get:200|get:503|ws-noauth:101|ws-noauth:401|ws-noauth:429|ws-noauth:503) ;;
    ws-badauth:403|ws-badauth:429|ws-badauth:503|idle:503|partial:503) ;;
    *) fail "$kind connections answered $code ($n of them)" ;;
  esac
done < <(grep '^status ' "$T/flood.out")
for k in idle partial; do
  check "$k: every one answered or dropped within 12 s ($(field "$k" max_ms) ms)" \
    test "$(field "$k" max_ms)" -le 12000
done
if [ "$CAP" -gt 0 ]; then
  refused=$(awk '$1 == "status" && $2 == "all" && $3 == 503 {print $4}' "$T/flood.out")
  slow=$(($(field all n) - $(field all fast)))
  check "most of the flood was refused over the cap (${refused:-0} answered 503)" \
    test "${refused:-0}" -ge $((COUNT / 2))
  check "at most the cap ($CAP) held on for more than 3 s ($slow did)" \
    test "$slow" -le $((CAP + 64))
  check "the coordinator logs the refusals" \
    grep -q "refusing connections from 127.0.0.2" "$T/coordinator.log"
else
  eq "get: all answered 200" "$(field get n)" \
    "$(awk '$1 == "status" && $2 == "get" && $3 == 200 {print $4}' "$T/flood.out")"
fi

# ---- afterwards ----
check "the coordinator is up" kill -0 "$COORD_PID"
check "and answers" curl -sf -m 5 "$RFARM_URL/alive" -o /dev/null
check "it let go of the sockets (had $FDS_DURING)" \
  wait_for 15 eval 'test "$(fds)" -le $((FDS_BEFORE + 16))'
bound=$((RSS_BEFORE + 128 * 1024))
check "its memory comes back below $((bound / 1024)) MiB" wait_for 15 eval 'test "$(rss)" -le $bound'
check "and never went past 1 GiB" test "$PEAK" -le $((1024 * 1024))
echo "coordinator RSS: before $((RSS_BEFORE / 1024)) MiB, peak during $((PEAK / 1024)) MiB, after $(($(rss) / 1024)) MiB; descriptors: before $FDS_BEFORE, during $FDS_DURING, after $(fds)"
build after-flood
eq "no result lost: every submitted job passed" "$SUBMITTED" \
  "$(db "select count(*) from jobs where state = 'passed'")"
eq "and nothing else ran" "$SUBMITTED" "$(db "select count(*) from jobs")"
stop_pid TERM "$BL_PID" 10
stop_pid TERM "$COORD_PID" 15
eq "coordinator exits 0 on SIGTERM" 0 "$STOP_STATUS"
finish
