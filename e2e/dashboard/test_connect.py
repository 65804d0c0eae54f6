"""The hosted Connect page end to end in a real browser: a connect session from the API, the end
user picks an integration, goes through the OAuth provider (e2e/oauth/provider.py, which approves
at once) or fills the API-key form, lands on success_redirect?id=..., and the connection shows in
the dashboard. A used connect token answers 410. Each test on SQLite and on PostgreSQL.

Contract (dashboard HTML contract, "Hosted Connect page"):
  - POST /switchboard/connect-session {external_xref, integrations?, categories?, env?,
    success_redirect, failure_redirect?} (each redirect on the workspace's allowlist) -> 201
    {id, url: <public-url>/connect/<token>, expires_at}.
  - GET /connect/TOKEN: ul#integrations, <li data-integration-type=TYPE> with the catalog name.
    OAuth: <form method=post action=/connect/TOKEN/oauth/TYPE>, button "Connect <Name>" -> 303 to
    the provider; afterwards success_redirect?id=<connection id>. API key: <a href=/connect/TOKEN/api-key/TYPE>,
    whose page has form#api-key-form with one labelled input per token_name (name = the token
    name) and "Connect" -> 303 to success_redirect?id=<connection id> (or a page with p#connected).
  - A token used (a connection made or an OAuth flow started with it) or expired -> 410 with
    <p role=alert class=error>.
"""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import urlsplit

import httpx

from conftest import APIKEY_TYPE, OAUTH_TYPE, Browser, Site, Tenant, has_alert, provider_fingerprint, query, shown

OAUTH_NAME = "Mock OAuth Provider"
APIKEY_NAME = "Mock API Key Provider"
APIKEY_TOKEN_NAMES = ("api_key", "subdomain")


def new_session(tenant: Tenant, app: Site, xref: str, **extra) -> dict:
    body = {
        "external_xref": xref,
        "integrations": [OAUTH_TYPE, APIKEY_TYPE],
        "success_redirect": app.url("/connected"),
        "failure_redirect": app.url("/failed"),
        **extra,
    }
    return tenant.connect_session(**body).json()


def assert_gone(browser: Browser, http: httpx.Client, url: str, what: str) -> None:
    r = http.get(url)
    assert r.status_code == 410, f"{what}: GET {shown(url)} answered {r.status_code}, not 410"
    assert has_alert(r.text), f"{what}: the 410 page has no <p role=alert class=error>"
    browser.get(url)
    assert browser.status() == 410, f"{what}: the browser got {browser.status()}, not 410"
    assert browser.alert_text(), f"{what}: the browser shows no alert"
    assert not browser.find_all("ul#integrations li"), f"{what}: the 410 page still lists integrations"


def landed_connection_id(browser: Browser, app: Site) -> str:
    """Waits for success_redirect (or p#connected on Switchboard); the new connection's id."""
    browser.wait(
        lambda d: d.current_url.startswith(app.url("/connected"))
        or d.find_elements("css selector", "p#connected, p[role=alert].error"),
        "the browser reached neither success_redirect nor a page with p#connected",
        timeout=20,
    )
    alert = browser.alert_text()
    assert alert is None, f"connecting ended on {shown(browser.url)} ({browser.status()}) with the alert {alert!r}"
    if browser.url.startswith(app.url("/connected")):
        connection_id = query(browser.url).get("id")
        assert connection_id, f"success_redirect carries no id (parameters: {browser.find('#params').text})"
        assert "error" not in query(browser.url), f"success_redirect carries error={query(browser.url)['error']!r}"
        return connection_id
    raise AssertionError("the API-key form ended on p#connected without a success_redirect; id unknown")


def test_connect_with_oauth(server, tenant: Tenant, browsers, app: Site, provider, http: httpx.Client):
    xref = f"user-{uuid.uuid4().hex[:8]}"
    session = new_session(tenant, app, xref)
    url = session["url"]
    end_user = browsers()
    end_user.get(url)
    assert end_user.status() == 200, f"GET of the connect URL answered {end_user.status()}"
    items = end_user.wait_for("ul#integrations", "the Connect page has no ul#integrations")
    listed = items.find_elements("css selector", "li[data-integration-type]")
    types = [li.get_attribute("data-integration-type") for li in listed]
    assert sorted(types) == sorted([OAUTH_TYPE, APIKEY_TYPE]), f"the Connect page lists {types}"
    item = end_user.find(f"li[data-integration-type='{OAUTH_TYPE}']")
    assert OAUTH_NAME in item.text, f"the item of {OAUTH_TYPE} does not show its catalog name"
    form = item.find_element("css selector", "form")
    assert (form.get_attribute("method") or "").lower() == "post", "the OAuth form's method is not post"
    assert urlsplit(form.get_attribute("action")).path == urlsplit(url).path + f"/oauth/{OAUTH_TYPE}", (
        "the OAuth form does not post to /connect/<token>/oauth/<type>"
    )
    authorize_before = provider.authorize_calls()

    end_user.button(f"li[data-integration-type='{OAUTH_TYPE}']", f"Connect {OAUTH_NAME}").click()
    connection_id = landed_connection_id(end_user, app)
    assert provider.authorize_calls() == authorize_before + 1, "the browser did not go through the provider"

    conn = tenant.connection(connection_id)
    assert conn["integration_type"] == OAUTH_TYPE and conn.get("external_xref") == xref, (
        f"the connection is {conn['integration_type']}/{conn.get('external_xref')!r}, not {OAUTH_TYPE}/{xref!r}"
    )

    # The token is used: the page and the form answer 410.
    assert_gone(browsers(), http, url, "the connect URL after an OAuth flow")
    r = http.post(url + f"/oauth/{OAUTH_TYPE}")
    # 410 (used), or 403 when a missing csrf field is checked first: never a 303 to the provider.
    assert r.status_code in (403, 410), f"POST of a used token's OAuth form answered {r.status_code}, not 410"

    # The dashboard shows it.
    admin = browsers()
    admin.sign_in(server, tenant.api_key)
    row = admin.wait_for(f"tr[data-connection-id='{connection_id}']", "the connected account is not in the dashboard")
    assert xref in row.text, "the dashboard's row does not show the external_xref"


def test_connect_with_an_api_key(server, tenant: Tenant, browsers, app: Site, http: httpx.Client):
    xref = f"user-{uuid.uuid4().hex[:8]}"
    session = new_session(tenant, app, xref, categories=["hris"], env="Sandbox")
    url = session["url"]
    end_user = browsers()
    end_user.get(url)
    item = end_user.wait_for(f"li[data-integration-type='{APIKEY_TYPE}']", f"the Connect page does not list {APIKEY_TYPE}")
    assert APIKEY_NAME in item.text, f"the item of {APIKEY_TYPE} does not show its catalog name"
    link = item.find_element("css selector", "a")
    assert urlsplit(link.get_attribute("href")).path == urlsplit(url).path + f"/api-key/{APIKEY_TYPE}", (
        "the API-key link does not lead to /connect/<token>/api-key/<type>"
    )
    end_user.submit(link)
    form = end_user.wait_for("form#api-key-form", "the API-key page has no form#api-key-form")
    assert (form.get_attribute("method") or "").lower() == "post", "form#api-key-form's method is not post"
    visible = "input:not([type=hidden]):not([type=submit]):not([type=button])"
    names = [i.get_attribute("name") for i in form.find_elements("css selector", visible)]
    assert sorted(names) == sorted(APIKEY_TOKEN_NAMES), f"form#api-key-form asks for {names}"
    for name in APIKEY_TOKEN_NAMES:
        field = form.find_element("css selector", f"input[name='{name}']")
        assert end_user.label_for(field), f"the input {name!r} has no label"

    # A second tab opens the same form before the first submits (a GET uses nothing).
    late = browsers()
    late.get(url + f"/api-key/{APIKEY_TYPE}")
    late.wait_for("form#api-key-form", "a second GET of the API-key page shows no form")

    key = "k-" + secrets.token_hex(12)
    end_user.set_control("form#api-key-form", "api_key", key)
    end_user.set_control("form#api-key-form", "subdomain", "globex")
    end_user.button("form#api-key-form", "Connect").click()
    connection_id = landed_connection_id(end_user, app)
    assert key not in end_user.url, "the key is in the URL after connecting"

    conn = tenant.connection(connection_id)
    assert conn["integration_type"] == APIKEY_TYPE and conn.get("external_xref") == xref, (
        f"the connection is {conn['integration_type']}/{conn.get('external_xref')!r}, not {APIKEY_TYPE}/{xref!r}"
    )
    assert conn.get("environment") == "Sandbox", f"the connect session's env became {conn.get('environment')!r}"
    # The credentials work: a passthrough call carries the key and the subdomain to the provider.
    r = tenant.passthrough(connection_id, "echo")
    assert r.status_code == 200, f"passthrough through the new connection answered {r.status_code}"
    echo = r.json()
    assert dict(echo["headers"]).get("x-api-key") == provider_fingerprint(key), "the stored key is not the one typed"
    assert "/plain/globex/" in (echo.get("raw_uri") or ""), "the stored subdomain is not the one typed"

    # Used: the page, the form page, and a second submission answer 410.
    assert_gone(browsers(), http, url, "the connect URL after a connection")
    assert_gone(browsers(), http, url + f"/api-key/{APIKEY_TYPE}", "the API-key page after a connection")
    before = len(tenant.connections())
    late.set_control("form#api-key-form", "api_key", "k-" + secrets.token_hex(12))
    late.set_control("form#api-key-form", "subdomain", "other")
    late.submit(late.button("form#api-key-form", "Connect"))
    assert late.status() == 410, f"submitting the form of a used token answered {late.status()}, not 410"
    assert late.alert_text(), "the 410 page has no <p role=alert class=error>"
    assert len(tenant.connections()) == before, "a used token made another connection"

    admin = browsers()
    admin.sign_in(server, tenant.api_key)
    admin.get(server.url("/dashboard/connections?env=Sandbox"))
    row = admin.wait_for(f"tr[data-connection-id='{connection_id}']", "the connected account is not in the dashboard")
    assert xref in row.text, "the dashboard's row does not show the external_xref"


def test_connect_session_refuses_redirects_off_the_allowlist(tenant: Tenant, app: Site):
    for redirect in ("https://evil.example.com/cb", "http://127.0.0.1:1/cb"):
        r = tenant.connect_session(
            expect=400, external_xref="x", success_redirect=redirect, integrations=[APIKEY_TYPE]
        )
        assert r.status_code == 400, f"a success_redirect off the allowlist answered {r.status_code}, not 400"
        r = tenant.connect_session(
            expect=400, external_xref="x", success_redirect=app.url("/ok"), failure_redirect=redirect
        )
        assert r.status_code == 400, f"a failure_redirect off the allowlist answered {r.status_code}, not 400"
    # Without connections:write: 403.
    limited = tenant.new_key("connections:read")
    r = tenant.api(
        "POST", "/switchboard/connect-session", key=limited, json={"external_xref": "x", "success_redirect": app.url("/ok")}
    )
    assert r.status_code == 403, f"a connections:read key made a connect session ({r.status_code})"
