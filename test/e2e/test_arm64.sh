#!/usr/bin/env bash
# A second architecture, for real: rfarm cross-compiled for linux/arm64
# (cmake/aarch64-linux-gnu.cmake) runs as a buildlet under qemu-aarch64
# user-mode emulation next to a native amd64 buildlet, and one request
# builds a C program for both platforms; each artifact is a binary of its
# own architecture, and the arm64 one runs (under qemu).
#
# Under qemu-user only the buildlet is emulated: the job's /bin/sh is the
# machine's own, so the arm64 host type's toolchain is the cross compiler,
# put first in the buildlet's PATH as `cc` (a job inherits PATH).
#
# RFARM_ARM64 names the arm64 rfarm; scripts/test.sh builds it and sets it.
# Unset: skipped. Set but missing or unrunnable: failed (the cross build
# or scripts/arm64-deps.sh broke), unless qemu itself cannot run arm64
# programs on this machine: skipped with the reason.
. "$(dirname "$0")/lib.sh"

if [ -z "${RFARM_ARM64:-}" ]; then
  echo "skip: RFARM_ARM64 is not set (scripts/test.sh cross-builds rfarm for arm64 and sets it)"
  exit 77
fi
[ "$(uname -sm)" = "Linux x86_64" ] || {
  echo "skip: needs a linux/amd64 host (this is $(uname -sm))"; exit 77; }
command -v qemu-aarch64 >/dev/null || {
  fail "no qemu-aarch64: run scripts/arm64-deps.sh as root"; finish; }
command -v aarch64-linux-gnu-gcc >/dev/null || {
  fail "no aarch64-linux-gnu-gcc: run scripts/arm64-deps.sh as root"; finish; }
# Can qemu run an arm64 program at all here (the loader from libc6:arm64)?
if ! timeout 30 qemu-aarch64 /lib/ld-linux-aarch64.so.1 --version >"$T/probe.out" 2>&1; then
  if [ -e /lib/ld-linux-aarch64.so.1 ]; then
    echo "skip: qemu-aarch64 cannot run arm64 programs on this machine:"
    head -5 "$T/probe.out"
    exit 77
  fi
  fail "no /lib/ld-linux-aarch64.so.1 (libc6:arm64): run scripts/arm64-deps.sh"
  finish
fi
[ -x "$RFARM_ARM64" ] || {
  fail "no arm64 rfarm at $RFARM_ARM64: the cross build failed (see its log)"
  finish; }
check "the arm64 rfarm is an aarch64 binary" \
  grep -q 'ARM aarch64' <<<"$(file -L "$RFARM_ARM64")"
eq "and runs under qemu" "$("$RFARM" version)" \
  "$(timeout 30 qemu-aarch64 "$RFARM_ARM64" version 2>&1)"

start_coord
start_buildlet amd
# The arm64 host type's toolchain: `cc` is the cross compiler.
mkdir -p "$T/arm64-bin"
printf '#!/bin/sh\nexec aarch64-linux-gnu-gcc "$@"\n' >"$T/arm64-bin/cc"
chmod +x "$T/arm64-bin/cc"
PATH="$T/arm64-bin:$PATH" qemu-aarch64 "$RFARM_ARM64" buildlet \
  --coordinator "$RFARM_URL" --name arm --host-type linux-arm64 \
  --token-file "$(keyfile linux-arm64)" --workdir "$T/work-arm" \
  >>"$T/buildlet-arm.log" 2>&1 &
PIDS+=("$!")
wait_for 20 buildlet_connected amd || fail "buildlet amd connected"
wait_for 60 buildlet_connected arm || { fail "arm64 buildlet connected"; finish; }
platforms_of() { api buildlets | jq -c --arg n "$1" '.buildlets[] | select(.name == $n) | .platforms'; }
eq "the emulated buildlet says linux/arm64 of itself" '["linux/arm64"]' "$(platforms_of arm)"
eq "the native one linux/amd64" '["linux/amd64"]' "$(platforms_of amd)"

mkdir -p "$T/src"
printf '#include <stdio.h>\nint main(void) { puts("hello from " ARCH); return 0; }\n' \
  >"$T/src/hello.c"
b=$("$RFARM" submit --platform linux/amd64 --platform linux/arm64 --src "$T/src" \
  --artifact hello -- sh -c 'echo $RFARM_PLATFORM; cc -DARCH="\"$RFARM_PLATFORM\"" -o hello hello.c')
check "one request submitted ($b)" test -n "$b"
jobs=$(api "builds/$b" | jq -r '.jobs[] | "\(.id) \(.platform)"')
eq "one job per platform" 2 "$(wc -l <<<"$jobs")"
while read -r j plat; do
  want=amd arch=x86-64 run=()
  [ "$plat" = linux/arm64 ] && want=arm arch='ARM aarch64' run=(qemu-aarch64)
  eq "$plat job passed" passed "$(wait_job "$j" 60)"
  eq "$plat job ran on $want" "$want" "$(job_field "$j" buildlet)"
  (cd "$T" && timeout 60 "$RFARM" get "$j" -o "got-$want" >/dev/null)
  eq "rfarm get of the $plat artifact" 0 $?
  f=$T/got-$want/hello
  check "$plat artifact is $arch ($(file -b "$f" | cut -d, -f1,2))" \
    grep -q "$arch" <<<"$(file -b "$f")"
  chmod +x "$f" 2>/dev/null
  eq "$plat artifact runs" "hello from $plat" "$(timeout 30 "${run[@]}" "$f" 2>&1)"
done <<<"$jobs"
finish
