#!/usr/bin/env bash
# Purge also removes blobs nothing refers to any more, and never one that a
# remaining build or an active attempt may still need.
. "$(dirname "$0")/lib.sh"

start_coord
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"
blob_file() { echo "$DATA/blobs/${1:0:2}/$1"; }
upload() { # upload FILE: prints its digest
  local s
  s=$(sha256sum "$1" | cut -c1-64)
  curl -s -o /dev/null -X PUT --data-binary @"$1" "$RFARM_URL/api/v1/blobs/$s"
  echo "$s"
}

echo loose >"$T/loose"
LOOSE=$(upload "$T/loose")
mkdir -p "$T/src" && echo 'echo from-tarball' >"$T/src/run.sh"
tar -czf "$T/src.tgz" -C "$T/src" .
SRC=$(upload "$T/src.tgz")
mkdir -p "$T/src2" && echo 'echo later' >"$T/src2/run.sh"
tar -czf "$T/src2.tgz" -C "$T/src2" .
SRC2=$(upload "$T/src2.tgz")

body() { # body PLATFORM SCRIPT SOURCE-SHA [ARTIFACTS-JSON]
  printf '{"platforms":["%s"],"script":"%s","source":{"tarball":"%s"},"artifacts":%s}' \
    "$1" "$2" "$3" "${4:-[]}"
}
b=$(curl -s -X POST "$RFARM_URL/api/v1/builds" \
  -d "$(body linux/amd64 'sh run.sh > out.txt' "$SRC" '["out.txt"]')" | jq .id)
j=$(first_job "$b")
eq "the tarball job passed" passed "$(wait_job "$j" 20)"
ART=$(api "jobs/$j" | jq -r '.artifacts[0].sha256')
check "its artifact is stored" test -f "$(blob_file "$ART")"
# A build that has not run (no mips buildlet) keeps its source.
curl -s -o /dev/null -X POST "$RFARM_URL/api/v1/builds" -d "$(body linux/mips 'sh run.sh' "$SRC2")"

out=$("$RFARM" purge --before 0s --json)
eq "purge reports three blobs" 3 "$(jq .blobs <<<"$out")"
check "the loose blob is gone" test ! -e "$(blob_file "$LOOSE")"
check "the finished build's source is gone" test ! -e "$(blob_file "$SRC")"
check "its artifact is gone" test ! -e "$(blob_file "$ART")"
check "the waiting build's source stays" test -f "$(blob_file "$SRC2")"
eq "the table agrees" "$SRC2" "$(db "select sha256 from blobs")"
eq "a gone blob is 404" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$RFARM_URL/api/v1/blobs/$LOOSE")"

# An active attempt protects what was uploaded after it started.
b=$(submit --platform linux/amd64 --script 'sleep 3')
j=$(first_job "$b")
wait_for 10 test "$(job_field "$j" state)" = running || fail "job $j running"
echo during >"$T/during"
DURING=$(upload "$T/during")
"$RFARM" purge --before 0s >/dev/null
check "a blob newer than a running attempt stays" test -f "$(blob_file "$DURING")"
wait_job "$j" 10 >/dev/null
"$RFARM" purge --before 0s >/dev/null
check "and goes once nothing runs" test ! -e "$(blob_file "$DURING")"
finish
