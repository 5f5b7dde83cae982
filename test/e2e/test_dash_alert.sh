#!/usr/bin/env bash
# The dashboard's host-type alert: a configured host type with fewer
# buildlets connected than it expects shows a banner on the pages people
# keep open (index, buildlets, repos/index.html), naming its owner; the
# banner goes when a buildlet of that type connects and comes back when it
# leaves. `rfarm dashboard` offline shows none (nothing is connected).
# The nav links the repositories page.
. "$(dirname "$0")/lib.sh"

HT=linux-arm64x
CFG=$T/farm.json
cat >"$CFG" <<JSON
{"host_types": [{"name": "$HT", "goos": "linux", "goarch": "amd64", "expected": 1,
                 "owner": "ops@example.org"},
                {"name": "spare", "goos": "linux", "goarch": "amd64", "expected": 0}]}
JSON
BANNER="$HT: 0 of 1 machines connected — owner ops@example.org"

page() { curl -s -m 10 "$RFARM_URL/$1"; }
page_has() { page "$1" | grep -qF -- "$2"; }   # page_has PATH TEXT
page_lacks() { ! page_has "$@"; }
not_connected() { ! buildlet_connected "$1"; }

COORD_ARGS=(--public-read --config "$CFG")
start_coord
for p in index.html buildlets.html repos/index.html queue.html; do
  check "$p shows the banner" wait_for 5 page_has "$p" "$BANNER"
done
check "as an alert" page_has index.html '<div class="alerts" role="alert">'
check "a host type expecting none is no alert" page_lacks index.html 'spare:'
check "the nav links the repositories" page_has index.html '<a href="repos/index.html">Repositories</a>'
check "which says none is watched" page_has repos/index.html 'No repository is watched.'

start_buildlet arm1 "$HT"
PID_ARM=$BL_PID
wait_for 20 buildlet_connected arm1 || fail "arm1 connected"
for p in index.html buildlets.html repos/index.html; do
  check "with a machine connected, $p drops the banner" wait_for 5 page_lacks "$p" 'class="alerts"'
done
stop_pid TERM "$PID_ARM"
wait_for 20 not_connected arm1 || fail "arm1 left"
check "it comes back when the machine leaves" wait_for 10 page_has index.html "$BANNER"

mkdir -p "$T/copy"
sqlite3 "$DATA/rfarm.db" ".backup '$T/copy/rfarm.db'"
"$RFARM" dashboard --data "$T/copy" --out "$T/pages" >/dev/null 2>"$T/dashboard.log"
eq "rfarm dashboard exits 0" 0 $?
no_banner() { ! grep -qF 'class="alerts"' "$1"; }
check "offline there is no banner" no_banner "$T/pages/index.html"
check "and repos/index.html is written" test -f "$T/pages/repos/index.html"

finish
