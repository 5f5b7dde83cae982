#!/usr/bin/env bash
# Artifact and source caps: an artifact over --max-artifact-bytes, more
# artifacts than --max-artifacts, or more bytes than --max-artifact-total
# is refused with 413 (a JSON error naming the cap), the buildlet gives
# up that upload at once, and the job ends failed with a message naming
# the file and the cap, its exit code kept; nothing half-written stays in
# the blob directory. A source over --max-source-bytes is refused with
# 413 before its body is read, and `rfarm submit --src` says so.
. "$(dirname "$0")/lib.sh"

COORD_ARGS=(--max-artifact-bytes 1M --max-artifacts 3 --max-artifact-total 2M
            --max-source-bytes 64K)
start_coord
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"
post() { curl -s -X POST "$RFARM_URL/api/v1/builds" -d "$1" | jq .id; }
build() { # build SCRIPT PATTERN: submit, print the job id
  post "{\"platforms\":[\"linux/amd64\"],\"script\":$(jq -Rn --arg s "$1" '$s'),\"artifacts\":[\"$2\"]}" |
    { read -r b; first_job "$b"; }
}
blob_files() { find "$DATA/blobs" -type f | wc -l; }
no_partial() { [ -z "$(ls -A "$DATA/blobs/tmp")" ]; }

# Within every cap: passes (three files, 1.5 MB in all).
j=$(build 'mkdir out; for f in a b c; do head -c 500000 /dev/zero | tr "\0" $f >out/$f; done' 'out/*')
eq "three 500 KB artifacts pass" passed "$(wait_job "$j" 60)"
eq "all three recorded" 3 "$(api "jobs/$j" | jq '.artifacts | length')"
before=$(blob_files)

# One file over the per-file cap (2 MB > 1M). Its bytes are known, so the
# blob it would have been can be looked for.
big='head -c 2000000 /dev/zero | tr "\0" B'
big_sha=$(sh -c "$big" | sha256sum | cut -c1-64)
j=$(build "mkdir out; echo small >out/a.txt; $big >out/big.bin" 'out/*')
eq "an artifact over the per-file cap: failed" failed "$(wait_job "$j" 60)"
err=$(job_field "$j" error)
check "the message names the file ($err)" grep -q 'out/big.bin' <<<"$err"
check "and the cap" grep -q -- '--max-artifact-bytes' <<<"$err"
check "and the limit in bytes" grep -q 'limit of 1048576 bytes per file' <<<"$err"
eq "the command's exit code is kept" 0 "$(job_field "$j" exit_code)"
eq "no artifact is recorded" 0 "$(api "jobs/$j" | jq '.artifacts | length')"
check "no blob of the big file" test ! -e "$DATA/blobs/${big_sha:0:2}/$big_sha"
check "nothing half-written in blobs/tmp" no_partial
eq "the buildlet gave up at once (one try)" 1 \
  "$(grep -c 'artifact out/big.bin: upload try' "$T/buildlet-b1.log")"
check "it logged the coordinator's reason" \
  grep -q 'out/big.bin: upload try 1 failed: HTTP 413: .*--max-artifact-bytes' "$T/buildlet-b1.log"
eq "the refusal is on the attempt" 1 \
  "$(db "select refused like '%--max-artifact-bytes%' from attempts where job_id=$j")"

# Too many: five files, three allowed; the fourth is refused.
j=$(build 'mkdir out; for i in 1 2 3 4 5; do echo $i >out/f$i; done' 'out/*')
eq "too many artifacts: failed" failed "$(wait_job "$j" 60)"
err=$(job_field "$j" error)
check "the message names the fourth file and the cap ($err)" \
  grep -q 'out/f4: over the limit of 3 artifacts per job (--max-artifacts)' <<<"$err"
eq "f5 was not even tried" 0 "$(grep -c 'out/f5' "$T/buildlet-b1.log")"

# Over the total: three files of 800 KB, 2M allowed in all.
j=$(build 'mkdir out; for f in x y z; do head -c 800000 /dev/zero | tr "\0" $f >out/$f; done' 'out/*')
eq "over the per-job total: failed" failed "$(wait_job "$j" 60)"
err=$(job_field "$j" error)
check "the message names the third file and the cap ($err)" \
  grep -q 'out/z: .*over the limit of 2097152 bytes per job (--max-artifact-total)' <<<"$err"
check "nothing half-written in blobs/tmp" no_partial

# The API answer itself: 413 with a JSON error naming the cap, before the
# body (an upload token of a running job).
# A fake buildlet (the only one for plan9/mips) shows the token it is given:
# the store keeps only its hash.
KEY=$(cat "$(keyfile plan9-mips)")
j=$(first_job "$(submit --platform plan9/mips --script 'sleep 30')")
peer --key "$KEY" --host-type plan9-mips --name capper --platform plan9/mips \
  --scenario script --wait 1 --send hello --send wait-run --send pause:20 \
  >"$T/capper.out" &
PIDS+=("$!")
wait_for 15 grep -qs '^upload_token ' "$T/capper.out" || fail "the fake buildlet got job $j"
tok=$(awk '/^upload_token /{print $2; exit}' "$T/capper.out")
head -c 1100000 /dev/zero >"$T/big"
sha=$(sha256sum "$T/big" | cut -c1-64)
eq "PUT of a 1.1 MB artifact is 413" 413 \
  "$(http_status PUT "/api/v1/blobs/$sha" -H "Authorization: Bearer $tok" -H 'Expect:' --data-binary @"$T/big")"
eq "code artifact_too_large" artifact_too_large "$(body_field .error.code)"
check "message names the cap" grep -q -- '--max-artifact-bytes' <<<"$(body_field .error.message)"
eq "the refused upload left the job running" dispatched "$(job_field "$j" state)"
"$RFARM" cancel "$(job_field "$j" build)" >/dev/null

# Sources: 413 before the body when Content-Length is over the cap.
head -c 100000 /dev/urandom >"$T/src.tgz"
sha=$(sha256sum "$T/src.tgz" | cut -c1-64)
eq "PUT of a 100 KB source is 413" 413 \
  "$(http_status PUT "/api/v1/blobs/$sha" -H 'Expect:' --data-binary @"$T/src.tgz")"
eq "code source_too_large" source_too_large "$(body_field .error.code)"
check "message names the cap ($(body_field .error.message))" \
  grep -q 'over the limit of 65536 bytes (--max-source-bytes)' <<<"$(body_field .error.message)"
check "no blob kept" test ! -e "$DATA/blobs/${sha:0:2}/$sha"
head -c 60000 /dev/urandom >"$T/ok.tgz"
sha=$(sha256sum "$T/ok.tgz" | cut -c1-64)
eq "a 60 KB source is taken" 201 \
  "$(http_status PUT "/api/v1/blobs/$sha" --data-binary @"$T/ok.tgz")"

mkdir -p "$T/proj"
head -c 200000 /dev/urandom >"$T/proj/data.bin"
"$RFARM" submit --platform linux/amd64 --src "$T/proj" -- true >"$T/submit.out" 2>"$T/submit.err"
st=$?
check "rfarm submit --src of a big tree fails (exit $st)" test "$st" -ne 0
check "saying why ($(cat "$T/submit.err"))" \
  grep -q 'uploading the source: .*over the limit of 65536 bytes (--max-source-bytes)' "$T/submit.err"
eq "no build was made" 5 "$(db 'select count(*) from builds')"
check "nothing half-written in blobs/tmp" no_partial
# Whole blobs only: what was uploaded before a refusal (a.txt; f1-f3;
# x, y: purge collects them once unreferenced) and the 60 KB source.
eq "blob files: whole uploads only" "$((before + 1 + 3 + 2 + 1))" "$(blob_files)"
finish
