#!/usr/bin/env bash
# Out-of-order and foreign messages from a hostile buildlet, while a real
# buildlet runs a real job:
# - any message before hello, a second hello, or a coordinator-only
#   message closes that session with 1008 and a reason;
# - started, log and done about a job the peer was never given (the real
#   buildlet's running attempt, a queued job, a job that does not exist)
#   change nothing: log and started are dropped, done is acknowledged and
#   dropped, each with a log line, and the peer stays connected;
# - uploads with a guessed token are refused and store nothing; a done
#   naming an artifact that was never stored ends that attempt in error;
# - the real job passes with its log byte for byte, and its rows in the
#   database are not touched by a foreign done after it ended.
# Both a host-type key and an enrolled credential are tried.
. "$(dirname "$0")/lib.sh"

export RFARM_LOG=debug # the coordinator's "dropped" lines are debug
start_coord
unset RFARM_LOG
KEY=$(cat "$(keyfile linux-amd64)")
"$RFARM" enroll intruder --host-type plan9-mips --data "$DATA" >"$T/enroll.out" 2>&1
INTRUDER=$(tail -1 "$T/enroll.out")
check "enrolled the intruder" grep -qE '^intruder\.[0-9a-f]{64}$' <<<"$INTRUDER"

start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

# fake [WSPEER ARGS...]: a peer with a good host-type key that serves only
# plan9/mips (so it is never given the real jobs), playing --send steps.
fake() {
  peer --key "$KEY" --name fake --platform plan9/mips --scenario script \
    --wait 1 "$@"
}
coord_alive() {
  kill -0 "$COORD_PID" 2>/dev/null && curl -sf -m 5 "$RFARM_URL/alive" -o /dev/null
}
# row JOB: the job's row and its attempts, to compare before and after.
row() {
  db "select * from jobs where id=$1; select * from attempts where job_id=$1;"
}

# The real job waits for a file, so the hostile messages below land while
# it runs; its output is known byte for byte.
J1=$(first_job "$(submit --platform linux/amd64 --script \
  "printf 'alpha\\n'; for i in \$(seq 1 300); do [ -e '$T/release' ] && break; sleep 0.1; done; printf 'omega\\n'")")
check "the real job runs on b1" wait_for 20 eval '[ "$(job_field "$J1" state)" = running ]'
eq "on b1" b1 "$(job_field "$J1" buildlet)"
A1=$(job_field "$J1" attempt)

# ---- before hello: every message closes the session ----
for t in started log done hb; do
  out=$(fake --send "$t" --job "$J1" --attempt "$A1" --data FOREIGN)
  check "$t before hello: closed 1008 'expected hello, got $t' ($(grep '^close' <<<"$out"))" \
    grep -qx "close 1008 expected hello, got $t" <<<"$out"
  check "$t before hello: never welcomed" test "$(grep -c '^message' <<<"$out")" = 0
done

# ---- hello twice, and a message only the coordinator sends ----
out=$(fake --send hello --send hello)
check "hello twice: welcomed once" test "$(grep -c '^message welcome' <<<"$out")" = 1
check "hello twice: then closed 1008 'hello sent twice'" \
  grep -qx "close 1008 hello sent twice" <<<"$out"
out=$(fake --send hello --send ack --job "$J1" --attempt "$A1")
check "ack from a buildlet: closed 1008 'ack is not a buildlet message'" \
  grep -qx "close 1008 ack is not a buildlet message" <<<"$out"

# ---- started, log and done for the real buildlet's running attempt ----
# foreign WHO PEER ARGS...: the three messages about J1 from a peer that
# said hello properly; the coordinator acknowledges the done and drops
# everything, and the peer stays connected.
foreign() {
  local who=$1 out
  shift
  out=$(peer "$@" --platform plan9/mips --scenario script --wait 1 \
    --job "$J1" --attempt "$A1" --data "FOREIGN-$who" --exit 7 \
    --send hello --send started --send log --send done --send hb)
  check "$who: welcomed" grep -qx 'message welcome' <<<"$out"
  check "$who: its done about J1 is acknowledged ($(grep '^ref' <<<"$out" | tr '\n' ' '))" \
    grep -qx "ref ack $J1 $A1" <<<"$out"
  check "$who: and the session is not closed by the coordinator" \
    test "$(grep -c '^close' <<<"$out")" = 0
  check "$who: the foreign log was dropped, with a log line" \
    grep -q "job $J1 attempt $A1: log from $who dropped (not its attempt)" "$T/coordinator.log"
  check "$who: the foreign done was dropped, with a log line" \
    grep -q "job $J1 attempt $A1: result from $who acknowledged and dropped: not its attempt" "$T/coordinator.log"
  eq "$who: J1 still runs, on b1" "running b1 $A1" \
    "$(job_field "$J1" state) $(job_field "$J1" buildlet) $(job_field "$J1" attempt)"
}
foreign fake --key "$KEY" --name fake
foreign intruder --key "$INTRUDER" --name intruder
# The same with log sequence numbers the real buildlet uses or will use.
for seq in 0 1 2; do
  fake --send hello --send log --job "$J1" --attempt "$A1" --seq "$seq" \
    --data "FOREIGN-seq$seq" >/dev/null
done

# ---- done for jobs the peer was never given ----
J2=$(first_job "$(submit --platform linux/riscv64 --script 'echo never')")
out=$(fake --send hello --send done --job "$J2" --attempt 1 --exit 0)
check "done for a queued job: acknowledged" grep -qx "ref ack $J2 1" <<<"$out"
eq "the queued job is still queued, with no attempt" "queued 0" \
  "$(job_field "$J2" state) $(api "jobs/$J2" | jq '.attempts | length')"
out=$(fake --send hello --send done --job 999999 --attempt 1 --exit 0)
check "done for a job that does not exist: acknowledged" grep -qx "ref ack 999999 1" <<<"$out"
eq "and no such job appears" 404 "$(http_status GET /api/v1/jobs/999999)"

# ---- uploads with a guessed token ----
printf 'guessed upload\n' >"$T/guess.bin"
GSHA=$(sha256sum "$T/guess.bin" | cut -c1-64)
GUESS=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
eq "an upload with a guessed token is refused" 403 \
  "$(http_status PUT "/api/v1/blobs/$GSHA" -H "Authorization: Bearer $GUESS" \
    --data-binary @"$T/guess.bin")"
eq "saying so" bad_upload_token "$(body_field .error.code)"
eq "and nothing is stored" 404 "$(http_status GET "/api/v1/blobs/$GSHA")"

# A job of the peer's own (plan9/mips), to see what its real upload token
# opens and that a done naming an unstored artifact is not believed.
J3=$(first_job "$(submit --platform plan9/mips --artifact out.bin --script true)")
peer --key "$KEY" --name taker --platform plan9/mips --scenario script --wait 1 \
  --send hello --send wait-run --send pause:4 --send started --send done \
  --exit 0 --artifact "out.bin:$GSHA:$(stat -c %s "$T/guess.bin")" >"$T/taker.out" &
TAKER=$!
PIDS+=("$TAKER")
check "the peer is given J3" wait_for 15 grep -qs '^upload_token ' "$T/taker.out"
TOKEN=$(awk '/^upload_token /{print $2; exit}' "$T/taker.out")
eq "its run is J3" "ref run $J3 1" "$(grep '^ref run' "$T/taker.out" | head -1)"
eq "a guessed token is still refused while J3 runs" 403 \
  "$(http_status PUT "/api/v1/blobs/$GSHA" -H "Authorization: Bearer $GUESS" \
    --data-binary @"$T/guess.bin")"
printf 'real upload\n' >"$T/real.bin"
RSHA=$(sha256sum "$T/real.bin" | cut -c1-64)
eq "J3's own token opens the blob route" 201 \
  "$(http_status PUT "/api/v1/blobs/$RSHA" -H "Authorization: Bearer $TOKEN" \
    --data-binary @"$T/real.bin")"
eq "J3 claims an artifact it never stored: error" error "$(wait_job "$J3" 20)"
check "saying which ($(job_field "$J3" error))" \
  grep -q "artifact out.bin was not uploaded" <<<"$(job_field "$J3" error)"
eq "J3 records no artifact" 0 "$(db "select count(*) from artifacts where job_id=$J3")"
printf 'late upload\n' >"$T/late.bin"
eq "J3's token is dead once J3 ended" 403 \
  "$(http_status PUT "/api/v1/blobs/$(sha256sum "$T/late.bin" | cut -c1-64)" \
    -H "Authorization: Bearer $TOKEN" --data-binary @"$T/late.bin")"
wait "$TAKER" 2>/dev/null
forget_pid "$TAKER"

# ---- the real job, untouched ----
eq "J1 was still running through all of that" running "$(job_field "$J1" state)"
touch "$T/release"
eq "the real job passes" passed "$(wait_job "$J1" 30)"
api "jobs/$J1/log" >"$T/j1.log"
printf 'alpha\nomega\n' >"$T/j1.want"
check "its log is byte for byte what it printed ($(od -c "$T/j1.log" | head -3 | tr '\n' ' '))" \
  cmp -s "$T/j1.want" "$T/j1.log"
eq "no foreign bytes in its stored log" 0 \
  "$(db "select count(*) from log_chunks where job_id=$J1 and instr(data, 'FOREIGN') > 0")"
eq "one attempt, by b1, exit 0, no error" "1|b1|0|" \
  "$(db "select count(*), max(buildlet), max(exit_code), max(error) from attempts where job_id=$J1")"

# A done for it after it ended (as if the peer replayed it) changes no row.
before=$(row "$J1")
out=$(fake --send hello --send done --job "$J1" --attempt "$A1" --exit 9)
check "a late foreign done is acknowledged" grep -qx "ref ack $J1 $A1" <<<"$out"
eq "and J1's rows are unchanged" "$before" "$(row "$J1")"

# ---- a hello under a name that another credential holds ----
# A host-type key proves the host type, not the name; an enrolment binds
# the name. A peer with another host type's key (or an enrolled one with
# its own name) should not be able to take over b1's session.
KEY2=$(cat "$(keyfile plan9-mips)")
J4=$(first_job "$(submit --platform linux/amd64 --script \
  "printf 'four\\n'; for i in \$(seq 1 50); do [ -e '$T/release4' ] && break; sleep 0.1; done")")
check "J4 runs on b1" wait_for 20 eval '[ "$(job_field "$J4" state)" = running ]'
out=$(peer --key "$KEY2" --host-type plan9-mips --name b1 --platform plan9/mips \
  --scenario script --wait 1 --send hello)
check "a hello as b1 under another host type's key is refused ($(tr '\n' ' ' <<<"$out"))" \
  grep -qE '^close 1008 ' <<<"$out"
touch "$T/release4"
check "b1 is connected again" wait_for 20 buildlet_connected b1
st=$(wait_job "$J4" 30)
check "b1's running job J4 survives it (state $st: $(job_field "$J4" error))" test "$st" = passed

# ---- and the farm goes on ----
check "coordinator still serves" coord_alive
J5=$(first_job "$(submit --platform linux/amd64 --script 'printf done-ok')")
eq "a new job passes on b1" "passed b1" "$(wait_job "$J5" 30) $(job_field "$J5" buildlet)"
eq "its log" done-ok "$(api "jobs/$J5/log")"
stop_pid TERM "$BL_PID" 10
stop_pid TERM "$COORD_PID" 15
eq "coordinator exits 0 on SIGTERM" 0 "$STOP_STATUS"
finish
