#!/usr/bin/env bash
# Reconnection: a buildlet started before its coordinator keeps retrying
# and joins once the coordinator is up; a coordinator killed while a job
# runs loses nothing: the buildlet holds the result until it is acked and
# resends it after the restart.
. "$(dirname "$0")/lib.sh"

# Learn a free port and create the data directory, then stop.
start_coord
PORT=${RFARM_URL##*:}
stop_pid TERM "$COORD_PID" 15
eq "first coordinator stopped" 0 "$STOP_STATUS"

start_buildlet b1
sleep 2
check "buildlet keeps retrying while nobody listens" kill -0 "$BL_PID"

start_coord "$DATA" "127.0.0.1:$PORT"
eq "coordinator back on the same port" "http://127.0.0.1:$PORT" "$RFARM_URL"
check "buildlet connects once the coordinator is up" wait_for 30 buildlet_connected b1
j=$(first_job "$(submit --platform linux/amd64 --script 'echo joined')")
eq "a job passes on it" passed "$(wait_job "$j" 30)"
eq "its log" joined "$(api "jobs/$j/log")"

# kill -9 the coordinator in the middle of a job.
j=$(first_job "$(submit --platform linux/amd64 --script 'echo start; sleep 3; echo done')")
check "job running" wait_for 20 eval '[ "$(job_field "$j" state)" = running ]'
check "first line stored" wait_for 10 eval '[ "$(api "jobs/$j/log")" = start ]'
stop_pid KILL "$COORD_PID" 10
eq "coordinator killed" 137 "$STOP_STATUS"
sleep 1
start_coord "$DATA" "127.0.0.1:$PORT"
check "buildlet reconnects after the crash" wait_for 30 buildlet_connected b1
eq "the job still ends passed" passed "$(wait_job "$j" 30)"
eq "with its exit code" 0 "$(job_field "$j" exit_code)"
eq "with its full log" "start
done" "$(api "jobs/$j/log")"
eq "in one attempt" 1 "$(job_field "$j" attempt)"

# Harder: the job ends (and prints its last line) while no coordinator is
# up, so the result and the tail of the log exist only on the buildlet.
j=$(first_job "$(submit --platform linux/amd64 --script 'echo begin; sleep 1; echo end; exit 7')")
check "job 2 running" wait_for 20 eval '[ "$(api "jobs/$j/log")" = begin ]'
stop_pid KILL "$COORD_PID" 10
eq "coordinator killed again" 137 "$STOP_STATUS"
check "job ends on the buildlet while the coordinator is down" \
  wait_for 20 grep -q "job $j attempt 1: exit 7" "$T/buildlet-b1.log"
start_coord "$DATA" "127.0.0.1:$PORT"
check "buildlet reconnects after the second crash" wait_for 30 buildlet_connected b1
eq "the held result is recorded" failed "$(wait_job "$j" 30)"
eq "with the exit code it held" 7 "$(job_field "$j" exit_code)"
eq "with the log lines written while disconnected" "begin
end" "$(api "jobs/$j/log")"
eq "still one attempt" 1 "$(job_field "$j" attempt)"

# The farm keeps working after the crash.
j=$(first_job "$(submit --platform linux/amd64 --script 'echo after')")
eq "a new job passes after the restart" passed "$(wait_job "$j" 30)"
finish
