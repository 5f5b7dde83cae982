#!/usr/bin/env bash
# Fault: the buildlet running a job freezes (SIGSTOP) with its connection
# open. After 3 silent heartbeats (3 s) the coordinator closes the session,
# after the grace period (3 s) the job runs again on the other buildlet as
# attempt 2. When the frozen buildlet thaws (SIGCONT) it reconnects and
# reports attempt 1; that late result is acknowledged and dropped: the job
# ends once, passed, with attempt 2's buildlet and log.
. "$(dirname "$0")/lib.sh"

# A stopped buildlet would ignore cleanup's SIGTERM: thaw everything first.
thaw_all() {
  local p
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; done
}
trap 'thaw_all; cleanup' EXIT

final_count() { # final_count JOB: times the coordinator finished JOB
  grep -cE "job $1: [a-z]+ -> (passed|failed|cancelled|error)\$" "$T/coordinator.log"
}

COORD_ARGS=(--grace 3s --heartbeat 1s)
start_coord
# One at a time: start_buildlet rewrites the key file the previous one
# may still be reading.
declare -A BL
for b in b1 b2; do
  start_buildlet "$b" linux-amd64 --kill-grace 1s
  BL[$b]=$BL_PID
  wait_for 20 buildlet_connected "$b" || fail "buildlet $b connected"
done

j=$(first_job "$(submit --platform linux/amd64 --script 'echo start; sleep 8; echo end')")
check "job started" wait_for 20 eval '[ "$(api "jobs/$j/log")" = start ]'
x=$(job_field "$j" buildlet)
case $x in
b1) y=b2 ;;
b2) y=b1 ;;
*) fail "job on an unknown buildlet [$x]"; finish ;;
esac
eq "attempt 1 runs on $x" "running 1" "$(api "jobs/$j" | jq -r '"\(.state) \(.attempt)"')"

kill -STOP "${BL[$x]}"
stopped_at=$SECONDS
check "the silent $x is disconnected after 3 heartbeats" \
  wait_for 8 eval '! buildlet_connected $x'
check "the coordinator says why" \
  grep -q "buildlet $x (.*): closing session: no message for" "$T/coordinator.log"
moved() { [ "$(job_field "$j" attempt)" = 2 ]; }
check "after the grace period the job runs again" wait_for 10 moved
eq "attempt 2 is on $y" "$y" "$(job_field "$j" buildlet)"
# Thaw once attempt 1's command has surely ended (it sleeps 8 s), so the
# buildlet comes back holding a finished result.
while [ $((SECONDS - stopped_at)) -lt 9 ]; do sleep 0.2; done
kill -CONT "${BL[$x]}"
check "$x reconnects" wait_for 15 buildlet_connected "$x"
sleep 3
check "$x reported attempt 1 late" \
  grep -q "runner info: job $j attempt 1: exit" "$T/buildlet-$x.log"
check "its late result is acknowledged and dropped" \
  grep -q "job $j attempt 1: result from $x acknowledged and dropped: not its attempt" \
  "$T/coordinator.log"
eq "the late result did not end the job" "2 $y" \
  "$(api "jobs/$j" | jq -r '"\(.attempt) \(.buildlet)"')"

eq "attempt 2 passes" passed "$(wait_job "$j" 30)"
eq "the job's result is attempt 2's" "passed 2 $y 0" \
  "$(api "jobs/$j" | jq -r '"\(.state) \(.attempt) \(.buildlet) \(.exit_code)"')"
eq "one terminal state (API = DB)" "passed|2|$y|0" \
  "$(db "select state, attempt, buildlet, exit_code from jobs where id=$j")"
eq "the coordinator finished the job once" 1 "$(final_count "$j")"
eq "two attempts, on $x then $y" "1 $x,2 $y" \
  "$(api "jobs/$j" | jq -r '[.attempts[] | "\(.n) \(.buildlet)"] | join(",")')"
eq "attempt 2 holds the result" "0 0 " \
  "$(api "jobs/$j" | jq -r '.attempts[1] | "\(.exit_code) \(.signal) \(.error)"')"
check "attempt 2 took the command's 8 s" \
  test "$(api "jobs/$j" | jq -r '.attempts[1].duration_ms')" -ge 8000
eq "attempt 1's late result was not recorded (no duration)" "" \
  "$(db "select duration_ms from attempts where job_id=$j and n=1 and duration_ms > 0")"
check "attempt 1 does not show the late exit code 0" \
  test "$(api "jobs/$j" | jq -r '.attempts[0].exit_code')" != 0
eq "the log is attempt 2's output" "start
end" "$(api "jobs/$j/log")"
eq "attempt 2 chunks: distinct seqs 0..n-1" 1 \
  "$(db "select count(*) = count(distinct seq) and min(seq) = 0 and
         max(seq) + 1 = count(*) from log_chunks where job_id=$j and attempt=2")"
eq "attempt 1's late output was not stored" "start" \
  "$(db "select data from log_chunks where job_id=$j and attempt=1 order by seq")"
eq "attempt 1 chunks are distinct" 1 \
  "$(db "select count(*) = count(distinct seq) from log_chunks where job_id=$j and attempt=1")"

# Both buildlets serve again afterwards.
j2=$(first_job "$(submit --platform linux/amd64 --script 'echo again')")
eq "a new job passes" passed "$(wait_job "$j2" 20)"
for b in "$x" "$y"; do
  check "no sanitizer report in $b's log" no_sanitizer_reports "$T/buildlet-$b.log"
done
check "no sanitizer report in the coordinator log" no_sanitizer_reports "$T/coordinator.log"
finish
