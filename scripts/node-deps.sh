#!/usr/bin/env bash
# The field's own browser checks, from the npm registry (package.json, pinned in package-lock.json), only when missing:
#   scripts/node-deps.sh test    axe-core, which the Chromium tests inject into every page
#   scripts/node-deps.sh bench   Lighthouse as well, for the phone audit of `make bench`
set -euo pipefail
mode=${1:-test}
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "npm is missing: install Node.js and npm (as root: apt-get install nodejs npm) and run again." >&2
    exit 1
  fi
  echo "Installing system packages: nodejs npm"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

case "$mode" in
  test) [ -f node_modules/axe-core/axe.min.js ] || npm ci --omit=dev --no-audit --no-fund --loglevel=error ;;
  bench) [ -x node_modules/.bin/lighthouse ] || npm ci --no-audit --no-fund --loglevel=error ;;
  *) echo "usage: $0 test|bench" >&2; exit 2 ;;
esac
