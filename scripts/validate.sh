#!/usr/bin/env bash
# Static gates: swift-format (shipped with the toolchain) in strict lint mode over the Swift files
# git tracks or would track (untracked files are checked too), and the module graph (every import
# a declared dependency of its own target).
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z --cached --others --exclude-standard '*.swift' | xargs -0 swift format lint --strict --parallel
echo "swift-format: clean"
scripts/check-imports.py
