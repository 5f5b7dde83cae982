#!/usr/bin/env bash
# API tokens: once one exists, every route but /alive and /ready needs a
# token of a strong enough scope (read < submit < admin): missing or
# unknown is 401, weak is 403; --public-read opens reads; the buildlet's
# attempt token still opens its source and its uploads; revoking works.
. "$(dirname "$0")/lib.sh"

start_coord
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
eq "without tokens the API is open" 200 "$(code "$RFARM_URL/api/v1/builds")"
# Open mode is for loopback only: refused at start, before any socket.
out=$("$RFARM" coordinator --listen 0.0.0.0:0 --data "$T/fresh" 2>&1)
check "an open API off loopback is refused at start" test $? -ne 0
check "saying how to fix it ($out)" grep -q "rfarm token create" <<<"$out"

mk() { "$RFARM" token create --scope "$1" --name "$1-t" --data "$DATA" 2>/dev/null | tail -1; }
READ=$(mk read); SUBMIT=$(mk submit); ADMIN=$(mk admin)
check "tokens look like rfarm_SCOPE_hex" grep -qE '^rfarm_read_[0-9a-f]{64}$' <<<"$READ"
check "only hashes are stored" test -z "$(db "select name from api_tokens where secret_sha256='$READ'")"
auth() { echo "Authorization: Bearer $1"; }

eq "now a read without a token is 401" 401 "$(code "$RFARM_URL/api/v1/builds")"
eq "with a JSON error" unauthorized "$(jq -r .error.code "$T/body")"
eq "an unknown token is 401" 401 "$(code -H "$(auth rfarm_read_nope)" "$RFARM_URL/api/v1/builds")"
eq "a read token reads" 200 "$(code -H "$(auth "$READ")" "$RFARM_URL/api/v1/builds")"
eq "the dashboard needs read too" 401 "$(code "$RFARM_URL/")"
eq "/alive stays open" 200 "$(code "$RFARM_URL/alive")"
body='{"platforms":["linux/amd64"],"command":["true"]}'
eq "a read token cannot submit (403)" 403 \
  "$(code -H "$(auth "$READ")" -X POST -d "$body" "$RFARM_URL/api/v1/builds")"
check "and is told which scope it needs" grep -q "needs the submit scope" "$T/body"

# The CLI with a submit token: a build with a source and an artifact (the
# buildlet fetches and uploads with its attempt token).
mkdir -p "$T/src" && echo 'echo tok > out.txt' >"$T/src/build.sh"
b=$(RFARM_TOKEN=$SUBMIT "$RFARM" submit --platform linux/amd64 --src "$T/src" \
  --artifact out.txt --wait -- sh build.sh 2>"$T/submit.err")
eq "a submit token runs a build with a source and an artifact" 0 $?
RFARM_TOKEN=$SUBMIT "$RFARM" cancel "$b" >/dev/null 2>"$T/cancel.err"
eq "a submit token cannot cancel" 1 $?
check "because cancel needs admin" grep -q "needs the admin scope" "$T/cancel.err"
RFARM_TOKEN=$ADMIN "$RFARM" cancel "$b" >/dev/null 2>&1
eq "an admin token can" 0 $?
echo x >"$T/x"
X=$(sha256sum "$T/x" | cut -c1-64)
eq "an anonymous upload is 401" 401 "$(code -X PUT --data-binary @"$T/x" "$RFARM_URL/api/v1/blobs/$X")"
eq "a submit token uploads" 201 \
  "$(code -H "$(auth "$SUBMIT")" -X PUT --data-binary @"$T/x" "$RFARM_URL/api/v1/blobs/$X")"

"$RFARM" token revoke read-t --data "$DATA" 2>/dev/null
eq "a revoked token is 401" 401 "$(code -H "$(auth "$READ")" "$RFARM_URL/api/v1/builds")"

# --public-read opens reads, not writes.
stop_pid TERM "$COORD_PID" 10
forget_pid "$COORD_PID"
COORD_ARGS=(--public-read)
start_coord "$DATA"
eq "public reads: the API" 200 "$(code "$RFARM_URL/api/v1/builds")"
eq "public reads: the dashboard" 200 "$(code "$RFARM_URL/")"
eq "but not writes" 401 "$(code -X POST -d "$body" "$RFARM_URL/api/v1/builds")"
finish
