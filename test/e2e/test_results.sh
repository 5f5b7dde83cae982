#!/usr/bin/env bash
# A command's outcome becomes the job's state: pass, fail with the exit
# code, or error when the farm could not run it; `submit --wait` exit codes.
. "$(dirname "$0")/lib.sh"

start_coord
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

b=$(submit --platform linux/amd64 -- sh -c 'echo hi; exit 3')
j=$(first_job "$b")
eq "exit 3 is failed" failed "$(wait_job "$j")"
eq "exit code recorded" 3 "$(job_field "$j" exit_code)"
eq "failure is not an infrastructure error" "" "$(job_field "$j" error)"

b=$(submit --platform linux/amd64 -- nosuchcmd-xyz --flag)
j=$(first_job "$b")
eq "unrunnable command is error" error "$(wait_job "$j")"
eq "error says why" "exec nosuchcmd-xyz: No such file or directory" "$(job_field "$j" error)"

submit --platform linux/amd64 --wait -- true >/dev/null 2>&1
eq "submit --wait exits 0 when all pass" 0 $?
submit --platform linux/amd64 --wait --script 'exit 1' >/dev/null 2>&1
eq "submit --wait exits 1 when a job fails" 1 $?
submit --platform linux/amd64 --wait -- /nonexistent/prog >/dev/null 2>&1
eq "submit --wait exits 2 on error" 2 $?

# The state is in SQLite, where the dashboard and a restart find it.
eq "state in the database" "failed|3" \
  "$(sqlite3 "$DATA/rfarm.db" "select state, exit_code from jobs where id=1")"
finish
