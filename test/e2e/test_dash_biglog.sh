#!/usr/bin/env bash
# A 20 MB log on the dashboard: while the job runs its page shows the end
# of the log and links the API's log (no raw file is rewritten every
# turn); once it has ended the page is still small, shows the last lines
# with their true numbers and says what it leaves out, and jobs/ID.log is
# the whole log, byte for byte what `rfarm logs` prints. `rfarm dashboard`
# on a copy of the database writes the same.
. "$(dirname "$0")/lib.sh"

start_coord
start_connected b1

FMT='line %010.0f of a long log, padded out with some more text ......'
N=300000 # lines of 67 bytes: 20.1 MB
BOUND=$((4 * 1024 * 1024)) # a page's size, whatever the log's
j=$(first_job "$(submit --platform linux/amd64 --script \
  "seq -f '$FMT' 1 50000; sleep 5; seq -f '$FMT' 50001 $N; echo the end >&2")")
page=$DATA/dashboard/jobs/$j.html raw=$DATA/dashboard/jobs/$j.log

# Running, past the tail: the page has the end so far and links the API.
running_tail() { grep -qF 'data-state="running"' "$page" 2>/dev/null && grep -qF 'id="skipped"' "$page"; }
check "the running job's page shows the end of its log" wait_for 20 running_tail
check "and links the API's log as its raw log" \
  grep -qF "<a href=\"/api/v1/jobs/$j/log\">raw log</a> has them all" "$page"
check "no raw file while it runs" test ! -e "$raw"

eq "the big job passes" passed "$(wait_job "$j" 120)"
passed_page() { grep -qF 'data-state="passed"' "$page" 2>/dev/null; }
check "its page says passed" wait_for 20 passed_page
"$RFARM" logs "$j" >"$T/cli" 2>"$T/cli.err"
eq "rfarm logs exits 0" 0 $?
bytes=$(stat -c %s "$T/cli") lines=$(wc -l <"$T/cli")
eq "the log has every line" $((N + 1)) "$lines"
check "the raw log is there" test -f "$raw"
check "the raw log is byte for byte rfarm logs" cmp "$T/cli" "$raw"
size=$(stat -c %s "$page")
check "the page is small ($size bytes for a $bytes-byte log)" test "$size" -lt "$BOUND"
check "it says what it leaves out and links the raw file" \
  grep -qF "are left out here; the <a href=\"$j.log\">raw log</a> has them all." "$page"
check "data-bytes and data-lines count the whole log" \
  grep -qF "data-bytes=\"$bytes\" data-lines=\"$lines\" data-open=\"0\" class=\"from\">" "$page"
first=$(grep -o 'id="L[0-9]*"' "$page" | head -1 | tr -dc 0-9)
check "the first line shown is not the log's first ($first)" test "${first:-1}" -gt 1
check "and has its true number" \
  grep -qF "data-n=\"$first\"></a>$(sed -n "${first}p" "$T/cli")" "$page"
check "the last line is there" grep -qF "data-n=\"$lines\"></a>the end" "$page"

# rfarm dashboard on a copy of the database writes the same.
mkdir -p "$T/copy"
sqlite3 "$DATA/rfarm.db" ".backup '$T/copy/rfarm.db'"
"$RFARM" dashboard --data "$T/copy" --out "$T/pages" >/dev/null 2>"$T/dashboard.log"
eq "rfarm dashboard exits 0" 0 $?
check "its raw log is byte for byte rfarm logs" cmp "$T/cli" "$T/pages/jobs/$j.log"
check "its page is small" test "$(stat -c %s "$T/pages/jobs/$j.html")" -lt "$BOUND"
check "and starts at the same line" grep -qF "id=\"L$first\"" "$T/pages/jobs/$j.html"
finish
