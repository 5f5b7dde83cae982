#!/usr/bin/env bash
# Install what rfarm needs to build, run and test, on Debian 12, as root,
# and any extra packages named as arguments (scripts/fuzz.sh adds clang).
# Idempotent: packages already present are not touched, and apt-get update
# runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates
  libwebsockets-dev libmsgpack-dev libsqlite3-dev libcurl4-openssl-dev
  libssl-dev libjansson-dev libcmocka-dev libarchive-dev
  libev-dev libwebsockets-evlib-ev
  curl jq sqlite3
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "rfarm: missing packages: ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  echo "rfarm: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
