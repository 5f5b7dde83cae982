#!/usr/bin/env bash
# `rfarm cancel`: a queued job is cancelled at once; a running one is
# stopped (its whole process group, after the grace if it ignores SIGTERM)
# and ends cancelled with its log so far; a finished build is left alone;
# an unknown build is an error. `rfarm retry` then runs the cancelled job
# again as attempt 2 of the same job.
. "$(dirname "$0")/lib.sh"

start_coord
start_buildlet b1 linux-amd64 --kill-grace 1s --capacity 4
wait_for 20 buildlet_connected b1 || { fail "buildlet b1 connected"; finish; }

now_ms() { local t=$EPOCHREALTIME; echo $((10#${t/./} / 1000)); }
log_has() { api "jobs/$1/log" | grep -q "$2"; } # log_has JOB TEXT
running_with() { # running_with JOB TEXT: running and TEXT is in its log
  [ "$(job_field "$1" state)" = running ] && log_has "$1" "$2"
}
# cancel_running NAME BUILD JOB MIN_MS MAX_MS: once the job has printed
# "started", cancel its build and check it ends cancelled in time.
cancel_running() {
  local name=$1 b=$2 j=$3 t0 ms
  wait_for 20 running_with "$j" started || fail "$name: running and printed"
  t0=$(now_ms)
  "$RFARM" cancel "$b" >/dev/null || fail "$name: rfarm cancel exits 0"
  wait_for 10 job_final "$j"
  ms=$(($(now_ms) - t0))
  eq "$name: cancelled" cancelled "$(job_field "$j" state)"
  if [ "$ms" -ge "$4" ] && [ "$ms" -lt "$5" ]; then
    pass "$name: ended ${ms} ms after the cancel"
  else
    fail "$name: ended ${ms} ms after the cancel, want $4..$5 ms"
  fi
  check "$name: log kept" log_has "$j" started
}

# A queued job (no buildlet serves linux/mips) is cancelled at once.
b=$(submit --platform linux/mips -- true)
j=$(first_job "$b")
eq "queued: state before" queued "$(job_field "$j" state)"
"$RFARM" cancel "$b" >/dev/null
eq "queued: rfarm cancel exits 0" 0 $?
eq "queued: cancelled at once" cancelled "$(job_field "$j" state)"
eq "queued: build cancelled" cancelled "$(api "builds/$b" | jq -r .state)"

# A running job.
b=$(submit --platform linux/amd64 --script 'echo started; sleep 30')
j=$(first_job "$b")
cancel_running running "$b" "$j" 0 3000
eq "running: error says cancelled" cancelled "$(job_field "$j" error)"

# Its grandchildren die with it.
b=$(submit --platform linux/amd64 \
  --script "sleep 1000 & echo \$! > $T/gc.pid; echo started; sleep 30")
j=$(first_job "$b")
cancel_running grandchild "$b" "$j" 0 3000
gc=$(cat "$T/gc.pid" 2>/dev/null)
if [ -n "$gc" ]; then
  check "grandchild $gc is gone after the cancel" wait_for 3 gone "$gc"
else
  fail "grandchild: no pid file"
fi

# A job that ignores SIGTERM is killed after the 1 s grace.
b=$(submit --platform linux/amd64 --script "trap '' TERM; echo started; sleep 30")
j=$(first_job "$b")
cancel_running "TERM ignored" "$b" "$j" 900 4000
eq "TERM ignored: killed by SIGKILL" 9 "$(job_field "$j" signal)"

# Cancelling a finished build changes nothing.
b=$(submit --platform linux/amd64 --wait -- true 2>/dev/null)
j=$(first_job "$b")
eq "finished: passed" passed "$(job_field "$j" state)"
before=$(api "jobs/$j" | jq -c 'del(.attempts)')
"$RFARM" cancel "$b" >/dev/null
eq "finished: rfarm cancel exits 0" 0 $?
eq "finished: still passed" passed "$(job_field "$j" state)"
eq "finished: job unchanged" "$before" "$(api "jobs/$j" | jq -c 'del(.attempts)')"
eq "finished: build still passed" passed "$(api "builds/$b" | jq -r .state)"

# Retry: the cancelled job runs again as attempt 2 of the same job, and
# passes now that the file it waits for exists.
b=$(submit --platform linux/amd64 \
  --script "echo started; if [ -f $T/go ]; then echo ok; exit 0; fi; sleep 30")
j=$(first_job "$b")
cancel_running "retry: first attempt" "$b" "$j" 0 3000
touch "$T/go"
"$RFARM" retry "$b" >/dev/null
eq "retry: rfarm retry exits 0" 0 $?
eq "retry: same job" "$j" "$(first_job "$b")"
eq "retry: passes" passed "$(wait_job "$j" 20)"
eq "retry: attempt 2" 2 "$(job_field "$j" attempt)"
eq "retry: two attempts" 2 "$(api "jobs/$j" | jq '.attempts | length')"
eq "retry: first attempt cancelled" cancelled "$(api "jobs/$j" | jq -r '.attempts[0].error')"
check "retry: log of the new attempt" log_has "$j" ok
eq "retry: build passed" passed "$(api "builds/$b" | jq -r .state)"

# An unknown build.
out=$("$RFARM" cancel 99999 2>&1)
eq "unknown build: exit 1" 1 $?
check "unknown build: says no build" grep -q "no build" <<<"$out"

check "no sanitizer reports (coordinator)" no_sanitizer_reports "$T/coordinator.log"
check "no sanitizer reports (buildlet)" no_sanitizer_reports "$T/buildlet-b1.log"
finish
