#!/usr/bin/env bash
# Starts (or reuses) the two secrets managers the Swift suite SwitchboardSecretsManagersTests talks
# to, on 127.0.0.1 only: moto_server (AWS Secrets Manager) and OpenBao's dev server (Vault KV v2,
# mounted at secret/). Both come from the repo's virtualenv (e2e/venv.sh installs them).
# Waits until both answer, then prints shell exports on stdout (everything else goes to stderr):
#
#   eval "$(scripts/secrets-up.sh)"
#
# The Vault root token is random per start and kept only in a 0600 file in the state directory;
# the exports name that file, never the token. Re-running reuses servers whose pid files are live.
#
# Env: SWITCHBOARD_MOTO_PORT (default 25401), SWITCHBOARD_BAO_PORT (default 25402),
#      SWITCHBOARD_SECRETS_DIR (default <repo>/.build-secrets: pid files, logs, token),
#      PYTHON, VENV (as e2e/venv.sh). Ports as in postgres-up.sh: below the ephemeral range.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
moto_port="${SWITCHBOARD_MOTO_PORT:-25401}"
bao_port="${SWITCHBOARD_BAO_PORT:-25402}"
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

# Exit 0 when `url` answers HTTP (any status) within a second.
answers() {
  "$venv/bin/python" - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)
PY
}

wait_for() { # name url pidfile log
  for _ in $(seq 1 150); do
    answers "$2" && return 0
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

port_taken() { answers "http://127.0.0.1:$1/"; }

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

wait_for moto_server "http://127.0.0.1:$moto_port/moto-api/" "$dir/moto.pid" "$dir/moto.log"
wait_for "bao server" "http://127.0.0.1:$bao_port/v1/sys/health" "$dir/bao.pid" "$dir/bao.log"

echo "export SWITCHBOARD_TEST_MOTO_URL=http://127.0.0.1:$moto_port"
echo "export SWITCHBOARD_TEST_VAULT_URL=http://127.0.0.1:$bao_port"
echo "export SWITCHBOARD_TEST_VAULT_TOKEN_FILE=$dir/bao-root-token"
