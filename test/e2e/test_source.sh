#!/usr/bin/env bash
# Tarball sources: `rfarm submit --src DIR` packs a small C project (minus
# what its .rfarmignore lists), uploads it once, and the job builds and
# runs it in its work directory. The same tree again is not uploaded
# again; a changed one is. A build naming a blob that was never uploaded
# is refused, and a tree the packer cannot send fails before any upload.
. "$(dirname "$0")/lib.sh"

start_coord
start_buildlet b1
wait_for 20 buildlet_connected b1 || { fail "buildlet did not connect"; finish; }

P=$T/proj
mkdir -p "$P/lib" "$T/tmp"
cat >"$P/main.c" <<'EOF'
#include <stdio.h>
#include "include/util.h"

int main(void)
{
	printf("hello from main, 6*7=%d\n", util_times(6, 7));
	return 0;
}
EOF
cat >"$P/lib/util.h" <<'EOF'
int util_times(int a, int b);
EOF
cat >"$P/lib/util.c" <<'EOF'
#include "util.h"

int util_times(int a, int b) { return a * b; }
EOF
ln -s lib "$P/include" # a symbolic link the build goes through
printf 'hello: main.o lib/util.o\n\tcc -o hello main.o lib/util.o\n' >"$P/Makefile"
printf '# build output\n*.o\nsecret.txt\n' >"$P/.rfarmignore"
echo "do not send me" >"$P/secret.txt"
echo "garbage, not an object file" >"$P/stale.o"

# The packer's temporary files go to $T/tmp, which must stay empty.
export TMPDIR=$T/tmp
tmp_empty() { [ -z "$(ls -A "$T/tmp")" ]; }
blob_count() { find "$DATA/blobs" -mindepth 2 -maxdepth 2 -path "$DATA/blobs/??/*" -type f | wc -l; }
CMD=(sh -c 'make && ./hello && ls -a . lib')

# submit_src OUT_PREFIX: rfarm submit --src $P --wait; status in SUB_STATUS.
submit_src() {
  timeout 60 "$RFARM" submit --src "$P" --platform linux/amd64 --wait -- "${CMD[@]}" \
    >"$T/$1.out" 2>"$T/$1.err"
  SUB_STATUS=$?
  [ "$SUB_STATUS" = 0 ] || sed 's/^/   submit said: /' "$T/$1.err"
}

submit_src first
eq "the build passes" 0 "$SUB_STATUS"
check "the upload is reported" \
  grep -qE '^source: uploaded [0-9]+ bytes \(sha256 [0-9a-f]{12}…\)$' "$T/first.err"
b1=$(head -1 "$T/first.out")
[ -n "$b1" ] || { fail "no build was made; the rest is moot"; finish; }
j1=$(first_job "$b1")
"$RFARM" logs "$j1" >"$T/log1"
check "the program ran" grep -qx 'hello from main, 6\*7=42' "$T/log1"
check "make compiled both files" grep -q 'lib/util.o' "$T/log1"
check "the sources are in the work directory" grep -qx 'main.c' "$T/log1"
check "and the subdirectory" grep -qx 'util.c' "$T/log1"
check "and the symbolic link" grep -qx 'include' "$T/log1"
check ".rfarmignore itself is sent" grep -qx '.rfarmignore' "$T/log1"
check "secret.txt is not" bash -c "! grep -q secret.txt '$T/log1'"
check "nor stale.o (*.o)" bash -c "! grep -q stale.o '$T/log1'"
eq "one blob on the coordinator" 1 "$(blob_count)"
sha=$(find "$DATA/blobs" -mindepth 2 -type f -path "$DATA/blobs/??/*" -printf '%f\n' | head -1)
check "the message shows its digest" grep -q "(sha256 ${sha:0:12}…)" "$T/first.err"
eq "the build names it as its source" "$sha" \
  "$(db "select json_extract(spec, '\$.source.tarball') from builds where id=$b1")"
check "no temporary file is left" tmp_empty

# Same tree, touched and with an ignored file changed: same digest.
touch "$P/main.c" "$P/lib"
echo "still secret" >"$P/secret.txt"
submit_src second
eq "the second build passes" 0 "$SUB_STATUS"
check "nothing is uploaded again" grep -qx "source: already on the coordinator (sha256 ${sha:0:12}…)" "$T/second.err"
check "and no upload is reported" bash -c "! grep -q uploaded '$T/second.err'"
eq "still one blob" 1 "$(blob_count)"
check "no temporary file is left" tmp_empty

# A real change is a new blob.
sed -i 's/6\*7=/six times seven is /' "$P/main.c"
submit_src third
eq "the changed build passes" 0 "$SUB_STATUS"
check "it is uploaded" grep -q '^source: uploaded' "$T/third.err"
eq "two blobs" 2 "$(blob_count)"
"$RFARM" logs "$(first_job "$(head -1 "$T/third.out")")" >"$T/log3"
check "the new source ran" grep -qx 'hello from main, six times seven is 42' "$T/log3"

# A digest that was never uploaded.
Z=$(printf 'ab%.0s' $(seq 1 32))
eq "an unknown tarball is 400" 400 "$(http_status POST /api/v1/builds -H 'Content-Type: application/json' \
  --data-binary "{\"platforms\":[\"linux/amd64\"],\"command\":[\"true\"],\"source\":{\"tarball\":\"$Z\"}}")"
eq "unknown_source" unknown_source "$(body_field .error.code)"

# `submit --src` asks with HEAD, then PUTs on the same kept-alive
# connection: a HEAD answer must not carry a body (the 404's JSON error
# would be read as the start of the next answer).
for i in 1 2 3; do
  eq "HEAD of a missing blob leaves the connection usable ($i)" "404 200" \
    "$(curl -s -m 10 -o /dev/null -w '%{http_code} ' -I "$RFARM_URL/api/v1/blobs/$Z" \
       --next -s -m 10 -o /dev/null -w '%{http_code}' "$RFARM_URL/api/v1/builds")"
done

# Trees the packer refuses: nothing is uploaded, nothing is left behind.
mkfifo "$P/pipe"
builds_before=$(db "select count(*) from builds")
timeout 30 "$RFARM" submit --src "$P" --platform linux/amd64 -- true >"$T/fifo.out" 2>"$T/fifo.err"
eq "a fifo in the tree is a usage error" 2 "$?"
check "naming it" grep -q "source: $P/pipe is a fifo" "$T/fifo.err"
rm -f "$P/pipe"
timeout 30 "$RFARM" submit --src "$T/nope" --platform linux/amd64 -- true >/dev/null 2>"$T/nope.err"
eq "a missing directory is a usage error" 2 "$?"
check "naming it" grep -q "$T/nope" "$T/nope.err"
eq "no build was made" "$builds_before" "$(db "select count(*) from builds")"
eq "no blob was added" 2 "$(blob_count)"
check "no temporary file is left" tmp_empty

finish
