#!/usr/bin/env bash
# Job isolation on a buildlet that runs as root: with --run-as nobody a job
# is nobody, cannot read the buildlet's key, spool or the coordinator's
# data, cannot write outside its work directory (world-writable places
# such as /tmp aside), cannot start more than --max-procs processes, is
# stopped by --max-file-size and says so, sees none of the buildlet's
# environment, and cannot get the buildlet to upload a file that is not
# its own; an ordinary build with sources and an artifact still works.
# Also the refusals: an unknown user, --run-as when not root, and the
# warning of a root buildlet without --run-as.
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root (the buildlet must run as root to run jobs as nobody)"
  exit 77
fi
if ! id -u nobody >/dev/null 2>&1 || ! command -v setpriv >/dev/null; then
  echo "SKIP: needs the user nobody and setpriv(1)"
  exit 77
fi
. "$(dirname "$0")/lib.sh"

NOBODY=$(id -u nobody)
# nobody must pass through $T to its work directories; what is in $T keeps
# its own modes (the key files are 0600, the data directory 0700).
chmod 711 "$T"
start_coord
key=$(keyfile linux-amd64)
blog() { cat "$T/buildlet-$1.log"; }

# ---- refusals ----
out=$(timeout 20 "$RFARM" buildlet --coordinator "$RFARM_URL" --token-file "$key" \
  --workdir "$T/work-x" --run-as no-such-user-xyz 2>&1)
check "an unknown --run-as user is refused ($out)" \
  grep -q -- "--run-as no-such-user-xyz: no such user: no-such-user-xyz" <<<"$out"
out=$(cd / && RFARM_BUILDLET_KEY=$(cat "$key") timeout 20 setpriv --reuid="$NOBODY" \
  --regid="$(id -g nobody)" --clear-groups "$RFARM" buildlet --coordinator "$RFARM_URL" \
  --workdir /tmp/rfarm-iso-never --run-as root 2>&1)
eq "a buildlet that is not root refuses --run-as another user" 1 $?
check "saying why ($out)" grep -q "only a buildlet started as root" <<<"$out"
mkdir -m 700 "$T/closed"
out=$(timeout 20 "$RFARM" buildlet --coordinator "$RFARM_URL" --token-file "$key" \
  --workdir "$T/closed/work" --run-as nobody 2>&1)
check "a work directory nobody cannot reach is refused at start ($out)" \
  grep -q "jobs could not enter the work directory: chdir $T/closed/work: Permission denied" <<<"$out"

start_buildlet plain
wait_for 20 buildlet_connected plain || fail "buildlet plain connected"
check "a root buildlet without --run-as warns that jobs run as root" \
  grep -q "running as root without --run-as: jobs run as root" "$T/buildlet-plain.log"
stop_pid TERM "$BL_PID"
wait_for 20 sh -c "! curl -sf '$RFARM_URL/api/v1/buildlets' | jq -e '.buildlets[] | select(.name==\"plain\" and .connected)' >/dev/null"

# ---- the isolated buildlet, with secrets in its environment ----
export RFARM_BUILDLET_KEY=key-secret-iso RFARM_TOKEN=token-secret-iso SECRET_ISO=other-secret-iso
start_buildlet iso linux-amd64 --run-as nobody --max-procs 20 --max-file-size 1M
unset RFARM_BUILDLET_KEY RFARM_TOKEN SECRET_ISO
wait_for 20 buildlet_connected iso || fail "buildlet iso connected"
check "it says who jobs run as" grep -q "jobs run as user nobody (uid $NOBODY)" "$T/buildlet-iso.log"
check "and does not warn" bash -c "! grep -q 'without --run-as' '$T/buildlet-iso.log'"
W=$T/work-iso
eq "its work root lets nobody through, not list" 711 "$(stat -c %a "$W")"
eq "its spool is root's alone" "0 700" "$(stat -c '%u %a' "$W/spool")"

run() { # run SCRIPT: submit, wait, print the job id
  local b
  b=$(submit --platform linux/amd64 --script "$1") || return 1
  first_job "$b"
}
log() { api "jobs/$1/log"; }

# Who the job is, what it owns, what it sees.
j=$(run 'id -u; stat -c "%u %a" .; env')
eq "the identity job passed" passed "$(wait_job "$j" 60)"
eq "the job runs as nobody" "$NOBODY" "$(log "$j" | sed -n 1p)"
eq "its work directory is nobody's, 0700" "$NOBODY 700" "$(log "$j" | sed -n 2p)"
jl=$(log "$j")
for s in key-secret-iso token-secret-iso other-secret-iso "$(cat "$key")"; do
  check "the job does not see ${s:0:12}..." bash -c '! grep -qF -- "$1" <<<"$2"' _ "$s" "$jl"
done
# PWD is the shell's; LANG, LC_ALL and TZ pass through when the buildlet
# has them.
eq "its environment is exactly the defaults and RFARM_*" \
  "HOME PATH RFARM_ATTEMPT RFARM_JOB RFARM_PLATFORM RFARM_WORKDIR TMPDIR" \
  "$(sed -n '3,$p' <<<"$jl" | cut -d= -f1 | grep -vxE 'PWD|LANG|LC_ALL|TZ' | sort | tr '\n' ' ' | sed 's/ $//')"

# What it must not read or write.
script=$(cat <<SH
t() { if ( eval "\$2" ) >/dev/null 2>&1; then echo "\$1 yes"; else echo "\$1 no"; fi; }
t read-key "cat '$key'"
t read-data "ls '$DATA'"
t read-db "cat '$DATA/rfarm.db'"
t read-spool "ls '$W/spool'"
t list-work "ls '$W'"
t write-work "touch '$W/x'"
t write-T "touch '$T/x'"
t write-data "touch '$DATA/x'"
t write-etc "touch /etc/rfarm-iso-x"
t write-up "touch ../x"
t write-own "touch mine"
SH
)
j=$(run "$script")
eq "the probing job passed" passed "$(wait_job "$j" 60)"
eq "it could only write its own work directory" \
  "read-key no read-data no read-db no read-spool no list-work no write-work no write-T no write-data no write-etc no write-up no write-own yes" \
  "$(log "$j" | tr '\n' ' ' | sed 's/ $//')"
check "nothing was written outside" test ! -e "$W/x" -a ! -e "$T/x" -a ! -e /etc/rfarm-iso-x

# --max-procs 20: a loop of at most 100 background sleeps stops early.
# The shell that forks exits when a fork fails; its parent reports with
# builtins only (no process is left to fork one).
script=$(cat <<'SH'
sh -c 'i=0; while [ $i -lt 100 ]; do sleep 5 & i=$((i+1)); echo $i > n; done' 2>/dev/null
echo "inner=$?"
read n < n
echo "started=$n"
SH
)
j=$(run "$script")
eq "the fork job passed" passed "$(wait_job "$j" 60)"
started=$(log "$j" | sed -n 's/^started=//p')
check "the inner shell failed to fork ($(log "$j" | tr '\n' ' '))" grep -q '^inner=[1-9]' <<<"$(log "$j")"
check "fewer than 20 sleeps started (got $started)" test "${started:-100}" -ge 1 -a "${started:-100}" -lt 20
no_nobody_sleeps() { ! ps -u nobody -o comm= | grep -qx sleep; }
check "its processes are gone afterwards" wait_for 10 no_nobody_sleeps

# --max-file-size 1M: the command itself killed, and a shell reporting it.
b=$(submit --platform linux/amd64 -- dd if=/dev/zero of=big bs=65536 count=32 status=none)
j=$(first_job "$b")
eq "a command killed at the file size limit is an error" error "$(wait_job "$j" 60)"
eq "saying why" "killed by SIGXFSZ (file size limit --max-file-size 1M)" "$(job_field "$j" error)"
eq "with its signal" 25 "$(job_field "$j" signal)"
j=$(run 'head -c 2000000 /dev/zero > big')
eq "a script whose child hit the limit failed" failed "$(wait_job "$j" 60)"
eq "with exit 153" 153 "$(job_field "$j" exit_code)"
check "and the log says why" grep -qF \
  "rfarm: exit status 153 is 128+SIGXFSZ: a process of the job was probably killed (file size limit --max-file-size 1M)" \
  <<<"$(log "$j")"
j=$(run 'head -c 1000000 /dev/zero > big; wc -c < big')
eq "a file under the limit is fine" passed "$(wait_job "$j" 60)"

# A normal build with sources and an artifact, under --run-as.
mkdir -p "$T/proj"
printf 'int puts(const char *);\nint main(void) { puts("from make"); return 0; }\n' >"$T/proj/main.c"
printf 'out/app: main.c\n\tmkdir -p out && cc -O2 -o out/app main.c\n' >"$T/proj/Makefile"
b=$(submit --platform linux/amd64 --src "$T/proj" --artifact out/app -- \
  sh -c 'stat -c "%u %n" Makefile main.c && make -s')
j=$(first_job "$b")
eq "the build passed" passed "$(wait_job "$j" 90)"
eq "its sources were nobody's" "$NOBODY Makefile $NOBODY main.c" "$(log "$j" | sed -n 1,2p | tr '\n' ' ' | sed 's/ $//')"
art=$(api "jobs/$j" | jq -r '.artifacts[] | select(.name=="out/app") | .sha256')
curl -s -o "$T/app" "$RFARM_URL/api/v1/blobs/$art"
chmod +x "$T/app"
eq "the artifact came back and runs" "from make" "$("$T/app")"
check "and its work directory is gone" test ! -e "$W/job-$j-1"

# The buildlet reads artifacts for the job: a link (or a linked directory)
# to the buildlet's own files is not uploaded.
b=$(submit --platform linux/amd64 --artifact 'out/*' -- \
  sh -c "mkdir out && ln -s '$key' out/key && echo hi > out/ok")
j=$(first_job "$b")
eq "a linked key is skipped" passed "$(wait_job "$j" 60)"
eq "only the job's own file came back" out/ok "$(api "jobs/$j" | jq -r '[.artifacts[].name] | join(" ")')"
b=$(submit --platform linux/amd64 --artifact "keys/$(basename "$key")" -- \
  sh -c "ln -s '$T' keys")
j=$(first_job "$b")
eq "a key through a linked directory is refused" error "$(wait_job "$j" 60)"
check "as not the job's ($(job_field "$j" error))" grep -q "not the job's file" <<<"$(job_field "$j" error)"
check "and no blob holds the key" bash -c "! grep -rqF -- '$(cat "$key")' '$DATA/blobs' 2>/dev/null"

finish
