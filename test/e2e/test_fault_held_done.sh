#!/usr/bin/env bash
# Fault: a job ends while the coordinator is frozen (SIGSTOP), so its
# "done" is written into the socket but never acknowledged; then the
# coordinator is killed and restarted. The buildlet sends the held result
# again on the new session, and it must arrive intact: lws masks a
# client's frame in place, so a resend of the same buffer used to be
# garbage ("bad message") and the job stayed "running" for ever.
. "$(dirname "$0")/lib.sh"

start_coord
PORT=${RFARM_URL##*:}
start_buildlet b1
check "b1 connected" wait_for 20 buildlet_connected b1
j=$(first_job "$(submit --platform linux/amd64 -- sh -c 'sleep 2; echo held-result')")
check "the job runs" wait_for 20 eval '[ "$(job_field "$j" state)" = running ]'
kill -STOP "$COORD_PID"
check "it ends while the coordinator is frozen" \
  wait_for 20 grep -q "job $j attempt 1: exit 0" "$T/buildlet-b1.log"
sleep 0.5
stop_pid KILL "$COORD_PID" 10
start_coord "$DATA" "127.0.0.1:$PORT"
eq "the held result lands after the restart" passed "$(wait_job "$j" 30)"
eq "with its log" held-result "$(api "jobs/$j/log")"
check "nothing garbled reached the coordinator" \
  sh -c "! grep -q 'bad message' '$T/coordinator.log' '$T/buildlet-b1.log'"
finish
