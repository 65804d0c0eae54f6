# Sourced by each suite's run.sh: finds the repository, the switchboard binary and the virtualenv,
# and creates or updates the virtualenv (e2e/venv.sh). Leaves the shell in the repository root
# with REPO_ROOT, PYTHON, VENV and SWITCHBOARD_BIN set (SWITCHBOARD_BIN exported).
#
# Env: SWITCHBOARD_BIN (default: <repo>/.build/debug/switchboard; a relative path is taken from
#      the caller's directory), PYTHON (default: python3), VENV (default: <repo>/.venv).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-$REPO_ROOT/.venv}"
SWITCHBOARD_BIN="${SWITCHBOARD_BIN:-$REPO_ROOT/.build/debug/switchboard}"
[[ "$SWITCHBOARD_BIN" == /* ]] || SWITCHBOARD_BIN="$PWD/$SWITCHBOARD_BIN"
export SWITCHBOARD_BIN
cd "$REPO_ROOT"

if [[ ! -x "$SWITCHBOARD_BIN" ]]; then
    echo "run.sh: switchboard binary not found at $SWITCHBOARD_BIN (run 'swift build' or set SWITCHBOARD_BIN)" >&2
    exit 2
fi

PYTHON="$PYTHON" VENV="$VENV" "$REPO_ROOT/e2e/venv.sh"
