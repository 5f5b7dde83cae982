#!/usr/bin/env bash
# Git sources: the buildlet fetches only the ref, shallow, checks it out,
# and the job records the commit; a bad ref is a clear error; only a full
# commit hash is answered from the cache.
. "$(dirname "$0")/lib.sh"

start_coord
start_buildlet b1
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"

R=$T/repo
git init -q -b main "$R"
git -C "$R" config user.email t@example.org
git -C "$R" config user.name t
echo 'echo "version one"' >"$R/build.sh"
git -C "$R" add build.sh && git -C "$R" commit -q -m one
first=$(git -C "$R" rev-parse HEAD)
git -C "$R" tag v1
echo 'echo "version two"' >"$R/build.sh"
git -C "$R" commit -q -am two
second=$(git -C "$R" rev-parse HEAD)

gitjob() { # gitjob REF [more submit args]: prints the job id
  local ref=$1; shift
  first_job "$("$RFARM" submit --platform linux/amd64 --git "file://$R" --ref "$ref" "$@" \
    -- sh -c 'sh build.sh; git log --oneline | wc -l')"
}

j=$(gitjob main)
eq "a branch builds" passed "$(wait_job "$j" 30)"
eq "its head" "version two
1" "$(api "jobs/$j/log")"
eq "the commit is recorded" "$second" "$(job_field "$j" commit)"
eq "in the database too" "$second" "$(db "select git_commit from jobs where id=$j")"

j=$(gitjob v1)
eq "a tag builds" passed "$(wait_job "$j" 30)"
eq "the tagged version" "version one" "$(api "jobs/$j/log" | head -1)"
eq "with its commit" "$first" "$(job_field "$j" commit)"

j=$(gitjob nope)
eq "a missing ref is an error" error "$(wait_job "$j" 30)"
check "that says so ($(job_field "$j" error))" \
  grep -q "^source: git fetch failed: .*nope" <<<"$(job_field "$j" error)"

j=$(gitjob main)
eq "a branch is never answered from the cache" false "$(wait_job "$j" 30 >/dev/null; job_field "$j" cached)"
j1=$(gitjob "$second")
eq "a commit hash builds" passed "$(wait_job "$j1" 30)"
j2=$(gitjob "$second")
eq "and the same commit again is cached" "passed true" \
  "$(job_field "$j2" state) $(job_field "$j2" cached)"

"$RFARM" submit --platform linux/amd64 --git "file://$R" --ref '--upload-pack=touch /tmp/x' -- true \
  >/dev/null 2>"$T/bad.err"
eq "a ref that looks like an option is refused" 1 $?
check "with a reason" grep -q "not a branch" "$T/bad.err"
"$RFARM" submit --platform linux/amd64 --git "file://$R" --src "$T" -- true >/dev/null 2>&1
eq "--git with --src is a usage error" 2 $?
finish
