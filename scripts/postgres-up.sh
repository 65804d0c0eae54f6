#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on 127.0.0.1 for tests (no Docker: initdb + pg_ctl).
# Installs PostgreSQL from Debian's packages when it is missing (needs root).
# Prints the database URL on stdout; everything else goes to stderr.
#
# An existing, initialized data directory is started as it is (its data is kept); only a missing
# or uninitialized one gets a fresh initdb.
#
# Env: SWITCHBOARD_PG_PORT (default 25432), SWITCHBOARD_PG_DIR (default <repo>/.build-pg).
# Default ports sit below 32768, outside Linux's ephemeral range, so no outgoing connection of a
# test (wrk, the SDK, the pool) can be holding them when a server starts.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
port="${SWITCHBOARD_PG_PORT:-25432}"
dir="${SWITCHBOARD_PG_DIR:-$repo/.build-pg}"

pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "postgres-up: installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >&2
  pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi

# PostgreSQL refuses to run as root: run it as the postgres user when we are root.
as_pg() { if [ "$(id -u)" = "0" ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

start_pg() {
  # fsync stays on: the crash tests rely on real durability. max_connections covers several replicas.
  as_pg "'$pgbin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 60 \
    -o \"-c listen_addresses=127.0.0.1 -p $port -k '$dir' -c max_connections=300\" start" >&2 \
    || { tail -n 50 "$dir/server.log" >&2; exit 1; }
}

if [ -f "$dir/data/postmaster.pid" ] && as_pg "'$pgbin/pg_ctl' -D '$dir/data' status" >/dev/null 2>&1; then
  echo "postgres-up: already running in $dir" >&2
else
  mkdir -p "$dir"
  if [ "$(id -u)" = "0" ]; then
    chown postgres:postgres "$dir"
    # Every parent must be traversable by the postgres user.
    p="$dir"; while [ "$p" != "/" ]; do p="$(dirname "$p")"; chmod o+x "$p" 2>/dev/null || true; done
  fi
  if [ -f "$dir/data/PG_VERSION" ]; then
    # An initialized cluster that is not running (stopped, or crashed): start it as it is, never
    # wipe it; the outage tests restart a stopped server and expect their data back.
    echo "postgres-up: starting the existing cluster in $dir" >&2
  else
    # Missing or half-initialized (initdb failed): only the data directory is recreated.
    rm -rf "$dir/data"
    as_pg "'$pgbin/initdb' -D '$dir/data' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  start_pg
fi

psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'switchboard'" | grep -q 1 \
  || psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE switchboard" >&2
echo "postgres://postgres@127.0.0.1:$port/switchboard"
