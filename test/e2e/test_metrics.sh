#!/usr/bin/env bash
# GET /metrics (Prometheus text) counts what happened: one passing, one
# failing and one unsatisfiable (linux/mips) build; the duration histogram
# is cumulative and ends in +Inf = count; log bytes equal what the API
# serves; every line is well-formed; a buildlet that comes back under its
# name counts as one reconnect. GET /ready answers 200 "ready".
. "$(dirname "$0")/lib.sh"

start_coord
start_buildlet b1 linux-amd64 --kill-grace 1s
B1=$BL_PID
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

jp=$(first_job "$(submit --platform linux/amd64 --script 'echo pass-out; echo pass-err >&2; sleep 0.6')")
jf=$(first_job "$(submit --platform linux/amd64 --script 'printf "fail\n"; exit 3')")
jq_=$(first_job "$(submit --platform linux/mips --script 'echo never')")
eq "passing job" passed "$(wait_job "$jp" 30)"
eq "failing job" failed "$(wait_job "$jf" 30)"
eq "mips job waits" queued "$(job_field "$jq_" state)"

# Each job ends in one terminal state, and its log is stored once.
for j in "$jp" "$jf"; do
  eq "job $j: API state equals DB state" "$(job_field "$j" state)" \
    "$(db "select state from jobs where id=$j")"
  eq "job $j: one attempt" 1 "$(api "jobs/$j" | jq '.attempts | length')"
  eq "job $j: the coordinator finished it once" 1 \
    "$(grep -cE "job $j: [a-z]+ -> (passed|failed|cancelled|error)\$" "$T/coordinator.log")"
  eq "job $j: chunks are distinct seqs 0..n-1" 1 \
    "$(db "select count(*) = count(distinct seq) and count(*) = max(seq) + 1
           from log_chunks where job_id=$j and attempt=1")"
done
eq "passing job log" "pass-out
pass-err" "$(api "jobs/$jp/log" | sort -r)"
eq "failing job log" fail "$(api "jobs/$jf/log")"

# metric NAME_AND_LABELS: its value in the last scrape ($T/metrics).
metric() {
  awk -v k="$1" '$1 == k { print $2 }' "$T/metrics"
}
scrape() { curl -s -m 10 "$RFARM_URL/metrics" -o "$T/metrics"; }

scrape
eq "builds requested" 3 "$(metric rfarm_build_requests_total)"
eq "jobs passed" 1 "$(metric 'rfarm_jobs_finished_total{state="passed"}')"
eq "jobs failed" 1 "$(metric 'rfarm_jobs_finished_total{state="failed"}')"
eq "mips unsatisfiable" 1 "$(metric 'rfarm_jobs_unsatisfiable{platform="linux/mips"}')"
eq "mips queue depth" 1 "$(metric 'rfarm_queue_depth{platform="linux/mips"}')"
eq "amd64 buildlets connected" 1 "$(metric 'rfarm_buildlets_connected{platform="linux/amd64"}')"
eq "no reconnect yet" 0 "$(metric rfarm_buildlet_reconnects_total)"

eq "duration count" 2 "$(metric rfarm_job_duration_seconds_count)"
eq "+Inf bucket equals count" 2 "$(metric 'rfarm_job_duration_seconds_bucket{le="+Inf"}')"
buckets=$(awk '$1 ~ /^rfarm_job_duration_seconds_bucket\{/ { print $2 }' "$T/metrics" | xargs)
check "duration buckets present ($buckets)" test "$(wc -w <<<"$buckets")" -ge 2
nondecreasing() { # nondecreasing N...: true if the numbers never go down
  local prev=0 v
  for v in "$@"; do [ "$v" -ge "$prev" ] || return 1; prev=$v; done
}
# shellcheck disable=SC2086 # one word per bucket
check "duration buckets are cumulative ($buckets)" nondecreasing $buckets
# The failing job takes milliseconds, the passing one sleeps 0.6 s.
eq "one job under 0.5 s" 1 "$(metric 'rfarm_job_duration_seconds_bucket{le="0.5"}')"
eq "both jobs under 5 s" 2 "$(metric 'rfarm_job_duration_seconds_bucket{le="5"}')"
sum=$(metric rfarm_job_duration_seconds_sum)
check "duration sum ($sum) is between 0.6 and 5" \
  awk -v s="$sum" 'BEGIN { exit !(s ~ /^[0-9.]+$/ && s >= 0.6 && s < 5) }'

log_bytes=$(($(curl -s "$RFARM_URL/api/v1/jobs/$jp/log" | wc -c) +
  $(curl -s "$RFARM_URL/api/v1/jobs/$jf/log" | wc -c)))
eq "log bytes equal the two logs' sizes" "$log_bytes" "$(metric rfarm_log_bytes_total)"
eq "log bytes equal the stored chunks" "$log_bytes" \
  "$(db 'select sum(length(data)) from log_chunks')"

# The exposition format: comments are HELP/TYPE, samples are
# name{label="v",...} value.
SAMPLE='^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? [-+]?([0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|\+Inf|-Inf|NaN)$'
COMMENT='^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$'
eq "every line is a sample or a HELP/TYPE comment" "" \
  "$(grep -vE "$SAMPLE" "$T/metrics" | grep -vE "$COMMENT")"
check "the body ends with a newline" test "$(tail -c1 "$T/metrics" | xxd -p)" = 0a
eq "no metric has two TYPE lines" "" \
  "$(awk '$1 == "#" && $2 == "TYPE" { print $3 }' "$T/metrics" | sort | uniq -d)"
eq "content type" "text/plain" \
  "$(curl -s -o /dev/null -w '%{content_type}' "$RFARM_URL/metrics" | cut -d';' -f1)"

eq "/ready status" 200 "$(http_status GET /ready)"
eq "/ready body" ready "$(cat "$T/body")"

# A buildlet that goes away and comes back under its name is a reconnect.
stop_pid KILL "$B1" 10
check "b1 is gone" wait_for 10 eval '! buildlet_connected b1'
start_buildlet b1 linux-amd64 --kill-grace 1s
check "b1 is back" wait_for 20 buildlet_connected b1
scrape
eq "one reconnect" 1 "$(metric rfarm_buildlet_reconnects_total)"
eq "two hellos" 2 "$(metric rfarm_buildlet_hellos_total)"
eq "still one amd64 buildlet connected" 1 \
  "$(metric 'rfarm_buildlets_connected{platform="linux/amd64"}')"
eq "counters unchanged by the reconnect" "3 1 1" \
  "$(metric rfarm_build_requests_total) $(metric 'rfarm_jobs_finished_total{state="passed"}') $(metric 'rfarm_jobs_finished_total{state="failed"}')"
eq "the mips job still waits" queued "$(job_field "$jq_" state)"
finish
