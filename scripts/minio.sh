#!/usr/bin/env bash
# Makes sure a MinIO server binary is there for the S3 tests (a real S3
# server, never a fake): $ONAIR_MINIO, else `minio` on PATH, else the cache
# ~/.cache/onair/bin/minio, which is built from MinIO's Go module if missing
# (about 3 minutes on 2 cores, once per machine). Running it before
# `go test` makes the build show up front in CI logs instead of inside a
# test's time. Takes the same lock as internal/objstore/miniotest.
set -euo pipefail

# Keep equal to miniotest.Module (a test checks).
module="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"

if [ -n "${ONAIR_MINIO:-}" ]; then
  if [ ! -x "$ONAIR_MINIO" ] || [ -d "$ONAIR_MINIO" ]; then
    echo "minio: ONAIR_MINIO=$ONAIR_MINIO is not an executable file" >&2
    exit 1
  fi
  echo "minio: using ONAIR_MINIO=$ONAIR_MINIO"
  exit 0
fi
if bin=$(command -v minio); then
  echo "minio: using $bin from PATH"
  exit 0
fi
cache="$HOME/.cache/onair/bin"
mkdir -p "$cache"
exec 9>"$cache/.minio.lock"
flock 9
if [ -x "$cache/minio" ]; then
  echo "minio: using $cache/minio"
  exit 0
fi
command -v go >/dev/null 2>&1 || { echo "minio: Go is required to build MinIO" >&2; exit 1; }
echo "minio: building $module into $cache (about 3 minutes on 2 cores, once)"
tmp=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
# Outside any module, so `go install pkg@version` ignores onair's go.mod.
(cd "$tmp" && GOBIN="$tmp" GOFLAGS= GOWORK=off go install "$module")
mv "$tmp/minio" "$cache/minio"
echo "minio: built $cache/minio in $((SECONDS - start)) s"
