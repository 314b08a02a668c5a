#!/usr/bin/env bash
# Installs what is missing, builds onair and runs every role with the demo
# channel. Open http://localhost:8080/ to watch. Extra arguments go to
# `onair serve` (e.g. --data /tmp/onair).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec bin/onair serve --demo "$@"
