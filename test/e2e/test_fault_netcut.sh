#!/usr/bin/env bash
# Fault: the coordinator is cut off while a job keeps printing (400
# numbered lines over ~8 s), in two ways:
#  A. it freezes for 4 s (SIGSTOP, then SIGCONT): it reads nothing, the
#     buildlet's connection stalls, and with --heartbeat 1s the session may
#     be judged silent and closed once it runs again;
#  B. it freezes for 1 s, is killed (kill -9) and restarted 3 s later on
#     the same port.
# Either way the buildlet resends from the first chunk the coordinator
# lacks: the stored log equals the job's real output byte for byte, with
# no duplicate and no missing sequence number, in one attempt.
. "$(dirname "$0")/lib.sh"

# A frozen coordinator would ignore cleanup's SIGTERM: thaw it first.
thaw_all() {
  local p
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; done
}
trap 'thaw_all; cleanup' EXIT

final_count() { # final_count JOB: times the coordinator finished JOB
  grep -cE "job $1: [a-z]+ -> (passed|failed|cancelled|error)\$" "$T/coordinator.log"
}

COORD_ARGS=(--grace 30s --heartbeat 1s)
start_coord
PORT=${RFARM_URL##*:}
start_buildlet b1 linux-amd64 --kill-grace 1s
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

# job_script TAG: 400 lines, a pause of 0.2 s every 10 lines (~8 s).
job_script() {
  echo "i=0; while [ \$i -lt 400 ]; do echo \"$1 line \$i of 400\"; i=\$((i+1)); [ \$((i % 10)) = 0 ] && sleep 0.2; done; true"
}
lines_stored() { api "jobs/$1/log" | wc -l; }

# verify TAG JOB: the job passed once, in one attempt, and its stored log
# is exactly what its script prints.
verify() {
  local tag=$1 j=$2
  # The same loop run here, without its pauses.
  sh -c "sleep() { :; }; $(job_script "$tag")" >"$T/expected-$tag"
  check "$tag: the expected output has 400 lines" test "$(wc -l <"$T/expected-$tag")" -eq 400
  eq "$tag: passed" passed "$(wait_job "$j" 30)"
  eq "$tag: one terminal state (API = DB)" "passed|1|0" \
    "$(db "select state, attempt, exit_code from jobs where id=$j")"
  eq "$tag: finished once" 1 "$(final_count "$j")"
  curl -s -m 10 "$RFARM_URL/api/v1/jobs/$j/log" -o "$T/log-$tag"
  check "$tag: the stored log is the real output byte for byte" \
    cmp "$T/expected-$tag" "$T/log-$tag"
  eq "$tag: no duplicate and no missing seq" "1|1|1" \
    "$(db "select count(*) = count(distinct seq), min(seq) = 0,
           max(seq) + 1 = count(*) from log_chunks where job_id=$j and attempt=1")"
  eq "$tag: nothing stored for another attempt" 0 \
    "$(db "select count(*) from log_chunks where job_id=$j and attempt != 1")"
  db "select hex(data) from log_chunks where job_id=$j and attempt=1 order by seq" |
    tr -d '\n' | xxd -r -p >"$T/db-$tag"
  check "$tag: the chunks in the database are the output" cmp "$T/expected-$tag" "$T/db-$tag"
  echo "$tag: $(db "select count(*) from log_chunks where job_id=$j") chunks"
}

# A. The coordinator freezes for 4 s mid-output.
ja=$(first_job "$(submit --platform linux/amd64 --script "$(job_script A)")")
check "A: output flows" wait_for 20 eval '[ "$(lines_stored "$ja")" -ge 50 ]'
kill -STOP "$COORD_PID"
sleep 4
kill -CONT "$COORD_PID"
check "A: b1 is connected after the freeze" wait_for 15 buildlet_connected b1
verify A "$ja"
echo "A: session closed after the freeze: $(grep -c 'b1 .*closing session: no message' "$T/coordinator.log")"

# B. The coordinator is killed mid-output and comes back 3 s later.
jb=$(first_job "$(submit --platform linux/amd64 --script "$(job_script B)")")
check "B: output flows" wait_for 20 eval '[ "$(lines_stored "$jb")" -ge 50 ]'
# Frozen for 1 s first: what the buildlet writes meanwhile sits unread in
# the coordinator's socket buffer and dies with it, so only a resend from
# the buildlet's own copy can bring it back.
kill -STOP "$COORD_PID"
sleep 1
stop_pid KILL "$COORD_PID" 10
eq "B: coordinator killed" 137 "$STOP_STATUS"
sleep 3
start_coord "$DATA" "127.0.0.1:$PORT"
eq "B: coordinator back on the same port" "http://127.0.0.1:$PORT" "$RFARM_URL"
check "B: b1 reconnects" wait_for 20 buildlet_connected b1
verify B "$jb"

eq "job A is unchanged by the restart" passed "$(job_field "$ja" state)"
check "A's log is unchanged by the restart" \
  eval 'curl -s -m 10 "$RFARM_URL/api/v1/jobs/$ja/log" | cmp -s - "$T/expected-A"'
check "no sanitizer report in the coordinator log" no_sanitizer_reports "$T/coordinator.log"
check "no sanitizer report in b1's log" no_sanitizer_reports "$T/buildlet-b1.log"
finish
