#!/usr/bin/env bash
# The coordinator's event loop and a buildlet's last-seen time.
#  1. On Linux it runs lws on libev (epoll), and says so; a job goes round
#     (upgrade, rx, writeable callbacks, timers all work on that loop).
#  2. last_seen: heartbeats do not write the store each time (it keeps
#     the hello's time for a minute), yet the API shows the in-memory time
#     of a connected buildlet; when the buildlet goes, the store has it.
#  3. SIGTERM still stops it at once (lws_cancel_service wakes the loop).
#  4. RFARM_EVLOOP=poll runs it on lws' poll loop, which says so.
. "$(dirname "$0")/lib.sh"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# iso_ms ISO8601: milliseconds since the epoch.
iso_ms() { echo $(( $(date -d "$1" +%s%N) / 1000000 )); }

COORD_ARGS=(--heartbeat 1s)
start_coord
if [ "$(uname -s)" = Linux ]; then
  check "the coordinator says it runs on libev (epoll)" \
    grep -q 'event loop libev (epoll)' "$T/coordinator.log"
fi

start_connected bl1
j=$(first_job "$(submit --platform "$PLAT" --script 'echo hi')")
eq "a job runs to the end" passed "$(wait_job "$j" 60)"

stored0=$(db "select last_seen_ms from buildlets where name='bl1'")
sleep 4 # four heartbeats
stored1=$(db "select last_seen_ms from buildlets where name='bl1'")
eq "heartbeats do not write the store each time" "$stored0" "$stored1"
seen=$(iso_ms "$(api buildlets | jq -r '.buildlets[] | select(.name=="bl1") | .last_seen')")
age=$(( $(now_ms) - seen ))
check "the API shows the last heartbeat (${age} ms ago)" \
  test "$age" -ge -1000 -a "$age" -le 2500
check "... later than the store's copy" test "$seen" -gt "$stored1"

stop_pid TERM "$BL_PID" 10
check "the buildlet is gone" wait_for 10 eval '! buildlet_connected bl1'
stored2=$(db "select last_seen_ms from buildlets where name='bl1'")
check "at disconnect the store got the last-seen time" \
  test "$stored2" -ge "$seen"
seen2=$(iso_ms "$(api buildlets | jq -r '.buildlets[] | select(.name=="bl1") | .last_seen')")
eq "the API shows the store's time once it is gone (to the second)" \
  $((stored2 / 1000)) $((seen2 / 1000))

t0=$(now_ms)
stop_pid TERM "$COORD_PID" 10
eq "SIGTERM stops the coordinator" 0 "$STOP_STATUS"
check "within 2 s" test $(( $(now_ms) - t0 )) -le 2000

RFARM_EVLOOP=poll start_coord "$T/data2"
check "RFARM_EVLOOP=poll: it says it runs on poll" \
  grep -q 'event loop poll' "$T/coordinator.log"
eq "... and answers" 200 "$(http_status GET /api/v1/buildlets)"
finish
