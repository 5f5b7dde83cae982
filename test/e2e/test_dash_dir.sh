#!/usr/bin/env bash
# --dashboard-dir: the pages go where the operator says (a tmpfs, a web
# server's root), the coordinator serves them from there, and a restart
# on an empty directory renders every page again from the database.
. "$(dirname "$0")/lib.sh"

PAGES=$T/pages
COORD_ARGS=(--dashboard-dir "$PAGES")
start_coord
start_connected b1
b=$(submit --platform "$PLAT" --no-cache --script 'echo from-the-job')
j=$(first_job "$b")
eq "the job passed" passed "$(wait_job "$j" 30)"

page_written() { grep -q from-the-job "$PAGES/jobs/$j.html" 2>/dev/null; }
wait_for 10 page_written || fail "the job's page is in --dashboard-dir"
check "the index is there" test -s "$PAGES/index.html"
check "nothing under the data directory" test ! -e "$DATA/dashboard"
check "the coordinator serves the page from there" \
  sh -c "curl -sf '$RFARM_URL/jobs/$j.html' | grep -q from-the-job"

PORT=${RFARM_URL##*:}
stop_pid TERM "$COORD_PID"
rm -rf "$PAGES"
start_coord "$DATA" "127.0.0.1:$PORT"
wait_for 10 page_written || fail "a restart on an empty directory renders the job's page again"
check "and the build's" test -s "$PAGES/builds/$b.html"
finish
