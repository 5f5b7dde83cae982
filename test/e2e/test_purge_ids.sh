#!/usr/bin/env bash
# Ids are never given twice: after a purge took the newest builds, the
# next build and job get new ids, and the buildlet that ran the purged
# job of the same number runs the new one (it does not take the run for a
# resend of the one it already finished).
. "$(dirname "$0")/lib.sh"

start_coord
start_connected b1

b1=$(submit --platform "$PLAT" --no-cache --script 'echo one')
j1=$(first_job "$b1")
eq "the first job passed" passed "$(wait_job "$j1" 30)"
out=$("$RFARM" purge --before 0s --json)
eq "the purge took it" 1 "$(jq .builds <<<"$out")"

b2=$(submit --platform "$PLAT" --no-cache --script 'echo two')
j2=$(first_job "$b2")
check "the next build has a new id ($b2 after $b1)" test "$b2" -gt "$b1"
check "its job has a new id ($j2 after $j1)" test "$j2" -gt "$j1"
eq "and it runs on the same buildlet" passed "$(wait_job "$j2" 30)"
eq "with its own log" two "$(api "jobs/$j2/log")"

# The floor holds across a restart too.
PORT=${RFARM_URL##*:}
stop_pid TERM "$COORD_PID"
start_coord "$DATA" "127.0.0.1:$PORT"
wait_for 20 buildlet_connected b1 || fail "buildlet b1 back"
"$RFARM" purge --before 0s >/dev/null
b3=$(submit --platform "$PLAT" --no-cache --script 'echo three')
check "after a restart and a purge still new ($b3 after $b2)" test "$b3" -gt "$b2"
eq "that one runs too" passed "$(wait_job "$(first_job "$b3")" 30)"
finish
