#!/usr/bin/env bash
# Install what the dashboard's browser test (test/browser/) needs, on Debian
# 12, as root: Debian's chromium (driven headless, --no-sandbox), a font so
# screenshots show text, node and npm if there is no node, and npm
# playwright-core at the version pinned in test/browser/package-lock.json
# (into test/browser/node_modules, git-ignored). No browser is downloaded:
# playwright-core drives /usr/bin/chromium.
# Idempotent: says what it installs, and does nothing when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=test/browser

packages=(chromium fonts-dejavu-core)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

# deps.sh installs what is missing (idempotent), these included.
./scripts/deps.sh "${packages[@]}"

# The pinned playwright-core, unless exactly that version is in place.
want=$(node -e 'const l = require(process.argv[1]);
  process.stdout.write(l.packages["node_modules/playwright-core"].version)' \
  "$PWD/$dir/package-lock.json")
have=$(node -e 'try { process.stdout.write(require(process.argv[1]).version) }
  catch (e) {}' "$PWD/$dir/node_modules/playwright-core/package.json")
if [ "$have" != "$want" ]; then
  echo "browser-deps: installing npm playwright-core@$want into $dir/node_modules (npm ci)" >&2
  # playwright-core downloads no browser; say so anyway in case it ever does.
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund \
    --loglevel=error)
fi
