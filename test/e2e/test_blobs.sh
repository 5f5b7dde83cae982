#!/usr/bin/env bash
# The blob store: uploads are verified against their name before they
# exist; a wrong digest, a short body, a dropped connection or a full disk
# leaves nothing behind; downloads carry ETag, immutable caching, 304 and
# byte ranges.
. "$(dirname "$0")/lib.sh"

start_coord
head -c 3000000 /dev/urandom >"$T/blob"
S=$(sha256sum "$T/blob" | cut -d' ' -f1)
Z=$(printf '0%.0s' $(seq 1 64))
url() { echo "$RFARM_URL/api/v1/blobs/$1"; }
put() { curl -s -o "$T/put.out" -w '%{http_code}' -X PUT --data-binary @"$2" "$(url "$1")"; }
tmp_empty() { [ -z "$(ls -A "$DATA/blobs/tmp")" ]; }

eq "upload is 201" 201 "$(put "$S" "$T/blob")"
eq "it reports the size" 3000000 "$(jq .size "$T/put.out")"
check "stored under its digest" cmp "$T/blob" "$DATA/blobs/${S:0:2}/$S"
eq "again is 200 (already there)" 200 "$(put "$S" "$T/blob")"
eq "and says so" true "$(jq .existed "$T/put.out")"
eq "recorded in the database" 3000000 "$(db "select size from blobs where sha256='$S'")"

eq "a body that does not hash to its name is 400" 400 "$(put "$Z" "$T/blob")"
eq "digest_mismatch" digest_mismatch "$(jq -r .error.code "$T/put.out")"
check "nothing stored for the wrong name" test ! -e "$DATA/blobs/00/$Z"
eq "a name that is not a digest is 400" 400 "$(put "not-a-digest" "$T/blob")"

# A short body: the connection closes after 5 of the 100 bytes announced.
port=${RFARM_URL##*:}
S2=$(printf 'x%.0s' $(seq 1 100) | sha256sum | cut -d' ' -f1)
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'PUT /api/v1/blobs/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nxxxxx' "$S2" >&3
sleep 0.5
exec 3>&-
check "a cut-off upload leaves no temporary file" wait_for 5 tmp_empty
check "and no blob" test ! -e "$DATA/blobs/${S2:0:2}/$S2"
check "the coordinator still serves" curl -sf -m 5 "$RFARM_URL/alive" -o /dev/null

# Downloads.
check "download is byte-exact" cmp "$T/blob" <(curl -s "$(url "$S")")
hdrs=$(curl -sI "$(url "$S")" | tr -d '\r')
check "ETag is the digest" grep -qx "etag: \"$S\"" <<<"$hdrs"
check "cached forever" grep -qx "cache-control: public, max-age=31536000, immutable" <<<"$hdrs"
check "HEAD has the length" grep -qx "content-length: 3000000" <<<"$hdrs"
eq "If-None-Match gives 304" 304 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: \"$S\"" "$(url "$S")")"
eq "a range is 206" 206 \
  "$(curl -s -o "$T/range" -w '%{http_code}' -H 'Range: bytes=1000-1999' "$(url "$S")")"
check "with exactly those bytes" cmp "$T/range" <(tail -c +1001 "$T/blob" | head -c 1000)
eq "a suffix range" 10 "$(curl -s -H 'Range: bytes=-10' "$(url "$S")" | wc -c)"
eq "a range past the end is 416" 416 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H 'Range: bytes=4000000-' "$(url "$S")")"
eq "an unknown blob is 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$(url "$Z")")"

# A full disk (a 2 MiB file-size limit on the coordinator): the upload
# fails with a clear error, nothing is left, everything else goes on.
stop_pid TERM "$COORD_PID" 10
forget_pid "$COORD_PID"
DATA2=$T/small
mkdir -p "$DATA2"
(ulimit -f 2048; exec "$RFARM" coordinator --listen 127.0.0.1:0 --data "$DATA2" \
  >>"$T/coordinator-small.log" 2>&1) &
COORD_PID=$!
PIDS+=("$COORD_PID")
wait_for 20 test -s "$DATA2/url" || fail "small coordinator started"
RFARM_URL=$(cat "$DATA2/url")
eq "an upload over the disk's room is 507" 507 "$(put "$S" "$T/blob")"
check "it says why ($(jq -r .error.message "$T/put.out"))" \
  grep -qi "too large\|no space" <<<"$(jq -r .error.message "$T/put.out")"
check "no partial blob" test ! -e "$DATA2/blobs/${S:0:2}/$S"
check "no temporary file" test -z "$(ls -A "$DATA2/blobs/tmp")"
head -c 1000 /dev/urandom >"$T/small-blob"
S3=$(sha256sum "$T/small-blob" | cut -d' ' -f1)
eq "a small upload still works" 201 "$(put "$S3" "$T/small-blob")"
finish
