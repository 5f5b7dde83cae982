#!/usr/bin/env bash
# The commit watcher, end to end: a local git repository (file://) watched
# by a coordinator with two builders. Three commits make three rows, each
# built on both builders at exactly its commit; the broken middle commit
# is red in both columns and the fix after it green. A push webhook
# (GitHub's HMAC and GitLab's token) polls at once; bad signatures are
# refused. Post-submit work waits behind an API build, newest commit
# first. A coordinator killed and restarted makes no duplicate builds and
# goes on from the heads it recorded. A repository that cannot be reached
# is reported and the farm keeps working.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }
REPO=$T/app
CFG=$T/farm.json
SECRET=$T/hook.secret
git init -q -b main "$REPO"
gitc() { git -C "$REPO" -c user.name=Dev -c user.email=dev@example.org "$@"; }
# put_commit MESSAGE STATUS: a commit whose check.sh exits STATUS.
put_commit() {
  printf 'echo checking "%s"\nexit %s\n' "$1" "$2" >"$REPO/check.sh"
  gitc add check.sh && gitc commit -q -m "$1"
  gitc rev-parse HEAD
}
write_config() { # write_config POLL [URL...]
  local poll=$1 repos="" u; shift
  for u in "$@"; do
    repos+="${repos:+,}{\"url\": \"$u\", \"branches\": [\"main\"], \"poll\": \"$poll\"}"
  done
  cat >"$CFG.tmp" <<JSON
{"host_types": [{"name": "linux-amd64", "goos": "linux", "goarch": "amd64", "expected": 1}],
 "builders": [{"name": "unit", "host_type": "linux-amd64", "script": "sh check.sh"},
              {"name": "lint", "host_type": "linux-amd64", "script": "sh check.sh && echo lint ok"}],
 "repos": [$repos]}
JSON
  mv "$CFG.tmp" "$CFG"
}
# cell HASH BUILDER: the state of the newest build of that cell, "none".
cell() {
  local s
  s=$(db "SELECT j.state FROM builds b JOIN commits c ON c.id=b.commit_id
          JOIN jobs j ON j.build_id=b.id WHERE c.hash='$1' AND b.builder='$2'
          ORDER BY b.id DESC LIMIT 1")
  echo "${s:-none}"
}
cells_final() { # cells_final HASH...: every cell of each commit has ended
  local h b
  for h in "$@"; do
    for b in unit lint; do
      case $(cell "$h" "$b") in passed|failed|error|cancelled) ;; *) return 1;; esac
    done
  done
}
nbuilds() { db "SELECT count(*) FROM builds WHERE commit_id<>0"; }
nbuilds_is() { test "$(nbuilds)" -eq "$1"; }
ncommits() { db "SELECT count(*) FROM commits"; }
sign() { openssl dgst -sha256 -hmac "$(cat "$SECRET")" -hex <"$1" | sed 's/^.*= //'; }
hook() { # hook BODYFILE [curl args]: POST it to the webhook, print the status
  local body=$1; shift
  curl -s -m 10 -o "$T/body" -w '%{http_code}' -X POST "$@" \
    --data-binary "@$body" "$RFARM_URL/api/v1/hooks/git"
}

openssl rand -hex 24 >"$SECRET"
chmod 600 "$SECRET"
c1=$(put_commit "first: works" 0)
# Poll rarely: the webhook is what makes each push seen at once.
write_config 1h "file://$REPO"
COORD_ARGS=(--config "$CFG" --hook-secret-file "$SECRET")
start_coord
start_buildlet b1 linux-amd64 --capacity 2
wait_for 20 buildlet_connected b1 || fail "buildlet connected"

# The first poll happens at start: the branch's head, and only it.
wait_for 20 nbuilds_is 2 || fail "first commit built on two builders"
eq "the repository is recorded" "file://$REPO" "$(db 'SELECT url FROM repos')"
eq "its head" "$c1" "$(db "SELECT hash FROM repo_heads WHERE branch='main'")"
eq "commit metadata: author" "Dev <dev@example.org>" "$(db "SELECT author FROM commits WHERE hash='$c1'")"
eq "commit metadata: subject" "first: works" "$(db "SELECT subject FROM commits WHERE hash='$c1'")"
wait_for 60 cells_final "$c1" || fail "first row finished"
eq "row 1, unit" passed "$(cell "$c1" unit)"
eq "row 1, lint" passed "$(cell "$c1" lint)"
b=$(db "SELECT id FROM builds WHERE builder='unit' LIMIT 1")
eq "the build is of exactly that commit" "$c1" "$(api "builds/$b" | jq -r .source.git.ref)"
eq "and the buildlet checked it out" "$c1" "$(api "builds/$b" | jq -r '.jobs[0].commit')"
eq "from the watched URL" "file://$REPO" "$(api "builds/$b" | jq -r .source.git.url)"

# Webhook: refused without proof, with a wrong one, and with GitLab's
# token wrong; nothing is polled for those.
echo '{"repository": {"clone_url": "file://'"$REPO"'.git"}}' >"$T/push.json"
eq "no signature: 401" 401 "$(hook "$T/push.json")"
eq "said why" bad_signature "$(body_field .error.code)"
eq "wrong signature: 403" 403 "$(hook "$T/push.json" -H "X-Hub-Signature-256: sha256=$(printf '%064d' 0)")"
eq "wrong GitLab token: 403" 403 "$(hook "$T/push.json" -H "X-Gitlab-Token: nope-nope-nope-nope")"
check "refusals logged with the address" grep -q "git hook from 127.0.0.1 refused" "$T/coordinator.log"

# Commit 2 is broken; a signed push makes it seen at once.
c2=$(put_commit "second: broken" 1)
eq "signed push: 202" 202 "$(hook "$T/push.json" -H "X-Hub-Signature-256: sha256=$(sign "$T/push.json")")"
eq "it names the repository (.git and all)" "file://$REPO" "$(body_field '.polling[0]')"
wait_for 20 nbuilds_is 4 || fail "second commit built on two builders"
wait_for 60 cells_final "$c2" || fail "second row finished"
eq "row 2 (broken), unit is red" failed "$(cell "$c2" unit)"
eq "row 2 (broken), lint is red" failed "$(cell "$c2" lint)"

# Commit 3 fixes it; GitLab's token this time, and a body naming nothing
# polls every repository.
c3=$(put_commit "third: fixed" 0)
echo '{}' >"$T/empty.json"
eq "GitLab token: 202" 202 "$(hook "$T/empty.json" -H "X-Gitlab-Token: $(cat "$SECRET")")"
wait_for 20 nbuilds_is 6 || fail "third commit built on two builders"
wait_for 60 cells_final "$c3" || fail "third row finished"
eq "row 3 (fixed), unit is green" passed "$(cell "$c3" unit)"
eq "row 3 (fixed), lint is green" passed "$(cell "$c3" lint)"
eq "three rows" 3 "$(ncommits)"
eq "parents: commit 3's is commit 2" "$c2" "$(db "SELECT parents FROM commits WHERE hash='$c3'")"
eq "rows newest first by id" "$c3 $c2 $c1" "$(db "SELECT group_concat(hash, ' ') FROM (SELECT hash FROM commits ORDER BY id DESC)")"
# The same three rows on the dashboard (repos/1.json, rewritten within
# a second or two) and through the CLI.
dash_rows() {
  curl -s "$RFARM_URL/repos/1.json" |
    jq -r '[.commits[] | .hash + ":" + .cells.unit.state + "," + .cells.lint.state] | join(" ")'
}
want_rows="$c3:passed,passed $c2:failed,failed $c1:passed,passed"
rows_shown() { test "$(dash_rows)" = "$want_rows"; }
wait_for 10 rows_shown || fail "dashboard rows: want [$want_rows], got [$(dash_rows)]"
check "the repository page shows them" grep -q "second: broken" <<<"$(curl -s "$RFARM_URL/repos/1.html")"
eq "rfarm commits: three rows, two builders" "passed passed|failed failed|passed passed" \
  "$("$RFARM" commits --json | jq -r '[.commits[] | .cells.unit.state + " " + .cells.lint.state] | join("|")')"

# A webhook for a push that changed nothing adds nothing.
eq "repeated push: 202" 202 "$(hook "$T/push.json" -H "X-Hub-Signature-256: sha256=$(sign "$T/push.json")")"
sleep 1.5
eq "no new builds" 6 "$(nbuilds)"

# Operators poll by hand too (admin scope: open here on loopback).
eq "poll now: 202" 202 "$(http_status POST /api/v1/repos/1/poll)"
eq "unknown repository: 404" 404 "$(http_status POST /api/v1/repos/99/poll)"

# Priorities: with the buildlet gone, two commits in one push and then an
# API build; the API build runs first, then the newest commit.
stop_pid TERM "$BL_PID"
c4=$(put_commit "fourth" 0)
c5=$(put_commit "fifth" 0)
hook "$T/push.json" -H "X-Hub-Signature-256: sha256=$(sign "$T/push.json")" >/dev/null
wait_for 20 nbuilds_is 10 || fail "two commits of one push, four builds"
eq "both commits recorded, oldest first" "$c4 $c5" \
  "$(db "SELECT group_concat(hash, ' ') FROM (SELECT hash FROM commits WHERE id>3 ORDER BY id)")"
api_build=$(curl -s -X POST "$RFARM_URL/api/v1/builds" -d '{"builder": "unit"}' | jq -r .id)
check "API build accepted" test "$api_build" -gt 0
start_buildlet b1 linux-amd64 --capacity 1
wait_for 20 buildlet_connected b1 || fail "buildlet back"
api_job=$(first_job "$api_build")
wait_for 60 job_final "$api_job" || fail "API job finished"
wait_for 90 cells_final "$c4" "$c5" || fail "rows 4 and 5 finished"
order=$(db "SELECT group_concat(x, ' ') FROM (SELECT coalesce(c.hash, 'api') AS x
            FROM attempts a JOIN jobs j ON j.id=a.job_id JOIN builds b ON b.id=j.build_id
            LEFT JOIN commits c ON c.id=b.commit_id
            WHERE b.id=$api_build OR c.hash IN ('$c4', '$c5')
            ORDER BY a.dispatched_ms, a.job_id)")
eq "dispatch order: API, newest commit, older commit" "api $c5 $c5 $c4 $c4" "$order"
eq "post-submit jobs are marked" 4 "$(db "SELECT count(*) FROM jobs j JOIN builds b ON b.id=j.build_id JOIN commits c ON c.id=b.commit_id WHERE c.hash IN ('$c4','$c5') AND j.postsubmit=1")"

# Kill -9 and restart: nothing is built twice, and the next commit is
# found from the recorded head.
stop_pid KILL "$COORD_PID"
c6=$(put_commit "sixth" 0)
start_coord "$DATA"
stop_pid TERM "$BL_PID"
start_buildlet b1 linux-amd64 --capacity 2
wait_for 20 nbuilds_is 12 || fail "after a restart the new commit is built"
sleep 1
eq "and nothing twice" 12 "$(nbuilds)"
eq "one build per cell" 0 "$(db "SELECT count(*) FROM (SELECT commit_id, builder FROM builds WHERE commit_id<>0 GROUP BY 1, 2 HAVING count(*)>1)")"
wait_for 60 cells_final "$c6" || fail "row 6 finished"
eq "row 6 green" passed "$(cell "$c6" unit)"

# A repository that is not there: the error is kept and shown, the other
# repository goes on being built.
write_config 1s "file://$REPO" "file://$T/missing.git"
kill -HUP "$COORD_PID"
missing_error() { db "SELECT last_error FROM repos WHERE url='file://$T/missing.git'"; }
has_missing_error() { test -n "$(missing_error)"; }
wait_for 20 has_missing_error || fail "unreachable repository's error recorded"
check "its error says what git said" grep -q "git ls-remote failed" \
  <<<"$(missing_error)"
check "and is in the log" grep -q "polling file://$T/missing.git: git ls-remote failed" "$T/coordinator.log"
c7=$(put_commit "seventh" 0)
wait_for 20 nbuilds_is 14 || fail "a 1s poll finds the next commit without a hook"
check "coordinator alive" curl -sf "$RFARM_URL/alive" -o /dev/null

# Dropped from the config: no longer watched, its rows stay.
write_config 1s
kill -HUP "$COORD_PID"
unwatched() { test "$(db "SELECT watched FROM repos WHERE id=1")" = 0; }
wait_for 10 unwatched || fail "repository unwatched"
c8=$(put_commit "eighth" 0)
sleep 2.5
eq "an unwatched repository's commits are not built" 14 "$(nbuilds)"
eq "its rows stay" 7 "$(db "SELECT count(*) FROM commits WHERE repo_id=1")"
finish
