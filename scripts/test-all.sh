#!/usr/bin/env bash
# The whole test suite (`make test`, and what .ci/run runs):
#   0. checks its prerequisites and says what is missing before anything starts;
#   1. starts (or reuses) a throwaway PostgreSQL on 127.0.0.1 (scripts/postgres-up.sh), and
#      moto_server, OpenBao's dev server and the Azure Key Vault and Google Secret Manager fakes as
#      the external secrets managers (scripts/secrets-up.sh);
#   2. the two fakes proven against Microsoft's and Google's own Python clients; Swift unit,
#      store-contract and HTTP tests, on SQLite and on PostgreSQL; the secrets-manager clients
#      against moto, OpenBao and the fakes;
#   3. the official Python SDK against the real server binary, on SQLite and on PostgreSQL;
#   4. two replicas on one PostgreSQL, a PostgreSQL outage, a copy between backends and master-key
#      rotation under load, against the real binary;
#   5. OAuth end to end against a real OAuth 2 server (e2e/oauth/provider.py), on both backends;
#   6. the dashboard and the hosted Connect page in a real browser (headless chromium), on both;
#   7. the robustness suite (fuzzing, crash safety, soak, shutdown, hostile input) on both;
#   8. the benchmark at a small size on both backends (scripts/bench.sh --smoke), so it cannot rot.
# PostgreSQL and every secrets manager are required: a run that cannot reach one fails instead of
# skipping it. What this run started it stops at the end (pass or fail); servers that were
# already running are left as they were.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
stage="prerequisites"
stages=0

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
step() {
  stage="$1"
  echo "== $1"
}

missing=()
command -v swift >/dev/null || missing+=("swift (Swift 6.1 or later)")
command -v python3 >/dev/null || missing+=("python3")
if [ "$(id -u)" != "0" ]; then
  # As root the scripts install these from Debian's packages themselves.
  python3 -c "import ensurepip" 2>/dev/null || missing+=("python3-venv (apt-get install python3-venv)")
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=("PostgreSQL server binaries (apt-get install postgresql postgresql-contrib)")
  command -v wrk >/dev/null || missing+=("wrk, for the benchmark smoke run (apt-get install wrk)")
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=("nginx, the benchmark's passthrough reference (apt-get install nginx-light)")
  { [ -x "${SWITCHBOARD_CHROMIUM:-/usr/bin/chromium}" ] && [ -x "${SWITCHBOARD_CHROMEDRIVER:-/usr/bin/chromedriver}" ]; } \
    || missing+=("chromium and its chromedriver, for the dashboard suite (apt-get install chromium chromium-driver fonts-liberation)")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  printf 'make test: missing prerequisites:\n' >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi

stop_started=()
listening 25432 || stop_started+=(scripts/postgres-down.sh)
listening 25401 || stop_started+=(scripts/secrets-down.sh)
finish() {
  status=$?
  for stop in "${stop_started[@]}"; do "$stop" >/dev/null 2>&1 || true; done
  if [ "$status" != 0 ]; then
    echo "make test: FAILED in stage \"$stage\" after $((SECONDS - started)) s (exit $status)" >&2
  fi
}
trap finish EXIT

step "Starting PostgreSQL on 127.0.0.1:25432 (installed from Debian's packages if missing and root)"
pg_url="$(scripts/postgres-up.sh)"
export SWITCHBOARD_TEST_POSTGRES_URL="$pg_url"
export SWITCHBOARD_TEST_REQUIRE_POSTGRES=1
export SWITCHBOARD_REQUIRE_POSTGRES=1

step "Starting moto, OpenBao and the Azure and Google fakes on 127.0.0.1:25401, 25402, 25405-25407 (the test virtualenv is set up first: a few minutes on a new machine)"
# Exports SWITCHBOARD_TEST_MOTO_URL, SWITCHBOARD_TEST_VAULT_URL, SWITCHBOARD_TEST_VAULT_TOKEN_FILE and
# the SWITCHBOARD_TEST_AZURE_* and SWITCHBOARD_TEST_GCP_* variables (file paths, never secrets).
secrets_env="$(scripts/secrets-up.sh)"
eval "$secrets_env"
export SWITCHBOARD_TEST_REQUIRE_SECRETS=1

step "Azure Key Vault and Google Secret Manager fakes, proven against Microsoft's and Google's own clients"
e2e/secrets-managers/run.sh
stages=$((stages + 1))

step "Swift tests (SQLite, PostgreSQL, moto, OpenBao and the Azure and Google fakes)"
# The module graph is enforced as the code is built (see also scripts/check-imports.py).
swift build --build-tests --explicit-target-dependency-import-check error
# The online-migration test measures write latency during index builds: it runs on its own, not
# beside the rest of the suite competing for the same cores.
swift test --skip-build --skip OnlineMigrationTests
swift test --skip-build --filter OnlineMigrationTests
stages=$((stages + 1))

step "SDK compatibility suite on SQLite"
swift build --product switchboard --explicit-target-dependency-import-check error
e2e/compat/run.sh
stages=$((stages + 1))

step "SDK compatibility suite on PostgreSQL"
SWITCHBOARD_DATABASE_URL="$pg_url?sslmode=disable" e2e/compat/run.sh
stages=$((stages + 1))

step "Replicas, outage, copy and key rotation"
SWITCHBOARD_DATABASE_URL="$pg_url?sslmode=disable" e2e/replicas/run.sh
stages=$((stages + 1))

step "OAuth: authorization flow, re-authorization, token refresh (SQLite and PostgreSQL)"
SWITCHBOARD_DATABASE_URL="$pg_url?sslmode=disable" e2e/oauth/run.sh
stages=$((stages + 1))

step "Dashboard and hosted Connect page in headless chromium (SQLite and PostgreSQL)"
SWITCHBOARD_DATABASE_URL="$pg_url?sslmode=disable" e2e/dashboard/run.sh
stages=$((stages + 1))

step "Robustness: fuzzing, crash safety, soak, shutdown, hostile input (SQLite and PostgreSQL)"
scripts/test-robustness.sh
stages=$((stages + 1))

step "Benchmark smoke run (20,000 connections, SQLite and PostgreSQL)"
scripts/bench.sh --smoke
stages=$((stages + 1))

echo "make test: every suite passed in $((SECONDS - started)) s: cloud fakes, Swift, SDK (SQLite, PostgreSQL), replicas, OAuth, dashboard, robustness, benchmark smoke"
echo "stages: $stages passed, 0 failed"
