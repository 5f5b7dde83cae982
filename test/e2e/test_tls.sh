#!/usr/bin/env bash
# TLS: rfarm certgen makes a self-signed pair; the coordinator serves HTTPS
# and WSS with it; a buildlet and the CLI that trust it (--ca, RFARM_CA)
# work through every path (session, source download, artifact upload,
# rfarm get); one that does not is refused; plain http to a non-loopback
# coordinator is refused before anything is sent.
. "$(dirname "$0")/lib.sh"

"$RFARM" certgen --host 127.0.0.1 --out "$T" >"$T/fp" 2>"$T/certgen.err"
eq "certgen exits 0" 0 $?
check "it prints a sha256 fingerprint" grep -qE '^sha256:[0-9a-f]{64}$' "$T/fp"
eq "the fingerprint is the certificate's" \
  "$(openssl x509 -in "$T/127.0.0.1.crt" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)" \
  "$(cut -c8- "$T/fp")"
eq "the key is private" 600 "$(stat -c %a "$T/127.0.0.1.key")"

COORD_ARGS=(--tls-cert "$T/127.0.0.1.crt" --tls-key "$T/127.0.0.1.key")
start_coord_tls() {
  DATA=$T/data
  "$RFARM" coordinator --listen 127.0.0.1:0 --data "$DATA" "${COORD_ARGS[@]}" \
    >>"$T/coordinator.log" 2>&1 &
  COORD_PID=$!
  PIDS+=("$COORD_PID")
  wait_for 20 test -s "$DATA/url" || { fail "coordinator did not start"; finish; }
  RFARM_URL=$(cat "$DATA/url")
  export RFARM_URL
}
start_coord_tls
check "the URL is https" grep -q '^https://' <<<"$RFARM_URL"
export RFARM_CA=$T/127.0.0.1.crt
check "curl trusting the certificate gets in" curl -sf --cacert "$RFARM_CA" "$RFARM_URL/alive" -o /dev/null
curl -sf "$RFARM_URL/alive" -o /dev/null
check "curl not trusting it is refused" test $? -ne 0

start_buildlet b1 linux-amd64 --ca "$RFARM_CA"
buildlet_connected_tls() {
  curl -s --cacert "$T/127.0.0.1.crt" "$RFARM_URL/api/v1/buildlets" |
    jq -e --arg n "$1" '.buildlets[] | select(.name == $n and .connected)' >/dev/null
}
check "a buildlet with --ca connects over wss" wait_for 20 buildlet_connected_tls b1

mkdir -p "$T/src" && echo 'echo secure > out.txt' >"$T/src/build.sh"
b=$("$RFARM" submit --platform linux/amd64 --src "$T/src" --artifact out.txt --wait \
  -- sh build.sh 2>"$T/submit.err")
eq "a build with a source and an artifact passes over TLS" 0 $?
j=$(curl -s --cacert "$RFARM_CA" "$RFARM_URL/api/v1/builds/$b" | jq '.jobs[0].id')
(cd "$T" && "$RFARM" get "$j" -o got >/dev/null)
eq "rfarm get over TLS" secure "$(cat "$T/got/out.txt")"

start_buildlet b2 linux-amd64
check "a buildlet that does not trust the certificate says why" \
  wait_for 20 grep -qiE 'certificate|verify|ssl|tls' "$T/buildlet-b2.log"
check "and stays out" eval '! buildlet_connected_tls b2'

# Pins: trust the certificate by the fingerprint certgen printed.
stop_pid TERM "$BL_PID" 10
start_buildlet b3 linux-amd64 --pin "$(cat "$T/fp")"
check "a buildlet with the right --pin connects" wait_for 20 buildlet_connected_tls b3
unset RFARM_CA
export RFARM_PIN=$(cat "$T/fp")
echo 'echo pinned > out.txt' >"$T/src/build.sh"
b=$("$RFARM" submit --platform linux/amd64 --src "$T/src" --artifact out.txt --wait \
  -- sh build.sh 2>"$T/submit2.err")
eq "the CLI and the buildlet work by pin alone" 0 $?
j=$(curl -s --cacert "$T/127.0.0.1.crt" "$RFARM_URL/api/v1/builds/$b" | jq '.jobs[0].id')
(cd "$T" && "$RFARM" get "$j" -o got2 >/dev/null)
eq "rfarm get by pin" pinned "$(cat "$T/got2/out.txt")"
export RFARM_PIN=sha256:$(printf '0%.0s' $(seq 1 64))
"$RFARM" list >/dev/null 2>&1
check "the CLI with a wrong pin is refused" test $? -ne 0
unset RFARM_PIN
start_buildlet b4 linux-amd64 --pin "sha256:$(printf 'a%.0s' $(seq 1 64))"
check "a buildlet with a wrong pin says so" \
  wait_for 20 grep -q "does not match --pin" "$T/buildlet-b4.log"
check "and stays out" eval '! buildlet_connected_tls b4'

out=$("$RFARM" buildlet --coordinator http://192.0.2.7:8080 --name x \
  --token-file "$(keyfile linux-amd64)" --workdir "$T/wx" 2>&1)
check "plain http to a non-loopback coordinator is refused" test $? -ne 0
check "naming --insecure ($out)" grep -q -- "--insecure" <<<"$out"
finish
