"""Fixtures for the Switchboard SDK compatibility suite.

One Switchboard server runs for the whole session, on a free loopback port, against a
database in a temporary directory (or the one named by SWITCHBOARD_DATABASE_URL). Two
workspaces, A and B, are created with the CLI before the server starts; tests that need
an exact, uncluttered data set get a workspace of their own from `fresh_workspace`.

Environment:
  SWITCHBOARD_BIN           path to the switchboard binary
                            (default: <repo>/.build/debug/switchboard)
  SWITCHBOARD_DATABASE_URL  database URL for the server and the CLI
                            (default: sqlite:<tmpdir>/switchboard.sqlite)

API keys are secrets even in tests: they are never put in assertion messages or reprs.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import httpx
import pytest
from unified_python_sdk import UnifiedTo
from unified_python_sdk.models import shared

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / ".build" / "debug" / "switchboard"

# A fixed, obviously-fake master key (32 bytes 0x00..0x1f), so runs are reproducible.
TEST_MASTER_KEY = base64.b64encode(bytes(range(32))).decode("ascii")

HEALTH_TIMEOUT_S = 30.0
CLI_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 10.0
START_ATTEMPTS = 3


@dataclass(frozen=True)
class Workspace:
    """A workspace and one of its API keys. The key is kept out of repr()."""

    id: str
    name: str
    api_key: str = field(repr=False)

    @property
    def key_prefix(self) -> str:
        # "sbk_<key id>_<secret>" -> "sbk_<key id>" (the part `key revoke` accepts).
        parts = self.api_key.split("_")
        return "_".join(parts[:2])


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:  # pragma: no cover - diagnostics only
        return f"<could not read {path}: {exc}>"
    return text[-limit:]


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SwitchboardServer:
    """A running `switchboard serve` plus helpers to run CLI commands on its database."""

    def __init__(self, binary: Path, database_url: str, workdir: Path, env: dict):
        self.binary = binary
        self.database_url = database_url
        self.workdir = workdir
        self.env = env
        self.proc: Optional[subprocess.Popen] = None
        self.port: Optional[int] = None
        self.stderr_path = workdir / "serve.stderr.log"
        self.stdout_path = workdir / "serve.stdout.log"
        self.workspace_a: Optional[Workspace] = None
        self.workspace_b: Optional[Workspace] = None

    # ----- CLI -------------------------------------------------------------------------

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(self.binary), *args, "--database", self.database_url]
        res = subprocess.run(
            cmd,
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )
        if res.returncode != 0:
            # stdout may hold a key on partial success: report stderr (logs) only.
            raise RuntimeError(
                f"`switchboard {' '.join(args)}` exited {res.returncode}; stderr:\n"
                f"{res.stderr[-4000:]}"
            )
        return res

    def create_workspace(self, name: str) -> Workspace:
        res = self.cli("workspace", "create", "--name", name, "--json")
        try:
            data = json.loads(res.stdout)
        except json.JSONDecodeError:
            raise RuntimeError(
                "`workspace create --json` did not print JSON on stdout "
                f"({len(res.stdout)} chars)"
            ) from None
        assert set(data) >= {"workspace_id", "api_key"}, sorted(data)
        return Workspace(id=data["workspace_id"], name=name, api_key=data["api_key"])

    def create_key(self, workspace_id: str) -> Workspace:
        res = self.cli("key", "create", "--workspace", workspace_id, "--json")
        data = json.loads(res.stdout)
        assert data["workspace_id"] == workspace_id
        return Workspace(id=workspace_id, name="(extra key)", api_key=data["api_key"])

    def revoke_key(self, prefix_or_id: str) -> None:
        self.cli("key", "revoke", prefix_or_id)

    # ----- server ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        last_error = ""
        for _ in range(START_ATTEMPTS):
            self.port = _free_loopback_port()
            with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
                self.proc = subprocess.Popen(
                    [
                        str(self.binary),
                        "serve",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(self.port),
                        "--database",
                        self.database_url,
                    ],
                    env=self.env,
                    cwd=self.workdir,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                )
            ok, last_error = self._wait_healthy()
            if ok:
                return
            self.stop()
            # Retry only when the port was taken between picking and binding.
            if "in use" not in last_error.lower():
                break
        pytest.fail(
            f"switchboard serve did not become healthy: {last_error}\n"
            f"--- server stderr (tail) ---\n{_tail(self.stderr_path)}",
            pytrace=False,
        )

    def _wait_healthy(self) -> "tuple[bool, str]":
        assert self.proc is not None
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        last = "no answer yet"
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                code = self.proc.poll()
                if code is not None:
                    return False, f"server exited with status {code}; " + _tail(
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

    def assert_running(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            pytest.fail(
                f"switchboard serve is not running (exit status {code})\n"
                f"--- server stderr (tail) ---\n{_tail(self.stderr_path)}",
                pytrace=False,
            )


# ----- session fixtures -------------------------------------------------------------------


@pytest.fixture(scope="session")
def switchboard_bin() -> Path:
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


@pytest.fixture(scope="session")
def run_id() -> str:
    # Unique names keep reruns on a shared database (SWITCHBOARD_DATABASE_URL) apart.
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def server_ctx(switchboard_bin: Path, run_id: str) -> Iterator[SwitchboardServer]:
    with tempfile.TemporaryDirectory(prefix="switchboard-compat-") as tmp:
        workdir = Path(tmp)
        database_url = (
            os.environ.get("SWITCHBOARD_DATABASE_URL")
            or f"sqlite:{workdir / 'switchboard.sqlite'}"
        )
        env = dict(os.environ)
        env["SWITCHBOARD_MASTER_KEY"] = TEST_MASTER_KEY
        env["SWITCHBOARD_DATABASE_URL"] = database_url
        env.setdefault("SWITCHBOARD_LOG_LEVEL", "info")
        server = SwitchboardServer(switchboard_bin, database_url, workdir, env)
        # Workspaces A and B exist before the server starts (so it creates none itself).
        server.workspace_a = server.create_workspace(f"compat-A-{run_id}")
        server.workspace_b = server.create_workspace(f"compat-B-{run_id}")
        server.start()
        try:
            yield server
        finally:
            code = server.stop()
            if code not in (0, -signal.SIGTERM, None):
                warnings.warn(
                    f"switchboard serve exited with status {code} on SIGTERM; stderr tail:\n"
                    f"{_tail(server.stderr_path, 1500)}"
                )


@pytest.fixture
def server(server_ctx: SwitchboardServer) -> SwitchboardServer:
    server_ctx.assert_running()
    return server_ctx


@pytest.fixture(scope="session")
def base_url(server_ctx: SwitchboardServer) -> str:
    return server_ctx.base_url


@pytest.fixture(scope="session")
def workspace_a(server_ctx: SwitchboardServer) -> Workspace:
    return server_ctx.workspace_a


@pytest.fixture(scope="session")
def workspace_b(server_ctx: SwitchboardServer) -> Workspace:
    return server_ctx.workspace_b


@pytest.fixture(scope="session")
def make_sdk(server_ctx: SwitchboardServer) -> Iterator[Callable[[str], UnifiedTo]]:
    """Factory: an SDK client sending `authorization: <jwt>` verbatim (as the SDK does)."""
    clients: List[httpx.Client] = []

    def make(jwt: str) -> UnifiedTo:
        client = httpx.Client(follow_redirects=True, timeout=10.0)
        clients.append(client)
        return UnifiedTo(
            server_url=server_ctx.base_url,
            security=shared.Security(jwt=jwt),
            client=client,
        )

    yield make
    for c in clients:
        c.close()


@pytest.fixture(scope="session")
def sdk_a(make_sdk, workspace_a: Workspace) -> UnifiedTo:
    return make_sdk(workspace_a.api_key)


@pytest.fixture(scope="session")
def sdk_b(make_sdk, workspace_b: Workspace) -> UnifiedTo:
    return make_sdk(workspace_b.api_key)


@pytest.fixture
def fresh_workspace(server: SwitchboardServer, run_id: str, make_sdk):
    """A brand-new, empty workspace and an SDK client for it (for exact list assertions)."""
    ws = server.create_workspace(f"compat-{run_id}-{uuid.uuid4().hex[:8]}")
    return ws, make_sdk(ws.api_key)


@pytest.fixture(scope="session")
def raw(server_ctx: SwitchboardServer) -> Iterator[httpx.Client]:
    """A plain httpx client on the server, for requests the SDK refuses to build."""
    with httpx.Client(base_url=server_ctx.base_url, timeout=10.0) as client:
        yield client
