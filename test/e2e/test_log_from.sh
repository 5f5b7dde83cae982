#!/usr/bin/env bash
# GET /api/v1/jobs/ID/log?from=N leaves out the first N bytes of what the
# stream sends: for an ended job (its length says so), for a follower of a
# running one (what the dashboard's page already shows), and past the end.
. "$(dirname "$0")/lib.sh"

start_coord
start_connected b1
script='for i in $(seq 1 2000); do echo "line $i"; done'
b=$(submit --platform "$PLAT" --no-cache --script "$script")
j=$(first_job "$b")
eq "the job passed" passed "$(wait_job "$j" 30)"
curl -s "$RFARM_URL/api/v1/jobs/$j/log" >"$T/full"
eq "the whole log first" 2000 "$(wc -l <"$T/full")"

for from in 0 5 9000 13892; do
  curl -s "$RFARM_URL/api/v1/jobs/$j/log?from=$from" >"$T/part"
  check "from=$from is the log less its first $from bytes" \
    cmp -s "$T/part" <(tail -c +$((from + 1)) "$T/full")
done
size=$(stat -c %s "$T/full")
eq "from past the end: nothing" 0 \
  "$(curl -s "$RFARM_URL/api/v1/jobs/$j/log?from=$((size + 100))" | wc -c)"
check "follow with from on an ended job" \
  cmp -s <(curl -s "$RFARM_URL/api/v1/jobs/$j/log?follow=1&from=100") \
  <(tail -c +101 "$T/full")
for bad in -1 abc 1e3 ''; do
  eq "from=$bad is refused" 400 "$(http_status GET "/api/v1/jobs/$j/log?from=$bad")"
done
check "naming the parameter" grep -q bad_from "$T/body"

# A running job: a follower from the bytes already shown gets the rest.
hold="echo first; for i in \$(seq 300); do [ -e $T/go ] && break; sleep 0.1; done; echo second"
r=$(first_job "$(submit --platform "$PLAT" --no-cache --script "$hold")")
shown() { [ "$(api "jobs/$r/log")" = first ]; }
wait_for 20 shown || fail "the running job printed its first line"
curl -sN "$RFARM_URL/api/v1/jobs/$r/log?follow=1&from=6" >"$T/follow" &
F=$!
PIDS+=("$F")
sleep 0.5
touch "$T/go"
eq "the running job passed" passed "$(wait_job "$r" 30)"
check "the follower ended with the job" wait_for 10 gone "$F"
eq "the follower got only what came after" second "$(cat "$T/follow")"
finish
