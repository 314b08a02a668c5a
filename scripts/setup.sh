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
command -v openssl >/dev/null 2>&1 || need+=(openssl) # the signing tests check tokens against openssl
# SoftHSM2: the PKCS#11 key-encryption backend is tested against it.
[ -f /usr/lib/softhsm/libsofthsm2.so ] && command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)
# Prometheus and Alertmanager: the alert rules in deploy/prometheus are
# tested with promtool/amtool and against real servers (internal/promtest).
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]} from Debian packages"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  # Debian's postinst starts prometheus and alertmanager (0.0.0.0:9090/9093)
  # when there is no systemd; a policy-rc.d that answers 101 forbids that.
  # Keep one that is already there, remove only ours (also on failure).
  own_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# onair setup: no service starts while installing\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  daemons() { if command -v pgrep >/dev/null 2>&1; then pgrep -f '^/usr/bin/prometheus(-alertmanager)?( |$)' || true; fi; }
  daemons_before=" $(daemons | tr '\n' ' ') "
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  if [ -n "$own_policy" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
  # Belt and braces: stop a daemon the install started anyway (never one
  # that ran before it).
  for pid in $(daemons); do
    case "$daemons_before" in *" $pid "*) continue ;; esac
    echo "setup: stopping $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)(pid $pid), started by the package install"
    $SUDO kill "$pid" 2>/dev/null || true
  done
fi
command -v go >/dev/null 2>&1 || { echo "setup: Go 1.26 is required (https://go.dev/dl/)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "setup: Node.js 20 with npm is required" >&2; exit 1; }

bash scripts/vendor-web.sh
go mod download
mkdir -p bin
go build -o bin/onair ./cmd/onair
echo "setup: built bin/onair"
