#!/usr/bin/env bash
# Run the dashboard's browser test with node (ctest's browser_dashboard).
# Missing node is a failure, or a skip (exit 77) with
# RFARM_BROWSER_OPTIONAL=1, like missing chromium or node_modules (which
# dashboard.test.mjs checks). scripts/browser-deps.sh installs all three.
if ! command -v node >/dev/null; then
  if [ "${RFARM_BROWSER_OPTIONAL:-}" = 1 ]; then
    echo "SKIP: no node; run scripts/browser-deps.sh as root (RFARM_BROWSER_OPTIONAL=1)"
    exit 77
  fi
  echo "FAIL: no node; run scripts/browser-deps.sh as root"
  exit 1
fi
exec node "$(dirname "$0")/dashboard.test.mjs"
