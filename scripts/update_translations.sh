#!/usr/bin/env bash
# Refresh the Korean translation source from the app's tr() strings, then compile it for the app to load.
# Translate new entries in app/i18n/defectforge_ko.ts (Qt Linguist, or by hand), run this again, commit both files.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VIRTUAL_ENV:-.venv}/bin"
"$BIN/pyside6-lupdate" app/*.py -no-obsolete -ts app/i18n/defectforge_ko.ts
"$BIN/pyside6-lrelease" app/i18n/defectforge_ko.ts -qm app/i18n/defectforge_ko.qm
