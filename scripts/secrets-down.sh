#!/usr/bin/env bash
# Stops the servers started by secrets-up.sh (by their pid files): moto, the OpenBao dev server and
# the Azure Key Vault and Google Secret Manager fakes. They keep everything in memory; the token,
# client secret, keys and certificates they were started with are removed, so only logs are left.
#
# Env: SWITCHBOARD_SECRETS_DIR (default <repo>/.build-secrets).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${SWITCHBOARD_SECRETS_DIR:-$repo/.build-secrets}"
for name in moto bao azure gcp; do
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
rm -f "$dir/bao-root-token" "$dir/azure-client-secret" "$dir/azure-ca.pem" "$dir/azure-tls-cert.pem" \
  "$dir/azure-tls-key.pem" "$dir/gcp-service-account.json"
