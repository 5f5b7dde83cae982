#!/usr/bin/env bash
# The coordinator is the backstop for a job's time limit: a buildlet that
# takes a run and then never reports (here a scripted peer that goes
# silent) does not hold the job forever. Past its limit plus
# --timeout-margin the job ends in error, once, with a reason.
. "$(dirname "$0")/lib.sh"

COORD_ARGS=(--timeout 1s --timeout-margin 2s --heartbeat 1s)
start_coord
KEY=$(cat "$(keyfile linux-amd64)")

peer --key "$KEY" --name mute --scenario hello --wait 15 >"$T/mute.out" &
MUTE=$!
PIDS+=("$MUTE")
wait_for 10 buildlet_connected mute || fail "mute peer connected"

j=$(first_job "$(submit --platform linux/amd64 --script 'echo never')")
check "the mute peer got the run" wait_for 10 grep -qx 'message run' "$T/mute.out"
start=$SECONDS
eq "the job ends in error" error "$(wait_job "$j" 15)"
check "within the limit plus the margin, give or take the tick ($((SECONDS - start)) s)" \
  test $((SECONDS - start)) -le 8
check "the error says the coordinator ended it ($(job_field "$j" error))" \
  grep -q "the buildlet did not end it within 2 s" <<<"$(job_field "$j" error)"
eq "one attempt, recorded once" 1 "$(api "jobs/$j" | jq '.attempts | length')"
eq "in the database too" "error" "$(db "select state from jobs where id=$j")"
check "coordinator is still serving" curl -sf -m 5 "$RFARM_URL/alive" -o /dev/null
finish
