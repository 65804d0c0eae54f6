#!/usr/bin/env bash
# Prove the Azure Key Vault and Google Secret Manager fakes against the vendors' official Python
# clients (test_fakes_with_vendor_clients.py). Starts nothing itself: the fakes come from
# scripts/secrets-up.sh, whose exports must be in the environment. The tests reset the fakes.
#
#   eval "$(scripts/secrets-up.sh)" && e2e/secrets-managers/run.sh [pytest args...]
#
# Env: the SWITCHBOARD_TEST_AZURE_* and SWITCHBOARD_TEST_GCP_* exports of scripts/secrets-up.sh,
#      PYTHON (default: python3), VENV (default: <repo>/.venv).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-$REPO_ROOT/.venv}"

missing=()
for name in SWITCHBOARD_TEST_AZURE_URL SWITCHBOARD_TEST_AZURE_HTTPS_URL SWITCHBOARD_TEST_AZURE_CA_FILE \
    SWITCHBOARD_TEST_AZURE_TENANT SWITCHBOARD_TEST_AZURE_CLIENT_ID SWITCHBOARD_TEST_AZURE_CLIENT_SECRET_FILE \
    SWITCHBOARD_TEST_GCP_URL SWITCHBOARD_TEST_GCP_PROJECT SWITCHBOARD_TEST_GCP_PROJECT_NUMBER \
    SWITCHBOARD_TEST_GCP_KEY_FILE; do
    [[ -n "${!name:-}" ]] || missing+=("$name")
done
if (( ${#missing[@]} )); then
    echo "run.sh: ${missing[*]} not set: start the fakes first with" >&2
    echo '  eval "$(scripts/secrets-up.sh)"' >&2
    exit 2
fi

cd "$REPO_ROOT"
PYTHON="$PYTHON" VENV="$VENV" "$REPO_ROOT/e2e/venv.sh"
exec "$VENV/bin/python" -m pytest "$REPO_ROOT/e2e/secrets-managers/test_fakes_with_vendor_clients.py" \
    -q -p no:cacheprovider "$@"
