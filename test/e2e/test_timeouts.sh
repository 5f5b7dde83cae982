#!/usr/bin/env bash
# Time limits end a job as error with the reason in its error: the build's
# --timeout, the coordinator's default timeout, the no-output timeout
# (--idle-timeout, which steady output keeps at bay). The whole process
# group dies, grandchildren too, and a job that ignores SIGTERM is killed
# after the buildlet's grace. The jobs run side by side, so the script
# takes about as long as the slowest of them.
. "$(dirname "$0")/lib.sh"

COORD_ARGS=(--timeout 2s)
start_coord
start_buildlet b1 linux-amd64 --kill-grace 1s --capacity 8
wait_for 20 buildlet_connected b1 || { fail "buildlet b1 connected"; finish; }

now_ms() { local t=$EPOCHREALTIME; echo $((10#${t/./} / 1000)); }

declare -A T0 TEND
# start NAME SUBMIT-ARGS...: submit one build; JOB[NAME] is its job.
declare -A JOB
start() {
  local name=$1 b
  shift
  T0[$name]=$(now_ms)
  b=$(submit --platform linux/amd64 "$@") || { fail "$name: submit"; return; }
  JOB[$name]=$(first_job "$b")
}
# track SECS: poll every job until all are final (bounded); TEND[NAME] is
# when each was first seen final.
track() {
  local deadline=$((SECONDS + $1)) name left
  while :; do
    left=0
    for name in "${!JOB[@]}"; do
      [ -n "${TEND[$name]:-}" ] && continue
      if job_final "${JOB[$name]}"; then TEND[$name]=$(now_ms); else left=1; fi
    done
    if [ $left -eq 0 ] || [ $SECONDS -ge $deadline ]; then break; fi
    sleep 0.1
  done
}
took() { echo $((${TEND[$1]:-99999999999999} - ${T0[$1]})); }
within() { # within NAME MIN_MS MAX_MS
  local ms
  ms=$(took "$1")
  if [ "$ms" -ge "$2" ] && [ "$ms" -lt "$3" ]; then
    pass "$1 ended after ${ms} ms"
  else
    fail "$1 ended after ${ms} ms, want $2..$3 ms"
  fi
}
log_is() { # log_is NAME PRINTF-FORMAT: the job's log, byte for byte
  # shellcheck disable=SC2059
  if cmp -s <(printf "$2") <(api "jobs/${JOB[$1]}/log"); then
    pass "$1 log"
  else
    fail "$1 log: got [$(api "jobs/${JOB[$1]}/log" | od -c | head -5)]"
  fi
}

start timeout --timeout 2s --script 'echo started; sleep 30'
start idle --timeout 30s --idle-timeout 2s --script 'echo a; sleep 30'
start steady --timeout 30s --idle-timeout 2s \
  --script 'i=0; while [ $i -lt 8 ]; do echo $i; sleep 0.5; i=$((i+1)); done'
start default --script 'echo started; sleep 30'
start grandchild --timeout 2s \
  --script "sleep 1000 & echo \$! > $T/gc.pid; echo started; sleep 30"
start trap --timeout 2s --script "trap '' TERM; echo trapped; sleep 30"
# The API takes integer seconds as well as a duration string.
T0[api_idle]=$(now_ms)
b=$(curl -s -X POST "$RFARM_URL/api/v1/builds" -d '{"platforms":["linux/amd64"],
  "timeout":"30s","idle_timeout":2,"script":"echo x >&2; sleep 30"}' | jq -r .id)
JOB[api_idle]=$(first_job "$b")

track 20

eq "timeout: state" error "$(job_field "${JOB[timeout]}" state)"
eq "timeout: error" "timed out after 2s" "$(job_field "${JOB[timeout]}" error)"
within timeout 1900 5000
log_is timeout 'started\n'

eq "idle: state" error "$(job_field "${JOB[idle]}" state)"
eq "idle: error" "no output for 2s" "$(job_field "${JOB[idle]}" error)"
within idle 1900 5000
log_is idle 'a\n'

eq "steady output: state" passed "$(job_field "${JOB[steady]}" state)"
eq "steady output: exit code" 0 "$(job_field "${JOB[steady]}" exit_code)"
within steady 3900 10000
log_is steady '0\n1\n2\n3\n4\n5\n6\n7\n'

eq "default timeout: state" error "$(job_field "${JOB[default]}" state)"
eq "default timeout: error" "timed out after 2s" \
  "$(job_field "${JOB[default]}" error)"
within default 1900 5000

eq "grandchild: state" error "$(job_field "${JOB[grandchild]}" state)"
gc=$(cat "$T/gc.pid" 2>/dev/null)
if [ -n "$gc" ]; then
  check "grandchild $gc is gone after the timeout" wait_for 3 gone "$gc"
else
  fail "grandchild: no pid file"
fi

eq "TERM ignored: state" error "$(job_field "${JOB[trap]}" state)"
eq "TERM ignored: error" "timed out after 2s" "$(job_field "${JOB[trap]}" error)"
eq "TERM ignored: killed by SIGKILL" 9 "$(job_field "${JOB[trap]}" signal)"
within trap 2900 6500
log_is trap 'trapped\n'

eq "API integer idle_timeout: error" "no output for 2s" \
  "$(job_field "${JOB[api_idle]}" error)"
within api_idle 1900 5000

# The command line checks the value before anything is sent.
out=$("$RFARM" submit --platform linux/amd64 --idle-timeout soon -- true 2>&1)
eq "bad --idle-timeout is a usage error" 2 $?
check "bad --idle-timeout says why" grep -q "bad --idle-timeout 'soon'" <<<"$out"
check "submit --help shows --idle-timeout" \
  grep -q -- "--idle-timeout" <("$RFARM" submit --help 2>&1)

check "no sanitizer reports (coordinator)" no_sanitizer_reports "$T/coordinator.log"
check "no sanitizer reports (buildlet)" no_sanitizer_reports "$T/buildlet-b1.log"
finish
