#!/usr/bin/env bash
# Hostile source tarballs: absolute paths, "..", symbolic and hard links
# out of the work directory, 100,000 entries, a 2 GiB gzip bomb and a
# device node. Each is uploaded as a blob and named as a build's source;
# the job must end "error" with a "source: " message that names the
# problem, nothing may appear outside the job's work directory, and the
# coordinator and buildlet must go on working.
. "$(dirname "$0")/lib.sh"

MKTAR=${MKTAR:?set MKTAR to the mktar helper}

start_coord
start_buildlet b1
wait_for 20 buildlet_connected b1 || { fail "buildlet did not connect"; finish; }

# Where does a job run? A first job says; every escape below aims at
# paths under $T, reached from there.
b=$(submit --platform linux/amd64 -- sh -c 'echo "$RFARM_WORKDIR"; pwd')
j=$(first_job "$b")
eq "a plain job passes" passed "$(wait_job "$j" 30)"
wd=$("$RFARM" logs "$j" | head -1)
case $wd in
  "$T"/*) pass "the work directory $wd is under \$T" ;;
  *) fail "work directory '$wd' is not under $T"; finish ;;
esac
up=$(printf '%s\n' "${wd#"$T"/}" | awk -F/ '{for (i = 0; i < NF; i++) printf "../"}')

# hostile NAME KIND REGEX MKTAR_ARGS...: build the archive, upload it,
# run a build with it; the job must be "error" with a "source: " error
# matching REGEX (case-insensitive). NAME labels the checks. Extraction
# stops at the first bad entry, so each escape gets an archive of its own.
hostile() {
  local name=$1 kind=$2 re=$3 f=$T/$1.tar.gz sha id job st err
  shift 3
  if ! "$MKTAR" "$kind" "$f" "$@" 2>"$T/mktar-$kind.err"; then
    fail "$name: mktar failed: $(cat "$T/mktar-$kind.err")"
    return
  fi
  sha=$(sha256sum "$f" | cut -d' ' -f1)
  st=$(http_status PUT "/api/v1/blobs/$sha" --data-binary @"$f")
  [ "$st" = 201 ] || [ "$st" = 200 ] || { fail "$name: upload answered $st"; return; }
  st=$(http_status POST /api/v1/builds -H 'Content-Type: application/json' --data-binary \
    "{\"platforms\":[\"linux/amd64\"],\"command\":[\"echo\",\"command ran\"],\"source\":{\"tarball\":\"$sha\"}}")
  id=$(body_field .id)
  [ "$st" = 201 ] || [ "$st" = 200 ] || { fail "$name: submit answered $st: $(cat "$T/body")"; return; }
  job=$(first_job "$id")
  eq "$name: the job ends in error" error "$(wait_job "$job" 40)"
  err=$(job_field "$job" error)
  echo "   $name: $err"
  case $err in
    "source: "*) pass "$name: the error starts with 'source: '" ;;
    *) fail "$name: error '$err' does not start with 'source: '" ;;
  esac
  check "$name: it names the problem (/$re/)" grep -qiE "$re" <<<"$err"
  eq "$name: the command did not run" 0 "$(grep -c 'command ran' < <("$RFARM" logs "$job" 2>/dev/null))"
}

hostile abs abs 'absolute|leaves|outside|escape' "$T/escape-abs.txt"
check "abs: nothing at the absolute path" test ! -e "$T/escape-abs.txt"

hostile dotdot dotdot '\.\.|leaves|outside' "../escape-dotdot-1.txt"
check "dotdot: nothing next to the work directory" test ! -e "$(dirname "$wd")/escape-dotdot-1.txt"
hostile dotdot-deep dotdot '\.\.|leaves|outside' "${up}escape-dotdot-2.txt"
check "dotdot-deep: nothing at \$T" test ! -e "$T/escape-dotdot-2.txt"
hostile dotdot-inner dotdot '\.\.|leaves|outside' "a/b/../../${up}escape-dotdot-3.txt"
check "dotdot-inner: nothing at \$T" test ! -e "$T/escape-dotdot-3.txt"

mkdir -p "$T/outside"
hostile symlink-abs symlink 'link' "$T/outside"
hostile symlink-rel symlink 'link' "${up}outside"
check "symlink: nothing written through the links" test -z "$(ls -A "$T/outside")"

echo original >"$T/victim.txt"
hostile hardlink-abs hardlink 'link' "$T/victim.txt"
hostile hardlink-rel hardlink 'link' "${up}victim.txt"
eq "hardlink: the target is unchanged" original "$(cat "$T/victim.txt")"
eq "hardlink: and has no new links" 1 "$(stat -c %h "$T/victim.txt")"

# Not hostile: hard links inside the tree, as tar writes them.
good=$T/goodlink.tar.gz
"$MKTAR" goodlink "$good"
gsha=$(sha256sum "$good" | cut -d' ' -f1)
eq "goodlink: uploaded" 201 "$(http_status PUT "/api/v1/blobs/$gsha" --data-binary @"$good")"
http_status POST /api/v1/builds -H 'Content-Type: application/json' --data-binary \
  "{\"platforms\":[\"linux/amd64\"],\"command\":[\"cat\",\"same.txt\",\"sub/again.txt\"],\"source\":{\"tarball\":\"$gsha\"}}" >/dev/null
j=$(first_job "$(body_field .id)")
eq "goodlink: hard links inside the tree are accepted" passed "$(wait_job "$j" 30)"
[ "$(job_field "$j" state)" = passed ] || echo "   goodlink: $(job_field "$j" error)"
eq "goodlink: both read the linked file" "fine fine" "$("$RFARM" logs "$j" | tr '\n' ' ' | sed 's/ $//')"

hostile many many 'entries|too many'
hostile bomb bomb 'bomb|bytes|large|size'
check "bomb: the work directory does not keep it" \
  test "$(du -sm "$(dirname "$wd")" | cut -f1)" -lt 100

hostile device device 'device|special'
eq "device: no device node anywhere under \$T" "" "$(find "$T" -type c -o -type b | head -3)"

# Everything still works.
check "the coordinator is alive" kill -0 "$COORD_PID"
check "the buildlet is alive" kill -0 "$BL_PID"
check "and connected" buildlet_connected b1
b=$(submit --platform linux/amd64 -- echo still fine)
j=$(first_job "$b")
eq "a normal job passes at the end" passed "$(wait_job "$j" 30)"
check "with its output" grep -qx 'still fine' <("$RFARM" logs "$j")

finish
