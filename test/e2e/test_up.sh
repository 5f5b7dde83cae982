#!/usr/bin/env bash
# `rfarm up`: one process with a coordinator and an embedded buildlet
# named "local" for this machine; a job passes on it, the dashboard shows
# it, and SIGINT stops everything cleanly.
. "$(dirname "$0")/lib.sh"

[ "$(uname -sm)" = "Linux x86_64" ] || { echo "skip: needs a linux/amd64 host"; exit 0; }

DATA=$T/updata
"$RFARM" up --listen 127.0.0.1:0 --data "$DATA" >>"$T/up.log" 2>&1 &
UP_PID=$!
PIDS+=("$UP_PID")
wait_for 20 test -s "$DATA/url" || { fail "rfarm up wrote its url"; finish; }
RFARM_URL=$(cat "$DATA/url")
export RFARM_URL
check "url is on loopback" grep -qE '^http://127\.0\.0\.1:[0-9]+$' "$DATA/url"
check "alive" wait_for 10 curl -sf "$RFARM_URL/alive" -o /dev/null

check "embedded buildlet 'local' connects" wait_for 20 buildlet_connected local
eq "buildlets lists only local" local "$(api buildlets | jq -r '[.buildlets[].name] | join(",")')"
eq "local serves the native platform" '["linux/amd64"]' \
  "$(api buildlets | jq -c '.buildlets[] | select(.name == "local") | .platforms')"

b=$(submit --platform linux/amd64 --script 'echo hello from up; uname -s')
j=$(first_job "$b")
eq "job passes on the embedded buildlet" passed "$(wait_job "$j" 30)"
eq "it ran on local" local "$(job_field "$j" buildlet)"
eq "its log" "hello from up
Linux" "$(api "jobs/$j/log")"
check "the job's work directory is under DATA/work" test -d "$DATA/work"

dashboard_links_job() {
  curl -sf "$RFARM_URL/" -o "$T/index.html" &&
    grep -q "href=\"jobs/$j.html\"" "$T/index.html"
}
check "dashboard links the job's log (within a re-render)" wait_for 3 dashboard_links_job
check "dashboard is HTML" grep -qi '<html' "$T/index.html"
check "dashboard names rfarm" grep -q rfarm "$T/index.html"
eq "dashboard content type" "text/html; charset=utf-8" \
  "$(curl -s -o /dev/null -w '%{content_type}' "$RFARM_URL/")"

stop_pid INT "$UP_PID" 10
eq "rfarm up exits 0 on SIGINT within 10 s" 0 "$STOP_STATUS"
check "nothing listens any more" eval '! curl -s -m 2 "$RFARM_URL/alive" -o /dev/null'
check "no sanitizer report" no_sanitizer_reports "$T/up.log"
finish
