#!/usr/bin/env bash
# Platform matching: a job runs only on a buildlet that advertises its
# platform, learns the platform from RFARM_PLATFORM, and a job no buildlet
# can take waits with a reason without holding up the others.
. "$(dirname "$0")/lib.sh"

[ "$(uname -sm)" = "Linux x86_64" ] || { echo "skip: needs a linux/amd64 host"; exit 0; }

start_coord
start_buildlet b1
start_buildlet b2 linux-arm64 --no-native --platform linux/arm64 --platform linux/riscv64
wait_for 20 buildlet_connected b1 || fail "buildlet b1 connected"
wait_for 20 buildlet_connected b2 || fail "buildlet b2 connected"

platforms_of() { api buildlets | jq -c --arg n "$1" '.buildlets[] | select(.name == $n) | .platforms'; }
eq "b1 serves its native platform" '["linux/amd64"]' "$(platforms_of b1)"
eq "b2 serves only the --platform ones" '["linux/arm64","linux/riscv64"]' "$(platforms_of b2)"

script='echo $RFARM_PLATFORM'

# A job nobody can run, submitted first: it must not block the rest.
mips=$(first_job "$(submit --platform linux/mips --script "$script")")

b=$(submit --platform linux/amd64 --platform linux/arm64 --script "$script")
jobs=$(api "builds/$b" | jq -r '.jobs[] | "\(.id) \(.platform)"')
eq "one job per platform" 2 "$(wc -l <<<"$jobs")"
while read -r j plat; do
  want=b1
  [ "$plat" = linux/amd64 ] || want=b2
  eq "$plat job passed" passed "$(wait_job "$j" 30)"
  eq "$plat job ran on $want" "$want" "$(job_field "$j" buildlet)"
  eq "$plat job saw RFARM_PLATFORM" "$plat" "$(api "jobs/$j/log")"
done <<<"$jobs"

rv=$(first_job "$(submit --platform linux/riscv64 --script "$script")")
eq "riscv64 job passed" passed "$(wait_job "$rv" 30)"
eq "riscv64 job ran on b2" b2 "$(job_field "$rv" buildlet)"
eq "riscv64 job saw RFARM_PLATFORM" linux/riscv64 "$(api "jobs/$rv/log")"

# Four at once, each long enough that they queue behind b1 (capacity 1):
# b2 is idle but must not take them.
amd=()
for i in 1 2 3 4; do
  amd+=("$(first_job "$(submit --platform linux/amd64 --script "$script; echo n$i; sleep 0.5")")")
done
for i in 1 2 3 4; do
  j=${amd[$((i - 1))]}
  eq "amd64 job $i passed" passed "$(wait_job "$j" 30)"
  eq "amd64 job $i ran on b1" b1 "$(job_field "$j" buildlet)"
  eq "amd64 job $i log" "linux/amd64
n$i" "$(api "jobs/$j/log")"
done

eq "mips job still queued" queued "$(job_field "$mips" state)"
eq "mips job says why" "waiting for a linux/mips buildlet" "$(job_field "$mips" reason)"
eq "mips job has no attempt" 0 "$(job_field "$mips" attempt)"
eq "b2 never ran an amd64 job" 0 \
  "$(db \
    "select count(*) from jobs where platform='linux/amd64' and buildlet='b2'")"
finish
