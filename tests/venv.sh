#!/usr/bin/env bash
# Create (or reuse) the Python virtualenv of the test suites and install their requirements
# (tests/compat/requirements.txt, tests/robustness/requirements.txt). Called by the run.sh of
# tests/compat, tests/replicas and tests/robustness.
#
#   tests/venv.sh
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

# pytest and the SDK (httpx and pydantic come with it); the replica suite needs no more;
# schemathesis for the robustness suite. One install, so pip resolves them together.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$REPO_ROOT/tests/compat/requirements.txt" \
    -r "$REPO_ROOT/tests/robustness/requirements.txt"
