#!/usr/bin/env bash
# The SQLite store holds what the API shows (builds, jobs, attempts, log
# chunks), is in WAL mode with a schema version, and survives restarts:
# finished results stay identical and a queued build runs later.
. "$(dirname "$0")/lib.sh"

start_coord
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

jp=$(first_job "$(submit --platform linux/amd64 --script 'echo ok-out; echo ok-err >&2; printf "\000\377"')")
jf=$(first_job "$(submit --platform linux/amd64 --script 'echo bad; exit 4')")
eq "passing job" passed "$(wait_job "$jp" 30)"
eq "failing job" failed "$(wait_job "$jf" 30)"

eq "journal_mode" wal "$(db 'pragma journal_mode')"
check "user_version >= 1" test "$(db 'pragma user_version')" -ge 1
eq "two builds" 2 "$(db 'select count(*) from builds')"
eq "build ids" "1 2" "$(db 'select id from builds order by id' | xargs)"
eq "passed job row" "passed|0|b1|1" \
  "$(db "select state, exit_code, buildlet, attempt from jobs where id=$jp")"
eq "failed job row" "failed|4|b1|1" \
  "$(db "select state, exit_code, buildlet, attempt from jobs where id=$jf")"
eq "jobs belong to their builds" "1 2" \
  "$(db "select build_id from jobs where id in ($jp, $jf) order by id" | xargs)"

for j in "$jp" "$jf"; do
  eq "job $j: one attempt on b1" "1|b1" "$(db "select n, buildlet from attempts where job_id=$j")"
  eq "job $j: attempt times are set and ordered" 1 \
    "$(db "select dispatched_ms > 0 and started_ms >= dispatched_ms and
                  finished_ms >= started_ms from attempts where job_id=$j")"
  eq "job $j: attempt exit code matches the job" \
    "$(db "select exit_code from jobs where id=$j")" \
    "$(db "select exit_code from attempts where job_id=$j")"
  db "select hex(data) from log_chunks where job_id=$j and attempt=1 order by seq" |
    tr -d '\n' | xxd -r -p >"$T/db-log-$j"
  curl -s -m 10 "$RFARM_URL/api/v1/jobs/$j/log" -o "$T/api-log-$j"
  check "job $j: log chunks from the database equal the API log" \
    cmp "$T/db-log-$j" "$T/api-log-$j"
  check "job $j: log is not empty" test -s "$T/api-log-$j"
done
stream_hex() { # stream_hex JOB STREAM: the stream's bytes from the database, in hex
  db "select hex(data) from log_chunks where job_id=$1 and stream=$2 order by seq" | tr -d '\n'
}
eq "stdout chunks of the passing job" "$(printf 'ok-out\n\000\377' | xxd -p -u)" \
  "$(stream_hex "$jp" 1)"
eq "stderr chunks of the passing job" "$(printf 'ok-err\n' | xxd -p -u)" "$(stream_hex "$jp" 2)"
eq "seqs are 0.. without gaps" 1 \
  "$(db "select max(seq) + 1 = count(*) and min(seq) = 0 from log_chunks where job_id=$jp")"
eq "buildlet row" "b1|linux-amd64|1" "$(db "select name, host_type, capacity from buildlets")"

# ---- a restart keeps everything ----
snapshot() { # snapshot TAG: what a client sees of the finished work
  api "jobs/$jp" >"$T/$1-jp.json"
  api "jobs/$jf" >"$T/$1-jf.json"
  api "builds?limit=10" >"$T/$1-builds.json"
  curl -s -m 10 "$RFARM_URL/api/v1/jobs/$jp/log" -o "$T/$1-jp.log"
  curl -s -m 10 "$RFARM_URL/api/v1/jobs/$jf/log" -o "$T/$1-jf.log"
}
snapshot before
stop_pid TERM "$BL_PID" 10
stop_pid TERM "$COORD_PID" 15
eq "coordinator stopped cleanly" 0 "$STOP_STATUS"
start_coord "$DATA"
snapshot after
for f in jp.json jf.json builds.json jp.log jf.log; do
  check "identical after restart: $f" cmp "$T/before-$f" "$T/after-$f"
done
eq "passed state after restart" passed "$(job_field "$jp" state)"
eq "failed exit code after restart" 4 "$(job_field "$jf" exit_code)"

# ---- a build queued with no buildlet survives a restart ----
jq_=$(first_job "$(submit --platform linux/amd64 --script 'echo late')")
sleep 1
eq "queued while no buildlet is connected" queued "$(job_field "$jq_" state)"
eq "queued row in the database" queued "$(db "select state from jobs where id=$jq_")"
stop_pid TERM "$COORD_PID" 15
start_coord "$DATA"
eq "still queued after restart" queued "$(job_field "$jq_" state)"
start_buildlet b2
check "b2 connects" wait_for 20 buildlet_connected b2
eq "the queued job runs when a buildlet arrives" passed "$(wait_job "$jq_" 30)"
eq "on b2" b2 "$(job_field "$jq_" buildlet)"
eq "its log" late "$(api "jobs/$jq_/log")"
eq "three builds in all" 3 "$(db 'select count(*) from builds')"
finish
