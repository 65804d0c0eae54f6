"""Screenshots of the dashboard and the Connect page for the docs (docs/dashboard/*.png), taken
from a workspace with a handful of realistic connections, on SQLite only.

Writes sign-in.png, connections.png, connection.png, integrations.png, keys.png, audit.png,
events.png and connect.png (1280x900, the browser's viewport) into SWITCHBOARD_DASHBOARD_SCREENSHOTS,
or into the test's work directory when it is unset, so an ordinary run leaves the committed
pictures alone (their times and ids differ on every run). Refresh the published ones with
`SWITCHBOARD_DASHBOARD_SCREENSHOTS=docs/dashboard make test-dashboard`. Each page is checked for
what it must show before it is taken, and the pictures are copied there only when every one was
taken, so a failing run leaves the published ones alone.

One connection is unhealthy: BambooHR is served, for this server only, by a copy of its shipped
definition whose API base URL is the loopback provider, so a passthrough call it refuses with 401
marks the connection unhealthy (docs/passthrough.md), as a revoked key would at BambooHR.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path

import pytest

from conftest import (
    PROVIDER_HOST,
    PROVIDER_PORT,
    REPO_ROOT,
    Browser,
    Site,
    Tenant,
    wait_until,
    write_integrations,
)

SHIPPED_BAMBOOHR = REPO_ROOT / "Sources" / "SwitchboardServer" / "Integrations" / "bamboohr.yaml"


def output_dir(workdir: Path) -> Path:
    configured = os.environ.get("SWITCHBOARD_DASHBOARD_SCREENSHOTS")
    if not configured:
        return workdir / "published"
    path = Path(configured)
    return path if path.is_absolute() else REPO_ROOT / path


def loopback_bamboohr() -> str:
    text = SHIPPED_BAMBOOHR.read_text()
    replaced, count = re.subn(
        r"(?m)^(\s*base_url:\s*).*$", rf"\g<1>http://{PROVIDER_HOST}:{PROVIDER_PORT}/plain/{{subdomain}}", text
    )
    assert count == 1, "bamboohr.yaml has no single api.base_url line to point at the loopback provider"
    return replaced


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_screenshots(backend, make_server, make_tenant, browsers, workdir: Path, app: Site):
    integrations = write_integrations(workdir / "integrations-screenshots", {"bamboohr.yaml": loopback_bamboohr()})
    server = make_server("screenshots", integrations=integrations)
    tenant: Tenant = make_tenant(server)
    out = workdir / "screenshots"
    names = ("sign-in", "connections", "connection", "integrations", "keys", "audit", "events", "connect")

    # The workspace: OAuth clients for two CRMs, an event webhook, six customers' connections.
    for integration_type, client_id in (("hubspot", "8d1c2a44-hubspot-app"), ("salesforce", "3MVG9-salesforce-app")):
        r = tenant.api(
            "PUT",
            f"/switchboard/integration/{integration_type}",
            json={"client_id": client_id, "client_secret": secrets.token_urlsafe(24)},
        )
        assert r.status_code == 200, f"enabling {integration_type} answered {r.status_code}"
    r = tenant.api("PATCH", "/switchboard/workspace", json={"event_webhook_url": app.url("/hooks/switchboard")})
    assert r.status_code == 200, f"setting the webhook answered {r.status_code}"
    token = {"access_token": "demo-" + secrets.token_hex(8), "refresh_token": "demo-" + secrets.token_hex(8)}
    specs = [
        dict(integration_type="hubspot", categories=["crm", "martech"], external_xref="acme-corp", auth=token,
             permissions=["crm_contact_read", "crm_deal_read"]),
        dict(integration_type="salesforce", categories=["crm"], external_xref="globex", auth=token,
             permissions=["crm_contact_read"]),
        dict(integration_type="bamboohr", categories=["hris"], external_xref="initech",
             auth={"key": secrets.token_hex(16), "meta": {"subdomain": "initech"}}, permissions=["hris_employee_read"]),
        dict(integration_type="greenhouse", categories=["ats"], external_xref="umbrella-corp",
             auth={"key": secrets.token_hex(16)}, permissions=["ats_candidate_read"]),
        dict(integration_type="slack", categories=["messaging"], external_xref="stark-industries", auth=token,
             permissions=[]),
        dict(integration_type="hubspot", categories=["crm"], external_xref="wayne-enterprises", auth=token,
             permissions=["crm_contact_read"]),
        dict(integration_type="bamboohr", categories=["hris"], external_xref="hooli",
             auth={"key": secrets.token_hex(16), "meta": {"subdomain": "hooli"}}, permissions=["hris_employee_read"]),
    ]  # fmt: skip
    made = [tenant.create_connection(**spec) for spec in specs]
    unhealthy, healthy = made[2], made[6]
    tenant.make_unhealthy(unhealthy["id"])
    tenant.make_healthy(healthy["id"])
    assert wait_until(lambda: len(app.posts_to("/hooks/switchboard")) >= len(made), 30), (
        "the events of the new connections were not delivered to the webhook"
    )
    tenant.new_key("connections:read,connections:write")

    browser: Browser = browsers()
    browser.get(server.url("/dashboard/sign-in"))
    browser.wait_for("form#sign-in")
    browser.screenshot(out / "sign-in.png")

    browser.sign_in(server, tenant.api_key)
    assert len(browser.rows("table#connections", "data-connection-id")) == len(made)
    browser.wait_for("figure#chart-health svg")
    browser.screenshot(out / "connections.png")

    browser.get(server.url(f"/dashboard/connections/{made[0]['id']}"))
    browser.wait_for("dl#connection-fields")
    browser.screenshot(out / "connection.png")

    for path, table, name in (
        ("/dashboard/integrations", "table#integrations", "integrations.png"),
        ("/dashboard/keys", "table#keys", "keys.png"),
        ("/dashboard/audit", "table#audit", "audit.png"),
        ("/dashboard/events", "table#events", "events.png"),
    ):
        browser.get(server.url(path))
        browser.wait_for(table)
        assert browser.status() == 200, f"{path} answered {browser.status()}"
        browser.screenshot(out / name)

    session = tenant.connect_session(
        external_xref="new-customer",
        integrations=["hubspot", "salesforce", "bamboohr", "greenhouse"],
        success_redirect=app.url("/connected"),
    ).json()
    end_user = browsers()
    end_user.get(session["url"])
    end_user.wait_for("ul#integrations li[data-integration-type]")
    end_user.screenshot(out / "connect.png")

    for name in names:
        data = (out / f"{name}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{name}.png is not a PNG"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert (width, height) == (1280, 900), f"{name}.png is {width}x{height}, not 1280x900"
    published = output_dir(workdir)
    published.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(out / f"{name}.png", published / f"{name}.png")
