#!/usr/bin/env bash
# Runs `switchboard bench` on SQLite and PostgreSQL (a throwaway server from scripts/postgres-up.sh).
#
#   scripts/bench.sh            the full run: release build, 10,000 and 1,000,000 connections,
#                               3 s per measurement; writes docs/benchmarks.md and docs/benchmarks.json
#                               (about 25 minutes on 2 cores)
#   scripts/bench.sh --smoke    what CI runs so the benchmark cannot rot: the debug build, 20,000
#                               connections, 1 s per measurement, reports in a temporary directory
#                               (about 3 minutes); fails on any error or failed request
#
# Extra arguments are passed to `switchboard bench` (for example --connections 100000).
# Needs wrk and, for the passthrough section's anchor, nginx (Debian: apt-get install wrk
# nginx-light); installs them when missing and running as root.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = "0" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >&2
  else
    echo "bench: wrk is not installed (apt-get install wrk)" >&2
    exit 1
  fi
fi
# nginx is in /usr/sbin, which a non-root PATH may lack.
if [ ! -x /usr/sbin/nginx ] && ! command -v nginx >/dev/null; then
  if [ "$(id -u)" = "0" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >&2
  else
    echo "bench: nginx is not installed (apt-get install nginx-light)" >&2
    exit 1
  fi
fi

pg_url="$(scripts/postgres-up.sh)"
# A pool sized for a PostgreSQL that shares 2 cores with the server and wrk: with the default 20,
# backends queue for those cores and p99 grows 4-5x (docs/database.md, "Pool size").
export SWITCHBOARD_BENCH_POSTGRES_URL="${pg_url%/*}/postgres?sslmode=disable&pool_size=6"

if [ "${1:-}" = "--smoke" ]; then
  shift
  swift build --product switchboard
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
  .build/debug/switchboard bench --backend sqlite,postgres --connections 20000 --seconds 1 \
    --output "$out/benchmarks.md" --json "$out/benchmarks.json" "$@"
  # A debug build on 20,000 rows says nothing about the targets (`make bench` judges them).
  echo "bench smoke: every scenario ran on both backends without an error or a failed request"
else
  swift build -c release --product switchboard
  .build/release/switchboard bench --backend sqlite,postgres --connections 10000,1000000 --seconds 3 \
    --output docs/benchmarks.md --json docs/benchmarks.json "$@"
fi
