#!/usr/bin/env bash
# Starts (or reuses) the secrets managers the Swift suite SwitchboardSecretsManagersTests talks to,
# on 127.0.0.1 only: moto_server (AWS Secrets Manager), OpenBao's dev server (Vault KV v2, mounted
# at secret/), and two fakes of this repository (e2e/secrets-managers/README.md): Azure Key Vault
# with its Microsoft Entra token endpoint (fake_azure_keyvault.py, plain HTTP and HTTPS ports) and
# Google Cloud Secret Manager with its OAuth 2 token endpoint (fake_gcp_secretmanager.py). All come
# from, or run in, the repo's virtualenv (e2e/venv.sh installs them).
# Waits until all answer, then prints shell exports on stdout (everything else goes to stderr):
#
#   eval "$(scripts/secrets-up.sh)"
#
#   SWITCHBOARD_TEST_MOTO_URL                 moto_server, http://127.0.0.1:PORT
#   SWITCHBOARD_TEST_VAULT_URL                OpenBao, http://127.0.0.1:PORT
#   SWITCHBOARD_TEST_VAULT_TOKEN_FILE         file holding OpenBao's root token
#   SWITCHBOARD_TEST_AZURE_URL                Azure fake over HTTP: the vault and the authority
#                                             (token endpoint /<tenant>/oauth2/v2.0/token)
#   SWITCHBOARD_TEST_AZURE_HTTPS_URL          the same over HTTPS
#   SWITCHBOARD_TEST_AZURE_CA_FILE            PEM CA certificate that signed the HTTPS certificate
#   SWITCHBOARD_TEST_AZURE_TENANT             tenant id the token endpoint accepts
#   SWITCHBOARD_TEST_AZURE_CLIENT_ID          client (application) id it accepts
#   SWITCHBOARD_TEST_AZURE_CLIENT_SECRET_FILE file holding the one client secret it accepts
#   SWITCHBOARD_TEST_GCP_URL                  Google fake, http://127.0.0.1:PORT (API and /token)
#   SWITCHBOARD_TEST_GCP_PROJECT              project id (the project number below works too)
#   SWITCHBOARD_TEST_GCP_PROJECT_NUMBER       project number; resource names in answers carry it
#   SWITCHBOARD_TEST_GCP_KEY_FILE             service-account JSON key file (token_uri = the fake)
#
# Tokens, client secrets and private keys are random per start and kept only in 0600 files in the
# state directory; the exports name those files, never the values. Re-running reuses servers
# whose pid files are live.
#
# Env: SWITCHBOARD_MOTO_PORT (default 25401), SWITCHBOARD_BAO_PORT (default 25402),
#      SWITCHBOARD_AZURE_HTTP_PORT (default 25406), SWITCHBOARD_AZURE_HTTPS_PORT (default 25407),
#      SWITCHBOARD_GCP_PORT (default 25405),
#      SWITCHBOARD_SECRETS_DIR (default <repo>/.build-secrets: pid files, logs, tokens, keys),
#      PYTHON, VENV (as e2e/venv.sh). Ports as in postgres-up.sh: below the ephemeral range.
#      The bao dev server also listens on its API port + 1 (25403, its cluster listener), so no
#      other server is placed there.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
moto_port="${SWITCHBOARD_MOTO_PORT:-25401}"
bao_port="${SWITCHBOARD_BAO_PORT:-25402}"
azure_http_port="${SWITCHBOARD_AZURE_HTTP_PORT:-25406}"
azure_https_port="${SWITCHBOARD_AZURE_HTTPS_PORT:-25407}"
gcp_port="${SWITCHBOARD_GCP_PORT:-25405}"
# Fixed identities of the fakes (the secrets and keys are random per start).
azure_tenant="7d3c5b1e-52f4-4c0a-9e3b-5a1f0c2d4e6f"
azure_client_id="b2f6a4c8-1d3e-4f5a-8b7c-9d0e1f2a3b4c"
gcp_project="switchboard-test"
gcp_project_number="424242424242"
dir="${SWITCHBOARD_SECRETS_DIR:-$repo/.build-secrets}"
venv="${VENV:-$repo/.venv}"

VENV="$venv" "$repo/e2e/venv.sh" >&2
mkdir -p "$dir"
chmod 700 "$dir"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# The end of a server log, without the dev server's token and unseal key lines.
show_log() {
  local token=""
  [ -f "$dir/bao-root-token" ] && token="$(cat "$dir/bao-root-token")"
  tail -n 30 "$1" | grep -v -i -e "unseal key" -e "root token:" | { if [ -n "$token" ]; then sed "s/$token/<redacted>/g"; else cat; fi; } >&2
}

# Exit 0 when `url` answers HTTP (any status) within a second; an https URL is checked against
# the CA file given as the second argument.
answers() {
  "$venv/bin/python" - "$1" "${2:-}" <<'PY'
import ssl, sys, urllib.request, urllib.error
context = ssl.create_default_context(cafile=sys.argv[2]) if sys.argv[2] else None
try:
    urllib.request.urlopen(sys.argv[1], timeout=1, context=context)
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)
PY
}

wait_for() { # name url pidfile log [cafile]
  for _ in $(seq 1 150); do
    answers "$2" "${5:-}" && return 0
    if ! alive "$3"; then
      echo "secrets-up: $1 exited; its log:" >&2
      show_log "$4"
      exit 1
    fi
    sleep 0.2
  done
  echo "secrets-up: $1 did not answer on $2 within 30 s; its log:" >&2
  show_log "$4"
  exit 1
}

# Exit 0 when something accepts TCP connections on the port (HTTP or not).
port_taken() {
  "$venv/bin/python" - "$1" <<'PY'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
except OSError:
    sys.exit(1)
PY
}

# moto_server: AWS Secrets Manager (and the rest of AWS) on one port; it routes on the SigV4 scope.
if alive "$dir/moto.pid"; then
  echo "secrets-up: moto_server already running on port $moto_port" >&2
else
  if port_taken "$moto_port"; then
    echo "secrets-up: port $moto_port is taken by another process (set SWITCHBOARD_MOTO_PORT)" >&2
    exit 1
  fi
  nohup "$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$dir/moto.log" 2>&1 </dev/null &
  echo $! >"$dir/moto.pid"
fi

# bao server -dev: in memory, unsealed, KV v2 at secret/. The token goes through the environment
# (not argv, which `ps` shows) and the dev server's banner, which prints it, goes to a 0600 log.
if alive "$dir/bao.pid"; then
  echo "secrets-up: bao dev server already running on port $bao_port" >&2
else
  if port_taken "$bao_port"; then
    echo "secrets-up: port $bao_port is taken by another process (set SWITCHBOARD_BAO_PORT)" >&2
    exit 1
  fi
  (umask 077 && "$venv/bin/python" -c 'import secrets; print("sbtest-" + secrets.token_hex(24))' >"$dir/bao-root-token")
  (umask 077 && : >"$dir/bao.log")
  BAO_DEV_ROOT_TOKEN_ID="$(cat "$dir/bao-root-token")" nohup "$venv/bin/bao" server -dev \
    -dev-listen-address="127.0.0.1:$bao_port" -dev-no-store-token >"$dir/bao.log" 2>&1 </dev/null &
  echo $! >"$dir/bao.pid"
fi

# The Azure Key Vault + Microsoft Entra fake: one process, an HTTP and an HTTPS port. The client
# secret it accepts is written to a 0600 file first and passed by path; the fake writes its CA and
# server certificate (and the server key, 0600) into the state directory.
if alive "$dir/azure.pid"; then
  echo "secrets-up: Azure Key Vault fake already running on ports $azure_http_port/$azure_https_port" >&2
else
  for port in "$azure_http_port" "$azure_https_port"; do
    if port_taken "$port"; then
      echo "secrets-up: port $port is taken by another process (set SWITCHBOARD_AZURE_HTTP_PORT/SWITCHBOARD_AZURE_HTTPS_PORT)" >&2
      exit 1
    fi
  done
  rm -f "$dir/azure-ca.pem"
  (umask 077 && "$venv/bin/python" -c 'import secrets; print("sbtest~" + secrets.token_urlsafe(30))' >"$dir/azure-client-secret")
  nohup "$venv/bin/python" "$repo/e2e/secrets-managers/fake_azure_keyvault.py" \
    --http-port "$azure_http_port" --https-port "$azure_https_port" --state-dir "$dir" \
    --tenant-id "$azure_tenant" --client-id "$azure_client_id" \
    --client-secret-file "$dir/azure-client-secret" >"$dir/azure.log" 2>&1 </dev/null &
  echo $! >"$dir/azure.pid"
fi

# The Google Cloud Secret Manager fake; it writes a fresh service-account key file (0600).
if alive "$dir/gcp.pid"; then
  echo "secrets-up: Google Secret Manager fake already running on port $gcp_port" >&2
else
  if port_taken "$gcp_port"; then
    echo "secrets-up: port $gcp_port is taken by another process (set SWITCHBOARD_GCP_PORT)" >&2
    exit 1
  fi
  nohup "$venv/bin/python" "$repo/e2e/secrets-managers/fake_gcp_secretmanager.py" \
    --port "$gcp_port" --state-dir "$dir" --project-id "$gcp_project" \
    --project-number "$gcp_project_number" >"$dir/gcp.log" 2>&1 </dev/null &
  echo $! >"$dir/gcp.pid"
fi

wait_for moto_server "http://127.0.0.1:$moto_port/moto-api/" "$dir/moto.pid" "$dir/moto.log"
wait_for "bao server" "http://127.0.0.1:$bao_port/v1/sys/health" "$dir/bao.pid" "$dir/bao.log"
wait_for "Azure Key Vault fake" "http://127.0.0.1:$azure_http_port/_fake/stats" "$dir/azure.pid" "$dir/azure.log"
wait_for "Azure Key Vault fake (HTTPS)" "https://127.0.0.1:$azure_https_port/_fake/stats" "$dir/azure.pid" \
  "$dir/azure.log" "$dir/azure-ca.pem"
wait_for "Google Secret Manager fake" "http://127.0.0.1:$gcp_port/_fake/stats" "$dir/gcp.pid" "$dir/gcp.log"

echo "export SWITCHBOARD_TEST_MOTO_URL=http://127.0.0.1:$moto_port"
echo "export SWITCHBOARD_TEST_VAULT_URL=http://127.0.0.1:$bao_port"
echo "export SWITCHBOARD_TEST_VAULT_TOKEN_FILE=$dir/bao-root-token"
echo "export SWITCHBOARD_TEST_AZURE_URL=http://127.0.0.1:$azure_http_port"
echo "export SWITCHBOARD_TEST_AZURE_HTTPS_URL=https://127.0.0.1:$azure_https_port"
echo "export SWITCHBOARD_TEST_AZURE_CA_FILE=$dir/azure-ca.pem"
echo "export SWITCHBOARD_TEST_AZURE_TENANT=$azure_tenant"
echo "export SWITCHBOARD_TEST_AZURE_CLIENT_ID=$azure_client_id"
echo "export SWITCHBOARD_TEST_AZURE_CLIENT_SECRET_FILE=$dir/azure-client-secret"
echo "export SWITCHBOARD_TEST_GCP_URL=http://127.0.0.1:$gcp_port"
echo "export SWITCHBOARD_TEST_GCP_PROJECT=$gcp_project"
echo "export SWITCHBOARD_TEST_GCP_PROJECT_NUMBER=$gcp_project_number"
echo "export SWITCHBOARD_TEST_GCP_KEY_FILE=$dir/gcp-service-account.json"
