#!/usr/bin/env bash
# Bad input is refused with a clear error and hurts nobody else: malformed
# API requests get the right status and error code, the CLI refuses bad
# arguments before sending anything, and hostile WebSocket peers (wrong
# key, garbage, oversized or out-of-order messages) are closed with a
# reason while the coordinator keeps serving real buildlets.
. "$(dirname "$0")/lib.sh"

start_coord

# ---- HTTP API: table of request -> status and error code ----
# METHOD|PATH|BODY|STATUS|CODE ("-" for no body / no code check)
while IFS='|' read -r method path body want_status want_code; do
  [ -z "$method" ] && continue
  if [ "$body" = - ]; then
    st=$(http_status "$method" "$path")
  else
    st=$(http_status "$method" "$path" -H 'Content-Type: application/json' \
      --data-binary "$body")
  fi
  eq "$method $path $body: status" "$want_status" "$st"
  if [ "$want_code" != - ]; then
    eq "$method $path $body: error code" "$want_code" "$(body_field .error.code)"
    check "$method $path $body: error has a message" \
      test -n "$(body_field '.error.message // empty')"
  fi
done <<'EOF'
POST|/api/v1/builds|{"platforms": ["linux/amd64"], "command": ["true"|400|bad_json
POST|/api/v1/builds|not json at all|400|bad_json
POST|/api/v1/builds|{"platforms":["linux"],"command":["true"]}|400|bad_platform
POST|/api/v1/builds|{"platforms":["linux/amd64/x"],"command":["true"]}|400|bad_platform
POST|/api/v1/builds|{"platforms":[],"command":["true"]}|400|bad_platform
POST|/api/v1/builds|{"platforms":["linux/amd64"],"command":[]}|400|empty_command
POST|/api/v1/builds|{"platforms":["linux/amd64"]}|400|empty_command
POST|/api/v1/builds|{"platforms":["linux/amd64"],"script":""}|400|empty_command
POST|/api/v1/builds|{"platforms":["linux/amd64"],"command":["true"],"colour":"red"}|400|unknown_field
GET|/api/v1/builds/999999|-|404|not_found
GET|/api/v1/jobs/999999|-|404|not_found
GET|/api/v1/jobs/999999/log|-|404|not_found
GET|/api/v1/nope|-|404|not_found
DELETE|/api/v1/builds|-|405|method_not_allowed
PUT|/api/v1/buildlets|-|405|method_not_allowed
GET|/api/v1/builds?limit=abc|-|400|bad_limit
GET|/api/v1/builds?limit=0|-|400|bad_limit
GET|/api/v1/builds?state=bogus|-|400|bad_state
GET|/api/v1/builds?before=abc|-|400|bad_before
GET|/api/v1/builds?platform=linux|-|400|bad_platform
GET|/api/v1/jobs/1/log?stream=foo|-|400|bad_stream
GET|/api/v1/jobs/0|-|404|not_found
EOF

# The message names the problem.
http_status POST /api/v1/builds --data-binary '{"platforms":["linux"],"command":["true"]}' >/dev/null
check "bad platform message quotes it" grep -q '\\"linux\\"' "$T/body"
http_status POST /api/v1/builds --data-binary '{"platforms":["linux/amd64"],"command":["true"],"colour":1}' >/dev/null
check "unknown field message names it" grep -q colour "$T/body"

# The dashboard's static files do not reach outside their directory.
for p in '/../../../../etc/passwd' '/%2e%2e/%2e%2e/%2e%2e/etc/passwd' '/..%2f..%2f..%2fetc/passwd'; do
  eq "GET $p is not found" 404 "$(http_status GET "$p" --path-as-is)"
  check "GET $p serves no system file" eval '! grep -q "root:" "$T/body"'
done

# A body over the 1 MiB limit: 413 without reading it all, and the
# connection is not left half-read.
head -c 2000000 /dev/zero | tr '\0' 'x' >"$T/big"
eq "2 MB body is refused" 413 "$(http_status POST /api/v1/builds --data-binary @"$T/big")"
eq "2 MB body: too_large" too_large "$(body_field .error.code)"
check "alive after the big body" curl -sf -m 5 "$RFARM_URL/alive" -o /dev/null

# A chunked request body (no Content-Length) is answered 411, not left
# hanging.
st=$(http_status POST /api/v1/builds -m 5 -H 'Expect:' -H 'Transfer-Encoding: chunked' \
  --data-binary '{"platforms":["linux/amd64"],"command":["true"]}')
eq "chunked body gets 411" 411 "$st"
check "alive after the chunked body" curl -sf -m 5 "$RFARM_URL/alive" -o /dev/null

eq "no build was queued by the bad requests" 0 "$(api builds | jq '.builds | length')"

# ---- CLI: refused before anything is sent ----
out=$("$RFARM" submit --platform linux -- true 2>&1)
eq "submit --platform linux exits 2" 2 $?
check "submit says what is wrong ($out)" grep -qi "platform" <<<"$out"
check "submit names the bad value" grep -q "linux" <<<"$out"
"$RFARM" submit --platform linux/amd64 >/dev/null 2>&1
eq "submit without a command exits 2" 2 $?
eq "nothing queued by the CLI" 0 "$(api builds | jq '.builds | length')"

# ---- WebSocket: refused upgrades ----
KEY=$(cat "$(keyfile linux-amd64)")
coord_alive() {
  kill -0 "$COORD_PID" 2>/dev/null && curl -sf -m 5 "$RFARM_URL/alive" -o /dev/null
}
refused() { # refused DESCRIPTION PEER-ARGS...: the upgrade is not accepted
  local what=$1 out
  shift
  out=$(peer --scenario hello --wait 1 "$@")
  check "$what: refused ($(tr '\n' ' ' <<<"$out"))" \
    test -n "$out" -a "$(grep -c '^status 101$' <<<"$out")" = 0
  check "$what: no welcome" test "$(grep -c '^message' <<<"$out")" = 0
  check "$what: coordinator still serves" coord_alive
}
refused "wrong key" --key "0123$KEY" --name wk
# A wrong key is an HTTP refusal the buildlet can log, not a silent close.
st=$(peer --scenario hello --wait 1 --key "0123$KEY" --name wk | head -1)
eq "wrong key gets 403" "status 403" "$st"
# Open mode (loopback, nobody enrolled) would let a keyless peer in;
# one enrolment ends it (test_guard.sh covers open mode itself).
"$RFARM" enroll someone --host-type linux-amd64 --data "$DATA" >/dev/null 2>&1
refused "no key" --key "" --name nk
refused "key for another host type" --key "$KEY" --host-type linux-arm64 --name ht
refused "wrong path" --key "$KEY" --path /nope --name wp
refused "bad host type header" --key "$KEY" --host-type 'bad type' --name bh

# ---- WebSocket: hostile peers after the upgrade ----
# SCENARIO|CLOSE CODE (regex)|KEYWORD (regex, in the reason)
while IFS='|' read -r sc code word; do
  out=$(peer --key "$KEY" --name "hostile-$sc" --scenario "$sc")
  line=$(grep '^close ' <<<"$out" | head -1)
  check "$sc: upgrade accepted" grep -qx 'status 101' <<<"$out"
  check "$sc: closed with code $code ($line)" grep -qE "^close ($code) " <<<"$line"
  check "$sc: reason mentions /$word/" grep -qiE "$word" <<<"$line"
  check "$sc: never welcomed" test "$(grep -c '^message welcome' <<<"$out")" = 0
  check "$sc: coordinator still serves" coord_alive
done <<'EOF'
garbage|1007|bad message
text|1003|text frames
oversize|1009|too large
hugemap|1007|400000000.*(limit|large)
nohello|1008|expected hello
badhello|1007|capacity
EOF

# A peer that said hello properly and then sends garbage.
out=$(peer --key "$KEY" --name hg --scenario hello-garbage)
check "hello-garbage: welcomed first" grep -qx 'message welcome' <<<"$out"
check "hello-garbage: then closed 1007 bad message" grep -qE '^close 1007 bad message' <<<"$out"
check "hello-garbage: coordinator still serves" coord_alive
check "hello-garbage: listed as disconnected" \
  wait_for 5 eval "api buildlets | jq -e '.buildlets[] | select(.name == \"hg\" and (.connected | not))' >/dev/null"

# ---- the farm still works for a well-behaved buildlet ----
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"
b=$(submit --platform linux/amd64 --script 'echo still-working')
j=$(first_job "$b")
eq "a real job passes after all that" passed "$(wait_job "$j" 30)"
eq "its log" "still-working" "$(api "jobs/$j/log")"
eq "it ran on the real buildlet" b1 "$(job_field "$j" buildlet)"
check "coordinator process alive" kill -0 "$COORD_PID"

# Stopping it cleanly shows no sanitizer report (in a sanitized build).
stop_pid TERM "$BL_PID" 10
stop_pid TERM "$COORD_PID" 15
eq "coordinator exits 0 on SIGTERM" 0 "$STOP_STATUS"
check "no sanitizer report from the coordinator" no_sanitizer_reports "$T/coordinator.log"
finish
