#!/usr/bin/env bash
# Installs what onair needs on Debian 12 (ffmpeg, chromium, fonts, the web
# player's npm packages, Go modules) and builds bin/onair. Idempotent: a
# second run only rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || need+=(fonts-dejavu-core)
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]} from Debian packages"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v go >/dev/null 2>&1 || { echo "setup: Go 1.26 is required (https://go.dev/dl/)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "setup: Node.js 20 with npm is required" >&2; exit 1; }

bash scripts/vendor-web.sh
go mod download
mkdir -p bin
go build -o bin/onair ./cmd/onair
echo "setup: built bin/onair"
