#!/usr/bin/env bash
# Following a log: `rfarm logs -f` prints lines while the job still runs
# and exits by itself when the job ends; ?follow=1 on a finished job
# returns the whole log and ends.
. "$(dirname "$0")/lib.sh"

start_coord
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

j=$(first_job "$(submit --platform linux/amd64 --script 'echo first; sleep 4; echo second')")
wait_for 20 eval '[ "$(job_field "$j" state)" = running ]' || fail "job $j started"

"$RFARM" logs -f "$j" >"$T/follow.out" 2>"$T/follow.err" &
FOLLOW_PID=$!
PIDS+=("$FOLLOW_PID")

check "follower shows the first line" wait_for 10 grep -q first "$T/follow.out"
eq "job still running when the first line is shown" running "$(job_field "$j" state)"
check "follower has not seen the second line yet" eval '! grep -q second "$T/follow.out"'
check "follower still running while the job runs" eval '! gone "$FOLLOW_PID"'

eq "job passed" passed "$(wait_job "$j" 30)"
check "follower exits by itself after the job ends" wait_for 10 gone "$FOLLOW_PID"
stop_pid TERM "$FOLLOW_PID" 1
eq "follower exit status" 0 "$STOP_STATUS"
eq "follower output is the whole log" "$(printf 'first\nsecond\n' | od -c)" \
  "$(od -c <"$T/follow.out")"

# Following a finished job returns the whole log and ends.
out=$(curl -sN -m 10 "$RFARM_URL/api/v1/jobs/$j/log?follow=1")
eq "follow=1 on a finished job ends (curl exit)" 0 $?
eq "follow=1 on a finished job returns the whole log" "first
second" "$out"
out=$(timeout 10 "$RFARM" logs -f "$j")
eq "rfarm logs -f on a finished job ends" 0 $?
eq "rfarm logs -f on a finished job prints it" "first
second" "$out"

# Two followers of one job with both streams, started before it runs.
j2=$(first_job "$(submit --platform linux/amd64 --script 'sleep 1; echo a; sleep 0.3; echo b >&2; sleep 0.3; echo c')")
curl -sN -m 30 "$RFARM_URL/api/v1/jobs/$j2/log?follow=1" -o "$T/f1" &
F1=$!
PIDS+=("$F1")
curl -sN -m 30 "$RFARM_URL/api/v1/jobs/$j2/log?follow=1&stream=stderr" -o "$T/f2" &
F2=$!
PIDS+=("$F2")
eq "second job passed" passed "$(wait_job "$j2" 30)"
check "both followers end with the job" wait_for 10 eval 'gone $F1 && gone $F2'
stop_pid TERM "$F1" 1
eq "follower 1 ended cleanly" 0 "$STOP_STATUS"
stop_pid TERM "$F2" 1
eq "follower 2 ended cleanly" 0 "$STOP_STATUS"
eq "follower of both streams" "$(printf 'a\nb\nc\n' | od -c)" "$(od -c <"$T/f1")"
eq "follower of stderr only" "$(printf 'b\n' | od -c)" "$(od -c <"$T/f2")"
finish
