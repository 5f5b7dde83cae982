#!/usr/bin/env bash
# Builders as data: a coordinator started with --config serves builds by
# builder name (platform, script, env, timeout, artifacts from the file);
# SIGHUP rereads the file and only new builds see the change (a running
# and a queued build keep theirs); an invalid file is refused by
# `rfarm reload` with file:line: reason, logged, and the old config stays;
# the buildlet stays connected throughout; /metrics shows the expected,
# connected and short gauges per host type.
. "$(dirname "$0")/lib.sh"

CFG=$T/farm.json
# write_config VERSION: the builder "bt" echoes VERSION and $CC; its first
# run waits (bounded) for $T/go so it is still running across a reload.
write_config() {
  cat >"$CFG.tmp" <<JSON
{"host_types": [{"name": "linux-amd64", "goos": "linux", "goarch": "amd64",
                 "expected": 2, "owner": "ops@example.org"},
                {"name": "linux-mips", "goos": "linux", "goarch": "mips",
                 "expected": 0}],
 "builders": [{"name": "bt", "host_type": "linux-amd64",
               "script": "for i in \$(seq 300); do [ -e '$T/go' ] && break; sleep 0.1; done; echo $1 CC=\$CC > out.txt; cat out.txt",
               "env": {"CC": "cc-$1"}, "timeout": "$2", "artifacts": ["out.txt"]},
              {"name": "mips", "host_type": "linux-mips", "script": "echo mips-$1"}],
 "repos": [{"url": "file:///nowhere.git", "builders": ["bt"], "poll": "30s"}]}
JSON
  mv "$CFG.tmp" "$CFG"
}
# by_builder NAME: POST a build of builder NAME, print its build id.
by_builder() {
  curl -s -X POST "$RFARM_URL/api/v1/builds" -d "{\"builder\": \"$1\"}" | jq -r .id
}
build_field() { api "builds/$1" | jq -r "$2"; }
metric() { curl -s -m 10 "$RFARM_URL/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
loaded() { test "$(grep -c "config $CFG loaded" "$T/coordinator.log")" -ge "$1"; }

write_config v1 5m
COORD_ARGS=(--config "$CFG")
start_coord
start_buildlet b1 linux-amd64
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"
check "the start logged the config" loaded 1
eq "GET /api/v1/config names the file" "$CFG" "$(api config | jq -r .file)"
eq "and holds its builders" "bt mips" "$(api config | jq -r '[.config.builders[].name] | join(" ")')"

# Submit by builder: everything comes from the config.
b1=$(by_builder bt)
j1=$(first_job "$b1")
check "build by builder accepted ($b1)" test "$b1" -gt 0
eq "its builder" bt "$(build_field "$b1" .builder)"
eq "platform from the host type" linux/amd64 "$(build_field "$b1" '.jobs[0].platform')"
check "script from the builder" grep -q 'echo v1 CC=' <<<"$(build_field "$b1" .script)"
eq "env from the builder" cc-v1 "$(build_field "$b1" .env.CC)"
eq "timeout from the builder" 300 "$(build_field "$b1" .timeout_s)"
eq "artifacts from the builder" out.txt "$(build_field "$b1" '.artifacts[0]')"
wait_for 20 test "$(job_field "$j1" state)" = running || fail "job $j1 running"
b2=$(by_builder mips)
eq "the mips build waits (no such machine)" queued "$(build_field "$b2" '.jobs[0].state')"
eq "an unknown builder is refused" 400 \
  "$(http_status POST /api/v1/builds -d '{"builder": "nope"}')"
eq "and said so" unknown_builder "$(body_field .error.code)"

# Change the builder, SIGHUP: new builds only.
write_config v2 6m
kill -HUP "$COORD_PID"
wait_for 10 loaded 2 || fail "SIGHUP reloaded the config"
check "the coordinator still runs after SIGHUP" kill -0 "$COORD_PID"
check "GET /api/v1/config shows the new script" grep -q 'echo v2' <<<"$(api config | jq -r '.config.builders[0].script')"
b3=$(by_builder bt)
j3=$(first_job "$b3")
eq "new build: new env" cc-v2 "$(build_field "$b3" .env.CC)"
eq "new build: new timeout" 360 "$(build_field "$b3" .timeout_s)"
eq "running build keeps its env" cc-v1 "$(build_field "$b1" .env.CC)"
eq "queued build keeps its script" "echo mips-v1" "$(build_field "$b2" .script)"
touch "$T/go"
eq "running build passed" passed "$(wait_job "$j1" 60)"
eq "it ran the old script" "v1 CC=cc-v1" "$(api "jobs/$j1/log")"
eq "new build passed" passed "$(wait_job "$j3" 60)"
eq "it ran the new script" "v2 CC=cc-v2" "$(api "jobs/$j3/log")"
eq "its artifact" out.txt "$(api "jobs/$j3/artifacts" | jq -r '(.artifacts // .)[0].name')"

# An invalid file: refused with file:line: reason, the old one stays.
cp "$CFG" "$T/good.json"
sed 's/"owner": "ops@example.org"/"ownr": "ops@example.org"/' "$T/good.json" >"$CFG"
"$RFARM" reload --data "$DATA" >"$T/reload.out" 2>"$T/reload.err"
eq "rfarm reload of a bad file fails" 1 "$?"
check "with file:line: path: reason" grep -qF "$CFG:2: host_types[0].ownr: unknown key" "$T/reload.err"
check "the coordinator logged it" grep -qF "config not reloaded, the old one stays in force: $CFG:2:" "$T/coordinator.log"
eq "the old config stays in force" cc-v2 "$(api config | jq -r '.config.builders[0].env.CC')"
check "and GET /api/v1/config reports the error" grep -qF "$CFG:2:" <<<"$(api config | jq -r .last_error)"
b4=$(by_builder bt)
eq "builds still use the old config" cc-v2 "$(build_field "$b4" .env.CC)"
eq "that build passes" passed "$(wait_job "$(first_job "$b4")" 60)"
printf '{"builders": [\n  {"name": "x",\n]}\n' >"$CFG"
kill -HUP "$COORD_PID"
wait_for 10 grep -qF "$CFG:3:1:" "$T/coordinator.log" || fail "a syntax error is logged with line and column"
eq "still the old config" cc-v2 "$(api config | jq -r '.config.builders[0].env.CC')"

# Fixed again: rfarm reload (by RFARM_URL) takes it.
cp "$T/good.json" "$CFG"
check "rfarm reload of a good file" "$RFARM" reload
eq "the error is cleared" null "$(api config | jq -r .last_error)"
"$RFARM" reload --data "$T/nothing" 2>"$T/reload.err"
eq "rfarm reload without a coordinator: usage status" 2 "$?"

# The buildlet never left; the expected-machines alert.
check "b1 still connected" buildlet_connected b1
eq "one hello, no reconnect" "1 0" "$(metric rfarm_buildlet_hellos_total) $(metric rfarm_buildlet_reconnects_total)"
eq "expected linux-amd64" 2 "$(metric 'rfarm_host_type_expected{host_type="linux-amd64"}')"
eq "connected linux-amd64" 1 "$(metric 'rfarm_host_type_connected{host_type="linux-amd64"}')"
eq "linux-amd64 is short" 1 "$(metric 'rfarm_host_type_short{host_type="linux-amd64"}')"
eq "linux-mips expects none: not short" 0 "$(metric 'rfarm_host_type_short{host_type="linux-mips"}')"
start_buildlet b2 linux-amd64
wait_for 20 buildlet_connected b2 || fail "buildlet b2 connected"
eq "two connected" 2 "$(metric 'rfarm_host_type_connected{host_type="linux-amd64"}')"
eq "no longer short" 0 "$(metric 'rfarm_host_type_short{host_type="linux-amd64"}')"

# A bad file at start stops the start, with the same message.
stop_pid TERM "$COORD_PID" 10
sed 's/"host_type": "linux-mips"/"host_type": "linux-arm"/' "$T/good.json" >"$CFG"
line=$(grep -n '"host_type": "linux-arm"' "$CFG" | cut -d: -f1)
timeout 20 "$RFARM" coordinator --listen 127.0.0.1:0 --data "$T/d2" --config "$CFG" 2>"$T/start.err"
eq "a bad config stops the start" 1 "$?"
check "with file:line: path: reason" grep -qF "$CFG:$line: builders[1].host_type: no host type \"linux-arm\"" "$T/start.err"
check "no sanitizer reports" no_sanitizer_reports "$T/coordinator.log"
finish
