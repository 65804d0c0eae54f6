#!/usr/bin/env bash
# Formatting gate: swift-format (shipped with the toolchain) in strict lint mode over tracked Swift files.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z '*.swift' | xargs -0 swift format lint --strict --parallel
echo "swift-format: clean"
