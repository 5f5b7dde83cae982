#!/usr/bin/env bash
# Fault: the coordinator is killed (kill -9) while some of 20 jobs have
# passed, some run on 3 buildlets (capacity 2 each) and the rest are
# queued, and restarts 2 s later on the same port and data directory. The
# buildlets reconnect, resend what the new coordinator lacks, and the farm
# finishes the work: every job ends passed exactly once with its complete
# log stored once, and every build passes.
. "$(dirname "$0")/lib.sh"

N=20
COORD_ARGS=(--grace 30s)
start_coord
PORT=${RFARM_URL##*:}
# One at a time: start_buildlet rewrites the key file the previous one
# may still be reading.
for b in b1 b2 b3; do
  start_buildlet "$b" linux-amd64 --capacity 2 --kill-grace 1s
  wait_for 20 buildlet_connected "$b" || fail "buildlet $b connected"
done

# job_script K: 30 lines "job K line I", one every 0.1 s (~3 s).
job_script() {
  echo "i=0; while [ \$i -lt 30 ]; do echo \"job $1 line \$i\"; i=\$((i+1)); sleep 0.1; done"
}
expected_log() { for i in $(seq 0 29); do echo "job $1 line $i"; done; }

declare -a BUILD JOB
for k in $(seq 1 $N); do
  BUILD[k]=$(submit --platform linux/amd64 --script "$(job_script "$k")")
  JOB[k]=$(first_job "${BUILD[k]}")
done
check "$N builds submitted" test "$(db 'select count(*) from builds')" -eq $N

count_state() { db "select count(*) from jobs where state='$1'"; }
mixed() { # some passed, some running, some queued
  [ "$(count_state passed)" -ge 1 ] && [ "$(count_state running)" -ge 2 ] &&
    [ "$(count_state queued)" -ge 1 ]
}
check "some jobs passed, some run, some wait" wait_for 30 mixed
echo "at the kill: $(db "select state || ' ' || count(*) from jobs group by state" | xargs)"
stop_pid KILL "$COORD_PID" 10
eq "coordinator killed" 137 "$STOP_STATUS"
sleep 2
start_coord "$DATA" "127.0.0.1:$PORT"
eq "coordinator back on the same port" "http://127.0.0.1:$PORT" "$RFARM_URL"
for b in b1 b2 b3; do
  check "$b reconnects" wait_for 20 buildlet_connected "$b"
done

all_final() {
  [ "$(db "select count(*) from jobs where state not in
           ('passed','failed','cancelled','error')")" = 0 ]
}
check "all $N jobs end" wait_for 45 all_final
eq "all $N jobs passed" "$N" "$(count_state passed)"

for k in $(seq 1 $N); do
  j=${JOB[k]}
  api "jobs/$j" >"$T/job-$j.json"
  a=$(jq -r .attempt "$T/job-$j.json")
  eq "job $k ($j): passed (API = DB)" "passed passed" \
    "$(jq -r .state "$T/job-$j.json") $(db "select state from jobs where id=$j")"
  eq "job $k: one attempt holds a result" 1 \
    "$(db "select count(*) from attempts where job_id=$j and finished_ms is not null")"
  curl -s -m 10 "$RFARM_URL/api/v1/jobs/$j/log" -o "$T/log-$j"
  check "job $k: the log is its 30 lines" cmp -s "$T/log-$j" <(expected_log "$k")
  eq "job $k: chunks of attempt $a are distinct seqs 0..n-1" 1 \
    "$(db "select count(*) = count(distinct seq) and min(seq) = 0 and
           max(seq) + 1 = count(*) from log_chunks where job_id=$j and attempt=$a")"
  db "select hex(data) from log_chunks where job_id=$j and attempt=$a order by seq" |
    tr -d '\n' | xxd -r -p >"$T/db-log-$j"
  check "job $k: chunks in the database equal the log" cmp -s "$T/db-log-$j" "$T/log-$j"
  eq "build ${BUILD[k]} passed" passed "$(api "builds/${BUILD[k]}" | jq -r .state)"
done
echo "attempts used: $(db 'select attempt || "x" || count(*) from jobs group by attempt' | xargs)"
check "no sanitizer report in the coordinator log" no_sanitizer_reports "$T/coordinator.log"
for b in b1 b2 b3; do
  check "no sanitizer report in $b's log" no_sanitizer_reports "$T/buildlet-$b.log"
done
finish
