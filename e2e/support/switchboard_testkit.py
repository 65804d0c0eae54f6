"""Process handling shared by the Python suites (e2e/compat, e2e/replicas, e2e/robustness, e2e/oauth,
e2e/dashboard).

Each suite's conftest.py puts this directory on sys.path and imports from here: the test
master key and timeouts, free loopback ports, log tails, the `Workspace` record, the binary
lookup, `psql` and database URL helpers, and `SwitchboardServer` (one `switchboard serve` on a
free loopback port, a bounded health wait, SIGTERM then SIGKILL, SIGKILL alone, the process's
RSS and open file descriptors, and the CLI on the same database), and `OAuthProvider` (the OAuth
suite's authorization server, which the dashboard suite runs too).

API keys are secrets even in tests: they are never put in messages or reprs.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / ".build" / "debug" / "switchboard"

# A fixed, obviously-fake master key (32 bytes 0x00..0x1f), so runs are reproducible.
# Every process on one database (CLI and replicas alike) must share it.
TEST_MASTER_KEY = base64.b64encode(bytes(range(32))).decode("ascii")

HEALTH_TIMEOUT_S = 30.0
PSQL_TIMEOUT_S = 30.0
CLI_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 10.0
START_ATTEMPTS = 3


@dataclass(frozen=True)
class Workspace:
    """A workspace and one of its API keys. The key is kept out of repr()."""

    id: str
    api_key: str = field(repr=False)
    name: str = ""

    @property
    def key_prefix(self) -> str:
        # "sbk_<key id>_<secret>" -> "sbk_<key id>" (the part `key revoke` accepts).
        return "_".join(self.api_key.split("_")[:2])

    def headers(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def tail(path: Path, limit: int = 4000) -> str:
    """The last `limit` characters of a log file (diagnostics only)."""
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError as exc:  # pragma: no cover - diagnostics only
        return f"<could not read {path}: {exc}>"


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_switchboard_bin() -> Path:
    """SWITCHBOARD_BIN (relative to the working directory) or <repo>/.build/debug/switchboard.

    Fails the test session when it is not an executable file.
    """
    binary = Path(os.environ.get("SWITCHBOARD_BIN") or DEFAULT_BIN)
    if not binary.is_absolute():
        binary = (Path.cwd() / binary).resolve()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(
            f"switchboard binary not found or not executable: {binary} "
            "(build it with `swift build` or set SWITCHBOARD_BIN)",
            pytrace=False,
        )
    return binary


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def with_database(url: str, database: str) -> str:
    """`url` naming another database on the same server (query string kept)."""
    return urlunsplit(urlsplit(url)._replace(path="/" + database))


def psql(url: str, sql: str, database: str = "postgres") -> str:
    """Runs one statement with psql on the server of `url` (connected to `database`)."""
    parts = urlsplit(url)
    env = dict(os.environ, PGCONNECT_TIMEOUT="5")
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
    for item in filter(None, parts.query.split("&")):
        name, _, value = item.partition("=")
        if name == "sslmode":
            env["PGSSLMODE"] = value
    cmd = [
        "psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1",
        "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
        "-U", unquote(parts.username or "postgres"), "-d", database, "-c", sql,
    ]  # fmt: skip
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=PSQL_TIMEOUT_S)
    if res.returncode != 0:
        raise RuntimeError(f"psql on {redact(url)} failed ({res.returncode}): {res.stderr[-2000:]}")
    return res.stdout


def server_env(database_url: str) -> Dict[str, str]:
    """The environment for `switchboard` processes: ours plus the test master key and database."""
    env = dict(os.environ)
    env["SWITCHBOARD_MASTER_KEY"] = TEST_MASTER_KEY
    env["SWITCHBOARD_DATABASE_URL"] = database_url
    env.setdefault("SWITCHBOARD_LOG_LEVEL", "info")
    # The suites send many deliberate bad keys from one address, more than a client would; the
    # per-address lockout itself is tested in the Swift HTTP suite.
    env.setdefault("SWITCHBOARD_AUTH_FAILURE_LIMIT", "100000")
    return env


class Databases:
    """One database per server and backend for a suite's session: a SQLite file in `workdir`, or a
    PostgreSQL database created on the server of SWITCHBOARD_DATABASE_URL and dropped by
    `drop_all`. `prefix` names the suite's databases (`sb_oauth`, `sb_dash`)."""

    def __init__(self, workdir: Path, run_id: str, prefix: str):
        self.workdir = workdir
        self.run_id = run_id
        self.prefix = prefix
        self.created: List[str] = []
        self.postgres_url = os.environ.get("SWITCHBOARD_DATABASE_URL", "")
        self.counter = 0

    def new(self, backend: str, label: str) -> str:
        self.counter += 1
        name = f"{self.prefix}_{self.run_id}_{self.counter}_{label}".replace("-", "_")
        if backend == "sqlite":
            return f"sqlite:{self.workdir / (name + '.sqlite')}"
        try:
            psql(self.postgres_url, f"CREATE DATABASE {name}")
        except (RuntimeError, subprocess.TimeoutExpired, FileNotFoundError) as exc:
            pytest.fail(f"could not create database {name}: {exc}", pytrace=False)
        self.created.append(name)
        return with_database(self.postgres_url, name)

    def drop_all(self) -> None:
        for name in self.created:
            try:
                psql(self.postgres_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                warnings.warn(f"could not drop database {name}: {exc}")


def require_postgres(reason: str) -> None:
    """Skip the test, or fail it when SWITCHBOARD_REQUIRE_POSTGRES=1 (CI)."""
    if os.environ.get("SWITCHBOARD_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"SWITCHBOARD_REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


class SwitchboardServer:
    """One `switchboard serve` on a free loopback port, plus the CLI on the same database.

    `name` tells several servers in one work directory apart (log files, messages); it may be
    empty for a lone server.
    """

    def __init__(
        self,
        binary: Path,
        database_url: str,
        workdir: Path,
        name: str = "",
        serve_args: Sequence[str] = (),
    ):
        self.binary = binary
        self.database_url = database_url
        self.workdir = workdir
        self.name = name
        # Extra `serve` flags, such as --idle-timeout or --shutdown-timeout.
        self.serve_args: List[str] = list(serve_args)
        self.env = server_env(database_url)
        # Run in the child between fork and exec (e.g. to set resource limits); None for none.
        self.preexec_fn: Optional[Callable[[], None]] = None
        self.proc: Optional[subprocess.Popen] = None
        self.port: Optional[int] = None
        stem = f"serve-{name}" if name else "serve"
        self.stderr_path = workdir / f"{stem}.stderr.log"
        self.stdout_path = workdir / f"{stem}.stdout.log"

    @property
    def label(self) -> str:
        return f"switchboard serve ({self.name})" if self.name else "switchboard serve"

    # CLI ------------------------------------------------------------------------------------

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        res = subprocess.run(
            [str(self.binary), *args, "--database", self.database_url],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )
        if res.returncode != 0:
            # Only the subcommand is named (never its arguments), and stdout may hold a key on
            # partial success: report stderr (logs) only.
            raise RuntimeError(
                f"`switchboard {' '.join(args[:2])}` exited {res.returncode}; stderr:\n"
                f"{res.stderr[-4000:]}"
            )
        return res

    def _cli_json(self, *args: str) -> dict:
        res = self.cli(*args)
        try:
            data = json.loads(res.stdout)
        except json.JSONDecodeError:
            # Never echo stdout: it may hold a key.
            raise RuntimeError(
                f"`switchboard {' '.join(args[:2])} --json` did not print JSON on stdout "
                f"({len(res.stdout)} chars)"
            ) from None
        if not isinstance(data, dict):
            raise RuntimeError(
                f"`switchboard {' '.join(args[:2])} --json` printed {type(data).__name__}, "
                "not an object"
            )
        return data

    def create_workspace(self, name: str) -> Workspace:
        data = self._cli_json("workspace", "create", "--name", name, "--json")
        assert set(data) >= {"workspace_id", "api_key"}, sorted(data)
        return Workspace(id=data["workspace_id"], api_key=data["api_key"], name=name)

    def create_key(self, workspace_id: str) -> Workspace:
        data = self._cli_json("key", "create", "--workspace", workspace_id, "--json")
        assert set(data) >= {"workspace_id", "api_key"}, sorted(data)
        assert data["workspace_id"] == workspace_id, (
            f"`key create` answered for workspace {data['workspace_id']!r}, not {workspace_id!r}"
        )
        return Workspace(id=workspace_id, api_key=data["api_key"], name="(extra key)")

    def revoke_key(self, prefix_or_id: str) -> None:
        self.cli("key", "revoke", prefix_or_id)

    # serve ----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        last_error = ""
        for _ in range(START_ATTEMPTS):
            self.port = free_loopback_port()
            # Appended, so a retry or a restart keeps the earlier attempts' logs.
            with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
                self.proc = subprocess.Popen(
                    [
                        str(self.binary), "serve", "--host", "127.0.0.1",
                        "--port", str(self.port), "--database", self.database_url,
                        *self.serve_args,
                    ],  # fmt: skip
                    env=self.env,
                    cwd=self.workdir,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    preexec_fn=self.preexec_fn,
                )
            ok, last_error = self._wait_healthy()
            if ok:
                return
            self.stop()
            if "in use" not in last_error.lower():  # retry only a port lost between pick and bind
                break
        pytest.fail(
            f"{self.label} did not become healthy: {last_error}\n"
            f"--- server stderr (tail) ---\n{tail(self.stderr_path)}",
            pytrace=False,
        )

    def _wait_healthy(self) -> Tuple[bool, str]:
        assert self.proc is not None
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        last = "no answer yet"
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                code = self.proc.poll()
                if code is not None:
                    return False, f"server exited with status {code}; " + tail(
                        self.stderr_path, 600
                    )
                try:
                    r = client.get(f"{self.base_url}/health")
                    if r.status_code == 200 and r.json() == {"status": "ok"}:
                        return True, ""
                    last = f"/health answered {r.status_code}: {r.text[:200]}"
                except (httpx.HTTPError, ValueError) as exc:
                    last = f"{type(exc).__name__}: {exc}"
                time.sleep(0.05)  # bounded health polling
        return False, f"no healthy answer within {HEALTH_TIMEOUT_S:.0f}s (last: {last})"

    def stop(self) -> Optional[int]:
        """SIGTERM, then SIGKILL after SHUTDOWN_TIMEOUT_S. Returns the exit status (None if not started)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
        return proc.returncode

    def kill(self) -> Optional[int]:
        """SIGKILL (no chance to clean up, as in a crash). Returns the exit status."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
        return proc.returncode

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.label} is not running"
        return self.proc.pid

    def rss_kib(self) -> int:
        """The server's resident set size (VmRSS from /proc), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS in /proc/{self.pid}/status")

    def open_fds(self) -> int:
        """How many file descriptors the server has open."""
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def stop_and_warn(self) -> None:
        """stop(), with a warning (and the stderr tail) when the exit was not a clean one."""
        code = self.stop()
        if code not in (0, -signal.SIGTERM, None):
            warnings.warn(
                f"{self.label} exited with status {code} on SIGTERM; "
                f"stderr tail:\n{tail(self.stderr_path, 1500)}"
            )

    def assert_running(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            pytest.fail(
                f"{self.label} is not running (exit status {code})\n"
                f"--- server stderr (tail) ---\n{tail(self.stderr_path)}",
                pytrace=False,
            )


def start_registered(server: "SwitchboardServer", provider: "OAuthProvider") -> "SwitchboardServer":
    """Starts `server` and registers its OAuth callback URL with `provider`."""
    server.start()
    provider.register_redirect_uri(server.callback_url)
    return server


class OAuthProvider:
    """e2e/oauth/provider.py, a real OAuth 2 authorization server (Authlib), as a subprocess on a
    loopback port, and the control endpoints the suites drive it with. The OAuth and dashboard
    suites each run one, on ports of their own. Its client secret is a secret: never printed."""

    SCRIPT = REPO_ROOT / "e2e" / "oauth" / "provider.py"
    CLIENT_ID = "switchboard-test"  # the one client provider.py knows
    START_TIMEOUT_S = 20.0

    def __init__(
        self,
        port: int,
        authorize_path: str,
        token_path: str,
        workdir: Path,
        *,
        host: str = "127.0.0.1",
        port_setting: Optional[str] = None,
        http_timeout_s: float = 15.0,
    ):
        self.host = host
        self.port = port
        self.url = f"http://{host}:{port}"
        self.authorize_path = authorize_path
        self.token_path = token_path
        self.port_setting = port_setting
        self.client_id = self.CLIENT_ID
        self.client_secret = "cs-" + secrets.token_urlsafe(24)
        self.log_path = workdir / "provider.log"
        self.proc: Optional[subprocess.Popen] = None
        self.redirect_uris: List[str] = []
        self.http = httpx.Client(base_url=self.url, timeout=http_timeout_s)

    def start(self) -> None:
        env = dict(os.environ, OAUTH_PROVIDER_CLIENT_SECRET=self.client_secret)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable, str(self.SCRIPT),
                    "--host", self.host, "--port", str(self.port),
                    "--authorize-path", self.authorize_path, "--token-path", self.token_path,
                ],  # fmt: skip
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        last = "no answer yet"
        deadline = time.monotonic() + self.START_TIMEOUT_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if self.http.get("/_control/health").status_code == 200:
                    return
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(0.1)  # bounded start-up polling of a subprocess
        self.stop()
        hint = f"; set {self.port_setting}" if self.port_setting else ""
        pytest.fail(
            f"the OAuth provider did not start on {self.url} ({last}; is the port taken{hint}?)\n"
            f"--- provider log (tail) ---\n{tail(self.log_path)}",
            pytrace=False,
        )

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def close(self) -> None:
        """Stops the provider and closes the control client (the end of the session)."""
        self.stop()
        self.http.close()

    def _post(self, path: str, body: Optional[dict] = None) -> dict:
        r = self.http.post(path, json=body or {})
        assert r.status_code == 200, f"provider {path} answered {r.status_code}: {r.text[:300]}"
        return r.json()

    def register_redirect_uri(self, uri: str) -> None:
        if uri not in self.redirect_uris:
            self.redirect_uris.append(uri)
        self._post("/_control/redirect-uris", {"uris": [uri]})

    def stats(self) -> dict:
        r = self.http.get("/_control/stats")
        assert r.status_code == 200, f"provider stats answered {r.status_code}: {r.text[:300]}"
        return r.json()


class FigureLog:
    """Measured figures a suite records while it runs and prints in pytest's terminal summary.

    A conftest keeps one (`FIGURES = FigureLog()`), hands `FIGURES.recorder(label)` to tests
    through its `figures` fixture, and calls `FIGURES.summarize(terminalreporter)` from its
    `pytest_terminal_summary` hook.
    """

    def __init__(self) -> None:
        self.lines: List[str] = []

    def recorder(self, label: str):
        return lambda line: self.lines.append(f"{label}: {line}")

    def summarize(self, terminalreporter) -> None:
        if self.lines:
            terminalreporter.section("measured figures")
            for line in self.lines:
                terminalreporter.write_line(line)
