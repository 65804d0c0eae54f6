"""Dashboard sessions: signing out, signing out everywhere, a restart, a second replica.

Contract (dashboard HTML contract, "Sign-in"): every signed-in page has form#sign-out (POST
/dashboard/sign-out, "Sign out") and form#sign-out-everywhere (POST
/dashboard/sign-out-everywhere, "Sign out everywhere"). After signing out the cookie no longer
works (the next GET: 303 to sign-in). Sessions live in the database: they survive a restart and
work on a second replica on the same PostgreSQL database.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from conftest import SESSION_COOKIE, Browser, Tenant


def assert_cookie_dead(browser_cookie_client, server, what: str) -> None:
    r = browser_cookie_client.get(server.url("/dashboard/connections"))
    assert r.status_code == 303 and urlsplit(r.headers.get("location", "")).path == "/dashboard/sign-in", (
        f"{what}: GET /dashboard/connections with the old cookie answered {r.status_code}, not 303 to sign-in"
    )


def test_sign_out_ends_the_session(server, tenant: Tenant, browsers):
    browser = browsers()
    browser.sign_in(server, tenant.api_key)
    other = browsers()
    other.sign_in(server, tenant.api_key)
    with browser.session_client(server) as old:
        assert old.get(server.url("/dashboard/connections")).status_code == 200, "the cookie does not work in httpx"
        browser.submit(browser.button("form#sign-out", "Sign out"))
        assert browser.path == "/dashboard/sign-in", f"signing out ended on {browser.path}"
        assert not browser.signed_in(), "the sign-in page after signing out shows the dashboard's navigation"
        assert_cookie_dead(old, server, "after signing out")
    assert not browser.open_dashboard(server), "the browser still opens the dashboard after signing out"
    # Only that session ended: the other browser's goes on.
    assert other.open_dashboard(server, "/dashboard/keys"), "signing out ended another browser's session"


def test_sign_out_everywhere_ends_every_session_of_the_workspace(server, make_tenant, browsers):
    tenant = make_tenant(server)
    bystander = make_tenant(server)
    first, second, third = browsers(), browsers(), browsers()
    first.sign_in(server, tenant.api_key)
    second.sign_in(server, tenant.api_key)
    third.sign_in(server, bystander.api_key)
    with first.session_client(server) as c1, second.session_client(server) as c2:
        second.submit(second.button("form#sign-out-everywhere", "Sign out everywhere"))
        assert second.path == "/dashboard/sign-in", f"signing out everywhere ended on {second.path}"
        assert_cookie_dead(c1, server, "after signing out everywhere (another browser)")
        assert_cookie_dead(c2, server, "after signing out everywhere (the browser that did it)")
    assert not first.open_dashboard(server, "/dashboard/integrations"), "the other browser is still signed in"
    assert third.open_dashboard(server), "signing out everywhere ended another workspace's session"


def test_a_session_survives_a_restart(make_server, make_tenant, browser: Browser):
    server = make_server("restart")
    tenant = make_tenant(server)
    conn = tenant.create_connection("hubspot", categories=["crm"], external_xref="before-restart")
    browser.sign_in(server, tenant.api_key)
    cookie = browser.cookie()
    server.stop()
    server.start()  # same database, another port: the cookie (host 127.0.0.1, any port) goes along
    assert browser.open_dashboard(server), "after a restart the session cookie no longer signs in"
    assert browser.rows("table#connections", "data-connection-id") == [conn["id"]]
    with browser.session_client(server) as client:
        client.headers["Cookie"] = f"{SESSION_COOKIE}={cookie['value']}"  # the cookie from before
        assert client.get(server.url("/dashboard/keys")).status_code == 200, "the pre-restart cookie was refused"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_session_works_on_a_second_replica(backend, make_server, make_tenant, browsers):
    first = make_server("replica-a")
    second = make_server("replica-b", database_url=first.database_url)
    tenant = make_tenant(first)
    conn = tenant.create_connection("salesforce", categories=["crm"], external_xref="replicated")

    signed = browsers()
    signed.sign_in(first, tenant.api_key)
    cookie = signed.cookie()
    assert cookie is not None, "signing in on replica A set no session cookie"

    # A fresh browser that only holds the copied cookie, on the other replica.
    copy = browsers()
    copy.get(second.url("/dashboard/sign-in"))
    copy.wait_for("form#sign-in")
    copy.driver.add_cookie({"name": SESSION_COOKIE, "value": cookie["value"], "path": "/"})
    assert copy.open_dashboard(second), "the session cookie of replica A does not sign in on replica B"
    assert copy.rows("table#connections", "data-connection-id") == [conn["id"]]
    with signed.session_client(second) as client:
        status = client.get(second.url("/dashboard/keys")).status_code
        assert status == 200, f"GET /dashboard/keys on replica B with A's cookie answered {status}"

    # Signing out on B ends the session on A too.
    copy.submit(copy.button("form#sign-out", "Sign out"))
    with signed.session_client(first) as client:
        assert_cookie_dead(client, first, "signed out on replica B, used on replica A")
