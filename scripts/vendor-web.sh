#!/usr/bin/env bash
# vendor-web.sh: install the pinned web dependencies (web/package.json and
# web/package-lock.json) and copy the player libraries into
# internal/control/web/vendor/, where the onair build embeds them.
#
# Idempotent and quick when already done: `npm ci` runs only when
# web/node_modules does not match web/package-lock.json, and files are copied
# only when they differ. Rebuild onair afterwards to embed the players.
#
# Also installs playwright-core, which test/player/play.mjs uses to drive
# /usr/bin/chromium (no browser is downloaded).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web="$root/web"
vendor="$root/internal/control/web/vendor"
stamp="$web/node_modules/.onair-lock.sha256"

command -v npm >/dev/null || { echo "vendor-web: npm not found (install Node.js 20+)" >&2; exit 1; }

want="$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [[ "$want" != "$have" ]]; then
  echo "vendor-web: npm ci in web/" >&2
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi

mkdir -p "$vendor"
copy() { # copy SRC DST-NAME, only when different
  local src="$web/node_modules/$1" dst="$vendor/$2"
  [[ -f "$src" ]] || { echo "vendor-web: missing $src" >&2; exit 1; }
  if ! cmp -s "$src" "$dst"; then
    cp "$src" "$dst.tmp" && mv "$dst.tmp" "$dst"
    echo "vendor-web: $2 <- $1" >&2
  fi
}
copy hls.js/dist/hls.min.js hls.min.js
copy dashjs/dist/modern/umd/dash.all.min.js dash.all.min.js
