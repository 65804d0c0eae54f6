#!/usr/bin/env bash
# Run the OAuth end-to-end suite against a built binary: a real OAuth 2 authorization server
# (e2e/oauth/provider.py, Authlib, on 127.0.0.1:31410), the official SDK, and `switchboard serve`
# with --integrations-dir e2e/oauth/integrations, on SQLite and on PostgreSQL.
#
#   SWITCHBOARD_DATABASE_URL=postgres://postgres@127.0.0.1:25432/switchboard e2e/oauth/run.sh [pytest args...]
#
# The PostgreSQL half creates fresh databases on the server of SWITCHBOARD_DATABASE_URL (dropped at
# the end), among them the one two replicas share for the refresh race.
#
# Env: SWITCHBOARD_DATABASE_URL (a postgres:// URL; otherwise the PostgreSQL tests are skipped),
#      SWITCHBOARD_REQUIRE_POSTGRES=1 (fail instead of skipping; CI sets it),
#      SWITCHBOARD_BIN (default: <repo>/.build/debug/switchboard),
#      PYTHON (default: python3), VENV (default: <repo>/.venv).
set -euo pipefail

# Finds the binary, enters the repository and prepares the virtualenv.
source "$(dirname "${BASH_SOURCE[0]}")/../support/suite-setup.sh"

report_database "the PostgreSQL tests"

exec "$VENV/bin/python" -m pytest "$REPO_ROOT/e2e/oauth" -q -p no:cacheprovider -rs "$@"
