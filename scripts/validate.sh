#!/usr/bin/env bash
# Formatting gate: swift-format (shipped with the toolchain) in strict lint mode over the Swift files git tracks or would track (untracked files are checked too).
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z --cached --others --exclude-standard '*.swift' | xargs -0 swift format lint --strict --parallel
echo "swift-format: clean"
