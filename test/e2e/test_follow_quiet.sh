#!/usr/bin/env bash
# A follower of a job that is quiet for longer than the coordinator's I/O
# timeout is not cut off: only stalled transfers are, not quiet logs.
# (Once a follower was dropped after 30 s of silence, the default timeout.)
. "$(dirname "$0")/lib.sh"

COORD_ARGS=(--io-timeout 2s)
start_coord
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

j=$(first_job "$(submit --platform linux/amd64 --script 'echo a; sleep 6; echo b')")
out=$(curl -sN -m 30 "$RFARM_URL/api/v1/jobs/$j/log?follow=1")
eq "the follower saw the whole log across 6 quiet seconds" "a
b" "$out"
eq "the job passed" passed "$(wait_job "$j" 10)"
finish
