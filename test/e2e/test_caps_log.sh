#!/usr/bin/env bash
# --max-log-bytes: a job that prints 2 MB under a 64 KiB cap still passes;
# its log keeps the first 32 KiB and the last 32 KiB byte for byte, with
# one marker line saying exactly how many bytes were cut between them,
# through the API, `rfarm logs` and a follower (`rfarm logs -f`) that was
# already past the head when the cut came. Only the cap stays on disk.
. "$(dirname "$0")/lib.sh"

CAP=65536
HALF=$((CAP / 2))
COORD_ARGS=(--max-log-bytes 64K)
start_coord

# 40 bytes a line; the first 1200 lines (48,000 bytes: past the head, under
# the cap) come before a pause, so a follower has them before the cut.
gen='awk -v a=$A -v b=$B '"'"'BEGIN { for (i = a; i < b; i++) printf "line %07d abcdefghijklmnopqrstuvwxyz\n", i }'"'"
script="A=0 B=1200; $gen; sleep 2; A=1200 B=50000; $gen"
sh -c "$script" >"$T/want.all"
TOTAL=$(stat -c %s "$T/want.all")
CUT=$((TOTAL - CAP))
eq "the job writes 2,000,000 bytes" 2000000 "$TOTAL"

# The whole log as every reader should show it after the job.
{ head -c $HALF "$T/want.all"
  printf '\n[rfarm: %d bytes of log cut here]\n' $CUT
  tail -c $HALF "$T/want.all"; } >"$T/want.txt"

# Queued first (no buildlet yet), so the follower is there from the start.
j=$(first_job "$(submit --platform linux/amd64 --script "$script")")
"$RFARM" logs -f "$j" >"$T/follow.out" 2>"$T/follow.err" &
FOLLOW_PID=$!
PIDS+=("$FOLLOW_PID")
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"
check "the follower has the first 48,000 bytes before the cut" \
  wait_for 20 eval '[ "$(stat -c %s "$T/follow.out")" -ge 48000 ]'
# A running job's log has no length (it may be cut while it is read):
# the end of the connection ends it.
curl -s -m 30 -D "$T/running.hdr" "$RFARM_URL/api/v1/jobs/$j/log" -o "$T/running.txt"
check "a running job's log starts with what it wrote" \
  cmp -n 48000 "$T/running.txt" "$T/want.all"
check "and comes without Content-Length" \
  eval '! grep -qi "^content-length" "$T/running.hdr"'

eq "the job ran on to the end and passed" passed "$(wait_job "$j" 60)"
eq "its exit code is recorded" 0 "$(job_field "$j" exit_code)"

curl -s -m 30 "$RFARM_URL/api/v1/jobs/$j/log" -o "$T/api.txt"
check "API: the head, the marker with the exact count, the tail" \
  cmp "$T/want.txt" "$T/api.txt"
"$RFARM" logs "$j" >"$T/cli.txt" 2>"$T/cli.err"
eq "rfarm logs exits 0" 0 $?
check "rfarm logs: the same" cmp "$T/want.txt" "$T/cli.txt"
eq "one marker line" 1 "$(grep -ac 'bytes of log cut here' "$T/api.txt")"
curl -s -m 30 "$RFARM_URL/api/v1/jobs/$j/log?stream=stdout" -o "$T/stdout.txt"
check "?stream=stdout: the same (all of it is stdout)" cmp "$T/want.txt" "$T/stdout.txt"
curl -sN -m 30 "$RFARM_URL/api/v1/jobs/$j/log?follow=1" -o "$T/follow-after.txt"
check "?follow=1 after the end: the same" cmp "$T/want.txt" "$T/follow-after.txt"

check "the follower ends with the job" wait_for 15 gone "$FOLLOW_PID"
stop_pid TERM "$FOLLOW_PID" 1
eq "the follower exits 0" 0 "$STOP_STATUS"

# The follower saw more than the head before the cut. Walk its output
# against what the job wrote: every stretch of bytes must be the job's
# bytes at that point, and every marker must skip exactly what it says;
# it must end at the job's last byte.
walk() { # walk OUT WANT: prints "ok" or what is wrong
  local out=$1 want=$2 pos=0 at=0 size m n off len
  size=$(stat -c %s "$out")
  while read -r m; do
    off=${m%%:*}            # byte offset of "[rfarm: ..." in out
    n=${m#*:\[rfarm: }; n=${n%% *}
    len=$((off - 1 - at))   # the stretch before the marker's "\n"
    cmp -s <(tail -c +$((at + 1)) "$out" | head -c $len) \
      <(tail -c +$((pos + 1)) "$want" | head -c $len) ||
      { echo "stretch at $at differs from the log at $pos"; return; }
    pos=$((pos + len + n))
    at=$((off + ${#m} - ${#off}))  # past "]\n": m is "OFF:[...]"
  done < <(grep -aob '\[rfarm: [0-9]* bytes of log cut here\]' "$out")
  len=$((size - at))
  cmp -s <(tail -c +$((at + 1)) "$out") <(tail -c +$((pos + 1)) "$want" | head -c $len) ||
    { echo "last stretch at $at differs from the log at $pos"; return; }
  [ $((pos + len)) -eq "$(stat -c %s "$want")" ] ||
    { echo "ends at $((pos + len)) of $(stat -c %s "$want")"; return; }
  echo ok
}
eq "follower: the log as written, each marker skipping exactly its count" \
  ok "$(walk "$T/follow.out" "$T/want.all")"
check "follower: it kept the 48,000 bytes it had (more than the head)" \
  cmp -n 48000 "$T/follow.out" "$T/want.all"
check "follower: it says where bytes were cut" \
  grep -aq 'bytes of log cut here' "$T/follow.out"
check "follower: it ends with the exact tail" \
  cmp <(tail -c $HALF "$T/follow.out") <(tail -c $HALF "$T/want.all")
eq "the walk accepts the API's log" ok "$(walk "$T/api.txt" "$T/want.all")"
sed "s/\[rfarm: $CUT bytes/[rfarm: $((CUT + 1)) bytes/" "$T/api.txt" >"$T/bad.txt"
check "the walk catches a count one too high" test "$(walk "$T/bad.txt" "$T/want.all")" != ok

# On disk: the cap, not the 2 MB.
eq "stored bytes are the cap" $CAP \
  "$(db "select (select coalesce(sum(length(data)),0) from log_chunks where job_id=$j)
             + (select coalesce(length(head_part),0) from log_meta where job_id=$j)")"
eq "the cut is recorded" $CUT "$(db "select cut from log_meta where job_id=$j")"
eq "the metric counts the cut bytes" $CUT \
  "$(curl -s "$RFARM_URL/metrics" | awk '$1 == "rfarm_log_bytes_cut_total" {print $2}')"

# A log under the cap is untouched: no marker.
j2=$(first_job "$(submit --platform linux/amd64 --script 'echo small')")
eq "small job passed" passed "$(wait_job "$j2" 30)"
eq "its log is whole" small "$(api "jobs/$j2/log")"
finish
