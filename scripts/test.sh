#!/usr/bin/env bash
# Installs what is missing, then runs every check: gofmt, go vet, and the
# whole test suite with the race detector (unit, fuzz seeds, end-to-end with
# the real binary, real ffmpeg and hls.js/dash.js in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== gofmt"
bad=$(gofmt -l cmd internal test)
if [ -n "$bad" ]; then
  echo "gofmt needed on:"; echo "$bad"; exit 1
fi
echo "== go vet"
go vet ./...
bash scripts/minio.sh # a real S3 server for the storage tests; builds it once if missing
echo "== go test"
# -p 1: end-to-end tests run real-time media pipelines; on 2 cores they
# must not share the CPU with other packages' tests.
go test -race -p 1 -timeout 25m -count=1 ./... 2>&1 | tee /tmp/onair-test.log
