#!/usr/bin/env bash
# Set up DefectForge in ./.venv on a fresh machine.
#   scripts/setup.sh         the app and the headless CLI
#   scripts/setup.sh --dev   plus tests, linters and the training extra (lpips, torchvision, tensorboard)
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--dev" ] && extras="[dev,train]"

# Qt needs a few system libraries even offscreen; install them where we can (Debian/Ubuntu as root).
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  missing=()
  for pair in libEGL.so.1:libegl1 libGL.so.1:libgl1 libxkbcommon.so.0:libxkbcommon0 \
              libfontconfig.so.1:libfontconfig1 libdbus-1.so.3:libdbus-1-3; do
    ldconfig -p | grep -q "${pair%%:*}" || missing+=("${pair##*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing system libraries for Qt: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}" 2>&1 \
  | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import torch, PySide6, core" || { echo "setup failed: see pip output above" >&2; exit 1; }
echo "DefectForge is set up in .venv"
