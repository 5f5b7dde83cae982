#!/usr/bin/env bash
# A buildlet that loses a job must not keep it (DESIGN.md: "buildlet lost,
# lease expired -> queued again, attempt+1"). Two ways to lose one:
#  1. it comes back under the same name without listing the attempt as
#     running or held (it restarted): the job is requeued at once;
#  2. it vanishes for good: the job must go back to the queue after the
#     grace period (--grace 3s here) and run on another buildlet.
. "$(dirname "$0")/lib.sh"

COORD_ARGS=(--grace 3s)
start_coord
KEY=$(cat "$(keyfile linux-amd64)")

# ghost SECS OUT: a peer named ghost that says hello, prints what it
# receives into OUT, and disconnects without a word after SECS.
ghost() {
  peer --key "$KEY" --name ghost --scenario hello --wait "$1" >"$2" &
  GHOST=$!
  PIDS+=("$GHOST")
}

ghost 2 "$T/ghost1.out"
wait_for 10 buildlet_connected ghost || fail "ghost connected"
j=$(first_job "$(submit --platform linux/amd64 --script 'echo ran')")
check "ghost received the run" wait_for 10 grep -qx 'message run' "$T/ghost1.out"
eq "job dispatched to ghost" "dispatched ghost 1" \
  "$(api "jobs/$j" | jq -r '"\(.state) \(.buildlet) \(.attempt)"')"
stop_pid TERM "$GHOST" 10
check "ghost is gone" wait_for 10 eval '! buildlet_connected ghost'

# 1. It comes back knowing nothing of the job: attempt 2 goes to it.
ghost 2 "$T/ghost2.out"
check "restarted ghost is sent the job again" wait_for 10 grep -qx 'message run' "$T/ghost2.out"
eq "as attempt 2" 2 "$(job_field "$j" attempt)"
stop_pid TERM "$GHOST" 10
check "ghost is gone again" wait_for 10 eval '! buildlet_connected ghost'

# 2. It never comes back; another buildlet is idle.
start_buildlet real
wait_for 20 buildlet_connected real || fail "buildlet real connected"
job_requeued_and_done() {
  [ "$(job_field "$j" buildlet)" = real ] && job_final "$j"
}
check "job is taken back and runs elsewhere after the grace period" \
  wait_for 20 job_requeued_and_done
eq "it passed" passed "$(job_field "$j" state)"
eq "on attempt 3" 3 "$(job_field "$j" attempt)"
eq "attempt buildlets" "ghost ghost real" \
  "$(api "jobs/$j" | jq -r '[.attempts[].buildlet] | join(" ")')"
eq "its log is the last attempt's" ran "$(api "jobs/$j/log")"
finish
