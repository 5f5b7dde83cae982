#!/bin/sh
# buildlet-entrypoint.sh: the entry point of env/Dockerfile's image
# (installed as /usr/local/bin/rfarm-buildlet-entrypoint).
#
#   RFARM_COORDINATOR  the coordinator's URL (required)
#   RFARM_TOKEN_FILE   the token, mounted as a secret (mode 0600, owned
#                      by the container's user; default
#                      /run/secrets/rfarm-token)
#   RFARM_WORKDIR      where jobs run (default
#                      /var/lib/rfarm-buildlet/work)
#   arguments          more `rfarm buildlet` flags (--ca, --pin,
#                      --capacity, ...), from `docker run IMAGE ARGS`
#
# The token is read from the file by the buildlet itself, before each
# connection: it is never an argument or an environment variable, so it
# shows in neither `ps` nor `docker inspect`.
#
# Tested here (test/e2e/test_provision.sh): this very script, outside a
# container, against a real coordinator on 127.0.0.1 with TLS and an
# enrolled token file; the buildlet connects as "enrolled". Not run
# here: inside a container (see env/Dockerfile).
set -eu

if [ -z "${RFARM_COORDINATOR:-}" ]; then
	echo "rfarm-buildlet: set RFARM_COORDINATOR to the coordinator's URL" \
	     "(docker run -e RFARM_COORDINATOR=https://coord.example:8443 ...)" >&2
	exit 2
fi
token_file=${RFARM_TOKEN_FILE:-/run/secrets/rfarm-token}
if [ ! -e "$token_file" ]; then
	echo "rfarm-buildlet: no token at $token_file: mount the token" \
	     "\`rfarm enroll\` printed there (mode 0600)" >&2
	exit 2
fi
exec rfarm buildlet \
	--coordinator "$RFARM_COORDINATOR" \
	--token-file "$token_file" \
	--workdir "${RFARM_WORKDIR:-/var/lib/rfarm-buildlet/work}" \
	"$@"
