#!/usr/bin/env bash
# Run the dashboard end-to-end suite against a built binary: Debian's chromium (headless, driven by
# selenium through the system chromedriver) against the server-rendered dashboard and the hosted
# Connect page of `switchboard serve`, with the OAuth suite's authorization server
# (e2e/oauth/provider.py, on 127.0.0.1:31420) behind the Connect page, on SQLite and on PostgreSQL.
# test_screenshots.py writes the screenshots of docs/dashboard.md (see SWITCHBOARD_DASHBOARD_SCREENSHOTS).
#
#   SWITCHBOARD_DATABASE_URL=postgres://postgres@127.0.0.1:25432/switchboard e2e/dashboard/run.sh [pytest args...]
#
# The PostgreSQL half creates fresh databases on the server of SWITCHBOARD_DATABASE_URL (dropped at
# the end), among them the one two replicas share.
#
# Needs: chromium and chromium-driver (apt-get install chromium chromium-driver; fonts-liberation
# for the screenshots' fonts). Run as root, it installs them from Debian's packages when missing.
# Env: SWITCHBOARD_DATABASE_URL (a postgres:// URL; otherwise the PostgreSQL tests are skipped),
#      SWITCHBOARD_REQUIRE_POSTGRES=1 (fail instead of skipping; CI sets it),
#      SWITCHBOARD_BIN (default: <repo>/.build/debug/switchboard),
#      SWITCHBOARD_CHROMIUM (default: /usr/bin/chromium), SWITCHBOARD_CHROMEDRIVER (default:
#      /usr/bin/chromedriver), SWITCHBOARD_DASHBOARD_PROVIDER_PORT (default: 31420),
#      SWITCHBOARD_DASHBOARD_SCREENSHOTS (where the screenshots go; default: the test's work
#      directory; docs/dashboard refreshes the committed ones),
#      PYTHON (default: python3), VENV (default: <repo>/.venv).
set -euo pipefail

# Finds the binary, enters the repository and prepares the virtualenv.
source "$(dirname "${BASH_SOURCE[0]}")/../support/suite-setup.sh"

chromium="${SWITCHBOARD_CHROMIUM:-/usr/bin/chromium}"
chromedriver="${SWITCHBOARD_CHROMEDRIVER:-/usr/bin/chromedriver}"
if [[ (! -x "$chromium" || ! -x "$chromedriver") && "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    echo "run.sh: installing chromium and chromium-driver from Debian's packages" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-liberation >&2
fi
if [[ ! -x "$chromium" || ! -x "$chromedriver" ]]; then
    echo "run.sh: chromium ($chromium) or chromedriver ($chromedriver) is missing: apt-get install chromium chromium-driver" >&2
    exit 2
fi

report_database "the PostgreSQL tests"

exec "$VENV/bin/python" -m pytest "$REPO_ROOT/e2e/dashboard" -q -p no:cacheprovider -rs "$@"
