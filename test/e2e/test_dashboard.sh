#!/usr/bin/env bash
# The dashboard as an operator sees it, served by a real coordinator with
# a real buildlet: a passing and a failing build (submitted with an API
# token, so the requester shows), the matrix cells, the build page, the
# job page with the failing line, the raw .log, the queue with its reason,
# the failures with the log's end, the buildlets; the CSP header on every
# file; pages that follow a job within seconds; and `rfarm dashboard` on a
# copy of the database writing the same set of pages.
. "$(dirname "$0")/lib.sh"

COORD_ARGS=(--public-read)
start_coord
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"
RFARM_TOKEN=$("$RFARM" token create --scope submit --name alice --data "$DATA" 2>/dev/null | tail -1)
export RFARM_TOKEN

page() { curl -s -m 10 "$RFARM_URL/$1"; }
page_has() { page "$1" | grep -qF -- "$2"; } # page_has PATH TEXT

ok=$(submit --platform linux/amd64 --env 'GREETING=<hi>&' \
  --script 'echo all good; echo a warning >&2')
bad=$(submit --platform linux/amd64 \
  --script 'echo step one; echo "FAILING LINE <b>&"; exit 3')
okj=$(first_job "$ok"); badj=$(first_job "$bad")
eq "the passing build passes" passed "$(wait_job "$okj")"
eq "the failing build fails" failed "$(wait_job "$badj")"

# Cells: <a class="cell s-STATE" href="jobs/ID.html" data-job="ID" ...>
cell() { echo "href=\"jobs/$1.html\" data-job=\"$1\" data-state=\"$2\""; }
check "the index shows the passed cell" wait_for 5 page_has / "$(cell "$okj" passed)"
check "and the failed one" wait_for 5 page_has / "$(cell "$badj" failed)"
check "index.json lists the build" wait_for 5 page_has index.json "\"id\":$bad"

b=$(page "builds/$bad.html")
check "the build page names the requester" grep -qF alice <<<"$b"
check "and the command, escaped" grep -qF 'echo &quot;FAILING LINE &lt;b&gt;&amp;&quot;' <<<"$b"
check "and links the job" grep -qF "jobs/$badj.html" <<<"$b"
check "env on the build page, escaped" page_has "builds/$ok.html" 'GREETING=&lt;hi&gt;&amp;'
check "builds/ID.json is there" page_has "builds/$ok.json" '"requester"'

j=$(page "jobs/$badj.html")
check "the job page has the failing line, escaped" grep -qF 'FAILING LINE &lt;b&gt;&amp;' <<<"$j"
check "with line anchors" grep -qF 'id="L2"' <<<"$j"
check "stderr is told apart" page_has "jobs/$okj.html" 'class="err"'
eq "the raw log is the log" "$(printf 'step one\nFAILING LINE <b>&\n')" "$(page "jobs/$badj.log")"

hdr=$(curl -s -m 10 -D - -o /dev/null "$RFARM_URL/jobs/$badj.log")
check "the raw log is text/plain" grep -qi '^content-type: text/plain; charset=utf-8' <<<"$hdr"
for f in / "jobs/$badj.html" style.css live.js index.json; do
  hdr=$(curl -s -m 10 -D - -o /dev/null "$RFARM_URL/$f")
  check "$f has the CSP" grep -qiF "content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" <<<"$hdr"
  check "$f has nosniff" grep -qi '^x-content-type-options: nosniff' <<<"$hdr"
done
check "style.css is text/css" grep -qi '^content-type: text/css' \
  <<<"$(curl -s -m 10 -D - -o /dev/null "$RFARM_URL/style.css")"

check "failures.html has the failed job" wait_for 5 page_has failures.html "jobs/$badj.html"
check "with the end of its log" page_has failures.html 'FAILING LINE &lt;b&gt;&amp;'
check "buildlets.html has b1" page_has buildlets.html b1

# A platform no buildlet serves waits, and says why.
q=$(submit --platform plan9/amd64 -- true); qj=$(first_job "$q")
wait_for 10 test -n "$(job_field "$qj" reason)"
reason=$(job_field "$qj" reason)
check "queue.html lists the waiting job" wait_for 5 page_has queue.html "jobs/$qj.html"
check "with its reason ($reason)" page_has queue.html "$reason"
check "the reason is the scheduler's" grep -q "waiting for a" <<<"$reason"

# Pages follow a job: its log while it runs, its cell once it ends.
live=$(submit --platform linux/amd64 --script 'echo first-line; sleep 3; echo second-line')
lj=$(first_job "$live")
check "the running job's page shows its first line" wait_for 10 page_has "jobs/$lj.html" first-line
check "its cell says running" page_has / "$(cell "$lj" running)"
eq "the live job passes" passed "$(wait_job "$lj")"
check "its cell says passed within 3 s" wait_for 3 page_has / "$(cell "$lj" passed)"
check "its page has the last line" wait_for 3 page_has "jobs/$lj.html" second-line
check "a live.js script is on the job page" page_has "jobs/$lj.html" 'live.js'

# rfarm dashboard on a copy of the database writes the same pages.
mkdir -p "$T/copy"
sqlite3 "$DATA/rfarm.db" ".backup '$T/copy/rfarm.db'"
out=$("$RFARM" dashboard --data "$T/copy" --out "$T/pages" 2>"$T/dashboard.log")
eq "rfarm dashboard exits 0" 0 $?
check "and says how many pages in how long ($out)" grep -qE '^[0-9]+ pages in .* in [0-9.]+ s$' <<<"$out"
list() { (cd "$1" && find . -type f ! -name '.*' | sort); }
sleep 1 # the coordinator's slices (the sweep, the start's backfill) end
eq "the same set of pages as the coordinator's" "$(list "$DATA/dashboard")" "$(list "$T/pages")"
check "with the same cells" grep -qF "$(cell "$badj" failed)" "$T/pages/index.html"
"$RFARM" dashboard --data "$T/nothing" >/dev/null 2>"$T/none.err"
eq "no database: exit 1" 1 $?
check "saying so" grep -q "no database" "$T/none.err"
"$RFARM" dashboard --help | grep -q -- "--out DIR"
eq "--help shows the usage" 0 $?

finish
