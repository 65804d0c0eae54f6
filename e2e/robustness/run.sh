#!/usr/bin/env bash
# Run the robustness suite (fuzzing, crash safety, soak, graceful shutdown, hostile input)
# against a built binary. See docs/reliability.md.
#
#   e2e/robustness/run.sh [pytest args...]            # on SQLite (a fresh file per test)
#   SWITCHBOARD_DATABASE_URL=postgres://postgres@127.0.0.1:25432/switchboard?sslmode=disable \
#       e2e/robustness/run.sh                         # on PostgreSQL (a fresh database per test)
#
# Env: SWITCHBOARD_BIN (default: <repo>/.build/debug/switchboard),
#      SWITCHBOARD_SOAK_SECONDS (default 40), SWITCHBOARD_SOAK_RATE (default 100),
#      SWITCHBOARD_CRASH_KILLS (default 20), SWITCHBOARD_FUZZ_EXAMPLES (default 60),
#      SWITCHBOARD_FUZZ_SEED (default: random, printed), PYTHON, VENV (default: <repo>/.venv).
set -euo pipefail

# Finds the binary, enters the repository and prepares the virtualenv.
source "$(dirname "${BASH_SOURCE[0]}")/../support/suite-setup.sh"
case "${SWITCHBOARD_DATABASE_URL:-}" in
    postgres://* | postgresql://*)
        command -v psql >/dev/null 2>&1 || { echo "run.sh: psql is not on PATH" >&2; exit 2; } ;;
esac

exec "$VENV/bin/python" -m pytest "$REPO_ROOT/e2e/robustness" -q -p no:cacheprovider -rs "$@"
