#!/usr/bin/env bash
# Per-buildlet credentials: rfarm enroll gives one buildlet its own token;
# its host type and labels come from the enrolment, not from its claims; a
# wrong secret or another buildlet's name is refused; rfarm revoke cuts a
# connected buildlet at once and refuses it afterwards.
. "$(dirname "$0")/lib.sh"

start_coord
"$RFARM" enroll big1 --host-type linux-amd64-big --label gpu --data "$DATA" \
  >"$T/enroll.out" 2>"$T/enroll.err"
eq "enroll exits 0" 0 $?
tok=$(tail -1 "$T/enroll.out")
check "the token is NAME.SECRET" grep -qE '^big1\.[0-9a-f]{64}$' <<<"$tok"
secret=${tok#big1.}
check "only a hash is stored" test -z "$(db "select name from enrolments where secret_sha256='$secret'")"
(umask 077; echo "$tok" >"$T/big1.token")

"$RFARM" buildlet --coordinator "$RFARM_URL" --token-file "$T/big1.token" \
  --label fake --workdir "$T/w1" >>"$T/buildlet-big1.log" 2>&1 &
B1=$!
PIDS+=("$B1")
check "it connects under the enrolled name" wait_for 20 buildlet_connected big1
eq "its host type is the enrolment's" linux-amd64-big \
  "$(api buildlets | jq -r '.buildlets[] | select(.name=="big1") | .host_type')"
eq "its labels are the enrolment's, not its claims" '["gpu"]' \
  "$(api buildlets | jq -c '.buildlets[] | select(.name=="big1") | .labels')"
j=$(first_job "$(submit --platform linux/amd64 --label gpu -- echo on-gpu)")
eq "a gpu job runs there" "passed big1" "$(wait_job "$j" 30) $(job_field "$j" buildlet)"
j=$(first_job "$(submit --platform linux/amd64 --label fake -- echo never)")
sleep 1
eq "a label it only claimed gets nothing" queued "$(job_field "$j" state)"

(umask 077; echo "big1.$(printf '0%.0s' $(seq 1 64))" >"$T/bad.token")
"$RFARM" buildlet --coordinator "$RFARM_URL" --token-file "$T/bad.token" \
  --workdir "$T/w2" >>"$T/buildlet-bad.log" 2>&1 &
PIDS+=("$!")
check "a wrong secret is refused (403)" wait_for 20 grep -q "HTTP 403" "$T/buildlet-bad.log"
check "and the coordinator says why" grep -q "wrong secret for buildlet big1" "$T/coordinator.log"

"$RFARM" buildlet --coordinator "$RFARM_URL" --token-file "$T/big1.token" --name other \
  --workdir "$T/w3" >>"$T/buildlet-other.log" 2>&1 &
PIDS+=("$!")
check "another name with big1's token is turned away" \
  wait_for 20 grep -q "this credential is for buildlet big1" "$T/buildlet-other.log"
check "big1 itself is still connected" buildlet_connected big1

"$RFARM" revoke big1 --data "$DATA" 2>"$T/revoke.err"
eq "revoke exits 0" 0 $?
check "a revoked buildlet is cut within a few seconds" wait_for 5 eval '! buildlet_connected big1'
check "and refused when it comes back" wait_for 20 grep -q "HTTP 403" "$T/buildlet-big1.log"
check "the coordinator says it was revoked" grep -q "buildlet big1 was revoked" "$T/coordinator.log"
"$RFARM" revoke nosuch --data "$DATA" >/dev/null 2>&1
eq "revoking an unknown name exits 1" 1 $?
finish
