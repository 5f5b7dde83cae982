#!/usr/bin/env bash
# Routes x scopes: every route of coordinator/route.h, called with no
# token, an unknown token and a read, a submit and an admin token. No or
# an unknown token is 401, a weaker scope 403, a sufficient one reaches
# the handler (the status in the last column). --public-read opens the
# reads, not the writes. And no API token is ever written in clear: not
# in the database (nor its WAL), not in the coordinator's log.
. "$(dirname "$0")/lib.sh"

# One request per line: method, path, the scope it needs, the pattern
# route_parse() matches it to ("-": none), the body sent, and the
# statuses (a regex) a sufficient token gets. Every route of route.h is
# here, and test/unit/coordinator/test_route.c checks each line against
# route.c. Rows run in order: the first POST makes build 1 (job 1).
SHA=d32b9027a27ccac0095b336145025f1a3ad19975f28998ae60e2af27bf2920cb # "rfarm\n"
ROUTES='
GET    /alive                              none    /alive                                -      200
GET    /ready                              none    /ready                                -      200
GET    /metrics                            read    /metrics                              -      200
POST   /api/v1/builds                      submit  /api/v1/builds                        build  201
GET    /api/v1/builds                      read    /api/v1/builds                        -      200
GET    /api/v1/builds/1                    read    /api/v1/builds/{id}                   -      200
GET    /api/v1/jobs/1                      read    /api/v1/jobs/{id}                     -      200
GET    /api/v1/jobs/1/log                  read    /api/v1/jobs/{id}/log                 -      200
GET    /api/v1/jobs/1/artifacts            read    /api/v1/jobs/{id}/artifacts           -      200
GET    /api/v1/jobs/1/artifacts/out/a.txt  read    /api/v1/jobs/{id}/artifacts/{path}    -      404
GET    /api/v1/buildlets                   read    /api/v1/buildlets                     -      200
POST   /api/v1/builds/1/cancel             admin   /api/v1/builds/{id}/cancel            -      200
POST   /api/v1/builds/1/retry              admin   /api/v1/builds/{id}/retry             -      200
POST   /api/v1/buildlets/b1/drain          admin   /api/v1/buildlets/{name}/drain        -      404
POST   /api/v1/buildlets/b1/undrain        admin   /api/v1/buildlets/{name}/undrain      -      404
POST   /api/v1/purge                       admin   /api/v1/purge                         purge  200
GET    /api/v1/config                      read    /api/v1/config                        -      200
POST   /api/v1/reload                      admin   /api/v1/reload                        -      409
GET    /api/v1/repos                       read    /api/v1/repos                         -      200
GET    /api/v1/repos/1/commits             read    /api/v1/repos/{id}/commits            -      404
POST   /api/v1/commits/0123abc/retry       admin   /api/v1/commits/{name}/retry          -      404
GET    /api/v1/commits/0123abc/retry       read    /api/v1/commits/{name}/retry          -      405
POST   /api/v1/repos/1/poll                admin   /api/v1/repos/{id}/poll               -      404
POST   /api/v1/hooks/git                   none    /api/v1/hooks/git                     -      404
PUT    /api/v1/blobs/'$SHA'                submit  /api/v1/blobs/{digest}                blob   201|200
GET    /api/v1/blobs/'$SHA'                read    /api/v1/blobs/{digest}                -      200
HEAD   /api/v1/blobs/'$SHA'                read    /api/v1/blobs/{digest}                -      200
GET    /api/v1/blobs/nothex                read    /api/v1/blobs/{digest}                -      400
GET    /                                   read    /{file}                               -      200
POST   /alive                              none    /alive                                -      405
POST   /metrics                            admin   /metrics                              -      405
DELETE /api/v1/builds                      submit  /api/v1/builds                        -      405
HEAD   /api/v1/builds                      read    /api/v1/builds                        -      405
PUT    /api/v1/builds/1                    admin   /api/v1/builds/{id}                   -      405
GET    /api/v1/purge                       read    /api/v1/purge                         -      405
POST   /api/v1/jobs/1/log                  admin   /api/v1/jobs/{id}/log                 -      405
POST   /                                   admin   /{file}                               -      405
GET    /api/v1/nope                        read    -                                     -      404
POST   /api/v1/nope                        admin   -                                     -      404
GET    /api/v1/builds/0                    read    -                                     -      404
GET    /api/v1/jobs/1/artifacts/../x       read    -                                     -      404
'

start_coord
printf 'rfarm\n' >"$T/blob"
echo '{"before": "3650d"}' >"$T/purge"
echo '{"platforms": ["linux/amd64"], "command": ["true"]}' >"$T/build"

mk() { "$RFARM" token create --scope "$1" --name "$1-t" --data "$DATA" 2>/dev/null | tail -1; }
declare -A TOKEN=([read]=$(mk read) [submit]=$(mk submit) [admin]=$(mk admin))
TOKEN[bad]=rfarm_admin_$(printf '0%.0s' $(seq 64))
for s in read submit admin; do
  check "a $s token was made" grep -qE "^rfarm_${s}_[0-9a-f]{64}\$" <<<"${TOKEN[$s]}"
done
level() { case $1 in none) echo 0;; read) echo 1;; submit) echo 2;; admin) echo 3;; *) echo -1;; esac; }

# call METHOD PATH BODY [CREDENTIAL]: print the status.
call() {
  local m=$1 p=$2 body=$3 cred=${4:-} args=(--path-as-is)
  [ -n "$cred" ] && args+=(-H "Authorization: Bearer ${TOKEN[$cred]}")
  [ "$body" != - ] && args+=(--data-binary "@$T/$body")
  if [ "$m" = HEAD ]; then args+=(--head); else args+=(-X "$m"); fi
  http_status "$m" "$p" "${args[@]}"
}

# expect WHAT WANT CODE: WANT is 401, 403 or the regex of a handled answer.
expect() {
  if [[ $3 =~ ^($2)$ ]]; then pass "$1: $3"; else fail "$1: expected $2, got $3 ($(head -c 200 "$T/body"))"; fi
}

rows=0
while read -r m p scope pattern body ok; do
  [ -z "$m" ] && continue
  rows=$((rows + 1))
  need=$(level "$scope")
  for cred in "" bad read submit admin; do
    code=$(call "$m" "$p" "$body" "$cred")
    what="$m $p with ${cred:-no} token"
    if [ "$need" -eq 0 ]; then
      expect "$what" "$ok" "$code"
    elif [ -z "$cred" ] || [ "$cred" = bad ]; then
      expect "$what" 401 "$code"
    elif [ "$(level "$cred")" -lt "$need" ]; then
      expect "$what" 403 "$code"
      check "$what names the $scope scope" grep -q "needs the $scope scope" "$T/body"
    else
      expect "$what" "$ok" "$code"
    fi
  done
done <<<"$ROUTES"
check "every row ran ($rows)" test "$rows" -ge 30

# The query goes through route.c's parser: decoded once, '&' only splits
# where it was not encoded.
q() { http_status GET "/api/v1/builds?$1" -H "Authorization: Bearer ${TOKEN[read]}"; }
eq "an encoded query value is decoded" 200 "$(q 'platform=linux%2Famd64&limit=%31')"
eq "and used" 1 "$(body_field '.builds | length')"
eq "an encoded & stays in the value" 400 "$(q 'limit=1%26before%3D1')"
eq "so that value is refused" bad_limit "$(body_field .error.code)"
eq "the first of two wins" 2 "$(q 'limit=2&limit=1' >/dev/null; body_field '.builds | length')"

# --public-read: anyone reads, nobody writes anonymously.
stop_pid TERM "$COORD_PID" 10
COORD_ARGS=(--public-read)
start_coord "$DATA"
while read -r m p scope pattern body ok; do
  [ -z "$m" ] && continue
  code=$(call "$m" "$p" "$body")
  if [ "$(level "$scope")" -le 1 ]; then
    expect "public read: anonymous $m $p" "$ok" "$code"
  else
    expect "public read: anonymous $m $p" 401 "$code"
  fi
done <<<"$ROUTES"

# No token in clear, anywhere on disk or in the log (refused ones too):
# checked while the coordinator runs (the WAL holds recent writes) and
# after it stopped.
no_token_in_clear() { # no_token_in_clear WHEN
  local s t f
  for s in read submit admin bad; do
    t=${TOKEN[$s]}
    check "$1: the database does not hold the $s token" \
      test -z "$(db .dump | grep -F -e "$t" -e "${t##*_}")"
    for f in "$DATA"/rfarm.db*; do
      check "$1: $(basename "$f") does not hold the $s token" \
        test -z "$(strings "$f" | grep -F -e "$t" -e "${t##*_}")"
    done
    check "$1: the coordinator's log does not hold the $s token" \
      test -z "$(grep -F -e "$t" -e "${t##*_}" "$T/coordinator.log")"
  done
}
no_token_in_clear running
stop_pid TERM "$COORD_PID" 10
no_token_in_clear stopped
check "the database holds the tokens' hashes" \
  test "$(db 'select count(*) from api_tokens where length(secret_sha256) = 64')" = 3
finish
