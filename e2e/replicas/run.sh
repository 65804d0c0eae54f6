#!/usr/bin/env bash
# Run the multi-process suite (PostgreSQL replicas, outage, copy, master-key rotation under load)
# against a built binary.
#
#   SWITCHBOARD_DATABASE_URL=postgres://postgres@127.0.0.1:25432/switchboard e2e/replicas/run.sh [pytest args...]
#
# test_replicas.py runs two `switchboard serve` replicas on a fresh database created (and dropped)
# on the server of SWITCHBOARD_DATABASE_URL. test_outage.py never touches that server: it starts a
# private cluster with scripts/postgres-up.sh (its own free port and temporary directory), crashes
# and restarts it, and stops it at the end.
#
# Env: SWITCHBOARD_DATABASE_URL (a postgres:// URL; otherwise every test is skipped),
#      SWITCHBOARD_REQUIRE_POSTGRES=1 (fail instead of skipping; CI sets it),
#      SWITCHBOARD_BIN (default: <repo>/.build/debug/switchboard),
#      PYTHON (default: python3), VENV (default: <repo>/.venv).
set -euo pipefail

# Finds the binary, enters the repository and prepares the virtualenv.
source "$(dirname "${BASH_SOURCE[0]}")/../support/suite-setup.sh"

report_database "the tests"

exec "$VENV/bin/python" -m pytest "$REPO_ROOT/e2e/replicas" -q -p no:cacheprovider -rs "$@"
