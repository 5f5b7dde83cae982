#!/usr/bin/env bash
# The scheduler's passes: with every slot taken, a new job still gets its
# reason (the pass reads only jobs never looked at); when the buildlets
# change, every queued job's reason is read again; more queued jobs than
# one page of the queue all run, dispatched in queue order.
. "$(dirname "$0")/lib.sh"

start_coord
start_connected b1 linux-amd64 --capacity 1
B1=$BL_PID

# Holds b1's only slot until $T/go exists (bounded: 30 s).
hold="for i in \$(seq 300); do [ -e $T/go ] && break; sleep 0.1; done"
long=$(first_job "$(submit --platform "$PLAT" --no-cache --script "$hold")")
running() { [ "$(job_field "$long" state)" = running ]; }
wait_for 20 running || fail "the long job runs on b1"


free_wait="waiting for a free $PLAT buildlet"
reason_is() { [ "$(job_field "$1" reason)" = "$2" ]; }

first=$(first_job "$(submit --platform "$PLAT" --no-cache --script true)")
wait_for 10 reason_is "$first" "$free_wait"
eq "a job behind a full buildlet says why" "$free_wait" "$(job_field "$first" reason)"

# More than a page (32) of jobs behind it.
queued=("$first")
for i in $(seq 1 40); do
  queued+=("$(first_job "$(submit --platform "$PLAT" --no-cache --script "echo $i")")")
done
last=${queued[40]}
wait_for 10 reason_is "$last" "$free_wait"
no_reason() {
  db "select count(*) from jobs where state='queued' and reason=''"
}
eq "every queued job has its reason" 0 "$(no_reason)"

# b1 goes away: nobody serves the platform now, and the reasons say so.
stop_pid KILL "$B1"
gone_wait="waiting for a $PLAT buildlet"
wait_for 20 reason_is "$first" "$gone_wait"
eq "the first job's reason follows the buildlets" "$gone_wait" "$(job_field "$first" reason)"
eq "so does the last one's" "$gone_wait" "$(job_field "$last" reason)"

touch "$T/go"
start_buildlet b2 linux-amd64 --capacity 4
all_final() {
  [ "$(db "select count(*) from jobs where id>=$first and
           state in ('queued','dispatched','running')")" = 0 ]
}
wait_for 60 all_final || fail "every job behind the long one ended"
eq "all 41 queued jobs passed" 41 "$(db "select count(*) from jobs where state='passed' and id>=$first")"
ids=$(printf '%s\n' "${queued[@]}")
eq "dispatched in queue order" "$ids" \
  "$(db "select job_id from attempts where job_id>=$first order by rowid")"
finish
