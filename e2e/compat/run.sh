#!/usr/bin/env bash
# Run the Switchboard SDK compatibility suite (unified-python-sdk) against a built binary.
#
#   e2e/compat/run.sh [pytest args...]
#
# Env: SWITCHBOARD_BIN (default: <repo>/.build/debug/switchboard),
#      SWITCHBOARD_DATABASE_URL (default: a fresh SQLite file per run),
#      PYTHON (default: python3), VENV (default: <repo>/.venv).
set -euo pipefail

# Finds the binary, enters the repository and prepares the virtualenv.
source "$(dirname "${BASH_SOURCE[0]}")/../support/suite-setup.sh"

exec "$VENV/bin/python" -m pytest "$REPO_ROOT/e2e/compat" -q -p no:cacheprovider "$@"
