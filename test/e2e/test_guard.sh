#!/usr/bin/env bash
# What stands before a request is read, and open mode:
# - headers over --max-header-bytes get 431 with a JSON error;
# - connections over --max-conns-per-addr from one address are answered
#   503 and closed, other addresses are not affected, and the count comes
#   back down as connections close;
# - failed buildlet handshakes are logged with the peer address and, past
#   --max-auth-failures, that address gets 429 + Retry-After even with a
#   good key, while a buildlet from another address still joins;
# - refusals tell the buildlet why (x-rfarm-reason) and it logs it;
# - on loopback with nobody enrolled a buildlet joins with no token; the
#   first enrolment ends that; rfarm buildlets shows each one's credential
#   and an enrolled buildlet that never connected;
# - the CLI refuses plain http off loopback unless told --insecure.
. "$(dirname "$0")/lib.sh"

COORD_ARGS=(--max-conns-per-addr 4 --max-auth-failures 3)
start_coord
PORT=${RFARM_URL##*:}

# ---- header size ----
big=$(head -c 9000 /dev/zero | tr '\0' a)
code=$(curl -s -o "$T/body" -w '%{http_code}' -H "Cookie: $big" "$RFARM_URL/api/v1/builds")
eq "headers over the cap get 431" 431 "$code"
eq "with a JSON error" headers_too_large "$(body_field .error.code)"
check "that names the limit" grep -q "limit of 8192" "$T/body"
huge=$(head -c 40000 /dev/zero | tr '\0' a)
curl -s -o /dev/null -H "Cookie: $huge" "$RFARM_URL/api/v1/builds"
eq "headers past the parser's buffer only close that connection" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$RFARM_URL/alive")"

# ---- connections per address ----
hold() { # hold FD: open an idle connection on descriptor FD
  eval "exec $1<>/dev/tcp/127.0.0.1/$PORT"
}
for fd in 10 11 12 13; do hold $fd; done
sleep 0.3
code=$(curl -s -o "$T/body" -w '%{http_code}' "$RFARM_URL/alive")
eq "a fifth connection from the same address is refused with 503" 503 "$code"
eq "saying why" too_many_connections "$(body_field .error.code)"
check "the coordinator logs it with the address" \
  grep -q "refusing connections from 127.0.0.1" "$T/coordinator.log"
eq "another loopback address is not affected" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 "$RFARM_URL/alive")"
for fd in 10 11 12 13; do eval "exec $fd>&-"; done
check "closed connections are uncounted" \
  wait_for 5 test "$(curl -s -o /dev/null -w '%{http_code}' "$RFARM_URL/alive")" = 200
for i in $(seq 1 12); do curl -s -o /dev/null "$RFARM_URL/alive"; done
eq "and many short requests in a row never hit the cap" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$RFARM_URL/alive")"

# ---- open mode: a buildlet with no token joins on loopback ----
"$RFARM" buildlet --coordinator "$RFARM_URL" --name open1 --workdir "$T/w-open1" \
  >>"$T/buildlet-open1.log" 2>&1 &
OPEN1=$!
PIDS+=("$OPEN1")
check "with nobody enrolled, a buildlet joins with no token" wait_for 20 buildlet_connected open1
eq "and is listed as open" open \
  "$(api buildlets | jq -r '.buildlets[] | select(.name=="open1") | .credential')"
j=$(first_job "$(submit --platform "$(api buildlets | jq -r '.buildlets[0].platforms[0]')" -- echo open-ok)")
eq "and builds" passed "$(wait_job "$j" 30)"

# ---- failed handshakes from one address ----
upgrade() { # upgrade IFACE TOKEN: a buildlet upgrade; prints status
  curl -s -o /dev/null -D "$T/hdrs" -w '%{http_code}' --interface "$1" \
    -H "Connection: Upgrade" -H "Upgrade: websocket" \
    -H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" \
    -H "Sec-WebSocket-Protocol: rfarm.v1" -H "x-rfarm-host-type: linux-amd64" \
    -H "Authorization: Bearer $2" --max-time 5 "$RFARM_URL/buildlet"
}
bad=$(printf 'f%.0s' $(seq 1 64))
for i in 1 2 3; do
  eq "bad key $i from 127.0.0.3 is 403" 403 "$(upgrade 127.0.0.3 "$bad")"
done
check "the refusal says why in x-rfarm-reason" grep -qi "x-rfarm-reason: wrong key" "$T/hdrs"
check "the coordinator logs the address" grep -q "refused buildlet from 127.0.0.3" "$T/coordinator.log"
check "and that it hit the limit" grep -q "127.0.0.3 failed 3 buildlet handshakes" "$T/coordinator.log"
good=$(cat "$(keyfile linux-amd64)")
eq "then even a good key from 127.0.0.3 waits (429)" 429 "$(upgrade 127.0.0.3 "$good")"
check "told when to come back" grep -qi "^retry-after: [1-9]" "$T/hdrs"
start_buildlet keyed1
check "a buildlet from 127.0.0.1 still joins" wait_for 20 buildlet_connected keyed1
eq "listed as holding a key" key \
  "$(api buildlets | jq -r '.buildlets[] | select(.name=="keyed1") | .credential')"

# ---- the first enrolment ends open mode ----
"$RFARM" enroll never1 --host-type linux-arm64 --data "$DATA" >/dev/null 2>&1
"$RFARM" buildlet --coordinator "$RFARM_URL" --name open2 --workdir "$T/w-open2" \
  >>"$T/buildlet-open2.log" 2>&1 &
PIDS+=("$!")
check "after an enrolment a buildlet with no token is refused (401)" \
  wait_for 20 grep -q "HTTP 401" "$T/buildlet-open2.log"
check "and it logs the coordinator's reason" \
  grep -q "no buildlet token" "$T/buildlet-open2.log"
"$RFARM" buildlets >"$T/buildlets.out"
check "rfarm buildlets shows the credential column" grep -q CREDENTIAL "$T/buildlets.out"
check "and the enrolled buildlet that never connected" \
  grep -qE '^never1 +linux-arm64 .* no +enrolled' "$T/buildlets.out"
"$RFARM" revoke never1 --data "$DATA" >/dev/null 2>&1
check "a revoked enrolment says so" \
  wait_for 5 sh -c '"$RFARM" buildlets | grep -qE "^never1 .* revoked"'

# ---- the CLI and plain http off loopback ----
RFARM_URL=http://0.0.0.0:$PORT "$RFARM" list >/dev/null 2>"$T/cli.err"
eq "the CLI refuses plain http to a non-loopback address" 1 "$?"
check "saying why and how to override" grep -q "refusing plain http.*--insecure" "$T/cli.err"
RFARM_URL=http://0.0.0.0:$PORT "$RFARM" --insecure list >/dev/null 2>"$T/cli.err"
eq "rfarm --insecure goes ahead" 0 "$?"

check "the coordinator is still serving" curl -sf -o /dev/null "$RFARM_URL/alive"
finish
