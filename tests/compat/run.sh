#!/usr/bin/env bash
# Run the Switchboard SDK compatibility suite (unified-python-sdk) against a built binary.
#
#   tests/compat/run.sh [pytest args...]
#
# Env: SWITCHBOARD_BIN (default: <repo>/.build/debug/switchboard),
#      SWITCHBOARD_DATABASE_URL (default: a fresh SQLite file per run),
#      PYTHON (default: python3), VENV (default: <repo>/.venv).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-$REPO_ROOT/.venv}"
SWITCHBOARD_BIN="${SWITCHBOARD_BIN:-$REPO_ROOT/.build/debug/switchboard}"
# A relative SWITCHBOARD_BIN is taken from the caller's directory.
[[ "$SWITCHBOARD_BIN" == /* ]] || SWITCHBOARD_BIN="$PWD/$SWITCHBOARD_BIN"
export SWITCHBOARD_BIN
cd "$REPO_ROOT"

if [[ ! -x "$SWITCHBOARD_BIN" ]]; then
    echo "run.sh: switchboard binary not found at $SWITCHBOARD_BIN (run 'swift build' or set SWITCHBOARD_BIN)" >&2
    exit 2
fi

# Creates or reuses $VENV and installs the Python requirements of both suites.
PYTHON="$PYTHON" VENV="$VENV" "$REPO_ROOT/tests/venv.sh"

exec "$VENV/bin/python" -m pytest "$REPO_ROOT/tests/compat" -q -p no:cacheprovider "$@"
