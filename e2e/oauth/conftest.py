"""Fixtures for the OAuth end-to-end suite (see e2e/oauth/run.sh).

A real OAuth 2 authorization server (e2e/oauth/provider.py, Authlib) runs for the whole session
on 127.0.0.1:31410, the address e2e/oauth/integrations/mock.yaml names. Switchboard servers
are started with `--integrations-dir e2e/oauth/integrations` and `--public-url
http://127.0.0.1:<their port>`, whose callback is registered with the provider as the client's
redirect URI.

Every test that takes `backend` runs on SQLite and on PostgreSQL. The servers with the common
settings (`--refresh-margin 1 --refresh-interval 0`) are started once per backend and session;
tests needing other settings (a short state TTL, the background refresher) start their own with
`make_server`, stopped at the end of the test. On PostgreSQL each server setting gets a fresh
database on the server of SWITCHBOARD_DATABASE_URL, dropped at the end of the session.

Environment:
  SWITCHBOARD_BIN               the switchboard binary (default: <repo>/.build/debug/switchboard)
  SWITCHBOARD_DATABASE_URL      a postgres:// URL for the PostgreSQL half; when it is not one,
                                the PostgreSQL tests are skipped...
  SWITCHBOARD_REQUIRE_POSTGRES  ...unless this is 1: then they fail (CI sets it).
  SWITCHBOARD_OAUTH_INTEGRATIONS_DIR  the integrations directory (default: e2e/oauth/integrations)

API keys, client secrets and tokens are secrets even in tests: they are never put in assertion
messages, reprs or logs. Tests compare tokens through `fingerprint()`.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import yaml
from unified_python_sdk import UnifiedTo
from unified_python_sdk.models import shared

_SUPPORT = str(Path(__file__).resolve().parents[1] / "support")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)

from switchboard_testkit import (  # noqa: E402
    Databases,
    REPO_ROOT,
    FigureLog,
    OAuthProvider,
    SwitchboardServer,
    Workspace,
    find_switchboard_bin,
    is_postgres_url,
    psql,
    require_postgres,
    start_registered,
    tail,
    with_database,
)

OAUTH_DIR = Path(__file__).resolve().parent
PROVIDER_HOST = "127.0.0.1"
# Below Linux's ephemeral range (32768-60999): a fixed port inside it can be held at any moment
# by the local end of an outgoing connection (one CI run lost 54410 that way), so binding fails.
PROVIDER_PORT = 31410

# The end user's "app": redirects to it are asserted on (Location), never followed, so nothing
# has to listen there.
APP_ORIGIN = "http://127.0.0.1:54419"
SUCCESS_REDIRECT = f"{APP_ORIGIN}/oauth/success"
FAILURE_REDIRECT = f"{APP_ORIGIN}/oauth/failure"

# Settings of the servers shared by a session: a token within 1 s of its expiry is refreshed by
# a caller asking for it; no background refresher.
DEFAULT_SERVE_ARGS = ("--refresh-margin", "1", "--refresh-interval", "0")

HTTP_TIMEOUT_S = 15.0


def fingerprint(secret: Optional[str]) -> str:
    """A short digest of a secret, safe for messages and comparisons."""
    if secret is None:
        return "<none>"
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def redacted(connection: Dict[str, Any]) -> Dict[str, Any]:
    """A connection body for messages: every `auth` value replaced by its fingerprint."""
    shown = dict(connection)
    auth = shown.get("auth")
    if isinstance(auth, dict):
        shown["auth"] = {k: f"<{fingerprint(str(v))}>" for k, v in auth.items()}
    return shown


def query(url: str) -> Dict[str, str]:
    """The query parameters of a URL (the last value of each)."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def error_code(response: httpx.Response) -> Optional[str]:
    """The error code of a JSON error answer: Switchboard's envelope `{"error": {"status", "code",
    "message"}}`, or a bare `{"error": "<code>"}`."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return error.get("code")
    return error


def without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


# ----- the integration definition ---------------------------------------------------------


@dataclass(frozen=True)
class MockIntegration:
    """What the suite needs from e2e/oauth/integrations/mock.yaml."""

    directory: Path
    type: str
    name: str
    categories: List[str]
    permissions: List[str]
    authorize_url: str
    token_url: str
    pkce: bool
    default_scopes: List[str] = field(default_factory=list)
    permission_scopes: Dict[str, List[str]] = field(default_factory=dict)


def load_mock_integration() -> MockIntegration:
    directory = Path(os.environ.get("SWITCHBOARD_OAUTH_INTEGRATIONS_DIR") or OAUTH_DIR / "integrations")
    if not directory.is_absolute():
        directory = (Path.cwd() / directory).resolve()
    path = directory / "mock.yaml"
    if not path.is_file():
        pytest.fail(f"integration definition not found: {path}", pytrace=False)
    data = yaml.safe_load(path.read_text())
    auth = data.get("auth") or {}
    return MockIntegration(
        directory=directory,
        type=data["type"],
        name=data.get("name", ""),
        categories=list(data.get("categories") or []),
        permissions=sorted((auth.get("permissions") or {}).keys()),
        authorize_url=auth["authorize_url"],
        token_url=auth["token_url"],
        pkce=bool(auth.get("pkce")),
        default_scopes=list(auth.get("default_scopes") or []),
        permission_scopes={k: list(v or []) for k, v in (auth.get("permissions") or {}).items()},
    )


# ----- the provider -----------------------------------------------------------------------


class Provider(OAuthProvider):
    """The Authlib authorization server subprocess and its control endpoints."""

    def __init__(self, integration: MockIntegration, workdir: Path):
        super().__init__(
            PROVIDER_PORT,
            urlsplit(integration.authorize_url).path,
            urlsplit(integration.token_url).path,
            workdir,
            host=PROVIDER_HOST,
            http_timeout_s=HTTP_TIMEOUT_S,
        )
        self.integration = integration

    def start(self) -> None:
        for url in (self.integration.authorize_url, self.integration.token_url):
            parts = urlsplit(url)
            if (parts.hostname, parts.port) != (PROVIDER_HOST, PROVIDER_PORT):
                pytest.fail(
                    f"mock.yaml points at {parts.netloc}, not the test provider "
                    f"{PROVIDER_HOST}:{PROVIDER_PORT}",
                    pytrace=False,
                )
        super().start()

    # control ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Everything back to the start (lifetime 3600 s), the registered redirect URIs kept."""
        self._post("/_control/reset")
        if self.redirect_uris:
            self._post("/_control/redirect-uris", {"uris": self.redirect_uris})

    def reset_counters(self) -> None:
        self._post("/_control/reset-counters")

    def token_calls(self, grant_type: Optional[str] = None) -> int:
        stats = self.stats()
        if grant_type is None:
            return stats["token_calls"]
        return stats["token_calls_by_grant"].get(grant_type, 0)

    def set_lifetime(self, seconds: int) -> None:
        self._post("/_control/lifetime", {"expires_in": seconds})

    def queue_faults(self, *faults: dict) -> None:
        self._post("/_control/faults", {"faults": list(faults)})

    def deny_next(self, count: int = 1) -> None:
        self._post("/_control/deny", {"count": count})

    def revoke_refresh_tokens(self) -> None:
        self._post("/_control/revoke-refresh-tokens")

    def revoke_access_tokens(self) -> None:
        self._post("/_control/revoke-access-tokens")

    def api_calls(self) -> int:
        """Requests the provider API (/api and /plain, passthrough's destination) has received."""
        return int(self.stats()["api_calls"])

    def issued(self) -> List[dict]:
        """Every token response so far, oldest first (secrets: compare, never print)."""
        r = self.http.get("/_control/tokens")
        assert r.status_code == 200
        return r.json()["issued"]

    def last_issued(self) -> dict:
        issued = self.issued()
        assert issued, "the provider has issued no token"
        return issued[-1]

    def authorize_requests(self) -> List[dict]:
        r = self.http.get("/_control/authorize-requests")
        assert r.status_code == 200
        return r.json()["requests"]

    def token_is_live(self, access_token: str) -> bool:
        """Whether the provider accepts the access token (GET /api/me)."""
        r = self.http.get("/api/me", headers={"Authorization": f"Bearer {access_token}"})
        return r.status_code == 200


# ----- Switchboard servers ----------------------------------------------------------------


class OAuthServer(SwitchboardServer):
    """`switchboard serve` with the suite's integrations and `--public-url` of its own port."""

    def __init__(self, *args: Any, integrations_dir: Path, **kwargs: Any):
        self.integrations_dir = integrations_dir
        super().__init__(*args, **kwargs)

    # SwitchboardServer.start() picks the port, then reads serve_args: the public URL follows
    # the port of each attempt.
    @property
    def serve_args(self) -> List[str]:  # type: ignore[override]
        return [
            *self._extra_args,
            # The OAuth provider listens on loopback, which the egress policy refuses unless allowed.
            "--egress-allow", "127.0.0.1",
            "--integrations-dir", str(self.integrations_dir),
            "--public-url", f"http://127.0.0.1:{self.port}",
        ]  # fmt: skip

    @serve_args.setter
    def serve_args(self, value: Sequence[str]) -> None:
        self._extra_args = list(value)

    @property
    def callback_url(self) -> str:
        return f"{self.base_url}/switchboard/oauth/callback"


@dataclass
class Setup:
    """A workspace ready for the flow: the mock integration enabled, the app's origin allowed."""

    server: OAuthServer
    workspace: Workspace
    sdk: UnifiedTo
    http: httpx.Client = field(repr=False)

    @property
    def headers(self) -> Dict[str, str]:
        return self.workspace.headers()

    def get_connection(self, connection_id: str, server: Optional[OAuthServer] = None) -> httpx.Response:
        base = (server or self.server).base_url
        return self.http.get(f"{base}/unified/connection/{connection_id}", headers=self.headers)

    def connection(self, connection_id: str) -> Dict[str, Any]:
        r = self.get_connection(connection_id)
        assert r.status_code == 200, f"GET connection answered {r.status_code}: {r.text[:300]}"
        return r.json()

    def connections(self, env: Optional[str] = None) -> List[Dict[str, Any]]:
        """The workspace's connections (of environment `env`; the server's default: Production)."""
        params = {"env": env} if env else {}
        r = self.http.get(f"{self.server.base_url}/unified/connection", headers=self.headers, params=params)
        assert r.status_code == 200, f"list connections answered {r.status_code}: {r.text[:300]}"
        return r.json()


# ----- session fixtures -------------------------------------------------------------------


@pytest.fixture(scope="session")
def switchboard_bin() -> Path:
    return find_switchboard_bin()


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="switchboard-oauth-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="session")
def integration() -> MockIntegration:
    return load_mock_integration()


@pytest.fixture(scope="session")
def provider_ctx(integration: MockIntegration, workdir: Path) -> Iterator[Provider]:
    provider = Provider(integration, workdir)
    provider.start()
    try:
        yield provider
    finally:
        provider.close()


@pytest.fixture
def provider(provider_ctx: Provider) -> Provider:
    """The provider, reset before the test (counters, faults, lifetime, issued tokens)."""
    assert provider_ctx.proc is not None and provider_ctx.proc.poll() is None, (
        f"the OAuth provider is not running\n{tail(provider_ctx.log_path)}"
    )
    provider_ctx.reset()
    return provider_ctx


@pytest.fixture(scope="session")
def databases(workdir: Path, run_id: str) -> Iterator[Databases]:
    dbs = Databases(workdir, run_id, prefix="sb_oauth")
    try:
        yield dbs
    finally:
        dbs.drop_all()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    if request.param == "postgres" and not is_postgres_url(os.environ.get("SWITCHBOARD_DATABASE_URL", "")):
        require_postgres("SWITCHBOARD_DATABASE_URL is not a postgres:// URL")
    return request.param


@pytest.fixture(scope="session")
def server_factory(
    switchboard_bin: Path,
    workdir: Path,
    databases: Databases,
    integration: MockIntegration,
    provider_ctx: Provider,
) -> Iterator[Callable[..., OAuthServer]]:
    """Makes (and, at the end of the session, stops) servers; the caller starts them."""
    made: List[OAuthServer] = []

    def make(database_url: str, name: str, serve_args: Sequence[str]) -> OAuthServer:
        server = OAuthServer(
            switchboard_bin,
            database_url,
            workdir,
            name,
            serve_args,
            integrations_dir=integration.directory,
        )
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop_and_warn()


_SHARED: Dict[str, OAuthServer] = {}


@pytest.fixture
def server(backend: str, server_factory, databases: Databases, provider: Provider) -> OAuthServer:
    """The session's server with the common settings on `backend`."""
    srv = _SHARED.get(backend)
    if srv is None:
        srv = server_factory(databases.new(backend, "main"), f"{backend}-main", DEFAULT_SERVE_ARGS)
        start_registered(srv, provider)
        _SHARED[backend] = srv
    srv.assert_running()
    return srv


@pytest.fixture
def make_server(
    backend: str, server_factory, databases: Databases, provider: Provider
) -> Iterator[Callable[..., OAuthServer]]:
    """Starts a server of the test's own on a fresh database; stopped at the end of the test.

    make_server(label, *serve_args) -> started server. `database_url=` shares a database
    (replicas).
    """
    started: List[OAuthServer] = []

    def make(label: str, *serve_args: str, database_url: Optional[str] = None) -> OAuthServer:
        url = database_url or databases.new(backend, label)
        srv = server_factory(url, f"{backend}-{label}", serve_args)
        start_registered(srv, provider)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop_and_warn()


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """A plain client that never follows redirects (the suite asserts on each Location)."""
    with httpx.Client(timeout=HTTP_TIMEOUT_S, follow_redirects=False) as client:
        yield client


@pytest.fixture
def make_setup(provider: Provider, http: httpx.Client, integration: MockIntegration, run_id: str):
    """A new workspace on `server`, with the mock integration enabled and the app origin allowed.

    The key is created by the CLI with all scopes (integrations:admin, connections:credentials...).
    """
    clients: List[httpx.Client] = []

    def make(server: OAuthServer, origins: Sequence[str] = (APP_ORIGIN,)) -> Setup:
        ws = server.create_workspace(f"oauth-{run_id}-{uuid.uuid4().hex[:8]}")
        headers = ws.headers()
        r = http.put(
            f"{server.base_url}/switchboard/integration/{integration.type}",
            headers=headers,
            json={"client_id": provider.client_id, "client_secret": provider.client_secret},
        )
        assert r.status_code == 200, f"PUT /switchboard/integration/{integration.type} answered {r.status_code}: {r.text[:300]}"
        body = r.json()
        assert "client_secret" not in body, "the integration answer carries the client secret"
        assert body.get("client_id") == provider.client_id and body.get("is_active") is True, body
        r = http.patch(
            f"{server.base_url}/switchboard/workspace", headers=headers, json={"redirect_origins": list(origins)}
        )
        assert r.status_code == 200, f"PATCH /switchboard/workspace answered {r.status_code}: {r.text[:300]}"
        assert r.json().get("redirect_origins") == list(origins), r.json()
        sdk_client = httpx.Client(timeout=HTTP_TIMEOUT_S, follow_redirects=False)
        clients.append(sdk_client)
        sdk = UnifiedTo(server_url=server.base_url, security=shared.Security(jwt=ws.api_key), client=sdk_client)
        return Setup(server=server, workspace=ws, sdk=sdk, http=http)

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def setup(server: OAuthServer, make_setup) -> Setup:
    return make_setup(server)


# ----- the flow -----------------------------------------------------------------------------


@dataclass
class Flow:
    """One pass through the authorization flow, step by step (see `run_flow`)."""

    authorize_url: str = ""
    authorize_params: Dict[str, str] = field(default_factory=dict)
    provider_response: Optional[httpx.Response] = None
    callback_url: str = ""
    callback_response: Optional[httpx.Response] = None

    @property
    def location(self) -> str:
        assert self.callback_response is not None
        return self.callback_response.headers.get("location", "")


def get_authorize_url(setup: Setup, integration: MockIntegration, **params: Any) -> str:
    """The authorize URL from Switchboard, through the SDK (text/plain)."""
    request = {
        "workspace_id": setup.workspace.id,
        "integration_type": integration.type,
        "success_redirect": SUCCESS_REDIRECT,
        "failure_redirect": FAILURE_REDIRECT,
    }
    for name, value in params.items():  # None removes a parameter
        if value is None:
            request.pop(name, None)
        else:
            request[name] = value
    res = setup.sdk.integration.get_unified_integration_auth(request=request)
    assert res.status_code == 200, res.status_code
    assert res.content_type.startswith("text/plain"), res.content_type
    assert res.res, "empty authorize URL"
    return res.res.strip()


def to_provider(flow: Flow, http: httpx.Client) -> Flow:
    """Follows the authorize URL to the provider, which answers with a redirect to the callback."""
    flow.provider_response = http.get(flow.authorize_url)
    assert flow.provider_response.status_code == 302, (
        f"the provider answered {flow.provider_response.status_code}: {flow.provider_response.text[:300]}"
    )
    flow.callback_url = flow.provider_response.headers["location"]
    return flow


def run_flow(
    setup: Setup,
    integration: MockIntegration,
    http: httpx.Client,
    *,
    callback: bool = True,
    **params: Any,
) -> Flow:
    flow = Flow()
    flow.authorize_url = get_authorize_url(setup, integration, **params)
    flow.authorize_params = query(flow.authorize_url)
    to_provider(flow, http)
    if callback:
        flow.callback_response = http.get(flow.callback_url)
    return flow


def replace_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    q = query(url)
    q.update(changes)
    return parts._replace(query=urlencode(q)).geturl()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Polls `predicate` until it is true or `timeout` seconds passed (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


__all__ = [
    "APP_ORIGIN",
    "FAILURE_REDIRECT",
    "SUCCESS_REDIRECT",
    "REPO_ROOT",
    "Flow",
    "MockIntegration",
    "OAuthServer",
    "Provider",
    "Setup",
    "error_code",
    "fingerprint",
    "get_authorize_url",
    "query",
    "redacted",
    "replace_query",
    "run_flow",
    "to_provider",
    "wait_until",
    "without_query",
]


def connect(setup: Setup, integration: MockIntegration, http: httpx.Client, **params: Any) -> str:
    """Runs the whole flow and returns the new (or re-authorized) connection's id."""
    flow = run_flow(setup, integration, http, **params)
    r = flow.callback_response
    assert r is not None and r.status_code == 302, f"callback answered {r.status_code if r else None}"
    location = r.headers.get("location", "")
    assert without_query(location) == SUCCESS_REDIRECT, f"callback redirected to {without_query(location)}"
    connection_id = query(location).get("id")
    assert connection_id, "no id on the success redirect"
    return connection_id


def reauth_token(setup: Setup, connection_id: str) -> str:
    from unified_python_sdk.models import operations

    res = setup.sdk.connection.create_unified_connection_reauth(
        request=operations.CreateUnifiedConnectionReauthRequest(id=connection_id)
    )
    assert res.status_code == 200 and res.connection_reauth is not None
    assert res.connection_reauth.reauth_token, "no reauth_token"
    return res.connection_reauth.reauth_token


# ----- figures for the terminal summary -----------------------------------------------------

FIGURES = FigureLog()


@pytest.fixture
def figures(request) -> Callable[[str], None]:
    """Records a measured figure; all of them are printed at the end of the run."""
    return FIGURES.recorder(request.node.name)


def pytest_terminal_summary(terminalreporter) -> None:
    FIGURES.summarize(terminalreporter)
