#!/usr/bin/env bash
# Benchmark: the dashboard of a large history. dashbench fills a database
# through the store API with BUILDS builds x PLATFORMS jobs (default
# 10,000 x 8; every job run once with a short log, a few failed), then
# times the coordinator's path for the first index page (what a change
# rewrites) and every index page; `rfarm dashboard` then writes every
# page (index, builds, jobs and their logs, lists) and says how long it
# took. Prints figures; not a test.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_dir bench
DASHBENCH=${DASHBENCH:-$(dirname "$RFARM")/bench/dashbench}
BUILDS=${BUILDS:-10000}
PLATFORMS=${PLATFORMS:-8}
trap 'rm -rf "$T"' EXIT

"$DASHBENCH" "$T" "$BUILDS" "$PLATFORMS" | tee "$T/out"
figure "dashboard: index page 1 (median of 21)" \
  "$(sed -n 's/^index page 1 .*median \([0-9]*\) ms.*/\1/p' "$T/out")" ms -
figure "dashboard: all index pages, $BUILDS builds x $PLATFORMS platforms" \
  "$(sed -n 's/^all [0-9]* index pages .*: \([0-9]*\) ms$/\1/p' "$T/out")" ms -
echo "rfarm dashboard (every page): $("$RFARM" dashboard --data "$T" --out "$T/all")"
echo "files: $(find "$T/all" -type f | wc -l), $(du -sh "$T/all" | cut -f1)"
