#!/usr/bin/env bash
# Set up DefectForge in ./.venv on a fresh machine.
#   scripts/setup.sh         the app and the headless CLI
#   scripts/setup.sh --dev   plus tests, linters, the training extra (lpips, torchvision, tensorboard) and
#                            Ultralytics (YOLO arm of `eval downstream`, dataset-checker test)
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--dev" ] && extras="[dev,train,yolo]"

# Qt needs a few system libraries (offscreen: EGL/GL/fontconfig; on a desktop also the xcb set); install the
# missing ones where we can (Debian/Ubuntu as root). Elsewhere your desktop already has them.
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  missing=()
  for pair in libEGL.so.1:libegl1 libGL.so.1:libgl1 libxkbcommon.so.0:libxkbcommon0 \
              libfontconfig.so.1:libfontconfig1 libdbus-1.so.3:libdbus-1-3 libxcb-cursor.so.0:libxcb-cursor0 \
              libxcb-icccm.so.4:libxcb-icccm4 libxcb-image.so.0:libxcb-image0 libxcb-keysyms.so.1:libxcb-keysyms1 \
              libxcb-render-util.so.0:libxcb-render-util0 libxcb-xkb.so.1:libxcb-xkb1 \
              libxkbcommon-x11.so.0:libxkbcommon-x11-0 libxcb-shape.so.0:libxcb-shape0; do
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
if [ -n "$extras" ]; then
  # ultralytics without its opencv-python requirement: that wheel's Qt plugins break PySide6, and the headless
  # OpenCV installed above is the same cv2 (pyproject.toml, the yolo extra)
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "ultralytics>=8.1" 2>&1 \
    | grep -v "^WARNING: Location" || true
fi
.venv/bin/python -c "import torch, PySide6, core" || { echo "setup failed: see pip output above" >&2; exit 1; }
echo "DefectForge is set up in .venv"
