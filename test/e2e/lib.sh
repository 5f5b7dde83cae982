# lib.sh - helpers for rfarm's end-to-end tests (sourced by each test).
#
# Each test starts the real `rfarm` binary on 127.0.0.1 with an ephemeral
# port and a temporary directory, drives it through the API (curl) and the
# CLI, and kills what it started by PID when it exits. Every wait is
# bounded in time.
set -uo pipefail

RFARM=${RFARM:?set RFARM to the rfarm binary}
T=$(mktemp -d "${TMPDIR:-/tmp}/rfarm-e2e.XXXXXX")
PIDS=()
FAILS=0
COORD_ARGS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    # Bounded wait, then force.
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  # A sanitizer report in any process we ran fails the test, even one
  # that only shows at exit (a leak).
  local f
  for f in "$T"/*.log; do
    if [ -f "$f" ] && grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f"; then
      echo "FAIL: sanitizer report in $(basename "$f"):"
      grep -E -A25 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" | head -60
      FAILS=$((FAILS + 1))
    fi
  done
  if [ "$FAILS" -ne 0 ] || [ -n "${KEEP:-}" ]; then
    echo "--- logs kept in $T ---"
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "== $f"; tail -40 "$f"; }; done
  else
    rm -rf "$T"
  fi
  [ "$FAILS" -eq 0 ] || exit 1
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
eq() { # eq DESCRIPTION EXPECTED ACTUAL
  if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi
}
finish() {
  if [ "$FAILS" -ne 0 ]; then echo "$FAILS check(s) failed"; exit 1; fi
  echo "all checks passed"
  exit 0
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
  local secs=$1; shift
  local deadline=$((SECONDS + secs))
  while [ $SECONDS -lt $deadline ]; do
    "$@" && return 0
    sleep 0.1
  done
  "$@"
}

# start_coord [DATA_DIR] [LISTEN]: start a coordinator; sets COORD_PID, DATA,
# RFARM_URL. Extra coordinator flags come from the array COORD_ARGS.
start_coord() {
  DATA=${1:-$T/data}
  local listen=${2:-127.0.0.1:0}
  rm -f "$DATA/url"
  "$RFARM" coordinator --listen "$listen" --data "$DATA" "${COORD_ARGS[@]}" \
    >>"$T/coordinator.log" 2>&1 &
  COORD_PID=$!
  PIDS+=("$COORD_PID")
  wait_for 20 test -s "$DATA/url" || { fail "coordinator did not start"; finish; }
  RFARM_URL=$(cat "$DATA/url")
  export RFARM_URL
  wait_for 10 curl -sf "$RFARM_URL/alive" -o /dev/null
}

# keyfile HOST_TYPE: write the buildlet key for HOST_TYPE to a 0600 file.
keyfile() {
  local f
  f="$T/key-$(printf %s "$DATA" | cksum | cut -d' ' -f1)-$1"
  # Written once, by rename, so a buildlet starting meanwhile never reads
  # a half-written file.
  if [ ! -s "$f" ]; then
    (umask 077; "$RFARM" keygen "$1" --data "$DATA" 2>/dev/null | tail -1 >"$f.tmp.$$")
    mv "$f.tmp.$$" "$f"
  fi
  echo "$f"
}

# start_buildlet NAME [HOST_TYPE] [more buildlet args...]: sets BL_PID.
start_buildlet() {
  local name=$1 ht=${2:-linux-amd64}
  shift; [ $# -gt 0 ] && shift
  local key
  key=$(keyfile "$ht")
  "$RFARM" buildlet --coordinator "$RFARM_URL" --name "$name" --host-type "$ht" \
    --token-file "$key" --workdir "$T/work-$name" "$@" >>"$T/buildlet-$name.log" 2>&1 &
  BL_PID=$!
  PIDS+=("$BL_PID")
}

# start_connected NAME [HOST_TYPE] [more buildlet args...]: start_buildlet,
# then wait (20 s) until it is connected; PLAT is its first platform.
start_connected() {
  start_buildlet "$@"
  wait_for 20 buildlet_connected "$1" || fail "buildlet $1 connected"
  PLAT=$(api buildlets | jq -r --arg n "$1" \
    '.buildlets[] | select(.name == $n) | .platforms[0]')
}

buildlet_connected() { # buildlet_connected NAME
  curl -sf "$RFARM_URL/api/v1/buildlets" |
    jq -e --arg n "$1" '.buildlets[] | select(.name == $n and .connected)' >/dev/null
}

api() { curl -s "$RFARM_URL/api/v1/$1"; }
job_field() { api "jobs/$1" | jq -r ".$2"; }
job_final() { # job_final JOB: true once the job is in a final state
  case $(job_field "$1" state) in passed|failed|cancelled|error) return 0;; esac
  return 1
}
wait_job() { # wait_job JOB [SECS]: wait until final, print the state
  wait_for "${2:-60}" job_final "$1"
  job_field "$1" state
}
# submit ARGS...: rfarm submit, prints the build id.
submit() { "$RFARM" submit "$@"; }
first_job() { api "builds/$1" | jq -r '.jobs[0].id'; }

# ---- additions (keep the helpers above unchanged) ----

WSPEER=${WSPEER:-}

# forget_pid PID: drop PID from PIDS once it has been reaped, so cleanup
# never signals a number the system may have reused.
forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# gone PID: true once PID has exited (a zombie child counts as exited).
gone() {
  ! kill -0 "$1" 2>/dev/null ||
    [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# stop_pid SIGNAL PID [SECS]: signal a process we started and wait for it
# (bounded); sets STOP_STATUS to its exit status, or "timeout" if it is
# still running. Not in $(...): a subshell cannot wait for our children.
stop_pid() {
  local sig=$1 pid=$2 secs=${3:-10}
  kill "-$sig" "$pid" 2>/dev/null
  if ! wait_for "$secs" gone "$pid"; then
    STOP_STATUS=timeout
    return 0
  fi
  wait "$pid" 2>/dev/null
  STOP_STATUS=$?
  forget_pid "$pid"
}

# http_status METHOD PATH [CURL ARGS...]: print the HTTP status of a
# request to the coordinator; the body is left in $T/body.
http_status() {
  local m=$1 p=$2
  shift 2
  curl -s -m 20 -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$RFARM_URL$p"
}
body_field() { jq -r "$1" "$T/body" 2>/dev/null; } # body_field JQ_FILTER

# peer ARGS...: run the scripted WebSocket peer against the coordinator.
peer() { timeout 60 "$WSPEER" --url "$RFARM_URL" "$@"; }

# no_sanitizer_reports FILE: true if FILE holds no ASan/UBSan report.
no_sanitizer_reports() {
  ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$1"
}

# db SQL: query the coordinator's database read-only.
db() { sqlite3 -readonly "$DATA/rfarm.db" "$@"; }

# gap DESCRIPTION COMMAND...: check a known shortcoming of the coordinator
# without failing the test: "ok:" once it is fixed, "KNOWN GAP:" while it
# is not. RFARM_STRICT=1 makes an open gap a failure.
gap() {
  local what=$1; shift
  if "$@"; then pass "$what"
  elif [ -n "${RFARM_STRICT:-}" ]; then fail "$what (known gap)"
  else echo "KNOWN GAP: $what"; fi
}
