#!/bin/sh
# Installs the Debian packages the demo or the tests use; does nothing when
# they are present.
#
#   install-system-deps.sh demo   Prometheus and Alertmanager (`make demo`'s stack)
#   install-system-deps.sh        and what the tests add: promtool and amtool
#                                 (with the two above), Chromium (the status-page
#                                 tests load the page headless), docker-compose
#                                 (to validate the compose file; no Docker engine
#                                 is needed) and VictoriaMetrics with vmalert.
set -eu
missing=""
command -v prometheus >/dev/null 2>&1 || missing="$missing prometheus"
command -v prometheus-alertmanager >/dev/null 2>&1 || missing="$missing prometheus-alertmanager"
# Debian's python3 lacks venv/ensurepip until python3-venv is installed.
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || missing="$missing python3-venv"
if [ "${1:-test}" != "demo" ]; then
    command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
    command -v amtool >/dev/null 2>&1 || missing="$missing prometheus-alertmanager"
    command -v docker-compose >/dev/null 2>&1 || missing="$missing docker-compose"
    command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
    command -v vmalert >/dev/null 2>&1 || missing="$missing victoria-metrics"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "installing Debian packages:$missing"
$SUDO apt-get update -qq
# The packages' services are not wanted: tests start their own servers.
DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -qq --no-install-recommends \
    $(echo "$missing" | tr ' ' '\n' | sort -u | tr '\n' ' ') >/dev/null
