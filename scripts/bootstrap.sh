#!/usr/bin/env bash
# Install what kendali needs on Debian 12: system packages (when allowed), then the virtualenv.
# Usage: scripts/bootstrap.sh run|test
set -euo pipefail
cd "$(dirname "$0")/.."

purpose="${1:-run}"
packages=(python3 python3-venv python3-dev postgresql-15-postgis-3)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)  # the dashboard's MapLibre GL JS comes from the npm registry
fi
if [ "$purpose" = "test" ]; then
  packages+=(gdal-bin mosquitto chromium)  # real clients: GDAL's OGR drivers, an MQTT broker, a browser
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  install=(apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}")
  if [ "$(id -u)" -eq 0 ]; then
    echo "kendali: installing ${missing[*]}"
    apt-get update -qq -o DPkg::Lock::Timeout=600
    DEBIAN_FRONTEND=noninteractive "${install[@]}"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "kendali: installing ${missing[*]} with sudo"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive "${install[@]}"
  else
    echo "kendali: these Debian packages are missing: ${missing[*]}" >&2
    echo "Ask an administrator to run:" >&2
    echo "  sudo apt-get update && sudo ${install[*]}" >&2
    exit 1
  fi
fi

python=python3
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
if [ "$purpose" = "test" ]; then
  # OGC's conformance suite; its metadata pins pytest<9 and httpx<0.28, which it does not need.
  .venv/bin/python -m pip install -q --no-deps 'ogctests>=0.1.15'
fi

if [ -f web/package-lock.json ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
