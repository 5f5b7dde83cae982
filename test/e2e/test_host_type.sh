#!/usr/bin/env bash
# A buildlet started with --host-type T serves the builders of T: two
# buildlets of one platform (linux/amd64) but host types A and B; builds
# of A's builder run only on A's buildlet, B's only on B's, whichever has
# room. With B's buildlet gone a build of B's builder waits, saying so
# (and /metrics counts it unsatisfiable) though A's buildlet is idle; it
# runs when B is back. Builders alike but for the host type do not answer
# each other from the cache. A plain request may name a host type too.
. "$(dirname "$0")/lib.sh"

A=linux-amd64-a
B=linux-amd64-b
CFG=$T/farm.json
# Both builders run the same script: only the host type tells them apart.
cat >"$CFG" <<JSON
{"host_types": [{"name": "$A", "goos": "linux", "goarch": "amd64", "expected": 1},
                {"name": "$B", "goos": "linux", "goarch": "amd64", "expected": 1}],
 "builders": [{"name": "on-a", "host_type": "$A", "script": "sleep 0.3; echo built"},
              {"name": "on-b", "host_type": "$B", "script": "sleep 0.3; echo built"}]}
JSON

# by_builder NAME [EXTRA JSON]: POST a build of builder NAME, print its id.
by_builder() {
  curl -s -X POST "$RFARM_URL/api/v1/builds" -d "{\"builder\": \"$1\"${2:-}}" | jq -r .id
}
# ran_on JOB: the buildlets of every attempt of JOB, sorted, unique.
ran_on() { api "jobs/$1" | jq -r '[.attempts[].buildlet] | unique | join(" ")'; }
metric() { curl -s -m 10 "$RFARM_URL/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
not_connected() { ! buildlet_connected "$1"; }

COORD_ARGS=(--config "$CFG")
start_coord
# Interleaved builds of both builders, all to run (no cache), queued
# before any buildlet is there: the first to say hello has room for all
# of them (capacity 8), and takes only its own host type's.
jobs_a=() jobs_b=()
for i in 1 2 3 4; do
  jobs_a+=("$(first_job "$(by_builder on-a ', "no_cache": true')")")
  jobs_b+=("$(first_job "$(by_builder on-b ', "no_cache": true')")")
done
eq "the build keeps the builder's host type" "$A" "$(api "builds/$(job_field "${jobs_a[0]}" build)" | jq -r .host_type)"
eq "and its job is bound to it" "$B" "$(db "select host_type from jobs where id=${jobs_b[0]}")"
wait_for 10 test "$(job_field "${jobs_a[0]}" reason)" = "waiting for a linux/amd64 buildlet of host type $A"
eq "with no buildlet, on-a waits for its host type" \
  "waiting for a linux/amd64 buildlet of host type $A" "$(job_field "${jobs_a[0]}" reason)"
start_buildlet bl-a "$A" --capacity 8
wait_for 20 buildlet_connected bl-a || fail "bl-a connected"
wait_for 20 job_final "${jobs_a[3]}" || fail "the last on-a job ended"
for j in "${jobs_b[@]}"; do
  eq "bl-a, idle, left on-b job $j queued" queued "$(job_field "$j" state)"
done
start_buildlet bl-b "$B" --capacity 8
PID_B=$BL_PID
wait_for 20 buildlet_connected bl-b || fail "bl-b connected"
for j in "${jobs_a[@]}"; do
  eq "on-a job $j passed" passed "$(wait_job "$j" 60)"
  eq "on-a job $j ran only on bl-a" bl-a "$(ran_on "$j")"
done
for j in "${jobs_b[@]}"; do
  eq "on-b job $j passed" passed "$(wait_job "$j" 60)"
  eq "on-b job $j ran only on bl-b" bl-b "$(ran_on "$j")"
done

# Same script, other host type: not answered from the cache.
ja=$(first_job "$(by_builder on-a)")
eq "on-a passed" passed "$(wait_job "$ja" 60)"
# (on-b jobs finished last: a key without the host type would pick one.)
eq "it was answered from the cache" true "$(job_field "$ja" cached)"
eq "from an on-a run, not a newer on-b one" "$A" \
  "$(db "select host_type from jobs where id=$(job_field "$ja" cached_from)")"
jb=$(first_job "$(by_builder on-b)")
eq "on-b passed" passed "$(wait_job "$jb" 60)"
eq "from an on-b run, not the newer on-a one" "$B" \
  "$(db "select host_type from jobs where id=$(job_field "$jb" cached_from)")"

# B's buildlet gone: an on-b build waits though bl-a is idle.
stop_pid TERM "$PID_B" 10
wait_for 20 not_connected bl-b || fail "bl-b disconnected"
jw=$(first_job "$(by_builder on-b ', "no_cache": true')")
want="waiting for a linux/amd64 buildlet of host type $B"
wait_for 10 test "$(job_field "$jw" reason)" = "$want"
eq "the on-b build says what it waits for" "$want" "$(job_field "$jw" reason)"
sleep 1
eq "and still waits" queued "$(job_field "$jw" state)"
eq "/metrics counts it unsatisfiable" 1 "$(metric 'rfarm_jobs_unsatisfiable{platform="linux/amd64"}')"
eq "and B short" 1 "$(metric "rfarm_host_type_short{host_type=\"$B\"}")"
jx=$(first_job "$(by_builder on-a ', "no_cache": true')")
eq "meanwhile on-a builds run" passed "$(wait_job "$jx" 60)"
eq "on bl-a" bl-a "$(ran_on "$jx")"

# A plain request may bind itself to a host type as well.
plain() {
  curl -s -X POST "$RFARM_URL/api/v1/builds" -d "{\"platforms\": [\"linux/amd64\"], \"command\": [\"true\"], \"no_cache\": true, \"host_type\": \"$1\"}" | jq -r '.jobs[0].id'
}
jp=$(plain "$A")
eq "a request with host_type A passes" passed "$(wait_job "$jp" 60)"
eq "on bl-a" bl-a "$(ran_on "$jp")"
jn=$(plain nowhere)
wait_for 10 test "$(job_field "$jn" reason)" = "waiting for a linux/amd64 buildlet of host type nowhere"
eq "one for an unknown host type waits" "waiting for a linux/amd64 buildlet of host type nowhere" "$(job_field "$jn" reason)"
eq "a bad host_type is refused" 400 "$(http_status POST /api/v1/builds -d '{"platforms": ["linux/amd64"], "command": ["true"], "host_type": "a b"}')"
eq "with its code" bad_host_type "$(body_field .error.code)"
eq "a builder request cannot change its host type" 400 "$(http_status POST /api/v1/builds -d "{\"builder\": \"on-b\", \"host_type\": \"$A\"}")"

# B back: the waiting build runs there.
start_buildlet bl-b "$B" --capacity 2
wait_for 20 buildlet_connected bl-b || fail "bl-b connected again"
eq "the waiting on-b build passed once bl-b came back" passed "$(wait_job "$jw" 60)"
eq "on bl-b" bl-b "$(ran_on "$jw")"
eq "nothing on-b ever ran on bl-a" 0 \
  "$(db "select count(*) from attempts a join jobs j on j.id=a.job_id where j.host_type='$B' and a.buildlet<>'bl-b'")"
curl -s -X POST "$RFARM_URL/api/v1/builds/$(job_field "$jn" build)/cancel" >/dev/null
check "no sanitizer reports" no_sanitizer_reports "$T/coordinator.log"
finish
