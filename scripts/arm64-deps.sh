#!/usr/bin/env bash
# Install what a linux/arm64 rfarm needs on a Debian 12 amd64 machine, as
# root: the cross compiler, qemu user-mode emulation, and the arm64 builds
# of the libraries rfarm links (multiarch, under /usr/lib/aarch64-linux-gnu).
# Idempotent: nothing is touched when everything is there.
#
# libwebsockets-dev:arm64 cannot co-install with the amd64 one (a generated
# header differs in one line), so only the runtime libwebsockets17:arm64 is
# installed; cmake/aarch64-linux-gnu.cmake compiles against the amd64
# headers and links that library.
set -euo pipefail

packages=(
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user file
  libmsgpack-dev:arm64 libsqlite3-dev:arm64 libcurl4-openssl-dev:arm64
  libssl-dev:arm64 libjansson-dev:arm64 libarchive-dev:arm64
  libwebsockets17:arm64 libc6:arm64
)

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  [ "$(id -u)" -eq 0 ] || { echo "arm64-deps: run as root" >&2; exit 1; }
  echo "arm64-deps: dpkg --add-architecture arm64" >&2
  dpkg --add-architecture arm64
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "arm64-deps: all present" >&2
  exit 0
fi

[ "$(id -u)" -eq 0 ] || {
  echo "arm64-deps: missing ${missing[*]}; run as root to install them" >&2
  exit 1; }
export DEBIAN_FRONTEND=noninteractive
echo "arm64-deps: apt-get update; installing ${missing[*]}" >&2
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
