#!/usr/bin/env bash
# Run the Switchboard SDK compatibility suite (unified-python-sdk) against a built binary.
#
#   tests/compat/run.sh [pytest args...]
#
# Env: SWITCHBOARD_BIN (default: <repo>/.build/debug/switchboard),
#      SWITCHBOARD_DATABASE_URL (default: a fresh SQLite file per run),
#      PYTHON (default: python3), VENV (default: <repo>/.venv).
set -euo pipefail

# Finds the binary, enters the repository and prepares the virtualenv.
source "$(dirname "${BASH_SOURCE[0]}")/../support/suite-setup.sh"

exec "$VENV/bin/python" -m pytest "$REPO_ROOT/tests/compat" -q -p no:cacheprovider "$@"
