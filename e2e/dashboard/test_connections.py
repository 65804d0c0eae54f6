"""The connections pages in a real browser: the list and its filters, paging, one connection (its
fields, audit, API calls and events), deleting and re-authorizing one. Each test on SQLite and on
PostgreSQL; connections are made through the HTTP API first.

Contract (dashboard HTML contract, "Connections"):
  - GET /dashboard/connections?env=&categories=&external_xref=&updated_gte=&sort=&order=&integration=&health=&cursor=
    form#filters (GET) with controls named exactly as those parameters, each with a <label>, and a
    "Filter" button; env defaults to Production; health is healthy, unhealthy or paused.
  - table#connections: one <tr data-connection-id=ID> per connection with <a href=/dashboard/connections/ID>;
    cells integration, external_xref, environment, health, categories, updated.
  - Next page: <a rel=next id=next-page href=...cursor=...>.
  - GET /dashboard/connections/ID: dl#connection-fields (never credentials), table#audit,
    table#api-calls, table#events; a#delete-link -> form#delete-connection ("Delete connection")
    -> 303 to /dashboard/connections; form#reauth -> a page with output#reauth-link. Unknown id: 404.
"""

from __future__ import annotations

import secrets
from typing import Dict, List, Optional

import httpx
import pytest

from conftest import APIKEY_TYPE, OAUTH_TYPE, Browser, Tenant, provider_fingerprint, query, wait_until

FILTER_PARAMS = ("env", "categories", "external_xref", "updated_gte", "sort", "order", "integration", "health")


def apikey_auth(key: Optional[str] = None) -> dict:
    return {"key": key or "k-" + secrets.token_hex(8), "meta": {"subdomain": "acme"}}


@pytest.fixture
def filter_data(tenant: Tenant) -> Dict[str, str]:
    """Six connections: name -> id. `u1` is unhealthy (a passthrough call refused with 401), `h1`
    healthy (a passthrough call answered 200), `s1` in Sandbox; the rest never called."""
    specs = {
        "a1": dict(integration_type="hubspot", categories=["crm"], external_xref="acme-1", integration_name="Delta"),
        "a2": dict(integration_type="salesforce", categories=["crm"], external_xref="acme-2", integration_name="Alpha"),
        "g1": dict(integration_type="bamboohr", categories=["hris"], external_xref="globex-1", integration_name="Echo"),
        "s1": dict(integration_type="hubspot", categories=["crm"], external_xref="acme-1", environment="Sandbox"),
        "u1": dict(integration_type=APIKEY_TYPE, categories=["hris"], external_xref="initech", auth=apikey_auth(),
                   integration_name="Charlie"),
        "h1": dict(integration_type=APIKEY_TYPE, categories=["hris"], external_xref="hooli", auth=apikey_auth(),
                   integration_name="Bravo"),
    }  # fmt: skip
    # Declared, so the env select offers it (test_env_filter_offers_undeclared_environments covers
    # an environment only connections name).
    r = tenant.api("POST", "/unified/environment", json=["Sandbox"])
    assert r.status_code in (200, 201), f"declaring Sandbox answered {r.status_code}: {r.text[:200]}"
    ids = {name: tenant.create_connection(**spec)["id"] for name, spec in specs.items()}
    tenant.make_unhealthy(ids["u1"])
    tenant.make_healthy(ids["h1"])
    return ids


def filtered(browser: Browser, server, **controls: str) -> List[str]:
    """Opens the list, sets the filter controls, presses Filter; the rows' ids in order."""
    browser.get(server.url("/dashboard/connections"))
    for name, value in controls.items():
        browser.set_control("form#filters", name, value)
    browser.submit(browser.button("form#filters", "Filter"))
    assert browser.path == "/dashboard/connections", f"filtering ended on {browser.path}"
    got = query(browser.url)
    for name, value in controls.items():
        assert got.get(name) == value, f"the filter's URL carries {name}={got.get(name)!r}, not {value!r}"
    return browser.rows("table#connections", "data-connection-id")


def test_filters(server, tenant: Tenant, filter_data: Dict[str, str], browser: Browser):
    ids = filter_data
    name_of = {v: k for k, v in ids.items()}
    browser.sign_in(server, tenant.api_key)

    form = browser.wait_for("form#filters")
    assert (form.get_attribute("method") or "get").lower() == "get", "form#filters is not a GET form"
    for param in FILTER_PARAMS:
        controls = form.find_elements("css selector", f"[name='{param}']")
        assert controls, f"form#filters has no control named {param!r}"
        assert browser.label_for(controls[0]), f"the filter control {param!r} has no <label>"

    def names(rows: List[str]) -> List[str]:
        return sorted(name_of.get(r, "<another>") for r in rows)

    # No filter: Production only.
    assert names(browser.rows("table#connections", "data-connection-id")) == ["a1", "a2", "g1", "h1", "u1"]
    assert names(filtered(browser, server, external_xref="acme-1")) == ["a1"]
    assert names(filtered(browser, server, env="Sandbox")) == ["s1"]
    assert names(filtered(browser, server, categories="hris")) == ["g1", "h1", "u1"]
    assert names(filtered(browser, server, integration="hubspot")) == ["a1"]
    assert names(filtered(browser, server, integration=APIKEY_TYPE)) == ["h1", "u1"]
    assert names(filtered(browser, server, health="unhealthy")) == ["u1"]
    healthy = names(filtered(browser, server, health="healthy"))
    assert "h1" in healthy and "u1" not in healthy, f"health=healthy lists {healthy}"
    assert filtered(browser, server, health="paused") == [], "health=paused lists connections; none is paused"
    assert names(filtered(browser, server, categories="crm", external_xref="acme-2")) == ["a2"]

    # The unhealthy row says so; a healthy one does not.
    assert "unhealthy" in browser_row_text(browser, server, ids["u1"]).lower()
    assert "unhealthy" not in browser_row_text(browser, server, ids["h1"]).lower()

    # Sorting: the same order as the API's for the same parameters, and desc is not asc.
    orders = {}
    for sort, order in (("name", "asc"), ("name", "desc"), ("updated_at", "desc")):
        shown_order = filtered(browser, server, sort=sort, order=order)
        api_order = [c["id"] for c in tenant.connections(sort=sort, order=order)]
        assert [name_of[i] for i in shown_order] == [name_of[i] for i in api_order], (
            f"sort={sort} order={order}: the dashboard lists {[name_of[i] for i in shown_order]}, "
            f"the API {[name_of[i] for i in api_order]}"
        )
        orders[(sort, order)] = shown_order
    assert orders[("name", "asc")] != orders[("name", "desc")], "order=desc lists the rows as order=asc does"

    # The filters survive in the form after filtering.
    filtered(browser, server, external_xref="globex-1")
    echoed = browser.find("form#filters [name='external_xref']").get_attribute("value")
    assert echoed == "globex-1", f"the external_xref filter shows {echoed!r} after filtering by 'globex-1'"


def test_env_filter_offers_undeclared_environments(server, tenant: Tenant, browser: Browser):
    """A connection's environment need not be declared (openapi.yaml, POST /unified/environment),
    so the env filter must offer every environment the workspace's connections are in."""
    staging = tenant.create_connection("hubspot", categories=["crm"], external_xref="staged", environment="Staging")
    tenant.create_connection("hubspot", categories=["crm"], external_xref="prod")
    browser.sign_in(server, tenant.api_key)
    assert filtered(browser, server, env="Staging") == [staging["id"]], "env=Staging does not list its connection"


def browser_row_text(browser: Browser, server, connection_id: str) -> str:
    browser.get(server.url("/dashboard/connections"))
    return browser.wait_for(f"tr[data-connection-id='{connection_id}']").text


def test_paging_with_next_page(server, tenant: Tenant, browser: Browser):
    crm = tenant.create_connections(
        [{"integration_type": "hubspot", "categories": ["crm"], "external_xref": f"page-{i:03d}"} for i in range(105)]
    )
    tenant.create_connections(
        [{"integration_type": "bamboohr", "categories": ["hris"], "external_xref": f"hr-{i}"} for i in range(3)]
    )
    browser.sign_in(server, tenant.api_key)
    browser.get(server.url("/dashboard/connections?categories=crm"))
    seen: List[str] = []
    pages = 0
    while True:
        pages += 1
        rows = browser.rows("table#connections", "data-connection-id")
        assert rows, f"page {pages} is empty"
        seen.extend(rows)
        links = browser.find_all("a#next-page")
        if not links:
            break
        assert links[0].get_attribute("rel") == "next", "a#next-page is not rel=next"
        href = links[0].get_attribute("href") or ""
        assert query(href).get("cursor"), "the next-page link carries no cursor"
        browser.submit(links[0])
        assert pages < 20, "more than 20 pages for 105 connections"
    assert pages >= 2, "105 connections fit on one page: no a#next-page link was shown"
    assert len(seen) == len(set(seen)), f"{len(seen) - len(set(seen))} connections were listed twice"
    assert set(seen) == {c["id"] for c in crm}, (
        f"paging listed {len(set(seen))} connections; {len({c['id'] for c in crm} - set(seen))} crm ones missing, "
        f"{len(set(seen) - {c['id'] for c in crm})} others present (the categories filter must hold on every page)"
    )


def test_open_a_connection(server, tenant: Tenant, browser: Browser, http: httpx.Client, make_tenant):
    key = "k-" + secrets.token_hex(12)
    conn = tenant.create_connection(APIKEY_TYPE, categories=["hris"], external_xref="open-me", auth=apikey_auth(key))
    r = tenant.passthrough(conn["id"], "echo")
    assert r.status_code == 200, f"precondition: passthrough echo answered {r.status_code}"
    assert dict(r.json()["headers"]).get("x-api-key") == provider_fingerprint(key), "precondition: the key went out"
    # The call log is written within a second of the call (openapi.yaml, /unified/apicall).
    assert wait_until(
        lambda: tenant.api("GET", "/unified/apicall", params={"connection_id": conn["id"]}).json() != [], 10
    ), "precondition: the passthrough call never reached the API call log"

    browser.sign_in(server, tenant.api_key)
    row = browser.wait_for(f"tr[data-connection-id='{conn['id']}']")
    browser.submit(row.find_element("css selector", f"a[href$='/dashboard/connections/{conn['id']}']"))
    assert browser.path == f"/dashboard/connections/{conn['id']}", f"the row's link led to {browser.path}"
    assert browser.status() == 200, f"the connection page answered {browser.status()}"

    fields = browser.wait_for("dl#connection-fields").text
    for value in (conn["id"], "open-me", APIKEY_TYPE):
        assert value in fields, f"dl#connection-fields does not show {value!r}"
    source = browser.driver.page_source
    assert key not in source, "the connection page shows the credential"
    assert provider_fingerprint(key) not in source, "the connection page shows the credential's fingerprint"

    for table in ("table#audit", "table#api-calls", "table#events"):
        browser.wait_for(table, f"the connection page has no {table}")

    # What the API records about the connection shows in its tables.
    audit = tenant.api("GET", "/switchboard/audit", params={"connection_id": conn["id"]}).json()
    assert audit, "precondition: the API has no audit record of the connection"
    audit_text = browser.find("table#audit").text
    for action in {a["action"] for a in audit}:
        assert action in audit_text, f"table#audit does not show the action {action!r}"
    calls = tenant.api("GET", "/unified/apicall", params={"connection_id": conn["id"]}).json()
    assert calls, "precondition: the API call log has no call of the connection"
    assert "echo" in browser.find("table#api-calls").text, "table#api-calls does not show the passthrough call (.../echo)"
    events = tenant.api("GET", "/unified/notification", params={"connection_id": conn["id"]}).json()
    events_text = browser.find("table#events").text
    for event in events:
        assert event["event"] in events_text, f"table#events does not show {event['event']!r}"

    # Another workspace's connection, and an unknown id: 404.
    other = make_tenant(server)
    foreign = other.create_connection("hubspot", categories=["crm"], external_xref="foreign")
    with browser.session_client(server) as client:
        for cid in (foreign["id"], "0190b3c4-0000-7000-8000-000000000000"):
            r = client.get(server.url(f"/dashboard/connections/{cid}"))
            which = "another workspace's" if cid == foreign["id"] else "an unknown"
            assert r.status_code == 404, f"GET /dashboard/connections/<{which} id> answered {r.status_code}"
            assert "foreign" not in r.text, "the 404 page shows the other workspace's connection"
    browser.get(server.url(f"/dashboard/connections/{foreign['id']}"))
    assert browser.status() == 404, f"the browser got {browser.status()} for another workspace's connection"
    assert "foreign" not in browser.body_text(), "the page shows the other workspace's connection"


def test_delete_and_reauthorize_a_connection(server, tenant: Tenant, browser: Browser):
    keep = tenant.create_connection(
        OAUTH_TYPE, categories=["crm"], external_xref="keep", auth={"access_token": "at-" + secrets.token_hex(8)}
    )
    doomed = tenant.create_connection("hubspot", categories=["crm"], external_xref="doomed")
    browser.sign_in(server, tenant.api_key)

    # Re-authorize: a link for the end user.
    browser.get(server.url(f"/dashboard/connections/{keep['id']}"))
    form = browser.wait_for("form#reauth")
    assert form.get_attribute("action").endswith(f"/dashboard/connections/{keep['id']}/reauth"), (
        "form#reauth does not post to /dashboard/connections/<id>/reauth"
    )
    browser.submit(form.find_element("css selector", "button, input[type=submit]"))
    link = browser.wait_for("output#reauth-link", "re-authorizing shows no output#reauth-link").text.strip()
    assert link.startswith(("http://", "https://")), "output#reauth-link holds no URL"

    # Delete.
    browser.get(server.url(f"/dashboard/connections/{doomed['id']}"))
    browser.submit(browser.wait_for("a#delete-link"))
    assert browser.path == f"/dashboard/connections/{doomed['id']}/delete", f"a#delete-link led to {browser.path}"
    assert tenant.api("GET", f"/unified/connection/{doomed['id']}").status_code == 200, "opening the delete page deleted"
    browser.submit(browser.button("form#delete-connection", "Delete connection"))
    assert browser.path == "/dashboard/connections", f"deleting ended on {browser.path}"
    assert browser.rows("table#connections", "data-connection-id") == [keep["id"]]
    assert tenant.api("GET", f"/unified/connection/{doomed['id']}").status_code == 404, "the connection was not deleted"


def test_every_page_of_the_navigation(server, tenant: Tenant, browser: Browser):
    tenant.create_connection("hubspot", categories=["crm"], external_xref="nav")
    browser.sign_in(server, tenant.api_key)
    expected = {
        "Connections": ("/dashboard/connections", "table#connections", ()),
        "Integrations": ("/dashboard/integrations", "table#integrations", ()),
        "API keys": ("/dashboard/keys", "table#keys", ()),
        "Audit log": ("/dashboard/audit", "table#audit", ("action", "connection_id", "actor")),
        "Secrets managers": ("/dashboard/secrets-managers", "table#secrets-managers", ()),
        "API calls": ("/dashboard/api-calls", "table#api-calls", ("connection_id", "env", "is_error", "external_xref")),
        "Events": ("/dashboard/events", "table#events", ("event", "connection_id", "delivery_status")),
    }
    for text, (path, table, filters) in expected.items():
        link = browser.find("nav[aria-label=Dashboard]").find_element("link text", text)
        browser.submit(link)
        assert browser.path == path, f"the navigation link {text!r} led to {browser.path}, not {path}"
        assert browser.status() == 200, f"{path} answered {browser.status()}"
        browser.wait_for(table, f"{path} has no {table}")
        for name in filters:
            assert browser.find_all(f"[name='{name}']"), f"{path} has no filter control named {name!r}"
        assert browser.signed_in(), f"{path} has no <nav aria-label=Dashboard>"
    browser.get(server.url("/dashboard/events"))
    browser.wait_for("section#webhook", "/dashboard/events has no section#webhook")
