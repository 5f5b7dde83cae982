#!/usr/bin/env bash
# A queue drains completely and in order through one capacity-1 buildlet,
# even on a busy machine: each "done" frees the slot the next "run" uses.
# (A slot once stayed busy until the runner thread ended, after its "done"
# had gone out, so the next "run" could be refused under CPU load; two CPU
# hogs make that window likely.)
. "$(dirname "$0")/lib.sh"

N=40
start_coord
for i in $(seq 1 "$N"); do
  submit --platform linux/amd64 --script "echo n$i" >/dev/null || fail "submit $i"
done
eq "all queued before any buildlet" "$N" "$(db "select count(*) from jobs where state='queued'")"

for _ in 1 2; do
  timeout 30 sh -c 'while :; do :; done' &
  PIDS+=("$!")
done
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

all_final() { [ "$(db "select count(*) from jobs where state in ('queued','dispatched','running')")" = 0 ]; }
check "the queue drains within 45 s" wait_for 45 all_final
for pid in "${PIDS[@]}"; do
  [ "$pid" = "$COORD_PID" ] || [ "$pid" = "$BL_PID" ] || stop_pid TERM "$pid" 5
done

eq "all $N jobs passed" "$N" "$(db "select count(*) from jobs where state='passed'")"
eq "no job refused for lack of a slot" 0 \
  "$(db "select count(*) from jobs where error like '%no free slot%'")"
eq "each job printed its own line" "$N" \
  "$(for i in $(seq 1 "$N"); do api "jobs/$i/log"; done | sort -u | grep -c '^n[0-9]*$')"
eq "job 17's log" n17 "$(api "jobs/17/log")"
eq "dispatched oldest first" "$(seq 1 "$N" | xargs)" \
  "$(db "select job_id from attempts where n=1 order by dispatched_ms, job_id" | xargs)"
finish
