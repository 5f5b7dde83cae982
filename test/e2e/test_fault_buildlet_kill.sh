#!/usr/bin/env bash
# Fault: the buildlet running a job is killed (kill -9) in the middle of it.
# Its session closes, the job keeps its place for the grace period (3 s),
# then runs again on the other buildlet as attempt 2 and passes there. The
# job shows both attempts with their buildlets; its log is the second
# attempt's complete output, stored once; it reaches one terminal state.
. "$(dirname "$0")/lib.sh"

# The killed buildlet leaves its job's process group behind: each job
# writes its shell's PID (= its process group) here, and we kill the
# groups that still run our script when the test ends.
JOB_PIDS=$T/job-pids
kill_leftovers() {
  local pid
  [ -f "$JOB_PIDS" ] || return 0
  while read -r pid; do
    grep -qF "$T" "/proc/$pid/cmdline" 2>/dev/null && kill -9 -- "-$pid" 2>/dev/null
  done <"$JOB_PIDS"
  return 0
}
trap 'kill_leftovers; cleanup' EXIT

# final_count JOB: how often the coordinator moved JOB into a final state.
final_count() {
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

# ~6 s of output, one line every 0.1 s.
script="echo \$\$ >>$JOB_PIDS; i=0; while [ \$i -lt 60 ]; do echo \"line \$i\"; i=\$((i+1)); sleep 0.1; done"
expected=$(for i in $(seq 0 59); do echo "line $i"; done)
j=$(first_job "$(submit --platform linux/amd64 --script "$script")")

log_lines() { api "jobs/$j/log" | wc -l; }
check "job running with output" wait_for 20 eval '[ "$(log_lines)" -ge 10 ]'
first=$(job_field "$j" buildlet)
case $first in
b1) other=b2 ;;
b2) other=b1 ;;
*) fail "job on an unknown buildlet [$first]"; finish ;;
esac
eq "still attempt 1 when its buildlet dies" 1 "$(job_field "$j" attempt)"
stop_pid KILL "${BL[$first]}" 10
eq "buildlet $first killed" 137 "$STOP_STATUS"
check "$first is seen as disconnected" wait_for 10 eval '! buildlet_connected $first'
eq "the job is not taken back before the grace period" "1 $first" \
  "$(api "jobs/$j" | jq -r '"\(.attempt) \(.buildlet)"')"

moved() { [ "$(job_field "$j" attempt)" = 2 ]; }
check "after the grace period the job runs again" wait_for 15 moved
eq "on the other buildlet" "$other" "$(job_field "$j" buildlet)"
eq "attempt 2 passes" passed "$(wait_job "$j" 30)"
eq "exit code 0" 0 "$(job_field "$j" exit_code)"
eq "two attempts, on the two buildlets" "1 $first,2 $other" \
  "$(api "jobs/$j" | jq -r '[.attempts[] | "\(.n) \(.buildlet)"] | join(",")')"
eq "attempt 2 carries the result" "0 " \
  "$(api "jobs/$j" | jq -r '.attempts[1] | "\(.exit_code) \(.error)"')"
# Attempt 1 never ended by itself: it must not claim the exit code 0 of a
# passing run.
check "attempt 1 does not report exit code 0" \
  eval '[ "$(api "jobs/$j" | jq -r ".attempts[0].exit_code")" != 0 ]'
# A lost attempt should say why it ended (it did not end by itself), so
# the history does not show attempt 1 as forever unfinished.
check "attempt 1 records its loss (error mentions $first, finished is set)" \
  eval 'api "jobs/$j" | jq -e --arg b "$first" ".attempts[0] |
    (.error | contains(\$b)) and .finished != null" >/dev/null'

curl -s -m 10 "$RFARM_URL/api/v1/jobs/$j/log" -o "$T/log-$j"
check "the log is attempt 2's complete output" cmp "$T/log-$j" <(echo "$expected")
eq "one terminal state (API = DB)" passed "$(db "select state from jobs where id=$j")"
eq "the coordinator finished the job once" 1 "$(final_count "$j")"
eq "attempt 2 chunks: distinct seqs 0..n-1" 1 \
  "$(db "select count(*) = count(distinct seq) and min(seq) = 0 and
         max(seq) + 1 = count(*) from log_chunks where job_id=$j and attempt=2")"
db "select hex(data) from log_chunks where job_id=$j and attempt=2 order by seq" |
  tr -d '\n' | xxd -r -p >"$T/db-log-$j"
check "attempt 2 chunks in the database equal the log" cmp "$T/db-log-$j" "$T/log-$j"
eq "attempt 1 chunks: distinct seqs 0..n-1" 1 \
  "$(db "select count(*) = count(distinct seq) and min(seq) = 0 and
         max(seq) + 1 = count(*) from log_chunks where job_id=$j and attempt=1")"
db "select hex(data) from log_chunks where job_id=$j and attempt=1 order by seq" |
  tr -d '\n' | xxd -r -p >"$T/db-log1-$j"
check "attempt 1 chunks are a prefix of the output" \
  eval 'head -c "$(wc -c <"$T/db-log1-$j")" "$T/log-$j" | cmp -s - "$T/db-log1-$j"'
check "no sanitizer report in the coordinator log" no_sanitizer_reports "$T/coordinator.log"
check "no sanitizer report in $other's log" no_sanitizer_reports "$T/buildlet-$other.log"
finish
