#!/usr/bin/env bash
# The build cache: an identical request is answered from the store without
# running (cached, the original's log and artifacts); identical requests
# submitted together run once; --no-cache runs anyway; a different input
# (source, env, platform) is a different job.
. "$(dirname "$0")/lib.sh"

start_coord
start_buildlet b1 linux-amd64 --capacity 4
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"
mkdir -p "$T/src" && echo 'echo built > out.txt; echo "run $$"' >"$T/src/build.sh"
run() { "$RFARM" submit --platform linux/amd64 --src "$T/src" --artifact out.txt "$@" \
  -- sh build.sh 2>/dev/null; }
runs() { db "select count(*) from attempts"; }

j1=$(first_job "$(run)")
eq "the first request runs" passed "$(wait_job "$j1" 30)"
eq "one attempt so far" 1 "$(runs)"

j2=$(first_job "$(run)")
eq "the same request is answered at once" passed "$(job_field "$j2" state)"
eq "marked cached" true "$(job_field "$j2" cached)"
eq "from the first job" "$j1" "$(job_field "$j2" cached_from)"
eq "nothing was dispatched" 1 "$(runs)"
eq "its log is the original's" "$(api "jobs/$j1/log")" "$(api "jobs/$j2/log")"
eq "its artifacts are the original's" \
  "$(api "jobs/$j1" | jq -c '.artifacts | map(.sha256)')" \
  "$(api "jobs/$j2" | jq -c '.artifacts | map(.sha256)')"

j3=$(first_job "$(run --no-cache)")
eq "--no-cache runs again" passed "$(wait_job "$j3" 30)"
eq "and was not cached" false "$(job_field "$j3" cached)"
eq "two attempts now" 2 "$(runs)"

j4=$(first_job "$(run --env X=1)")
eq "another environment is another job" passed "$(wait_job "$j4" 30)"
eq "it ran" false "$(job_field "$j4" cached)"

# Single flight: two identical new requests submitted together run once.
echo 'sleep 2; echo slow > out.txt' >"$T/src/build.sh"
a=$(first_job "$(run)")
b=$(first_job "$(run)")
eq "the leader passes" passed "$(wait_job "$a" 30)"
eq "the twin passes with it" passed "$(wait_job "$b" 30)"
eq "the twin did not run" 0 "$(db "select count(*) from attempts where job_id=$b")"
eq "the twin is cached from the leader" "$a" "$(job_field "$b" cached_from)"
check "metrics count hits and attached" \
  eval 'curl -s "$RFARM_URL/metrics" | grep -qx "rfarm_cache_hits_total 1" &&
        curl -s "$RFARM_URL/metrics" | grep -qx "rfarm_cache_attached_total 1"'

# A failing job answers its twin with the failure; a cancelled leader
# lets its twin run on its own.
echo 'sleep 2; exit 3' >"$T/src/build.sh"
a=$(first_job "$(run)")
b=$(first_job "$(run)")
eq "a failing leader" failed "$(wait_job "$a" 30)"
eq "its twin failed with it" "failed 3" "$(wait_job "$b" 30) $(job_field "$b" exit_code)"
echo 'sleep 3; echo fine > out.txt' >"$T/src/build.sh"
ba=$(run)
a=$(first_job "$ba")
b=$(first_job "$(run)")
wait_for 10 test "$(job_field "$a" state)" = running || fail "leader running"
"$RFARM" cancel "$ba" >/dev/null
eq "the leader is cancelled" cancelled "$(wait_job "$a" 20)"
eq "the twin runs by itself and passes" passed "$(wait_job "$b" 30)"
eq "it ran once itself" 1 "$(db "select count(*) from attempts where job_id=$b")"
finish
