#!/usr/bin/env bash
# Credentials that expire: an enrolment made with --expires is cut within
# a second of its end and refused afterwards (403, saying it expired);
# an API token made with --expires is 401 afterwards, saying so; rfarm
# buildlets shows the expired enrolment; enrolling again renews it.
. "$(dirname "$0")/lib.sh"

start_coord
"$RFARM" enroll short1 --host-type linux-amd64 --expires 4s --data "$DATA" \
  >"$T/enroll.out" 2>"$T/enroll.err"
eq "enroll --expires exits 0" 0 $?
check "it says when the token expires" grep -q "it expires at 20" "$T/enroll.err"
(umask 077; tail -1 "$T/enroll.out" >"$T/short1.token")
"$RFARM" buildlet --coordinator "$RFARM_URL" --token-file "$T/short1.token" \
  --workdir "$T/w1" >>"$T/buildlet-short1.log" 2>&1 &
PIDS+=("$!")
check "it connects while the token is good" wait_for 10 buildlet_connected short1
j=$(first_job "$(submit --platform linux/amd64 -- echo before-expiry)")
eq "and builds" passed "$(wait_job "$j" 30)"
check "it is cut once the token expires" \
  wait_for 10 sh -c '! curl -sf "$RFARM_URL/api/v1/buildlets" | jq -e ".buildlets[] | select(.name==\"short1\" and .connected)" >/dev/null'
check "the coordinator says why" \
  grep -q "credential was revoked or expired" "$T/coordinator.log"
check "and refuses it afterwards, saying it expired" \
  wait_for 20 grep -q "HTTP 403: this buildlet's token expired at" "$T/buildlet-short1.log"
eq "rfarm buildlets shows it expired" expired \
  "$("$RFARM" buildlets | awk '$1=="short1"{print $6}')"
check "the JSON says when" test "$(api buildlets | jq -r '.buildlets[] | select(.name=="short1") | .expires')" != null

"$RFARM" enroll short1 --host-type linux-amd64 --data "$DATA" >"$T/enroll2.out" 2>/dev/null
(umask 077; tail -1 "$T/enroll2.out" >"$T/short1.token")
check "enrolled again, it comes back" wait_for 40 buildlet_connected short1

# API tokens
tok=$("$RFARM" token create --scope read --name brief --expires 2s --data "$DATA" 2>"$T/token.err")
check "token create --expires says when" grep -q "it expires at 20" "$T/token.err"
eq "the token works at first" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "$RFARM_URL/api/v1/builds")"
sleep 2.5
code=$(curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $tok" "$RFARM_URL/api/v1/builds")
eq "after it expires it is 401" 401 "$code"
check "saying it expired ($(body_field .error.message))" \
  grep -q "this API token expired at" <<<"$(body_field .error.message)"
eq "the API stays closed to anonymous users" 401 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$RFARM_URL/api/v1/builds")"
"$RFARM" token create --scope read --expires 0s --data "$DATA" >/dev/null 2>"$T/bad.err"
eq "a zero --expires is a usage error" 2 $?
finish
