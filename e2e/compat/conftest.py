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

import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import httpx
import pytest
from unified_python_sdk import UnifiedTo
from unified_python_sdk.models import shared

# The process handling shared with e2e/replicas lives in e2e/support/switchboard_testkit.py.
_SUPPORT = str(Path(__file__).resolve().parents[1] / "support")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)

from switchboard_testkit import (  # noqa: E402
    SwitchboardServer,
    Workspace,
    find_switchboard_bin,
)


class CompatServer(SwitchboardServer):
    """The session's server, with the two workspaces created before it started."""

    workspace_a: Optional[Workspace] = None
    workspace_b: Optional[Workspace] = None


# ----- session fixtures -------------------------------------------------------------------


@pytest.fixture(scope="session")
def switchboard_bin() -> Path:
    return find_switchboard_bin()


@pytest.fixture(scope="session")
def run_id() -> str:
    # Unique names keep reruns on a shared database (SWITCHBOARD_DATABASE_URL) apart.
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def server_ctx(switchboard_bin: Path, run_id: str) -> Iterator[CompatServer]:
    with tempfile.TemporaryDirectory(prefix="switchboard-compat-") as tmp:
        workdir = Path(tmp)
        database_url = (
            os.environ.get("SWITCHBOARD_DATABASE_URL")
            or f"sqlite:{workdir / 'switchboard.sqlite'}"
        )
        # moto and OpenBao listen on loopback, which the egress policy refuses unless allowed.
        server = CompatServer(switchboard_bin, database_url, workdir, serve_args=["--egress-allow", "127.0.0.1"])
        # Workspaces A and B exist before the server starts (so it creates none itself).
        server.workspace_a = server.create_workspace(f"compat-A-{run_id}")
        server.workspace_b = server.create_workspace(f"compat-B-{run_id}")
        server.start()
        try:
            yield server
        finally:
            server.stop_and_warn()


@pytest.fixture
def server(server_ctx: CompatServer) -> CompatServer:
    server_ctx.assert_running()
    return server_ctx


@pytest.fixture(scope="session")
def base_url(server_ctx: CompatServer) -> str:
    return server_ctx.base_url


@pytest.fixture(scope="session")
def workspace_a(server_ctx: CompatServer) -> Workspace:
    return server_ctx.workspace_a


@pytest.fixture(scope="session")
def workspace_b(server_ctx: CompatServer) -> Workspace:
    return server_ctx.workspace_b


@pytest.fixture(scope="session")
def make_sdk(server_ctx: CompatServer) -> Iterator[Callable[[str], UnifiedTo]]:
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
def fresh_workspace(server: CompatServer, run_id: str, make_sdk):
    """A brand-new, empty workspace and an SDK client for it (for exact list assertions)."""
    ws = server.create_workspace(f"compat-{run_id}-{uuid.uuid4().hex[:8]}")
    return ws, make_sdk(ws.api_key)


@pytest.fixture(scope="session")
def raw(server_ctx: CompatServer) -> Iterator[httpx.Client]:
    """A plain httpx client on the server, for requests the SDK refuses to build."""
    with httpx.Client(base_url=server_ctx.base_url, timeout=10.0) as client:
        yield client
