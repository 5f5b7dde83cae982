#!/usr/bin/env bash
# --max-log-bytes across a coordinator crash: the coordinator is killed
# (kill -9) while a job's 2 MB log is being cut down to 64 KiB, and comes
# back on the same port. The buildlet resends from where the store says
# (welcome.resume); chunks that were cut count as received, so nothing is
# stored or counted twice: the log ends as the exact head, one marker with
# the exact number of bytes cut, and the exact tail.
. "$(dirname "$0")/lib.sh"

CAP=65536
HALF=$((CAP / 2))
COORD_ARGS=(--max-log-bytes 64K --grace 30s)
start_coord
PORT=${RFARM_URL##*:}
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

# Four bursts of 500,000 bytes (40-byte lines), a second apart.
script='for k in 0 1 2 3; do awk -v k=$k '"'"'BEGIN { for (i = k * 12500; i < (k + 1) * 12500; i++) printf "line %07d abcdefghijklmnopqrstuvwxyz\n", i }'"'"'; sleep 1; done'
sh -c "$script" >"$T/want.all"
TOTAL=$(stat -c %s "$T/want.all")
CUT=$((TOTAL - CAP))
{ head -c $HALF "$T/want.all"
  printf '\n[rfarm: %d bytes of log cut here]\n' $CUT
  tail -c $HALF "$T/want.all"; } >"$T/want.txt"

j=$(first_job "$(submit --platform linux/amd64 --script "$script")")
cutting() { [ "$(db "select coalesce(max(cut), 0) > 0 from log_meta where job_id=$j" 2>/dev/null)" = 1 ]; }
check "the log is being cut" wait_for 30 cutting
stop_pid KILL "$COORD_PID" 10
eq "coordinator killed mid-log" 137 "$STOP_STATUS"
eq "the job was still running" running "$(db "select state from jobs where id=$j")"
sleep 1
start_coord "$DATA" "127.0.0.1:$PORT"
check "b1 reconnects" wait_for 20 buildlet_connected b1
eq "the job passed" passed "$(wait_job "$j" 60)"
eq "in one attempt" 1 "$(job_field "$j" attempt)"
curl -s -m 30 "$RFARM_URL/api/v1/jobs/$j/log" -o "$T/api.txt"
check "the head, the exact count and the tail, across the crash" \
  cmp "$T/want.txt" "$T/api.txt"
eq "bytes received are the job's, none twice" "$TOTAL" \
  "$(db "select bytes from log_meta where job_id=$j")"
eq "stored bytes are the cap" $CAP \
  "$(db "select (select sum(length(data)) from log_chunks where job_id=$j)
             + (select coalesce(length(head_part),0) from log_meta where job_id=$j)")"
eq "the buildlet connected twice (its job ran on meanwhile)" 2 \
  "$(grep -c 'connected to the coordinator' "$T/buildlet-b1.log")"
finish
