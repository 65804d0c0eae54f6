#!/usr/bin/env bash
# Stops the throwaway PostgreSQL server started by postgres-up.sh.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${SWITCHBOARD_PG_DIR:-$repo/.build-pg}"
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
[ -d "$dir/data" ] || exit 0
if [ "$(id -u)" = "0" ]; then
  su postgres -s /bin/bash -c "'$pgbin/pg_ctl' -D '$dir/data' -m fast -w stop" || true
else
  "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop || true
fi
