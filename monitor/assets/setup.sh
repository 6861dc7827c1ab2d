#!/bin/bash
# Tandem — MIT licence. Vendors the dashboard's chart library (uPlot, from npm) into
# monitor/assets/vendor/, so that monitord serves it and a browser never fetches anything
# from the internet. Called by tests/setup.sh; safe to run again (a no-op when the pinned
# version is already there).
#
# Usage: monitor/assets/setup.sh [--force]
# Environment: TANDEM_NPM_DIR  where npm installs (default ~/.cache/tandem/npm-dashboard);
#              node_modules never lands in the source tree.
# The version is pinned by package.json + package-lock.json beside this script (npm ci
# checks the lock's integrity hash); without a lock it falls back to
# `npm install --no-save uplot@1`.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
VENDOR=$HERE/vendor
WORK=${TANDEM_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem/npm-dashboard}
FILES=(uPlot.iife.min.js uPlot.min.css)

want=$(sed -n 's/.*"uplot": *"\([^"]*\)".*/\1/p' "$HERE/package.json")
if [ "${1:-}" != --force ] && [ -f "$VENDOR/VERSION" ] &&
    [ "$(cat "$VENDOR/VERSION")" = "uplot $want" ]; then
	echo "== dashboard: uPlot $want already vendored in $VENDOR"
	exit 0
fi
command -v npm >/dev/null || { echo "assets/setup.sh: npm not found (install nodejs/npm)" >&2; exit 1; }

mkdir -p "$WORK"
cp "$HERE/package.json" "$WORK/"
if [ -f "$HERE/package-lock.json" ]; then
	cp "$HERE/package-lock.json" "$WORK/"
	(cd "$WORK" && npm ci --no-audit --no-fund --loglevel=error)
else
	(cd "$WORK" && npm install --no-save --no-audit --no-fund --loglevel=error uplot@1)
fi
got=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$WORK/node_modules/uplot/package.json" | head -1)
mkdir -p "$VENDOR"
for f in "${FILES[@]}"; do
	cp "$WORK/node_modules/uplot/dist/$f" "$VENDOR/$f.tmp"
	mv "$VENDOR/$f.tmp" "$VENDOR/$f"
done
cp "$WORK/node_modules/uplot/LICENSE" "$VENDOR/uPlot.LICENSE.txt" 2>/dev/null || true
echo "uplot $got" > "$VENDOR/VERSION"
echo "== dashboard: uPlot $got vendored into $VENDOR"
