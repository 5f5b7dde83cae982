#!/usr/bin/env bash
# Logs come back byte for byte: 10 MB on stdout and 10 MB on stderr
# written concurrently, through the API (whole and per stream) and the CLI,
# and bytes that are not text (NULs, invalid UTF-8, control characters).
. "$(dirname "$0")/lib.sh"

start_coord
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

N=10000000
out_cmd="yes 'out 0123456789abcdef' | head -c $N"
err_cmd="yes 'err 0123456789abcdef' | head -c $N"
want_out=$(sh -c "$out_cmd" | sha256sum)
want_err=$(sh -c "$err_cmd" | sha256sum)

j=$(first_job "$(submit --platform linux/amd64 --script "($out_cmd) & ($err_cmd >&2); wait")")
eq "big job passed" passed "$(wait_job "$j" 50)"

curl -s -m 30 "$RFARM_URL/api/v1/jobs/$j/log" -o "$T/all"
eq "whole log is 20,000,000 bytes" $((2 * N)) "$(stat -c %s "$T/all")"
eq "stdout stream byte for byte" "$want_out" \
  "$(curl -s -m 30 "$RFARM_URL/api/v1/jobs/$j/log?stream=stdout" | sha256sum)"
eq "stderr stream byte for byte" "$want_err" \
  "$(curl -s -m 30 "$RFARM_URL/api/v1/jobs/$j/log?stream=stderr" | sha256sum)"
# 'u' occurs only in the stdout lines, 'r' only in the stderr ones.
eq "whole log holds all of stdout" "$(sh -c "$out_cmd" | tr -cd u | wc -c)" \
  "$(tr -cd u <"$T/all" | wc -c)"
eq "whole log holds all of stderr" "$(sh -c "$err_cmd" | tr -cd r | wc -c)" \
  "$(tr -cd r <"$T/all" | wc -c)"
"$RFARM" logs "$j" >"$T/cli" 2>"$T/cli.err"
eq "rfarm logs exits 0" 0 $?
eq "rfarm logs equals the API" "$(sha256sum <"$T/all")" "$(sha256sum <"$T/cli")"
"$RFARM" logs "$j" --stream stderr >"$T/cli-err"
eq "rfarm logs --stream stderr" "$want_err" "$(sha256sum <"$T/cli-err")"

# Bytes that are not text survive on both streams.
bin="printf '\\000\\377\\376abc\\r\\n\\033[31m\\000'"
sh -c "$bin" >"$T/bin.want"
j2=$(first_job "$(submit --platform linux/amd64 --script "$bin; $bin >&2")")
eq "binary job passed" passed "$(wait_job "$j2" 30)"
curl -s -m 10 "$RFARM_URL/api/v1/jobs/$j2/log?stream=stdout" -o "$T/bin.out"
curl -s -m 10 "$RFARM_URL/api/v1/jobs/$j2/log?stream=stderr" -o "$T/bin.err"
check "NULs and invalid UTF-8 on stdout come back exactly" cmp "$T/bin.want" "$T/bin.out"
check "NULs and invalid UTF-8 on stderr come back exactly" cmp "$T/bin.want" "$T/bin.err"
eq "whole binary log is both" "$((2 * $(stat -c %s "$T/bin.want")))" "$(curl -s -m 10 "$RFARM_URL/api/v1/jobs/$j2/log" | wc -c)"
"$RFARM" logs "$j2" --stream stdout >"$T/bin.cli"
check "rfarm logs passes the bytes through" cmp "$T/bin.want" "$T/bin.cli"
finish
