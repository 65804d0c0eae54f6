#!/usr/bin/env bash
# Stops the moto and OpenBao dev servers started by secrets-up.sh (by their pid files). The dev
# servers keep everything in memory, so nothing is left behind but logs.
#
# Env: SWITCHBOARD_SECRETS_DIR (default <repo>/.build-secrets).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${SWITCHBOARD_SECRETS_DIR:-$repo/.build-secrets}"
for name in moto bao; do
  pidfile="$dir/$name.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
done
rm -f "$dir/bao-root-token"
