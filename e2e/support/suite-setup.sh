# Sourced by each suite's run.sh: finds the repository, the switchboard binary and the virtualenv,
# and creates or updates the virtualenv (e2e/venv.sh). Leaves the shell in the repository root
# with REPO_ROOT, PYTHON, VENV and SWITCHBOARD_BIN set (SWITCHBOARD_BIN exported), and defines
# report_database.
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

# Says on stderr what SWITCHBOARD_DATABASE_URL means for the suite: a postgres:// URL runs the
# PostgreSQL tests, which need psql; anything else skips them, or fails them when
# SWITCHBOARD_REQUIRE_POSTGRES=1. $1 names those tests ("the PostgreSQL tests").
report_database() {
    case "${SWITCHBOARD_DATABASE_URL:-}" in
        postgres://* | postgresql://*)
            command -v psql >/dev/null 2>&1 || echo "run.sh: psql is not on PATH: $1 need it" >&2
            ;;
        *)
            if [[ "${SWITCHBOARD_REQUIRE_POSTGRES:-}" == "1" ]]; then
                echo "run.sh: SWITCHBOARD_REQUIRE_POSTGRES=1 but SWITCHBOARD_DATABASE_URL is not a postgres:// URL" >&2
            else
                echo "run.sh: SWITCHBOARD_DATABASE_URL is not a postgres:// URL: $1 will be skipped" >&2
            fi
            ;;
    esac
}
