"""Signing in to the dashboard in a real browser: with an API key, with a sign-in link from the
CLI, refusals (wrong key, a key without the `dashboard` scope, too many failures), and what a page
asks of a visitor who is not signed in. Each test on SQLite and on PostgreSQL.

Contract (dashboard HTML contract, "Sign-in"):
  - GET /dashboard/sign-in: form#sign-in (POST /dashboard/sign-in) with <label for=api_key>,
    input#api_key[type=password][name=api_key] and a "Sign in" button; errors are
    <p role=alert class=error>.
  - A key signs in: 303 to /dashboard/connections and the cookie switchboard_session. A wrong key:
    401 with the form and an alert; a key without the `dashboard` scope (not full access): 403;
    too many failures from one address: 429.
  - A GET of any /dashboard/* page without a session: 303 to /dashboard/sign-in.
  - Every signed-in page: <nav aria-label=Dashboard> with the links Connections, Integrations,
    API keys, Audit log, Secrets managers, API calls, Events.
  - `switchboard dashboard link --workspace ID` prints <public-url>/dashboard/link/<token>,
    single use: its GET shows form#link-sign-in ("Sign in"), whose POST signs in (303 to
    /dashboard/connections); a used link answers 410 with an alert.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from conftest import (
    NAV_LINKS,
    SESSION_COOKIE,
    Browser,
    Tenant,
    fingerprint,
    form_fields,
    forms_of,
    has_alert,
    shown,
)

DASHBOARD_PAGES = (
    "/dashboard/connections",
    "/dashboard/integrations",
    "/dashboard/keys",
    "/dashboard/audit",
    "/dashboard/secrets-managers",
    "/dashboard/api-calls",
    "/dashboard/events",
)


def sign_in_fields(http: httpx.Client, server, api_key: str) -> dict:
    """The fields the sign-in form posts (its hidden ones, such as csrf, kept), with the key."""
    page = http.get(server.url("/dashboard/sign-in"))
    assert page.status_code == 200, f"GET /dashboard/sign-in answered {page.status_code}"
    fields = dict(form_fields(page.text, id="sign-in"))
    fields["api_key"] = api_key
    return fields


def test_pages_redirect_to_sign_in_without_a_session(server, browser: Browser, http: httpx.Client):
    for path in (*DASHBOARD_PAGES, "/dashboard/connections/0190b3c4-0000-7000-8000-000000000000"):
        r = http.get(server.url(path))
        assert r.status_code == 303, f"GET {path} without a session answered {r.status_code}, not 303"
        location = r.headers.get("location", "")
        assert urlsplit(location).path == "/dashboard/sign-in", f"GET {path} redirected to {shown(location)}"
    # A forged cookie is no session either.
    r = http.get(server.url("/dashboard/connections"), headers={"Cookie": f"{SESSION_COOKIE}=forged-{'a' * 40}"})
    assert r.status_code == 303 and urlsplit(r.headers.get("location", "")).path == "/dashboard/sign-in", r.status_code

    browser.get(server.url("/dashboard/keys"))
    browser.wait_path("/dashboard/sign-in")
    assert browser.status() == 200, "the sign-in page did not answer 200"
    form = browser.find("form#sign-in")
    assert (form.get_attribute("method") or "").lower() == "post", "form#sign-in's method is not post"
    assert urlsplit(form.get_attribute("action") or "").path == "/dashboard/sign-in", "form#sign-in's action"
    field = browser.find("form#sign-in input#api_key")
    assert field.get_attribute("type") == "password" and field.get_attribute("name") == "api_key", (
        f"input#api_key is type={field.get_attribute('type')!r} name={field.get_attribute('name')!r}"
    )
    assert browser.label_for(field) == "API key", f"the key field's label is {browser.label_for(field)!r}"
    browser.button("form#sign-in", "Sign in")
    assert not browser.signed_in(), "the sign-in page shows the dashboard's navigation"


def test_sign_in_with_a_key_shows_the_connections(server, tenant: Tenant, browser: Browser):
    made = tenant.create_connections(
        [
            {"integration_type": "hubspot", "categories": ["crm"], "external_xref": "acme-corp"},
            {"integration_type": "salesforce", "categories": ["crm"], "external_xref": "globex"},
            {"integration_type": "bamboohr", "categories": ["hris"], "external_xref": "initech"},
        ]
    )
    # Another workspace's connection must not show.
    other = tenant.server.create_workspace("dash-other")
    r = tenant.api(
        "POST",
        "/unified/connection",
        key=other.api_key,
        json={"integration_type": "hubspot", "categories": ["crm"], "permissions": [], "external_xref": "other-ws"},
    )
    assert r.status_code == 200, r.status_code

    browser.sign_in(server, tenant.api_key)
    assert browser.status() == 200, f"/dashboard/connections answered {browser.status()} after signing in"
    cookie = browser.cookie()
    assert cookie is not None, f"signing in set no {SESSION_COOKIE} cookie"
    assert cookie.get("httpOnly") is True, "the session cookie is not HttpOnly"
    assert cookie.get("sameSite") == "Strict", f"the session cookie's SameSite is {cookie.get('sameSite')!r}"
    assert cookie.get("path") == "/", f"the session cookie's path is {cookie.get('path')!r}"
    assert fingerprint(cookie["value"]) != fingerprint(tenant.api_key) and tenant.api_key not in cookie["value"], (
        "the session cookie carries the API key"
    )
    assert tenant.api_key not in browser.driver.page_source, "the page after signing in shows the API key"

    ids = browser.rows("table#connections", "data-connection-id")
    assert sorted(ids) == sorted(c["id"] for c in made), f"the table lists {len(ids)} connections, not the 3 made"
    for conn in made:
        row = browser.find(f"tr[data-connection-id='{conn['id']}']")
        link = row.find_element("css selector", f"a[href$='/dashboard/connections/{conn['id']}']")
        assert link.is_displayed(), "the connection's link is not displayed"
        text = row.text
        assert conn["external_xref"] in text and conn["integration_type"] in text.lower().replace(" ", ""), (
            f"the row of {conn['integration_type']} does not show its integration and external_xref: {text!r}"
        )
        assert "Production" in text, f"the row does not show the environment: {text!r}"

    nav = browser.find("nav[aria-label=Dashboard]")
    texts = [a.text.strip() for a in nav.find_elements("css selector", "a")]
    for name in NAV_LINKS:
        assert name in texts, f"the navigation lacks {name!r} (has {texts})"
    browser.button("form#sign-out", "Sign out")
    browser.button("form#sign-out-everywhere", "Sign out everywhere")
    for chart in ("figure#chart-integrations", "figure#chart-health"):
        assert browser.find_all(f"{chart} svg[role=img]"), f"{chart} has no inline <svg role=img>"


def test_wrong_key_and_key_without_dashboard_scope_are_refused(
    server, tenant: Tenant, browser: Browser, http: httpx.Client
):
    wrong = "sbk_" + tenant.key_id + "_" + "x" * 40
    limited = tenant.new_key("connections:read")

    # httpx: the statuses, and no session cookie.
    for key, status in ((wrong, 401), ("not-a-key", 401), (limited, 403)):
        with httpx.Client(timeout=15, follow_redirects=False) as client:
            r = client.post(server.url("/dashboard/sign-in"), data=sign_in_fields(client, server, key))
            assert r.status_code == status, (
                f"signing in with a key ({fingerprint(key)}) answered {r.status_code}, not {status}"
            )
            assert has_alert(r.text), f"the {status} page has no <p role=alert class=error>"
            if status == 401:
                assert "sign-in" in {f["id"] for f in forms_of(r.text)}, "the 401 page does not show form#sign-in again"
            assert SESSION_COOKIE not in r.headers.get("set-cookie", ""), f"a refused sign-in ({status}) set a session"
            assert key not in r.text, "the refusal page shows the key that was typed"

    # A key with the dashboard scope alone signs in.
    dashboard_only = tenant.new_key("dashboard")
    with httpx.Client(timeout=15, follow_redirects=False) as client:
        r = client.post(server.url("/dashboard/sign-in"), data=sign_in_fields(client, server, dashboard_only))
        assert r.status_code == 303, f"a key with the dashboard scope alone answered {r.status_code}, not 303"
        assert SESSION_COOKIE in r.headers.get("set-cookie", ""), "a dashboard-scoped key's sign-in set no session"

    # The browser: the alert, still signed out.
    for key in (wrong, limited):
        browser.get(server.url("/dashboard/sign-in"))
        browser.wait_for("input#api_key").send_keys(key)
        browser.submit(browser.button("form#sign-in", "Sign in"))
        assert browser.alert_text(), "a refused sign-in shows no <p role=alert class=error>"
        assert not browser.signed_in(), "a refused sign-in shows the dashboard"
        assert browser.cookie() is None, "a refused sign-in left a session cookie"
        assert not browser.open_dashboard(server), "a refused sign-in opened the dashboard"


def test_too_many_failures_from_one_address_get_429(make_server, make_tenant, http: httpx.Client):
    server = make_server("lockout", "--auth-failure-limit", "3")
    make_tenant(server)
    statuses = []
    with httpx.Client(timeout=15, follow_redirects=False) as client:
        for attempt in range(10):
            r = client.post(
                server.url("/dashboard/sign-in"), data=sign_in_fields(client, server, f"sbk_0000_wrong{attempt}")
            )
            statuses.append(r.status_code)
            if r.status_code == 429:
                break
    assert 429 in statuses, f"10 wrong keys from one address answered {statuses}, never 429 (limit 3)"
    assert set(statuses[: statuses.index(429)]) <= {401}, statuses


def test_sign_in_link_works_once(server, tenant: Tenant, browsers, http: httpx.Client):
    conn = tenant.create_connection("hubspot", categories=["crm"], external_xref="link-user")
    link = server.dashboard_link(tenant.workspace.id)
    assert re.fullmatch(re.escape(server.public_url) + r"/dashboard/link/[A-Za-z0-9_\-.~%]+", link), (
        f"`dashboard link` printed {shown(link)}, not {server.public_url}/dashboard/link/<token>"
    )

    # A GET does not use the link: two browsers open it, the second signs in, the first's
    # submission then finds it used.
    first, second = browsers(), browsers()
    for b in (first, second):
        b.get(link)
        assert b.status() == 200, f"GET of a new sign-in link answered {b.status()}"
        form = b.wait_for("form#link-sign-in", "the sign-in link page has no form#link-sign-in")
        assert (form.get_attribute("method") or "").lower() == "post", "form#link-sign-in's method is not post"
        assert not b.signed_in(), "opening a sign-in link signed in without the POST"
    second.submit(second.button("form#link-sign-in", "Sign in"))
    assert second.path == "/dashboard/connections", f"the link's sign-in ended on {shown(second.url)}"
    assert second.signed_in(), "the page after the link's sign-in has no <nav aria-label=Dashboard>"
    assert second.rows("table#connections", "data-connection-id") == [conn["id"]], (
        "the link signed in to a workspace without the connection made in the linked one"
    )

    first.submit(first.button("form#link-sign-in", "Sign in"))
    assert first.status() == 410, f"submitting a used sign-in link answered {first.status()}, not 410"
    assert first.alert_text(), "the used link's page has no <p role=alert class=error>"
    assert not first.signed_in() and first.cookie() is None, "a used sign-in link signed in"

    # Used: a GET answers 410 too.
    r = http.get(link)
    assert r.status_code == 410, f"GET of a used sign-in link answered {r.status_code}, not 410"
    assert has_alert(r.text), "the 410 page has no <p role=alert class=error>"
    third = browsers()
    third.get(link)
    assert third.status() == 410, f"a browser's GET of a used link answered {third.status()}"
    assert third.alert_text(), "the used link's page shows the browser no alert"

    # An unknown token is no sign-in either.
    r = http.get(server.url("/dashboard/link/" + "A" * 43))
    assert r.status_code in (404, 410), f"GET of an unknown sign-in link answered {r.status_code}"
