"""Fixtures for the dashboard end-to-end suite (see e2e/dashboard/run.sh).

A real browser (Debian's chromium, headless, driven by selenium through the system chromedriver,
1280x900) against the server-rendered dashboard and the hosted Connect page of `switchboard
serve`, on SQLite and on PostgreSQL. The HTML contract the tests rely on: ids, data- attributes,
roles and labels of the pages (the dashboard's contract, mirrored in the tests' docstrings).

What runs beside the servers, for the whole session:
  - the OAuth suite's authorization server (e2e/oauth/provider.py, Authlib) on
    127.0.0.1:SWITCHBOARD_DASHBOARD_PROVIDER_PORT (default 31420, not the OAuth suite's 31410, so
    both suites can run at once). The servers load a copy of e2e/oauth/integrations (plus
    e2e/dashboard/integrations, if present) whose provider addresses name that port;
  - "the app": a loopback HTTP site an end user is sent back to (success_redirect), which also
    accepts event webhook deliveries;
  - "the attacker": another loopback site (a different origin, and through `localhost` a different
    site) serving pages that post forms to the dashboard or frame it.

Every test that takes `backend` runs on SQLite and on PostgreSQL. One server per backend is shared
by the session (each test makes its own workspace); tests that restart a server or need other
settings start their own with `make_server`, stopped at the end of the test. On PostgreSQL each
server gets a fresh database on the server of SWITCHBOARD_DATABASE_URL, dropped at the end.

Browsers come from a session-wide pool (`browsers()`, `browser`): each test gets chromiums of its
own, wiped (cookies, cache, windows) when handed back. Statuses of the pages a browser loads are
read from chromium's performance log (`Browser.status()`).

Runs with plain assertions (pytest.ini): assertion rewriting would print the values in a failing
expression, API keys among them.

Environment:
  SWITCHBOARD_BIN               the switchboard binary (default: <repo>/.build/debug/switchboard)
  SWITCHBOARD_DATABASE_URL      a postgres:// URL for the PostgreSQL half; when it is not one,
                                the PostgreSQL tests are skipped...
  SWITCHBOARD_REQUIRE_POSTGRES  ...unless this is 1: then they fail (CI sets it).
  SWITCHBOARD_CHROMIUM          the browser (default: /usr/bin/chromium)
  SWITCHBOARD_CHROMEDRIVER      the driver (default: /usr/bin/chromedriver)
  SWITCHBOARD_DASHBOARD_PROVIDER_PORT  the OAuth provider's port (default: 31420)
  SWITCHBOARD_DASHBOARD_SCREENSHOTS    where test_screenshots.py writes its PNGs (default: the
                                       test's work directory; docs/dashboard refreshes the
                                       committed ones)

API keys, client secrets, tokens, sign-in links and connect URLs are secrets even in tests: they
are never put in assertion messages or logs; URLs are shown through `shown()` (query dropped,
tokens in the path masked) and secrets through `fingerprint()`.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

_SUPPORT = str(Path(__file__).resolve().parents[1] / "support")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)

from switchboard_testkit import (  # noqa: E402
    Databases,
    CLI_TIMEOUT_S,
    OAuthProvider,
    REPO_ROOT,
    SwitchboardServer,
    Workspace,
    find_switchboard_bin,
    is_postgres_url,
    psql,
    require_postgres,
    start_registered,
    with_database,
)

DASHBOARD_DIR = Path(__file__).resolve().parent
OAUTH_DIR = DASHBOARD_DIR.parent / "oauth"
INTEGRATION_SOURCES = (OAUTH_DIR / "integrations", DASHBOARD_DIR / "integrations")
OAUTH_SUITE_PROVIDER = "127.0.0.1:31410"  # the address e2e/oauth/integrations/*.yaml name

PROVIDER_HOST = "127.0.0.1"
# Below Linux's ephemeral range (32768-60999), like the OAuth suite's 31410 (see its conftest).
PROVIDER_PORT = int(os.environ.get("SWITCHBOARD_DASHBOARD_PROVIDER_PORT") or 31420)

CHROMIUM = os.environ.get("SWITCHBOARD_CHROMIUM") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("SWITCHBOARD_CHROMEDRIVER") or "/usr/bin/chromedriver"
WINDOW = (1280, 900)
WAIT_S = 15.0
HTTP_TIMEOUT_S = 15.0

SESSION_COOKIE = "switchboard_session"
NAV_LINKS = ("Connections", "Integrations", "API keys", "Audit log", "Secrets managers", "API calls", "Events")
# The integrations of the loopback provider (e2e/oauth/integrations).
OAUTH_TYPE = "mock"
APIKEY_TYPE = "mock_apikey"  # token_names: [api_key, subdomain]

# Settings of the servers shared by a session: no background refresher (nothing here expires).
DEFAULT_SERVE_ARGS = ("--refresh-interval", "0")


# ----- small helpers ------------------------------------------------------------------------


def fingerprint(secret: Optional[str]) -> str:
    """A short digest of a secret, safe for messages and comparisons."""
    if secret is None:
        return "<none>"
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def provider_fingerprint(secret: str) -> str:
    """How the provider's echo shows a credential (see e2e/oauth/provider.py)."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


_SECRET_PATHS = re.compile(r"(/connect/|/dashboard/link/)([^/?#]+)")


def shown(url: str) -> str:
    """A URL for messages: no query or fragment, connect tokens and sign-in link tokens masked."""
    parts = urlsplit(url)
    path = _SECRET_PATHS.sub(lambda m: m.group(1) + "<token>", parts.path)
    return f"{parts.scheme}://{parts.netloc}{path}" + ("?..." if parts.query else "")


def query(url: str) -> Dict[str, str]:
    """The query parameters of a URL (the last value of each)."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def key_id(api_key: str) -> str:
    """`sbk_<id>_<secret>` -> `<id>` (the key's public id)."""
    parts = api_key.split("_")
    assert len(parts) >= 3 and parts[0] == "sbk", "an API key does not have the form sbk_<id>_<secret>"
    return parts[1]


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Polls `predicate` (something no browser event signals) until true or `timeout` passed."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def csp_directives(header: str) -> Dict[str, List[str]]:
    """A Content-Security-Policy header as {directive: [sources]} (names lowercased)."""
    directives: Dict[str, List[str]] = {}
    for part in header.split(";"):
        tokens = part.strip().split()
        if tokens:
            directives.setdefault(tokens[0].lower(), tokens[1:])
    return directives


class _FormParser(HTMLParser):
    """Collects every <form> of a page: id, method, action and its named input/textarea/select
    values (checkboxes and radios only when checked)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: List[Dict[str, Any]] = []
        self._current: Optional[Dict[str, Any]] = None
        self._textarea: Optional[str] = None

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._current = {
                "id": a.get("id", ""),
                "class": a.get("class", ""),
                "method": a.get("method", "get").lower(),
                "action": a.get("action", ""),
                "fields": [],
            }
            self.forms.append(self._current)
        elif self._current is not None and tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "image", "reset"):
                return
            self._current["fields"].append((a["name"], a.get("value", "")))
        elif self._current is not None and tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._current["fields"].append((a["name"], ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and self._current is not None:
            name, value = self._current["fields"][-1]
            self._current["fields"][-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(page: str) -> List[Dict[str, Any]]:
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


def form_fields(page: str, **match: str) -> List[Tuple[str, str]]:
    """The fields of the first form whose attributes (id, class, action, method) match."""
    for form in forms_of(page):
        if all((form.get(k) == v) if k != "class" else (v in form["class"].split()) for k, v in match.items()):
            return list(form["fields"])
    raise AssertionError(f"no form with {match} on the page (forms: {[(f['id'], f['action']) for f in forms_of(page)]})")


def csrf_of(page: str, **match: str) -> str:
    """The csrf field of a form on the page (see form_fields)."""
    values = [v for k, v in form_fields(page, **match) if k == "csrf"]
    assert values and values[0], f"the form {match} carries no csrf field"
    return values[0]


def has_alert(page: str) -> bool:
    """Whether an HTML page carries <p role="alert" class="error">."""
    for m in re.finditer(r"<p\b[^>]*>", page, flags=re.I):
        tag = m.group(0)
        if re.search(r"""role\s*=\s*["']?alert""", tag, re.I) and re.search(
            r"""class\s*=\s*["'][^"']*\berror\b""", tag, re.I
        ):
            return True
    return False


# ----- the OAuth provider -------------------------------------------------------------------


class Provider(OAuthProvider):
    """e2e/oauth/provider.py on PROVIDER_PORT, and its control endpoints."""

    def __init__(self, authorize_path: str, token_path: str, workdir: Path):
        super().__init__(
            PROVIDER_PORT,
            authorize_path,
            token_path,
            workdir,
            host=PROVIDER_HOST,
            port_setting="SWITCHBOARD_DASHBOARD_PROVIDER_PORT",
            http_timeout_s=HTTP_TIMEOUT_S,
        )

    def authorize_calls(self) -> int:
        return int(self.stats()["authorize_calls"])

    def token_calls(self) -> int:
        return int(self.stats()["token_calls"])


# ----- loopback sites: the end user's app and the attacker ------------------------------------


class Site:
    """A small HTTP site on a free loopback port.

    GET of a registered path answers its HTML; any other GET answers a page naming the path
    (<p id="path">) and the query's parameter names (<p id="params">) under <h1 id="site">, so a
    browser landing on success_redirect can be waited for. POSTs are recorded and answered 204
    (event webhook deliveries).
    """

    def __init__(self, name: str):
        self.name = name
        self.pages: Dict[str, str] = {}
        self.posts: List[Tuple[str, bytes]] = []
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet; paths may carry tokens
                pass

            def _answer(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                with site.lock:
                    page = site.pages.get(path)
                if page is None:
                    names = ",".join(sorted(parse_qs(urlsplit(self.path).query, keep_blank_values=True)))
                    page = (
                        f"<!doctype html><title>{html.escape(site.name)}</title>"
                        f"<h1 id='site'>{html.escape(site.name)}</h1>"
                        f"<p id='path'>{html.escape(path)}</p><p id='params'>{html.escape(names)}</p>"
                    )
                self._answer(200, page.encode())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with site.lock:
                    site.posts.append((urlsplit(self.path).path, body))
                self._answer(204, b"")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=f"site-{name}", daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def cross_site_origin(self) -> str:
        """The same site through `localhost`: another site than 127.0.0.1 for SameSite cookies."""
        return f"http://localhost:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def page(self, path: str, body: str) -> str:
        with self.lock:
            self.pages[path] = body
        return self.url(path)

    def posts_to(self, path: str) -> List[bytes]:
        with self.lock:
            return [b for p, b in self.posts if p == path]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ----- Switchboard servers ------------------------------------------------------------------


class DashboardServer(SwitchboardServer):
    """`switchboard serve` with the suite's integrations and `--public-url` of its own port
    (unless `public_url` names another)."""

    def __init__(self, *args: Any, integrations_dir: Path, public_url: Optional[str] = None, **kwargs: Any):
        self.integrations_dir = integrations_dir
        self.fixed_public_url = public_url
        super().__init__(*args, **kwargs)

    # SwitchboardServer.start() picks the port, then reads serve_args: the public URL follows
    # the port of each attempt.
    @property
    def serve_args(self) -> List[str]:  # type: ignore[override]
        return [
            *self._extra_args,
            # The OAuth provider and the app's webhook listen on loopback, which the egress policy
            # refuses unless allowed.
            "--egress-allow", "127.0.0.1",
            "--integrations-dir", str(self.integrations_dir),
            "--public-url", self.public_url,
        ]  # fmt: skip

    @serve_args.setter
    def serve_args(self, value: Sequence[str]) -> None:
        self._extra_args = list(value)

    @property
    def public_url(self) -> str:
        return self.fixed_public_url or f"http://127.0.0.1:{self.port}"

    @property
    def callback_url(self) -> str:
        return f"{self.public_url}/switchboard/oauth/callback"

    def url(self, path: str) -> str:
        return self.base_url + path

    def dashboard_link(self, workspace_id: str) -> str:
        """`switchboard dashboard link --workspace ID` on the server's database (its public URL in
        SWITCHBOARD_PUBLIC_URL): the one line it prints. A secret: never shown unmasked."""
        env = dict(self.env, SWITCHBOARD_PUBLIC_URL=self.public_url)
        res = subprocess.run(
            [str(self.binary), "dashboard", "link", "--workspace", workspace_id, "--database", self.database_url],
            env=env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )
        assert res.returncode == 0, f"`switchboard dashboard link` exited {res.returncode}; stderr:\n{res.stderr[-3000:]}"
        lines = [line for line in res.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, f"`switchboard dashboard link` printed {len(lines)} lines, not one"
        return lines[0].strip()


# ----- a workspace and the HTTP API ---------------------------------------------------------


@dataclass
class Tenant:
    """A workspace on a server: its full-access key (from the CLI), the HTTP API, and the mock
    OAuth integration enabled with the provider's client; the app's origin is allowed."""

    server: DashboardServer
    workspace: Workspace
    http: httpx.Client = field(repr=False)
    app: Site = field(repr=False)

    @property
    def api_key(self) -> str:
        return self.workspace.api_key

    @property
    def key_id(self) -> str:
        return key_id(self.workspace.api_key)

    def api(self, method: str, path: str, *, key: Optional[str] = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.workspace.api_key}", **kwargs.pop("headers", {})}
        return self.http.request(method, self.server.url(path), headers=headers, **kwargs)

    def create_connection(
        self,
        integration_type: str,
        *,
        categories: Sequence[str],
        external_xref: Optional[str] = None,
        environment: Optional[str] = None,
        integration_name: Optional[str] = None,
        auth: Optional[Dict[str, Any]] = None,
        permissions: Sequence[str] = (),
    ) -> Dict[str, Any]:
        body: Dict[str, Any] = {
            "integration_type": integration_type,
            "categories": list(categories),
            "permissions": list(permissions),
        }
        if external_xref is not None:
            body["external_xref"] = external_xref
        if environment is not None:
            body["environment"] = environment
        if integration_name is not None:
            body["integration_name"] = integration_name
        if auth is not None:
            body["auth"] = auth
        r = self.api("POST", "/unified/connection", json=body)
        assert r.status_code == 200, f"POST /unified/connection answered {r.status_code}: {r.text[:300]}"
        return r.json()

    def create_connections(self, bodies: Sequence[Dict[str, Any]], workers: int = 8) -> List[Dict[str, Any]]:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda b: self.create_connection(**b), bodies))

    def connection(self, connection_id: str) -> Dict[str, Any]:
        r = self.api("GET", f"/unified/connection/{connection_id}")
        assert r.status_code == 200, f"GET /unified/connection/{{id}} answered {r.status_code}"
        return r.json()

    def connections(self, **params: Any) -> List[Dict[str, Any]]:
        r = self.api("GET", "/unified/connection", params={"limit": 100, **params})
        assert r.status_code == 200, f"GET /unified/connection answered {r.status_code}: {r.text[:300]}"
        return r.json()

    def passthrough(self, connection_id: str, path: str) -> httpx.Response:
        return self.api("GET", f"/passthrough/{connection_id}/{path}")

    def make_unhealthy(self, connection_id: str) -> None:
        """A passthrough call the provider refuses with 401 (an API-key connection of the loopback
        provider: no refresh can fix it) marks the connection unhealthy (docs/passthrough.md)."""
        r = self.passthrough(connection_id, "status/401")
        assert r.status_code == 401, f"passthrough status/401 answered {r.status_code}: {r.text[:200]}"
        after = self.connection(connection_id)
        assert after.get("last_unhealthy_at"), (
            "precondition: a refused passthrough call did not mark the connection unhealthy "
            f"(last_unhealthy_at={after.get('last_unhealthy_at')!r})"
        )

    def make_healthy(self, connection_id: str) -> None:
        r = self.passthrough(connection_id, "echo")
        assert r.status_code == 200, f"passthrough echo answered {r.status_code}: {r.text[:200]}"
        after = self.connection(connection_id)
        assert after.get("last_healthy_at"), "precondition: a 2xx passthrough call set no last_healthy_at"

    def keys(self) -> Dict[str, Dict[str, Any]]:
        r = self.api("GET", "/switchboard/apikey")
        assert r.status_code == 200, f"GET /switchboard/apikey answered {r.status_code}"
        return {k["id"]: k for k in r.json()}

    def key_works(self, api_key: str) -> bool:
        r = self.api("GET", "/unified/connection", key=api_key, params={"limit": 1})
        assert r.status_code in (200, 401, 403), f"GET /unified/connection answered {r.status_code}"
        return r.status_code == 200

    def connect_session(self, expect: int = 201, **body: Any) -> httpx.Response:
        r = self.api("POST", "/switchboard/connect-session", json=body)
        if expect == 201:
            assert r.status_code == 201, f"POST /switchboard/connect-session answered {r.status_code}: {r.text[:300]}"
            data = r.json()
            assert data.get("id") and data.get("url") and data.get("expires_at"), sorted(data)
            assert data["url"].startswith(self.server.public_url + "/connect/"), (
                f"the connect URL {shown(data['url'])} is not under {self.server.public_url}/connect/"
            )
        return r

    def new_key(self, scopes: Optional[str] = None) -> str:
        """A key made by the CLI (`key create [--scopes ...]`)."""
        args = ["key", "create", "--workspace", self.workspace.id, "--json"]
        if scopes is not None:
            args += ["--scopes", scopes]
        res = self.server.cli(*args)
        try:
            data = json.loads(res.stdout)
        except json.JSONDecodeError:
            raise AssertionError("`switchboard key create --json` did not print JSON") from None
        return data["api_key"]


# ----- the browser --------------------------------------------------------------------------


class Browser:
    """A headless chromium and the waits and look-ups the tests share."""

    def __init__(self, driver: WebDriver):
        self.driver = driver
        self._status: Optional[int] = None

    # navigation ------------------------------------------------------------------------------

    def _drain(self) -> None:
        """Forgets the network log so far (before a navigation whose status is wanted)."""
        self.driver.get_log("performance")
        self._status = None

    def get(self, url: str) -> None:
        self._drain()
        self.driver.get(url)

    @property
    def url(self) -> str:
        return self.driver.current_url

    @property
    def path(self) -> str:
        return urlsplit(self.driver.current_url).path

    def wait(self, condition: Callable[[WebDriver], Any], message: str, timeout: float = WAIT_S) -> Any:
        try:
            return WebDriverWait(self.driver, timeout).until(condition)
        except TimeoutException:
            raise AssertionError(f"{message} (waited {timeout:.0f} s; the browser is at {shown(self.url)})") from None

    def wait_path(self, path: str, *, origin: Optional[str] = None, timeout: float = WAIT_S) -> None:
        def there(d: WebDriver) -> bool:
            parts = urlsplit(d.current_url)
            return parts.path == path and (origin is None or f"{parts.scheme}://{parts.netloc}" == origin)

        self.wait(there, f"the browser did not reach {origin or ''}{path}", timeout)

    def wait_url_prefix(self, prefix: str, timeout: float = WAIT_S) -> None:
        self.wait(lambda d: d.current_url.startswith(prefix), f"the browser did not reach {shown(prefix)}", timeout)

    def _new_document(self, marker: str) -> bool:
        try:
            return bool(
                self.driver.execute_script(
                    "return window.__switchboardMarker !== arguments[0] && document.readyState === 'complete'", marker
                )
            )
        except WebDriverException:  # between two documents
            return False

    def submit(self, element: WebElement) -> None:
        """Clicks a submit button or link (or submits a form) and waits for the next document to
        load (the old one is marked first; the wait ends when the mark is gone)."""
        marker = secrets.token_hex(8)
        self.driver.execute_script("window.__switchboardMarker = arguments[0]", marker)
        self._drain()
        if element.tag_name.lower() == "form":
            element.submit()
        else:
            element.click()
        self.wait(lambda d: self._new_document(marker), "the click loaded no new page")

    def status(self) -> Optional[int]:
        """The HTTP status of the last document loaded since the last get() or submit() (from
        chromium's performance log; None when none was)."""
        for entry in self.driver.get_log("performance"):
            try:
                message = json.loads(entry["message"])["message"]
            except (KeyError, ValueError):
                continue
            if message.get("method") != "Network.responseReceived":
                continue
            params = message.get("params", {})
            if params.get("type") == "Document":
                self._status = int(params["response"]["status"])
        return self._status

    # look-ups --------------------------------------------------------------------------------

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> List[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait_for(self, css: str, message: Optional[str] = None, timeout: float = WAIT_S) -> WebElement:
        return self.wait(
            EC.presence_of_element_located((By.CSS_SELECTOR, css)),
            message or f"no element {css} on the page",
            timeout,
        )

    def button(self, scope_css: str, text: str) -> WebElement:
        """The button labelled `text` (button or input[type=submit]) inside `scope_css`."""
        scope = self.wait_for(scope_css)
        for candidate in scope.find_elements(By.CSS_SELECTOR, "button, input[type=submit]"):
            label = candidate.text.strip() or (candidate.get_attribute("value") or "").strip()
            if label == text:
                return candidate
        raise AssertionError(f"no button {text!r} in {scope_css}")

    def alert_text(self) -> Optional[str]:
        alerts = self.find_all("p[role=alert].error")
        return alerts[0].text if alerts else None

    def body_text(self) -> str:
        return self.find("body").text

    def rows(self, table_css: str, attribute: str) -> List[str]:
        """The `attribute` of each row of a table that has it, in document order."""
        table = self.wait_for(table_css)
        return [r.get_attribute(attribute) or "" for r in table.find_elements(By.CSS_SELECTOR, f"tr[{attribute}]")]

    def signed_in(self) -> bool:
        return bool(self.find_all("nav[aria-label=Dashboard]"))

    def assert_no_js_alert(self) -> None:
        try:
            text = self.driver.switch_to.alert.text
        except NoAlertPresentException:
            return
        raise AssertionError(f"a JavaScript alert fired: {text[:80]!r}")

    def cookie(self, name: str = SESSION_COOKIE) -> Optional[Dict[str, Any]]:
        return self.driver.get_cookie(name)

    def set_control(self, form_css: str, name: str, value: str) -> None:
        """Sets the control `name` of a form to `value`: a text-like input is replaced, a select
        (single or multiple) gets exactly that option, a checkbox group gets exactly that box."""
        form = self.wait_for(form_css)
        controls = form.find_elements(By.CSS_SELECTOR, f"[name='{name}']")
        assert controls, f"{form_css} has no control named {name!r}"
        first = controls[0]
        tag = first.tag_name.lower()
        kind = (first.get_attribute("type") or "").lower()
        if tag == "select":
            select = Select(first)
            offered = [o.get_attribute("value") for o in select.options]
            assert value in offered, f"the select {name!r} of {form_css} offers no {value!r} (it offers {offered})"
            if select.is_multiple:
                select.deselect_all()
            select.select_by_value(value)
        elif kind in ("checkbox", "radio"):
            matched = False
            for box in controls:
                wanted = (box.get_attribute("value") or "") == value
                matched = matched or wanted
                if box.is_selected() != wanted and (wanted or kind == "checkbox"):
                    box.click()
            assert matched, f"{form_css} has no {name!r} box with the value {value!r}"
        else:
            first.clear()
            if value:
                first.send_keys(value)

    def label_for(self, control: WebElement) -> str:
        """The text of the <label> of a control (by `for`, or the label around it)."""
        control_id = control.get_attribute("id")
        if control_id:
            labels = self.driver.find_elements(By.CSS_SELECTOR, f"label[for='{control_id}']")
            if labels:
                return labels[0].text.strip()
        wrapping = control.find_elements(By.XPATH, "ancestor::label")
        return wrapping[0].text.strip() if wrapping else ""

    # the dashboard ---------------------------------------------------------------------------

    def sign_in(self, server: DashboardServer, api_key: str) -> None:
        """Signs in with a key on the sign-in page; ends on /dashboard/connections."""
        self.get(server.url("/dashboard/sign-in"))
        field_ = self.wait_for("form#sign-in input#api_key", "the sign-in page has no form#sign-in with input#api_key")
        field_.send_keys(api_key)
        self.submit(self.button("form#sign-in", "Sign in"))
        assert self.path == "/dashboard/connections", (
            f"signing in ended on {shown(self.url)} (status {self.status()}, alert {self.alert_text()!r}), "
            "not /dashboard/connections"
        )
        assert self.signed_in(), "the page after signing in has no <nav aria-label=Dashboard>"

    def open_dashboard(self, server: DashboardServer, path: str = "/dashboard/connections") -> bool:
        """GETs a dashboard page; True when it rendered signed in, False when it went to sign-in."""
        self.get(server.url(path))
        self.wait(
            lambda d: urlsplit(d.current_url).path in (path, "/dashboard/sign-in")
            and d.execute_script("return document.readyState") == "complete",
            f"GET {path} ended neither on it nor on the sign-in page",
        )
        if self.path == "/dashboard/sign-in":
            return False
        return self.signed_in()

    def session_client(self, server: DashboardServer, **kwargs: Any) -> httpx.Client:
        """An httpx client (no redirects followed) carrying this browser's session cookie."""
        cookie = self.cookie()
        assert cookie is not None, f"the browser holds no {SESSION_COOKIE} cookie"
        client = httpx.Client(timeout=HTTP_TIMEOUT_S, follow_redirects=False, **kwargs)
        client.headers["Cookie"] = f"{SESSION_COOKIE}={cookie['value']}"
        return client

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        assert self.driver.save_screenshot(str(path)), f"could not save {path}"


def make_driver(log_path: Path) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-sync",
        "--password-store=basic",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    if os.geteuid() == 0:
        # chromium refuses to run as root inside its sandbox (CI runs as root in a container).
        options.add_argument("--no-sandbox")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True, "enablePage": False})
    # Warnings only: at INFO chromedriver logs every command, typed keys included.
    service = Service(executable_path=CHROMEDRIVER, log_output=str(log_path), service_args=["--log-level=WARNING"])
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    # Headless chromium's viewport is smaller than its window; pin the viewport itself.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WINDOW[0], "height": WINDOW[1], "deviceScaleFactor": 1, "mobile": False},
    )
    return driver


# ----- session fixtures -------------------------------------------------------------------


@pytest.fixture(scope="session")
def switchboard_bin() -> Path:
    return find_switchboard_bin()


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="switchboard-dashboard-") as tmp:
        yield Path(tmp)


def write_integrations(target: Path, overrides: Optional[Dict[str, str]] = None) -> Path:
    """The suite's integrations directory: every definition of INTEGRATION_SOURCES with the OAuth
    suite's provider address replaced by this suite's, plus `overrides` (file name -> text)."""
    target.mkdir(parents=True, exist_ok=True)
    for source in INTEGRATION_SOURCES:
        if not source.is_dir():
            continue
        for path in sorted(source.glob("*.yaml")):
            text = path.read_text().replace(OAUTH_SUITE_PROVIDER, f"{PROVIDER_HOST}:{PROVIDER_PORT}")
            (target / path.name).write_text(text)
    for name, text in (overrides or {}).items():
        (target / name).write_text(text)
    return target


@pytest.fixture(scope="session")
def integrations_dir(workdir: Path) -> Path:
    return write_integrations(workdir / "integrations")


@pytest.fixture(scope="session")
def provider(integrations_dir: Path, workdir: Path) -> Iterator[Provider]:
    data = yaml.safe_load((integrations_dir / "mock.yaml").read_text())
    auth = data["auth"]
    for url in (auth["authorize_url"], auth["token_url"]):
        parts = urlsplit(url)
        assert (parts.hostname, parts.port) == (PROVIDER_HOST, PROVIDER_PORT), f"mock.yaml names {parts.netloc}"
    p = Provider(urlsplit(auth["authorize_url"]).path, urlsplit(auth["token_url"]).path, workdir)
    p.start()
    try:
        yield p
    finally:
        p.close()


@pytest.fixture(scope="session")
def app() -> Iterator[Site]:
    """The end user's app: success_redirect lands here; event webhooks are delivered here."""
    site = Site("The app")
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture(scope="session")
def attacker() -> Iterator[Site]:
    site = Site("Another site")
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture(scope="session")
def databases(workdir: Path, run_id: str) -> Iterator[Databases]:
    dbs = Databases(workdir, run_id, prefix="sb_dash")
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
    switchboard_bin: Path, workdir: Path, integrations_dir: Path, provider: Provider
) -> Iterator[Callable[..., DashboardServer]]:
    """Makes (and, at the end of the session, stops) servers; the caller starts them."""
    made: List[DashboardServer] = []

    def make(
        database_url: str,
        name: str,
        serve_args: Sequence[str] = DEFAULT_SERVE_ARGS,
        *,
        integrations: Optional[Path] = None,
        public_url: Optional[str] = None,
    ) -> DashboardServer:
        server = DashboardServer(
            switchboard_bin,
            database_url,
            workdir,
            name,
            serve_args,
            integrations_dir=integrations or integrations_dir,
            public_url=public_url,
        )
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop_and_warn()


_SHARED: Dict[str, DashboardServer] = {}


@pytest.fixture
def server(backend: str, server_factory, databases: Databases, provider: Provider) -> DashboardServer:
    """The session's server on `backend`."""
    srv = _SHARED.get(backend)
    if srv is None:
        srv = server_factory(databases.new(backend, "main"), f"{backend}-main")
        start_registered(srv, provider)
        _SHARED[backend] = srv
    srv.assert_running()
    return srv


@pytest.fixture
def make_server(backend: str, server_factory, databases: Databases, provider: Provider):
    """Starts a server of the test's own (fresh database unless `database_url=`); stopped at the
    end of the test. make_server(label, *serve_args, database_url=None, integrations=None,
    public_url=None) -> started server."""
    started: List[DashboardServer] = []

    def make(
        label: str,
        *serve_args: str,
        database_url: Optional[str] = None,
        integrations: Optional[Path] = None,
        public_url: Optional[str] = None,
    ) -> DashboardServer:
        url = database_url or databases.new(backend, label)
        srv = server_factory(
            url, f"{backend}-{label}", (*DEFAULT_SERVE_ARGS, *serve_args), integrations=integrations, public_url=public_url
        )
        start_registered(srv, provider)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop_and_warn()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A plain client of the test's own (its cookie jar starts empty) that never follows redirects
    (tests assert on each Location)."""
    with httpx.Client(timeout=HTTP_TIMEOUT_S, follow_redirects=False) as client:
        yield client


@pytest.fixture
def make_tenant(provider: Provider, http: httpx.Client, app: Site, run_id: str):
    """make_tenant(server, origins=(app.origin,)) -> a new workspace (CLI, full-access key) with
    the mock OAuth integration enabled with the provider's client and `origins` allowed."""

    def make(server: DashboardServer, origins: Optional[Sequence[str]] = None) -> Tenant:
        ws = server.create_workspace(f"dash-{run_id}-{uuid.uuid4().hex[:8]}")
        tenant = Tenant(server=server, workspace=ws, http=http, app=app)
        r = tenant.api(
            "PUT",
            f"/switchboard/integration/{OAUTH_TYPE}",
            json={"client_id": provider.client_id, "client_secret": provider.client_secret},
        )
        assert r.status_code == 200, f"PUT /switchboard/integration/{OAUTH_TYPE} answered {r.status_code}: {r.text[:300]}"
        wanted = list(origins if origins is not None else (app.origin,))
        r = tenant.api("PATCH", "/switchboard/workspace", json={"redirect_origins": wanted})
        assert r.status_code == 200, f"PATCH /switchboard/workspace answered {r.status_code}: {r.text[:300]}"
        return tenant

    return make


@pytest.fixture
def tenant(server: DashboardServer, make_tenant) -> Tenant:
    return make_tenant(server)


class BrowserPool:
    """Headless chromiums kept for the whole session (starting one takes most of a second). A
    browser handed back is wiped: every cookie and the cache (the pages run no script, so there is
    no other site data), extra windows closed, about:blank loaded. One that cannot be wiped is quit
    instead."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.idle: List[WebDriver] = []
        self.started = 0

    def take(self) -> WebDriver:
        if self.idle:
            return self.idle.pop()
        self.started += 1
        return make_driver(self.workdir / f"chromedriver-{self.started}.log")

    def give_back(self, driver: WebDriver) -> None:
        try:
            try:
                driver.switch_to.alert.dismiss()
            except NoAlertPresentException:
                pass
            handles = driver.window_handles
            for handle in handles[1:]:
                driver.switch_to.window(handle)
                driver.close()
            driver.switch_to.window(handles[0])
            driver.get("about:blank")
            driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            driver.get_log("performance")
            assert driver.get_cookies() == [], "cookies survived the wipe"
        except Exception as exc:  # a browser that cannot be wiped is not reused
            warnings.warn(f"quitting a chromium that could not be wiped: {type(exc).__name__}")
            self.quit(driver)
            return
        self.idle.append(driver)

    @staticmethod
    def quit(driver: WebDriver) -> None:
        try:
            driver.quit()
        except Exception as exc:  # pragma: no cover - cleanup only
            warnings.warn(f"could not quit chromium: {type(exc).__name__}")

    def close(self) -> None:
        while self.idle:
            self.quit(self.idle.pop())


@pytest.fixture(scope="session")
def browser_pool(workdir: Path) -> Iterator[BrowserPool]:
    pool = BrowserPool(workdir)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def browsers(browser_pool: BrowserPool) -> Iterator[Callable[[], Browser]]:
    """browsers() -> a headless chromium of the test's own (no cookies, no site data, no other
    window); handed back to the pool, wiped, at the end of the test."""
    taken: List[WebDriver] = []

    def make() -> Browser:
        driver = browser_pool.take()
        taken.append(driver)
        return Browser(driver)

    yield make
    for driver in taken:
        browser_pool.give_back(driver)


@pytest.fixture
def browser(browsers) -> Browser:
    return browsers()


__all__ = [
    "APIKEY_TYPE",
    "Browser",
    "DashboardServer",
    "NAV_LINKS",
    "OAUTH_TYPE",
    "PROVIDER_HOST",
    "PROVIDER_PORT",
    "REPO_ROOT",
    "SESSION_COOKIE",
    "Site",
    "Tenant",
    "csp_directives",
    "csrf_of",
    "fingerprint",
    "form_fields",
    "forms_of",
    "has_alert",
    "key_id",
    "provider_fingerprint",
    "query",
    "shown",
    "wait_until",
    "write_integrations",
]
