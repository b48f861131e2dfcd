#!/usr/bin/env bash
# Refreshes the committed screenshots of docs/screenshots/ (shown in README.md): runs
# only the browser journeys, whose `checkPage` calls save one PNG per main page there.
# Needs what scripts/test.sh installs (Chromium, tests/browser/node_modules).
# Usage: scripts/screenshots.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
# Relative to the repository root, the working directory of the journeys.
export SISERI_SCREENSHOTS=docs/screenshots
cargo test -p siseri --test browser --locked "$@"
echo "screenshots.sh: refreshed docs/screenshots/ (review with git status / git diff --stat)"
