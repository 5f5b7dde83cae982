#!/usr/bin/env bash
# The commit API and CLI on commits seeded into the store (no watcher):
# GET /repos, GET /repos/{id}/commits (newest first, cells null until
# built, paging, bad queries), POST /commits/{name}/retry (a missing cell
# is built from exactly that commit on a real buildlet, a failed one is
# retried in place, a passed one built again without the cache, a busy
# one left alone: 409 when all are), ambiguous and unknown names, and
# `rfarm repos|commits|retry --commit`.
. "$(dirname "$0")/lib.sh"

R=$T/repo
URL=file://$R
git init -q -b main "$R"
git -C "$R" config user.email t@example.org
git -C "$R" config user.name t
commit() { # commit SUBJECT SCRIPT: print the new commit's hash
  printf '%s\n' "$2" >"$R/build.sh"
  git -C "$R" add build.sh && git -C "$R" commit -q -m "$1" && git -C "$R" rev-parse HEAD
}
c1=$(commit "slow but fine" "sleep 2; echo one")
c2=$(commit "break it" "echo two; exit 1")
c3=$(commit "fix it" "echo three")

CFG=$T/farm.json
cat >"$CFG" <<JSON
{"host_types": [{"name": "linux-amd64", "goos": "linux", "goarch": "amd64"}],
 "builders": [{"name": "tst", "host_type": "linux-amd64", "script": "sh build.sh"},
              {"name": "lint", "host_type": "linux-amd64", "script": "test -s build.sh"}]}
JSON

# A store with the schema, then the rows the watcher would have written:
# repository 1 with three commits (oldest first: ids grow with
# discovery), repository 2 holding c1 too and two commits that share the
# prefix deadbeef.
start_coord
stop_pid TERM "$COORD_PID" 10
sq() { sqlite3 "$DATA/rfarm.db" "$@"; }
sq "INSERT INTO repos(id, url, builders) VALUES(1, '$URL', '[\"tst\",\"lint\"]'),
                                           (2, 'file:///other.git', '[\"tst\"]');
INSERT INTO commits(repo_id, hash, parents, author, time_ms, subject, branch, seen_ms) VALUES
 (1, '$c1', '', 't <t@example.org>', 1700000000000, 'slow but fine', 'main', 1),
 (1, '$c2', '$c1', 't <t@example.org>', 1700000001000, 'break it', 'main', 2),
 (1, '$c3', '$c2', 't <t@example.org>', 1700000002000, 'fix it', 'main', 3),
 (2, '$c1', '', 'o <o@example.org>', 1700000000000, 'same commit elsewhere', 'main', 4),
 (2, 'deadbeef00000000000000000000000000000000', '', 'o', 1, 'x', 'main', 5),
 (2, 'deadbeef11111111111111111111111111111111', '', 'o', 1, 'y', 'main', 6);"
id_of() { sq "select id from commits where repo_id=1 and hash='$1'"; }
COORD_ARGS=(--config "$CFG")
start_coord "$DATA"
start_buildlet b1 linux-amd64 --capacity 4
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

# ---- reading ----
eq "GET /repos lists both" "1 2" "$(api repos | jq -r '[.repos[].id] | join(" ")')"
eq "with the URL" "$URL" "$(api repos | jq -r '.repos[0].url')"
eq "its builders" "tst lint" "$(api repos | jq -r '.repos[0].builders | join(" ")')"
eq "its commit count" 3 "$(api repos | jq -r '.repos[0].commits')"
eq "never polled" null "$(api repos | jq -r '.repos[0].last_poll')"
page=$(api repos/1/commits)
eq "commits newest first" "$c3 $c2 $c1" "$(jq -r '[.commits[].hash] | join(" ")' <<<"$page")"
eq "the columns" "tst lint" "$(jq -r '.builders | join(" ")' <<<"$page")"
eq "every cell null before any build" "null null" "$(jq -r '[.commits[0].cells.tst, .commits[2].cells.lint] | map(tostring) | join(" ")' <<<"$page")"
eq "parents as a list" "$c2" "$(jq -r '.commits[0].parents[0]' <<<"$page")"
eq "subject, author, branch" "fix it|t <t@example.org>|main" "$(jq -r '.commits[0] | "\(.subject)|\(.author)|\(.branch)"' <<<"$page")"
eq "time" 2023-11-14T22:13:22Z "$(jq -r '.commits[0].time' <<<"$page" | sed 's/\.000Z$/Z/')"
eq "one page" null "$(jq -r .next_before <<<"$page")"
p1=$(api 'repos/1/commits?limit=2')
eq "limit=2: two" "$c3 $c2" "$(jq -r '[.commits[].hash] | join(" ")' <<<"$p1")"
eq "and where the next page starts" "$(id_of "$c2")" "$(jq -r .next_before <<<"$p1")"
p2=$(api "repos/1/commits?limit=2&before=$(jq -r .next_before <<<"$p1")")
eq "the next page" "$c1" "$(jq -r '[.commits[].hash] | join(" ")' <<<"$p2")"
eq "is the last" null "$(jq -r .next_before <<<"$p2")"
for q in limit=0 limit=1001 limit=abc limit=-1 before=x before=0; do
  eq "?$q is refused" 400 "$(http_status GET "/api/v1/repos/1/commits?$q")"
done
eq "with a reason" bad_limit "$(http_status GET '/api/v1/repos/1/commits?limit=0' >/dev/null; body_field .error.code)"
eq "an unknown repository" 404 "$(http_status GET /api/v1/repos/99/commits)"

# ---- retry: names ----
retry() { # retry NAME [BODY]: print the status; the answer is in $T/body
  if [ -n "${2:-}" ]; then http_status POST "/api/v1/commits/$1/retry" -d "$2"
  else http_status POST "/api/v1/commits/$1/retry"; fi
}
eq "a prefix of two commits" 409 "$(retry deadbeef)"
eq "is ambiguous" ambiguous "$(body_field .error.code)"
eq "a hash in two repositories" 409 "$(retry "$c1" '{"builder": "tst"}')"
eq "is ambiguous too" ambiguous "$(body_field .error.code)"
eq "an unknown commit" 404 "$(retry 0000000)"
eq "not hex" 400 "$(retry zzzzzzz)"
eq "says so" bad_commit "$(body_field .error.code)"
eq "too short a prefix" 400 "$(retry "${c3:0:6}")"
eq "an unknown builder" 404 "$(retry "$c3" '{"builder": "nope"}')"
eq "an unknown repository" 404 "$(retry "$c3" '{"repo": "file:///nope.git"}')"
eq "an unknown field" 400 "$(retry "$c3" '{"bulder": "tst"}')"
eq "not an object" 400 "$(retry "$c3" '[1]')"

# ---- retry: a cell not built yet is built from exactly that commit ----
eq "retry of c2's tst cell (by prefix)" 200 "$(retry "${c2:0:9}" '{"builder": "tst"}')"
eq "built" "tst built" "$(body_field '.cells[] | "\(.builder) \(.action)"')"
b2=$(body_field '.cells[0].build')
eq "the answer names the commit" "$c2" "$(body_field .commit.hash)"
eq "the build's source is that commit" "$URL $c2" "$(api "builds/$b2" | jq -r '.source.git | "\(.url) \(.ref)"')"
eq "it is the builder's" tst "$(api "builds/$b2" | jq -r .builder)"
eq "builds.commit_id" "$(id_of "$c2") tst" "$(db "select commit_id || ' ' || builder from builds where id=$b2")"
eq "not post-submit" 0 "$(db "select postsubmit from jobs where build_id=$b2")"
j2=$(first_job "$b2")
eq "it ran on the buildlet and failed" failed "$(wait_job "$j2" 60)"
eq "on b1, from c2" "b1 $c2" "$(job_field "$j2" buildlet) $(job_field "$j2" commit)"
cell=$(api repos/1/commits | jq -c --arg h "$c2" '.commits[] | select(.hash == $h) | .cells')
eq "the matrix shows it" "failed $b2 $j2 1 null" "$(jq -r '"\(.tst.state) \(.tst.build) \(.tst.job) \(.tst.exit_code) \(.lint)"' <<<"$cell")"

# ---- a failed cell is retried in place ----
eq "retry of the failed cell" 200 "$(retry "$c2" '{"builder": "tst"}')"
eq "retried, same build" "retried $b2" "$(body_field '.cells[0] | "\(.action) \(.build)"')"
wait_for 20 test "$(job_field "$j2" attempt)" = 2
eq "failed again" failed "$(wait_job "$j2" 60)"
eq "as attempt 2 of the same job" 2 "$(api "jobs/$j2" | jq '.attempts | length')"
eq "no second build of the cell" 1 "$(db "select count(*) from builds where commit_id=$(id_of "$c2")")"

# ---- every builder of the repository; passed cells rebuilt ----
eq "retry of c3 (all builders)" 200 "$(retry "$c3")"
eq "both built" "tst:built lint:built" "$(body_field '[.cells[] | "\(.builder):\(.action)"] | join(" ")')"
b3=$(body_field '.cells[0].build')
eq "c3 passes on tst" passed "$(wait_job "$(first_job "$b3")" 60)"
eq "c3 passes on lint" passed "$(wait_job "$(first_job "$(body_field '.cells[1].build')")" 60)"
eq "retry of the passed tst cell" 200 "$(retry "$c3" '{"builder": "tst"}')"
b3b=$(body_field '.cells[0].build')
eq "is rebuilt as a new build" "rebuilt yes" "$(body_field '.cells[0].action') $([ "$b3b" != "$b3" ] && echo yes)"
eq "without the cache" true "$(api "builds/$b3b" | jq -r .no_cache)"
j3b=$(first_job "$b3b")
eq "it ran again" "passed false" "$(wait_job "$j3b" 60) $(job_field "$j3b" cached)"
eq "the cell shows the newest build" "$b3b" "$(api repos/1/commits | jq -r --arg h "$c3" '.commits[] | select(.hash == $h) | .cells.tst.build')"

# ---- busy cells are left alone ----
body="{\"builder\": \"tst\", \"repo\": \"$URL\"}"
eq "c1 in repository 1 (by URL)" 200 "$(retry "$c1" "$body")"
b1=$(body_field '.cells[0].build')
eq "built" built "$(body_field '.cells[0].action')"
eq "again while it runs: nothing to retry" 409 "$(retry "$c1" "$body")"
eq "says so" nothing_to_retry "$(body_field .error.code)"
eq "by repository id too" 409 "$(retry "$c1" '{"builder": "tst", "repo": 1}')"
eq "c1 passes" passed "$(wait_job "$(first_job "$b1")" 60)"

# ---- the CLI ----
out=$("$RFARM" repos)
check "rfarm repos shows the URL" grep -qF "1 $URL" <<<"$out"
"$RFARM" commits >/dev/null 2>"$T/err"
eq "rfarm commits with two repositories wants --repo" 2 $?
check "and says so" grep -q "give --repo\|with --repo" "$T/err"
out=$(COLUMNS=80 "$RFARM" commits --repo "$URL")
check "rfarm commits --repo URL: c3's row" grep -qE "^${c3:0:7}  fix it +passed +passed$" <<<"$out"
check "c2's row: tst failed, lint not built" grep -qE "^${c2:0:7}  break it +failed +-$" <<<"$out"
check "the header names the builders" grep -qE "^COMMIT +SUBJECT +tst +lint$" <<<"$out"
eq "rfarm commits --json is the API's answer" "$c3" "$("$RFARM" commits --repo 1 --json | jq -r '.commits[0].hash')"
eq "--limit 1 --json" 1 "$("$RFARM" commits --repo 1 --limit 1 --json | jq '.commits | length')"
"$RFARM" commits --repo 1 --limit 0 >/dev/null 2>&1
eq "--limit 0 is a usage error" 2 $?
"$RFARM" commits --repo 1 --colour >/dev/null 2>"$T/err"
eq "an unknown flag is a usage error" 2 $?
check "named" grep -q "unknown option '--colour'" "$T/err"
out=$("$RFARM" retry --commit "${c2:0:8}" --builder tst --repo 1)
check "rfarm retry --commit retries the cell" grep -q "tst: failed jobs queued again (build $b2)" <<<"$out"
"$RFARM" retry --commit deadbeef >/dev/null 2>"$T/err"
eq "an ambiguous prefix: status 1" 1 $?
check "with the server's reason" grep -q "ambiguous" "$T/err"
"$RFARM" retry --builder tst >/dev/null 2>&1
eq "--builder without --commit is a usage error" 2 $?
# The cell's retry above is still on its way: it fails again first.
wait_job "$(first_job "$b2")" 30 >/dev/null
check "rfarm retry BUILD still works" "$RFARM" retry "$b2" --json
check "rfarm retry --help mentions --commit" grep -q -- "--commit HASH" <<<"$("$RFARM" retry --help)"
wait_job "$j2" 60 >/dev/null
check "no sanitizer reports" no_sanitizer_reports "$T/coordinator.log"
finish
