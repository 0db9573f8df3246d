#!/usr/bin/env bash
# Build the standalone desktop bundle with PyInstaller, then run the bundled self-test.
#   scripts/build_bundle.sh            CPU flavour (CPU-only torch: a few hundred MB)
#   scripts/build_bundle.sh cuda       CUDA flavour (the registry's torch with CUDA: several GB)
# Torch source: TORCH_REQUIREMENT (default "torch") from TORCH_INDEX_URL (default: PyTorch's CPU index for
# the cpu flavour). Figures (build seconds, bundle size, start-up time) are printed and saved to
# dist/bundle-figures.json.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-cpu}
case "$flavour" in cpu|cuda) ;; *) echo "usage: $0 [cpu|cuda]" >&2; exit 2 ;; esac
venv=".venv-bundle-$flavour"
torch_req=${TORCH_REQUIREMENT:-torch}
if [ "$flavour" = cpu ]; then index=${TORCH_INDEX_URL-https://download.pytorch.org/whl/cpu}; else index=${TORCH_INDEX_URL-}; fi

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
if [ -n "$index" ]; then "${pip[@]}" "$torch_req" --index-url "$index" --extra-index-url https://pypi.org/simple
else "${pip[@]}" "$torch_req"; fi
"${pip[@]}" ".[build]"

start=$(date +%s)
"$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller build.spec
build_s=$(( $(date +%s) - start ))
size_mb=$(du -sm dist/DefectForge | cut -f1)

echo "self-test of the bundle:"
dist/DefectForge/defectforge-cli --self-test
# Start-up: wall time from launching the executable until its first window has painted (the probe quits then).
now() { "$venv/bin/python" -c "import time; print(time.time())"; }
t0=$(now)
QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen} DEFECTFORGE_STARTUP_PROBE=1 DEFECTFORGE_CONFIG_DIR="$(mktemp -d)" \
  dist/DefectForge/DefectForge >/dev/null
startup=$("$venv/bin/python" -c "print(round($(now) - $t0, 2))")
torch_version=$("$venv/bin/python" -c "import torch; print(torch.__version__)")
printf '{"flavour": "%s", "torch": "%s", "build_s": %s, "bundle_mb": %s, "startup_to_first_window_s": %s}\n' \
  "$flavour" "$torch_version" "$build_s" "$size_mb" "${startup:-null}" | tee dist/bundle-figures.json
