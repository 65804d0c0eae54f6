#!/usr/bin/env bash
# The whole test suite (`make test`, and what .ci/run runs):
#   1. starts (or reuses) a throwaway PostgreSQL on 127.0.0.1 (scripts/postgres-up.sh);
#   2. Swift unit, store-contract and HTTP tests, on SQLite and on PostgreSQL;
#   3. the official Python SDK against the real server binary, on SQLite and on PostgreSQL;
#   4. two replicas on one PostgreSQL, and a PostgreSQL outage, against the real binary;
#   5. the benchmark at a small size on both backends (scripts/bench.sh --smoke), so it cannot rot.
# PostgreSQL is required: a run that cannot reach it fails instead of skipping it.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_url="$(scripts/postgres-up.sh)"
export SWITCHBOARD_TEST_POSTGRES_URL="$pg_url"
export SWITCHBOARD_TEST_REQUIRE_POSTGRES=1
export SWITCHBOARD_REQUIRE_POSTGRES=1

echo "== Swift tests (SQLite and PostgreSQL)"
swift build --build-tests
swift test --skip-build

echo "== SDK compatibility suite on SQLite"
swift build --product switchboard
tests/compat/run.sh

echo "== SDK compatibility suite on PostgreSQL"
SWITCHBOARD_DATABASE_URL="$pg_url?sslmode=disable" tests/compat/run.sh

echo "== Replicas and outage on PostgreSQL"
SWITCHBOARD_DATABASE_URL="$pg_url?sslmode=disable" tests/replicas/run.sh

echo "== Benchmark smoke run (20,000 connections, SQLite and PostgreSQL)"
scripts/bench.sh --smoke
