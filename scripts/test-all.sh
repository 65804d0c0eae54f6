#!/usr/bin/env bash
# The whole test suite (`make test`, and what .ci/run runs):
#   1. starts (or reuses) a throwaway PostgreSQL on 127.0.0.1 (scripts/postgres-up.sh), and
#      moto_server and OpenBao's dev server as the external secrets managers (scripts/secrets-up.sh);
#   2. Swift unit, store-contract and HTTP tests, on SQLite and on PostgreSQL; the secrets-manager
#      clients against moto and OpenBao;
#   3. the official Python SDK against the real server binary, on SQLite and on PostgreSQL;
#   4. two replicas on one PostgreSQL, a PostgreSQL outage, a copy between backends and master-key
#      rotation under load, against the real binary;
#   4b. OAuth end to end against a real OAuth 2 server (tests/oauth/provider.py), on both backends;
#   5. the robustness suite (fuzzing, crash safety, soak, shutdown, hostile input) on both;
#   6. the benchmark at a small size on both backends (scripts/bench.sh --smoke), so it cannot rot.
# PostgreSQL and both secrets managers are required: a run that cannot reach one fails instead of
# skipping it. They are left running (scripts/postgres-down.sh, scripts/secrets-down.sh stop them).
set -euo pipefail
cd "$(dirname "$0")/.."

pg_url="$(scripts/postgres-up.sh)"
export SWITCHBOARD_TEST_POSTGRES_URL="$pg_url"
export SWITCHBOARD_TEST_REQUIRE_POSTGRES=1
export SWITCHBOARD_REQUIRE_POSTGRES=1

# Exports SWITCHBOARD_TEST_MOTO_URL, SWITCHBOARD_TEST_VAULT_URL and SWITCHBOARD_TEST_VAULT_TOKEN_FILE.
secrets_env="$(scripts/secrets-up.sh)"
eval "$secrets_env"
export SWITCHBOARD_TEST_REQUIRE_SECRETS=1

echo "== Swift tests (SQLite, PostgreSQL, moto and OpenBao)"
# The module graph is enforced as the code is built (see also scripts/check-imports.py).
swift build --build-tests --explicit-target-dependency-import-check error
swift test --skip-build

echo "== SDK compatibility suite on SQLite"
swift build --product switchboard --explicit-target-dependency-import-check error
tests/compat/run.sh

echo "== SDK compatibility suite on PostgreSQL"
SWITCHBOARD_DATABASE_URL="$pg_url?sslmode=disable" tests/compat/run.sh

echo "== Replicas, outage, copy and key rotation"
SWITCHBOARD_DATABASE_URL="$pg_url?sslmode=disable" tests/replicas/run.sh

echo "== OAuth: authorization flow, re-authorization, token refresh (SQLite and PostgreSQL)"
SWITCHBOARD_DATABASE_URL="$pg_url?sslmode=disable" tests/oauth/run.sh

echo "== Robustness: fuzzing, crash safety, soak, shutdown, hostile input (SQLite and PostgreSQL)"
scripts/test-robustness.sh

echo "== Benchmark smoke run (20,000 connections, SQLite and PostgreSQL)"
scripts/bench.sh --smoke
