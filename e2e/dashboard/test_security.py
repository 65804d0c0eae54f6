"""Attacks on the dashboard and the Connect page, in a real browser and with httpx: stored and
reflected XSS, forged and cross-site POSTs, framing, another workspace's objects, and the security
headers and cookie flags. Each test on SQLite and on PostgreSQL. (A used connect token and a used
sign-in link answering 410 are in test_connect.py and test_sign_in.py.)

Contract (dashboard HTML contract):
  - Every page: Content-Security-Policy (default-src 'none'; style-src 'self'; img-src 'self' data:;
    form-action 'self' + allowed redirect origins; frame-ancestors 'none'; base-uri 'none'),
    X-Frame-Options: DENY, Referrer-Policy: no-referrer, Cache-Control: no-store.
  - Every POST form carries a hidden csrf input; a POST without a valid csrf field: 403 (a page
    with <p role=alert class=error>). A POST whose Origin is present and not the server's own
    origin: 403; also with Sec-Fetch-Site: cross-site.
  - The session cookie: HttpOnly; SameSite=Strict; Path=/; Secure unless served over http to a
    loopback host.
"""

from __future__ import annotations

import html
from typing import Dict, List, Optional
from urllib.parse import quote, urlsplit

import httpx

from conftest import (
    APIKEY_TYPE,
    SESSION_COOKIE,
    Browser,
    DashboardServer,
    Site,
    Tenant,
    csp_directives,
    csrf_of,
    fingerprint,
    form_fields,
    has_alert,
    key_id,
    shown,
)

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
RAW_INJECTIONS = ("<script>alert(1)", "<img src=x onerror=alert(1)>")


# ----- helpers ------------------------------------------------------------------------------


def set_cookies(response: httpx.Response) -> Dict[str, str]:
    """name -> the whole Set-Cookie header, for each cookie the answer sets."""
    cookies = {}
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0].strip()
        cookies[name] = header
    return cookies


def cookie_attributes(header: str) -> Dict[str, str]:
    attrs = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attrs[name.strip().lower()] = value.strip()
    return attrs


def http_sign_in(server: DashboardServer, api_key: str, headers: Optional[Dict[str, str]] = None) -> httpx.Response:
    """Signs in with httpx (no cookie jar: pre-session cookies are passed back by hand, whatever
    their Secure flag); the POST's answer."""
    headers = dict(headers or {})
    page = httpx.get(server.url("/dashboard/sign-in"), headers=headers, timeout=15)
    assert page.status_code == 200, f"GET /dashboard/sign-in answered {page.status_code}"
    fields = dict(form_fields(page.text, id="sign-in"))
    fields["api_key"] = api_key
    pre = "; ".join(h.split(";", 1)[0] for h in set_cookies(page).values())
    if pre:
        headers["Cookie"] = pre
    return httpx.post(server.url("/dashboard/sign-in"), data=fields, headers=headers, timeout=15)


def assert_security_headers(response: httpx.Response, what: str, form_origins: List[str] = ()) -> None:
    csp_header = response.headers.get("content-security-policy")
    assert csp_header, f"{what}: no Content-Security-Policy"
    csp = csp_directives(csp_header)
    assert csp.get("default-src") == ["'none'"], f"{what}: default-src {csp.get('default-src')}"
    assert csp.get("style-src") == ["'self'"], f"{what}: style-src {csp.get('style-src')}"
    assert sorted(csp.get("img-src") or []) == sorted(["'self'", "data:"]), f"{what}: img-src {csp.get('img-src')}"
    assert "'self'" in (csp.get("form-action") or []), f"{what}: form-action {csp.get('form-action')}"
    for origin in form_origins:
        assert origin in csp["form-action"], f"{what}: form-action lacks the allowed redirect origin {origin}"
    assert csp.get("frame-ancestors") == ["'none'"], f"{what}: frame-ancestors {csp.get('frame-ancestors')}"
    assert csp.get("base-uri") == ["'none'"], f"{what}: base-uri {csp.get('base-uri')}"
    for directive, sources in csp.items():
        for bad in ("'unsafe-inline'", "'unsafe-eval'", "*"):
            assert bad not in sources, f"{what}: {directive} allows {bad}"
    assert (response.headers.get("x-frame-options") or "").upper() == "DENY", (
        f"{what}: X-Frame-Options {response.headers.get('x-frame-options')!r}"
    )
    assert (response.headers.get("referrer-policy") or "").lower() == "no-referrer", (
        f"{what}: Referrer-Policy {response.headers.get('referrer-policy')!r}"
    )
    assert "no-store" in (response.headers.get("cache-control") or ""), (
        f"{what}: Cache-Control {response.headers.get('cache-control')!r}"
    )


def assert_not_injected(browser: Browser, what: str) -> None:
    assert not browser.find_all("img[src='x']"), f"{what}: an injected <img src=x> is in the DOM"
    assert not browser.find_all("[onerror]"), f"{what}: an element with an onerror attribute is in the DOM"
    injected_script = browser.driver.execute_script(
        "return Array.from(document.scripts).some(s => (s.text || '').includes('alert(1)'))"
    )
    assert not injected_script, f"{what}: an injected <script> is in the DOM"
    browser.assert_no_js_alert()


def assert_escaped(page: str, what: str) -> None:
    for raw in RAW_INJECTIONS:
        assert raw not in page, f"{what}: the HTML carries {raw!r} unescaped"


# ----- headers and cookies ------------------------------------------------------------------


def test_security_headers_on_every_kind_of_page(server, tenant: Tenant, browser: Browser, http: httpx.Client, app: Site):
    conn = tenant.create_connection("hubspot", categories=["crm"], external_xref="headers")
    connect = tenant.connect_session(
        external_xref="headers", integrations=[APIKEY_TYPE], success_redirect=app.url("/connected")
    ).json()

    unsigned = {
        "GET /dashboard/sign-in": http.get(server.url("/dashboard/sign-in")),
        "POST /dashboard/sign-in (wrong key, 401)": http_sign_in(server, "sbk_0000000000000000_wrong"),
        "GET /dashboard/link/<unknown>": http.get(server.url("/dashboard/link/" + "B" * 43)),
    }
    for what, r in unsigned.items():
        assert_security_headers(r, what)
    r = http.get(connect["url"])
    assert r.status_code == 200, f"GET of the connect URL answered {r.status_code}"
    assert_security_headers(r, "GET /connect/<token>", form_origins=[app.origin])
    r = http.get(connect["url"] + f"/api-key/{APIKEY_TYPE}")
    assert_security_headers(r, "GET /connect/<token>/api-key/<type>", form_origins=[app.origin])

    browser.sign_in(server, tenant.api_key)
    with browser.session_client(server) as client:
        for path in (
            "/dashboard/connections",
            f"/dashboard/connections/{conn['id']}",
            "/dashboard/connections/0190b3c4-0000-7000-8000-000000000000",
            "/dashboard/keys",
            "/dashboard/integrations",
            "/dashboard/audit",
            "/dashboard/events",
        ):
            r = client.get(server.url(path))
            assert r.status_code in (200, 404), f"GET {path} answered {r.status_code}"
            assert r.headers.get("content-type", "").startswith("text/html"), f"GET {path}: {r.headers.get('content-type')}"
            assert_security_headers(r, f"GET {path}")
        # A refused POST's page too.
        r = client.post(server.url("/dashboard/keys"), data={"scopes": "connections:read"})
        assert r.status_code == 403, f"POST /dashboard/keys without csrf answered {r.status_code}"
        assert_security_headers(r, "POST /dashboard/keys without csrf (403)")

    # The cookie's flags, as set over http on loopback.
    r = http_sign_in(server, tenant.api_key)
    assert r.status_code == 303, f"signing in answered {r.status_code}"
    assert urlsplit(r.headers.get("location", "")).path == "/dashboard/connections"
    cookie = set_cookies(r).get(SESSION_COOKIE)
    assert cookie, f"signing in set no {SESSION_COOKIE}"
    attrs = cookie_attributes(cookie)
    assert "httponly" in attrs, "the session cookie is not HttpOnly"
    assert attrs.get("samesite", "").lower() == "strict", f"SameSite={attrs.get('samesite')!r}"
    assert attrs.get("path") == "/", f"Path={attrs.get('path')!r}"
    assert "domain" not in attrs, "the session cookie names a Domain (it would reach sibling hosts)"


def test_the_session_cookie_is_secure_behind_https(make_server, make_tenant):
    public = "https://switchboard.example.com"
    server = make_server("https", public_url=public)
    tenant = make_tenant(server)
    r = http_sign_in(server, tenant.api_key, headers={"Host": "switchboard.example.com"})
    assert r.status_code == 303, f"signing in through the public host answered {r.status_code}"
    cookie = set_cookies(r).get(SESSION_COOKIE)
    assert cookie, f"signing in set no {SESSION_COOKIE}"
    assert "secure" in cookie_attributes(cookie), (
        "the session cookie lacks Secure although the public URL is https and the host is not loopback"
    )


# ----- XSS ----------------------------------------------------------------------------------


def test_payloads_in_connection_fields_are_shown_as_text(server, tenant: Tenant, browser: Browser):
    first = tenant.create_connection("hubspot", categories=["crm"], external_xref=SCRIPT, integration_name=IMG)
    second = tenant.create_connection("salesforce", categories=["crm"], external_xref=IMG, integration_name=SCRIPT)
    browser.sign_in(server, tenant.api_key)
    assert_not_injected(browser, "the connections list")
    assert SCRIPT in browser.find(f"tr[data-connection-id='{first['id']}']").text, (
        "the list does not show the <script> external_xref as text"
    )
    assert IMG in browser.find(f"tr[data-connection-id='{second['id']}']").text, (
        "the list does not show the <img> external_xref as text"
    )
    with browser.session_client(server) as client:
        assert_escaped(client.get(server.url("/dashboard/connections")).text, "the connections list")
        for conn in (first, second):
            path = f"/dashboard/connections/{conn['id']}"
            browser.get(server.url(path))
            fields = browser.wait_for("dl#connection-fields").text
            assert_not_injected(browser, f"the page of a connection ({conn['integration_type']})")
            assert conn["external_xref"] in fields, "dl#connection-fields does not show the external_xref as text"
            assert conn["integration_name"] in browser.body_text(), "the page does not show the integration_name as text"
            assert_escaped(client.get(server.url(path)).text, f"the page of a connection ({conn['integration_type']})")
            assert_escaped(client.get(server.url(path + "/delete")).text, "the delete page")

        # Reflected: the filters echo their values.
        for name, payload in (("external_xref", IMG), ("integration", SCRIPT), ("external_xref", SCRIPT)):
            url = server.url(f"/dashboard/connections?{name}={quote(payload)}")
            r = client.get(url)
            assert r.status_code in (200, 400), f"a filter {name} with markup answered {r.status_code}"
            assert_escaped(r.text, f"the connections list filtered by {name}")
            browser.get(url)
            assert_not_injected(browser, f"the connections list filtered by {name}")
            if r.status_code == 200:
                value = browser.find(f"form#filters [name='{name}']").get_attribute("value")
                if value:  # a select may not echo an unknown value; an input must echo it as is
                    assert value == payload, f"the filter input {name} holds {value!r}"
        for path in ("/dashboard/audit?actor=", "/dashboard/api-calls?external_xref=", "/dashboard/events?connection_id="):
            r = client.get(server.url(path + quote(IMG)))
            assert_escaped(r.text, path)
        # The audit log and API call pages list the connections with their external_xref.
        for path in ("/dashboard/audit", "/dashboard/events"):
            browser.get(server.url(path))
            assert_not_injected(browser, path)
            assert_escaped(client.get(server.url(path)).text, path)


def test_payloads_on_the_connect_page_are_text(tenant: Tenant, browser: Browser, app: Site, http: httpx.Client):
    session = tenant.connect_session(
        external_xref=IMG, integrations=[APIKEY_TYPE], success_redirect=app.url("/connected")
    ).json()
    browser.get(session["url"])
    browser.wait_for("ul#integrations")
    assert_not_injected(browser, "the Connect page")
    assert_escaped(http.get(session["url"]).text, "the Connect page")


# ----- forged and cross-site POSTs ----------------------------------------------------------


def test_posts_without_a_valid_csrf_field_are_refused(server, make_tenant, browsers):
    tenant = make_tenant(server)
    other = make_tenant(server)
    spare = tenant.new_key("connections:read")
    browser = browsers()
    browser.sign_in(server, tenant.api_key)
    stranger = browsers()
    stranger.sign_in(server, other.api_key)
    before = set(tenant.keys())

    with browser.session_client(server) as client, stranger.session_client(server) as foreign:
        page = client.get(server.url("/dashboard/keys"))
        assert page.status_code == 200, f"GET /dashboard/keys answered {page.status_code}"
        foreign_csrf = csrf_of(foreign.get(server.url("/dashboard/keys")).text, id="create-key")
        attempts = {
            "no csrf": {"scopes": "connections:read"},
            "an empty csrf": {"scopes": "connections:read", "csrf": ""},
            "a forged csrf": {"scopes": "connections:read", "csrf": "A" * 43},
            "another workspace's session's csrf": {"scopes": "connections:read", "csrf": foreign_csrf},
        }
        for what, data in attempts.items():
            r = client.post(server.url("/dashboard/keys"), data=data)
            assert r.status_code == 403, f"POST /dashboard/keys with {what} answered {r.status_code}, not 403"
            assert has_alert(r.text), f"the 403 page ({what}) has no <p role=alert class=error>"
            assert "sbk_" not in r.text, f"the 403 page ({what}) shows a key"
        r = client.post(server.url(f"/dashboard/keys/{key_id(spare)}/revoke"), data={})
        assert r.status_code == 403, f"a revoke without csrf answered {r.status_code}"
        r = client.post(server.url("/dashboard/sign-out"), data={})
        assert r.status_code == 403, f"a sign-out without csrf answered {r.status_code}"
        r = client.post(server.url("/dashboard/sign-out-everywhere"), data={})
        assert r.status_code == 403, f"a sign-out-everywhere without csrf answered {r.status_code}"
        assert set(tenant.keys()) == before, "a refused POST created a key"
        assert tenant.key_works(spare), "a refused POST revoked a key"
        assert client.get(server.url("/dashboard/keys")).status_code == 200, "a refused sign-out ended the session"

        # The control: the page's own csrf works (no Origin header, as some clients send none).
        r = client.post(
            server.url("/dashboard/keys"),
            data={"scopes": "connections:read", "csrf": csrf_of(page.text, id="create-key")},
        )
        assert r.status_code in (200, 303), f"POST /dashboard/keys with the page's csrf answered {r.status_code}"
        assert len(set(tenant.keys()) - before) == 1, "the valid POST did not create a key"

    # In the browser: the form without its csrf input.
    browser.get(server.url("/dashboard/keys"))
    browser.wait_for("form#create-key")
    removed = browser.driver.execute_script(
        "const f = document.querySelector('form#create-key'); const c = f.querySelector('[name=csrf]');"
        "if (!c) return false; c.remove(); return true;"
    )
    assert removed, "form#create-key has no csrf field"
    browser.set_control("form#create-key", "scopes", "connections:read")
    count = len(tenant.keys())
    browser.submit(browser.button("form#create-key", "Create key"))
    assert browser.status() == 403, f"the form without csrf answered {browser.status()}, not 403"
    assert browser.alert_text(), "the 403 page shows no <p role=alert class=error>"
    assert not browser.find_all("output#new-key"), "the form without csrf showed a new key"
    assert len(tenant.keys()) == count, "the form without csrf created a key"


def attack_page(target: str, fields: Dict[str, str]) -> str:
    inputs = "".join(
        f"<input type='hidden' name='{html.escape(k, quote=True)}' value='{html.escape(v, quote=True)}'>"
        for k, v in fields.items()
    )
    return (
        "<!doctype html><title>Win a prize</title>"
        f"<form id='attack' method='post' action='{html.escape(target, quote=True)}'>{inputs}</form>"
        "<script>document.getElementById('attack').submit()</script>"
    )


def test_cross_origin_posts_are_refused(server, tenant: Tenant, browser: Browser, attacker: Site):
    victim_key = tenant.new_key("connections:read")
    victim = key_id(victim_key)
    browser.sign_in(server, tenant.api_key)
    browser.get(server.url("/dashboard/keys"))
    revoke = f"/dashboard/keys/{victim}/revoke"
    fields = dict(form_fields(browser.driver.page_source, action=revoke))
    assert fields.get("csrf"), f"the revoke form ({revoke}) carries no csrf"

    with browser.session_client(server) as client:
        for what, headers in (
            ("Origin of another port", {"Origin": attacker.origin}),
            ("Origin of another site", {"Origin": "https://evil.example.com"}),
            ("Origin: null", {"Origin": "null"}),
            ("Sec-Fetch-Site: cross-site", {"Sec-Fetch-Site": "cross-site"}),
        ):
            r = client.post(server.url(revoke), data=fields, headers=headers)
            assert r.status_code == 403, f"a revoke with {what} and a valid csrf answered {r.status_code}, not 403"
            assert tenant.key_works(victim_key), f"a revoke with {what} revoked the key"

    # The browser, signed in, visits pages of another origin (same site: the SameSite=Strict
    # cookie is sent, so the Origin check must refuse) and of another site, which post the
    # dashboard's own form, csrf included.
    for origin in (attacker.origin, attacker.cross_site_origin):
        path = f"/attack-{fingerprint(origin)}"
        attacker.page(path, attack_page(server.url(revoke), fields))
        browser.get(origin + path)
        browser.wait(
            lambda d: urlsplit(d.current_url).port == server.port,
            f"the attack page at {origin} did not post to the dashboard",
        )
        browser.wait(lambda d: d.execute_script("return document.readyState") == "complete", "no page after the post")
        status = browser.status()
        if origin == attacker.origin:
            assert status == 403, f"the cross-origin POST (from {origin}) answered {status}, not 403"
        else:
            assert status in (403, 200) and (status == 403 or browser.path == "/dashboard/sign-in"), (
                f"the cross-site POST (from {origin}) answered {status} at {browser.path}"
            )
        assert tenant.key_works(victim_key), f"the POST from {origin} revoked the key"

    # The control: the same form, on the dashboard, revokes.
    browser.get(server.url("/dashboard/keys"))
    browser.submit(browser.button(f"tr[data-key-id='{victim}'] form.revoke-key", "Revoke"))
    assert not tenant.key_works(victim_key), "the dashboard's own revoke form did not revoke (the control)"


def test_the_dashboard_and_connect_page_cannot_be_framed(
    server, tenant: Tenant, browser: Browser, attacker: Site, app: Site
):
    connect = tenant.connect_session(
        external_xref="framed", integrations=[APIKEY_TYPE], success_redirect=app.url("/connected")
    ).json()
    browser.sign_in(server, tenant.api_key)
    attacker.page("/innocent", "<!doctype html><p id='innocent'>framed fine</p>")
    targets = {
        "dashboard": server.url("/dashboard/connections"),
        "signin": server.url("/dashboard/sign-in"),
        "connect": connect["url"],
    }
    frames = "".join(
        f"<iframe id='{name}' src='{html.escape(url, quote=True)}' width='600' height='400' "
        f"onload=\"window.loaded = (window.loaded || 0) + 1\"></iframe>"
        for name, url in {**targets, "control": attacker.url("/innocent")}.items()
    )
    attacker.page("/frames", f"<!doctype html><title>Frames</title>{frames}")
    browser.get(attacker.url("/frames"))
    browser.wait(
        lambda d: d.execute_script("return window.loaded || 0") >= len(targets) + 1,
        "not every frame finished loading",
    )
    browser.driver.switch_to.frame("control")
    assert browser.find_all("#innocent"), "the control frame did not render: the test cannot tell anything"
    for name in targets:
        browser.driver.switch_to.default_content()
        browser.driver.switch_to.frame(name)
        document_url = browser.driver.execute_script("return document.URL")
        assert not browser.find_all("nav[aria-label=Dashboard]"), f"the {name} page rendered inside a frame"
        assert not browser.find_all("form"), f"the {name} page's forms rendered inside a frame"
        assert not browser.find_all("ul#integrations"), f"the {name} page rendered inside a frame"
        assert not document_url.startswith(server.base_url), f"the {name} frame holds {shown(document_url)}"
    browser.driver.switch_to.default_content()


# ----- another workspace's objects ----------------------------------------------------------


def test_another_workspaces_objects_cannot_be_touched(server, make_tenant, browser: Browser):
    tenant = make_tenant(server)
    other = make_tenant(server)
    foreign_conn = other.create_connection("hubspot", categories=["crm"], external_xref="foreign")
    foreign_key = other.new_key("connections:read")
    browser.sign_in(server, tenant.api_key)
    browser.get(server.url("/dashboard/keys"))
    csrf = csrf_of(browser.driver.page_source, id="create-key")
    with browser.session_client(server) as client:
        r = client.post(server.url(f"/dashboard/keys/{key_id(foreign_key)}/revoke"), data={"csrf": csrf})
        assert r.status_code in (403, 404), f"revoking another workspace's key answered {r.status_code}"
        assert other.key_works(foreign_key), "another workspace's key was revoked"
        for action in ("delete", "reauth"):
            path = f"/dashboard/connections/{foreign_conn['id']}/{action}"
            r = client.post(server.url(path), data={"csrf": csrf})
            assert r.status_code in (403, 404), f"POST /dashboard/connections/<foreign>/{action} answered {r.status_code}"
            assert "reauth-link" not in r.text, "a reauth link for another workspace's connection"
        assert other.api("GET", f"/unified/connection/{foreign_conn['id']}").status_code == 200, (
            "another workspace's connection was deleted"
        )
        r = client.get(server.url("/dashboard/connections?external_xref=foreign"))
        assert foreign_conn["id"] not in r.text, "the list shows another workspace's connection"
