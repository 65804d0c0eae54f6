#!/usr/bin/env bash
# The robustness suite (e2e/robustness, docs/reliability.md) on both backends: first SQLite,
# then PostgreSQL on the throwaway server of scripts/postgres-up.sh (started if needed).
# Arguments go to pytest, e.g. `-k soak`. Needs a built binary (`swift build`).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Robustness suite on SQLite"
env -u SWITCHBOARD_DATABASE_URL e2e/robustness/run.sh "$@"

echo "== Robustness suite on PostgreSQL"
pg_url="$(scripts/postgres-up.sh)"
SWITCHBOARD_DATABASE_URL="$pg_url?sslmode=disable" e2e/robustness/run.sh "$@"
