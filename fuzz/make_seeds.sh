#!/usr/bin/env bash
# make_seeds.sh BUILD_DIR - (re)write the seed corpora in fuzz/corpus/.
#
# BUILD_DIR is a build with -DRFARM_FUZZ=ON (scripts/fuzz.sh makes one);
# its seedgen writes the binary seeds: one frame of every protocol
# message, and small tarballs, ordinary and hostile. The JSON requests and
# the routes are written here. The seeds are committed; run this after a
# change to the protocol or to what a request may say.
set -euo pipefail

build=${1:?usage: fuzz/make_seeds.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
corpus=$here/corpus

rm -rf "$corpus/proto" "$corpus/tar" "$corpus/request" "$corpus/route"
mkdir -p "$corpus/proto" "$corpus/tar" "$corpus/request" "$corpus/route"
"$build/fuzz/seedgen" proto "$corpus/proto"
"$build/fuzz/seedgen" tar "$corpus/tar"

# seeds DIR: one seed per input line (NAME<TAB>CONTENT; \n in CONTENT is
# a newline, as printf %b reads it).
seeds() {
  local name text
  while IFS=$'\t' read -r name text; do
    [ -n "$name" ] && printf '%b' "$text" >"$1/$name"
  done
}

SHA=d32b9027a27ccac0095b336145025f1a3ad19975f28998ae60e2af27bf2920cb
seeds "$corpus/request" <<JSON
minimal	{"platforms":["linux/amd64"],"command":["make"]}
full	{"platforms":["linux/amd64","linux/arm64"],"command":["make","-j2","test"],"env":{"CC":"cc","CFLAGS":"-O2"},"labels":["large"],"priority":5,"timeout":"10m","idle_timeout":"2m","artifacts":["out/*.tar.gz","bin/app"],"no_cache":true}
script	{"platforms":["darwin/arm64"],"script":"make && make check","timeout":"1h30m"}
git	{"platforms":["linux/amd64"],"command":["make"],"source":{"git":{"url":"https://example.org/app.git","ref":"main"}}}
git-commit	{"platforms":["linux/amd64"],"command":["make"],"source":{"git":{"url":"file:///srv/app.git","ref":"0123456789abcdef0123456789abcdef01234567"}}}
tarball	{"platforms":["linux/amd64"],"command":["make"],"source":{"tarball":"$SHA"},"artifacts":["out/app"]}
both-command-script	{"platforms":["linux/amd64"],"command":["true"],"script":"true"}
unknown-field	{"platforms":["linux/amd64"],"command":["true"],"colour":"red"}
dup-platform	{"platforms":["linux/amd64","linux/amd64"],"command":["true"]}
bad-platform	{"platforms":["linux/amd64/x","LINUX/amd64","/"],"command":["true"]}
deep	{"platforms":["linux/amd64"],"command":["true"],"env":{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}
nul-in-string	{"platforms":["linux/amd64"],"command":["a\\\\u0000b"],"env":{"K\\\\u0000":"v"}}
huge-numbers	{"platforms":["linux/amd64"],"command":["true"],"priority":99999999999999999999,"timeout":"9999999999999999999999h"}
negative	{"platforms":["linux/amd64"],"command":["true"],"priority":-1,"timeout":"-5m","idle_timeout":"0s"}
float-timeout	{"platforms":["linux/amd64"],"command":["true"],"timeout":1.5e308}
artifact-dotdot	{"platforms":["linux/amd64"],"command":["true"],"artifacts":["../etc/passwd","/abs","a/../../b",""]}
env-bad	{"platforms":["linux/amd64"],"command":["true"],"env":{"A=B":"c","":"x","PATH":1}}
git-hostile	{"platforms":["linux/amd64"],"command":["true"],"source":{"git":{"url":"--upload-pack=touch /tmp/x","ref":"-oops"}}}
git-ref-dots	{"platforms":["linux/amd64"],"command":["true"],"source":{"git":{"url":"https://e.org/a b.git","ref":"a..b~1^:?*[\\\\\\\\"}}}
tarball-bad	{"platforms":["linux/amd64"],"command":["true"],"source":{"tarball":"XYZ","git":{}}}
not-json	not json at all
truncated	{"platforms":["linux/amd64"],"command":["tr
array	[{"platforms":["linux/amd64"]}]
empty-object	{}
utf8-bad	{"platforms":["linux/amd64"],"command":["\\xff\\xfe"]}
JSON

# Route seeds: a method byte (0 GET, 1 HEAD, 2 POST, 3 PUT, 4 DELETE,
# 5 OPTIONS, 6 none), the path, a newline, the raw query.
seeds "$corpus/route" <<'ROUTES'
alive	\x00/alive
metrics	\x01/metrics
builds-list	\x00/api/v1/builds\nstate=queued&platform=linux%2Famd64&limit=50&before=12
builds-submit	\x02/api/v1/builds
build	\x00/api/v1/builds/7
cancel	\x02/api/v1/builds/7/cancel
retry	\x02/api/v1/builds/999999999999999/retry
job	\x00/api/v1/jobs/12
log	\x00/api/v1/jobs/12/log\nfollow=1&stream=stderr
artifacts	\x00/api/v1/jobs/12/artifacts
artifact	\x00/api/v1/jobs/12/artifacts/out/dist/app.tar.gz
artifact-dotdot	\x00/api/v1/jobs/12/artifacts/a/../../etc/passwd
buildlets	\x00/api/v1/buildlets
drain	\x02/api/v1/buildlets/mac-mini-1/drain
undrain	\x02/api/v1/buildlets/../undrain
purge	\x02/api/v1/purge
blob-put	\x03/api/v1/blobs/d32b9027a27ccac0095b336145025f1a3ad19975f28998ae60e2af27bf2920cb
blob-get	\x00/api/v1/blobs/d32b9027a27ccac0095b336145025f1a3ad19975f28998ae60e2af27bf2920cb\nfilename=app%20v1.tar.gz
dashboard	\x00/builds/7.html
id-overflow	\x00/api/v1/jobs/18446744073709551617/log
query-escapes	\x00/api/v1/builds\nst%61te=%71ueued&limit=%&x=%zz&+a+=b+c&limit=1%26before%3D2
ROUTES
echo "seeds written to $corpus ($(du -sh "$corpus" | cut -f1))"
