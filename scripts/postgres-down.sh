#!/usr/bin/env bash
# Stops the throwaway PostgreSQL server started by postgres-up.sh. The data directory is kept.
#
# Env: SWITCHBOARD_PG_DIR (default <repo>/.build-pg), SWITCHBOARD_PG_STOP_MODE (pg_ctl's shutdown
# mode: smart, fast (default) or immediate; immediate is a crash: no checkpoint, recovery on start).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${SWITCHBOARD_PG_DIR:-$repo/.build-pg}"
mode="${SWITCHBOARD_PG_STOP_MODE:-fast}"
case "$mode" in smart|fast|immediate) ;; *) echo "postgres-down: SWITCHBOARD_PG_STOP_MODE must be smart, fast or immediate" >&2; exit 2;; esac
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
[ -d "$dir/data" ] || exit 0
if [ "$(id -u)" = "0" ]; then
  su postgres -s /bin/bash -c "'$pgbin/pg_ctl' -D '$dir/data' -m $mode -w stop" || true
else
  "$pgbin/pg_ctl" -D "$dir/data" -m $mode -w stop || true
fi
