#!/bin/sh
# Installs the Debian packages the tests and the demo use: a real Prometheus
# (with promtool), Alertmanager (with amtool), Chromium (the status-page tests
# load the page in it headless) and docker-compose (to validate
# the compose file; no Docker engine is needed). Does nothing when present.
set -eu
missing=""
command -v prometheus >/dev/null 2>&1 || missing="$missing prometheus"
command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
command -v prometheus-alertmanager >/dev/null 2>&1 || missing="$missing prometheus-alertmanager"
command -v amtool >/dev/null 2>&1 || missing="$missing prometheus-alertmanager"
command -v docker-compose >/dev/null 2>&1 || missing="$missing docker-compose"
# A real headless browser for the status-page tests.
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
# Debian's python3 lacks venv/ensurepip until python3-venv is installed.
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || missing="$missing python3-venv"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "installing Debian packages:$missing"
$SUDO apt-get update -qq
# The packages' services are not wanted: tests start their own servers.
DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -qq --no-install-recommends \
    $(echo "$missing" | tr ' ' '\n' | sort -u | tr '\n' ' ') >/dev/null
