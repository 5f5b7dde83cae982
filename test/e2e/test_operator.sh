#!/usr/bin/env bash
# Operator verbs: list filters, drain and undrain, purge; and priority
# ordering of the queue.
. "$(dirname "$0")/lib.sh"

start_coord

# ---- priority: with no buildlet, queue three jobs, then let one in ----
low=$(first_job "$(submit --platform linux/amd64 --priority -5 --script 'echo low')")
mid=$(first_job "$(submit --platform linux/amd64 --script 'echo mid')")
high=$(first_job "$(submit --platform linux/amd64 --priority 7 --script 'echo high')")
start_buildlet b1 linux-amd64 --capacity 1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"
for j in $low $mid $high; do wait_job "$j" 20 >/dev/null; done
eq "higher priority runs first, then age" "$high $mid $low" \
  "$(db "select job_id from attempts order by dispatched_ms, job_id" | xargs)"

# ---- list filters ----
f=$(submit --platform linux/amd64 --script 'exit 4')
wait_job "$(first_job "$f")" 20 >/dev/null
m=$(submit --platform linux/mips -- true)
eq "list --state failed" "$f" "$("$RFARM" list --state failed --json | jq -r '.builds[].id' | xargs)"
eq "list --platform linux/mips" "$m" \
  "$("$RFARM" list --platform linux/mips --json | jq -r '.builds[].id' | xargs)"
eq "list --limit 2 is newest first" "$m $f" \
  "$("$RFARM" list --limit 2 --json | jq -r '.builds[].id' | xargs)"
"$RFARM" list --state nonsense >/dev/null 2>&1
check "list --state nonsense fails" test $? -ne 0

# ---- drain: finishes what runs, takes no more, survives a reconnect ----
run=$(first_job "$(submit --platform linux/amd64 --script 'sleep 2; echo drained-but-done')")
wait_for 10 test "$(job_field "$run" state)" = running || fail "job $run running"
"$RFARM" drain b1 >"$T/drain.out" 2>&1
eq "drain exits 0" 0 $?
check "drain says so ($(cat "$T/drain.out"))" grep -q "drained" "$T/drain.out"
after=$(first_job "$(submit --platform linux/amd64 --script 'echo after')")
eq "the running job still finishes" passed "$(wait_job "$run" 20)"
sleep 1
eq "a new job waits while b1 is drained" queued "$(job_field "$after" state)"
stop_pid TERM "$BL_PID" 10
start_buildlet b1 linux-amd64 --capacity 1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 reconnected"
sleep 1
eq "still drained after a reconnect" queued "$(job_field "$after" state)"
eq "the API shows it drained" true \
  "$(api buildlets | jq '.buildlets[] | select(.name=="b1") | .drained')"
"$RFARM" drain b1 --undo >/dev/null
eq "undrain lets the job run" passed "$(wait_job "$after" 20)"
"$RFARM" drain nosuch >/dev/null 2>&1
eq "drain of an unknown buildlet exits 1" 1 $?
"$RFARM" drain 'bad/name' >/dev/null 2>&1
eq "drain of a bad name is a usage error" 2 $?

# ---- purge: finished builds go, unfinished ones stay ----
total=$(db "select count(*) from builds")
out=$("$RFARM" purge --before 0s --json)
eq "purge reports the finished builds" "$((total - 1))" "$(jq .builds <<<"$out")"
eq "only the unfinished build is left" "$m" "$(db "select id from builds" | xargs)"
eq "its job is still queued" queued "$(db "select state from jobs where build_id=$m")"
eq "no log chunk of a purged job is left" 0 \
  "$(db "select count(*) from log_chunks where job_id not in (select id from jobs)")"
eq "the purged builds' and jobs' pages went too; the unfinished one's stay" \
  "builds/$m.html builds/$m.json jobs/$(db "select id from jobs where build_id=$m").html" \
  "$(cd "$DATA/dashboard" && ls builds/* jobs/*.html | xargs)"
"$RFARM" purge >/dev/null 2>&1
eq "purge without --before is a usage error" 2 $?
eq "API: bad before is 400" 400 \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"before":"soon"}' "$RFARM_URL/api/v1/purge")"
finish
