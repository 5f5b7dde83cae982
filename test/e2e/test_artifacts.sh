#!/usr/bin/env bash
# Artifacts come back content-addressed and verifiable: a program built on
# the buildlet is uploaded with the attempt's token, its digest equals the
# file the buildlet built, and it downloads byte-exact; a pattern that
# matches nothing fails a passing job; a stale or foreign token is refused.
. "$(dirname "$0")/lib.sh"

start_coord
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"
post() { curl -s -X POST "$RFARM_URL/api/v1/builds" -d "$1" | jq .id; }

script=$(cat <<'SH'
mkdir -p out
echo 'int puts(const char *); int main(void) { puts("built"); return 0; }' > m.c
cc -o out/hello m.c
echo notes > out/notes.txt
sha256sum out/hello
SH
)
b=$(post "{\"platforms\":[\"linux/amd64\"],\"script\":$(jq -Rn --arg s "$script" '$s'),\"artifacts\":[\"out/hello\",\"out/*.txt\"]}")
j=$(first_job "$b")
eq "the build passed" passed "$(wait_job "$j" 60)"
eq "two artifacts" "out/hello out/notes.txt" "$(api "jobs/$j" | jq -r '[.artifacts[].name] | join(" ")')"
built=$(api "jobs/$j/log" | awk '/out\/hello/ {print $1}')
art=$(api "jobs/$j" | jq -r '.artifacts[] | select(.name=="out/hello") | .sha256')
eq "its digest is that of the file the buildlet built" "$built" "$art"
curl -s -o "$T/hello" "$RFARM_URL/api/v1/blobs/$art"
eq "the download hashes to it" "$art" "$(sha256sum "$T/hello" | cut -c1-64)"
chmod +x "$T/hello"
eq "and runs" built "$("$T/hello")"
eq "the size is recorded" "$(stat -c %s "$T/hello")" \
  "$(api "jobs/$j" | jq '.artifacts[] | select(.name=="out/hello") | .size')"
hdrs=$(curl -sL -D - -o /dev/null "$RFARM_URL/api/v1/jobs/$j/artifacts/out/hello" | tr -d '\r')
check "artifact by name redirects" grep -q '^HTTP/1.1 302' <<<"$hdrs"
check "to a download named hello" grep -qi '^content-disposition: attachment; filename="hello"' <<<"$hdrs"
eq "the list endpoint" 2 "$(api "jobs/$j/artifacts" | jq '.artifacts | length')"
eq "an unknown artifact is 404" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$RFARM_URL/api/v1/jobs/$j/artifacts/nope")"
eq "in the database" 2 "$(db "select count(*) from artifacts where job_id=$j")"

# rfarm get downloads all of them, verified, under their paths.
(cd "$T" && "$RFARM" get "$j" -o got >"$T/get.out")
eq "rfarm get exits 0" 0 $?
check "it wrote out/hello" cmp "$T/got/out/hello" "$T/hello"
check "and out/notes.txt" test "$(cat "$T/got/out/notes.txt")" = notes
check "its listing verifies with sha256sum -c" sh -c "cd '$T' && sha256sum -c --quiet get.out"
# A blob damaged on the coordinator's disk is caught, and not kept.
chmod u+w "$DATA/blobs/${art:0:2}/$art"
printf 'X' | dd of="$DATA/blobs/${art:0:2}/$art" bs=1 seek=10 conv=notrunc 2>/dev/null
"$RFARM" get "$j" -o "$T/got2" >/dev/null 2>"$T/get2.err"
eq "a damaged download fails" 1 $?
check "saying so ($(cat "$T/get2.err"))" grep -q "hash to" "$T/get2.err"
check "and leaves no file" test ! -e "$T/got2/out/hello" -a ! -e "$T/got2/out/hello.part"

# The whole path: a C project sent with --src, built by its Makefile, the
# binary brought back and fetched with rfarm get.
mkdir -p "$T/proj"
printf 'int puts(const char *);\nint main(void) { puts("from make"); return 0; }\n' >"$T/proj/main.c"
printf 'app: main.c\n\tcc -O2 -o app main.c\n' >"$T/proj/Makefile"
b=$("$RFARM" submit --platform linux/amd64 --src "$T/proj" --artifact app --wait \
  -- sh -c 'make -s && sha256sum app' 2>/dev/null)
eq "the project built" 0 $?
jp=$(first_job "$b")
(cd "$T" && "$RFARM" get "$jp" -o fetched >/dev/null)
eq "rfarm get of the project's binary" 0 $?
eq "it is the file the buildlet built" "$(api "jobs/$jp/log" | awk '/ app$/ {print $1}')" \
  "$(sha256sum "$T/fetched/app" | cut -c1-64)"
chmod +x "$T/fetched/app" # blobs are bytes: modes do not travel
eq "and it runs" "from make" "$("$T/fetched/app")"

# A pattern that matches nothing turns a passing command into a failure.
b=$(post '{"platforms":["linux/amd64"],"script":"true","artifacts":["dist/*.tar.gz"]}')
j2=$(first_job "$b")
eq "missing artifact: failed" failed "$(wait_job "$j2" 30)"
eq "naming the pattern" "artifact dist/*.tar.gz: no file matched" "$(job_field "$j2" error)"
eq "the exit code is still the command's" 0 "$(job_field "$j2" exit_code)"
# A failing command keeps its own failure.
b=$(post '{"platforms":["linux/amd64"],"script":"exit 5","artifacts":["dist/*"]}')
j3=$(first_job "$b")
eq "exit 5 stays failed with exit 5" "failed 5" \
  "$(wait_job "$j3" 30) $(job_field "$j3" exit_code)"

# Tokens: the store keeps only a hash (which opens nothing), and a made-up
# one is refused. (A live token dying with its attempt is in
# test_hostile_order.sh, where a fake buildlet sees its token.)
tok=$(db "select upload_token from attempts where job_id=$j")
check "the store keeps a SHA-256, not the token" grep -qE '^[0-9a-f]{64}$' <<<"$tok"
echo data >"$T/d"
S=$(sha256sum "$T/d" | cut -c1-64)
code() { curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $1" \
  --data-binary @"$T/d" "$RFARM_URL/api/v1/blobs/$S"; }
eq "the stored hash as a token is 403" 403 "$(code "$tok")"
eq "a made-up token is 403" 403 "$(code "$(printf 'f%.0s' $(seq 1 64))")"
check "nothing stored" test ! -e "$DATA/blobs/${S:0:2}/$S"
eq "bad artifact patterns are refused" bad_artifact \
  "$(curl -s -X POST "$RFARM_URL/api/v1/builds" \
     -d '{"platforms":["linux/amd64"],"script":"true","artifacts":["../etc/passwd"]}' | jq -r .error.code)"
finish
