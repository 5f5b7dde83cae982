#!/usr/bin/env bash
# Fault: a job whose buildlets keep vanishing. With --max-attempts 2 the
# first loss requeues it (attempt 2), the second ends it in `error`
# "buildlet lost 2 times". The second loss spans a coordinator crash:
# after the restart the grace period (3 s) counts from the restart, so the
# job is not declared lost early even though its buildlet has been gone
# for longer than that.
. "$(dirname "$0")/lib.sh"

JOB_PIDS=$T/job-pids
kill_leftovers() { # kill the process groups of jobs whose buildlet died
  local pid
  [ -f "$JOB_PIDS" ] || return 0
  while read -r pid; do
    grep -qF "$T" "/proc/$pid/cmdline" 2>/dev/null && kill -9 -- "-$pid" 2>/dev/null
  done <"$JOB_PIDS"
  return 0
}
trap 'kill_leftovers; cleanup' EXIT
final_count() { # final_count JOB: times the coordinator finished JOB
  grep -cE "job $1: [a-z]+ -> (passed|failed|cancelled|error)\$" "$T/coordinator.log"
}
now_ms() { date +%s%3N; }

COORD_ARGS=(--grace 3s --heartbeat 1s --max-attempts 2)
start_coord
PORT=${RFARM_URL##*:}
start_buildlet b1 linux-amd64 --kill-grace 1s
B1=$BL_PID
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

j=$(first_job "$(submit --platform linux/amd64 \
  --script "echo \$\$ >>$JOB_PIDS; echo up; sleep 30; echo never")")
check "attempt 1 runs on b1" wait_for 20 eval '[ "$(api "jobs/$j/log")" = up ]'

# First loss: b1 dies, nobody else is there; the job waits for a buildlet.
stop_pid KILL "$B1" 10
kill_leftovers
requeued() { [ "$(job_field "$j" state)" = queued ]; }
check "after the grace period the job is queued again" wait_for 10 requeued
eq "it says it waits for a buildlet" true \
  "$(api "jobs/$j" | jq '.reason | test("waiting for .*linux/amd64 buildlet")')"
check "the coordinator logged the loss" \
  grep -q "job $j: running -> queued" "$T/coordinator.log"

# Second loss: b2 takes it, then b2 and the coordinator die together.
start_buildlet b2 linux-amd64 --kill-grace 1s
B2=$BL_PID
check "attempt 2 runs on b2" wait_for 20 eval \
  '[ "$(api "jobs/$j" | jq -r "\"\(.state) \(.attempt) \(.buildlet)\"")" = "running 2 b2" ]'
check "attempt 2 printed" wait_for 10 eval '[ "$(api "jobs/$j/log")" = up ]'
stop_pid KILL "$B2" 10
kill_leftovers
stop_pid KILL "$COORD_PID" 10
eq "coordinator killed" 137 "$STOP_STATUS"
sleep 4 # longer than the grace period, while nothing runs
restart_ms=$(now_ms)
start_coord "$DATA" "127.0.0.1:$PORT"
sleep 1.5
eq "1.5 s after the restart the job still waits for b2" "running 2 b2" \
  "$(api "jobs/$j" | jq -r '"\(.state) \(.attempt) \(.buildlet)"')"
eq "lost twice: error" error "$(wait_job "$j" 10)"
eq "the error says why" true "$(api "jobs/$j" | jq '.error | test("^buildlet lost 2 times")')"
# The API shows whole seconds: take the time from the database.
lost_after=$(($(db "select finished_ms from jobs where id=$j") - restart_ms))
check "declared lost no sooner than the grace period after the restart ($lost_after ms)" \
  test "$lost_after" -ge 3000
eq "one terminal state (API = DB)" "error|2" "$(db "select state, attempt from jobs where id=$j")"
eq "the coordinator finished it once" 1 "$(final_count "$j")"
eq "two attempts, b1 then b2" "1 b1,2 b2" \
  "$(api "jobs/$j" | jq -r '[.attempts[] | "\(.n) \(.buildlet)"] | join(",")')"
eq "the log is attempt 2's output" up "$(api "jobs/$j/log")"
for a in 1 2; do
  eq "attempt $a's log is stored once" "up" \
    "$(db "select data from log_chunks where job_id=$j and attempt=$a order by seq")"
done

# The farm still works.
start_buildlet b3 linux-amd64 --kill-grace 1s
j2=$(first_job "$(submit --platform linux/amd64 --script 'echo fine')")
eq "a new job passes" passed "$(wait_job "$j2" 20)"
eq "with its attempt count reset" 1 "$(job_field "$j2" attempt)"
check "no sanitizer report in the coordinator log" no_sanitizer_reports "$T/coordinator.log"
finish
