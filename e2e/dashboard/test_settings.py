"""The workspace's settings pages in a real browser: API keys (revoke, create: shown once),
integrations (the OAuth client; a secret left empty is kept), redirect origins, and events
(redelivery to the app's webhook). Each test on SQLite and on PostgreSQL.

Contract (dashboard HTML contract, "Other pages"):
  - /dashboard/keys: table#keys, rows <tr data-key-id=ID>; each unrevoked one has
    form.revoke-key (POST /dashboard/keys/ID/revoke, "Revoke"). form#create-key (POST
    /dashboard/keys) with checkboxes name=scopes value=<scope>, "Create key" -> a page with
    output#new-key (sbk_..., shown once).
  - /dashboard/integrations: table#integrations, rows <tr data-integration-type=TYPE>; a link to
    /dashboard/integrations/TYPE with form#integration-form (client_id, client_secret (password,
    write-only: empty keeps the stored one), scopes (comma separated)), "Save"; and
    form#redirect-origins (POST /dashboard/redirect-origins, textarea name=redirect_origins, one
    per line).
  - /dashboard/events: table#events, rows <tr data-event-id>; /dashboard/events/ID: table#deliveries,
    form#redeliver.
"""

from __future__ import annotations

import json
import time

from conftest import OAUTH_TYPE, Browser, Site, Tenant, fingerprint, key_id, query, shown, wait_until


def test_revoke_and_create_keys(server, tenant: Tenant, browser: Browser):
    spare = tenant.new_key("connections:read")
    spare_id = key_id(spare)
    assert tenant.key_works(spare), "precondition: the CLI's key does not work"
    browser.sign_in(server, tenant.api_key)
    browser.get(server.url("/dashboard/keys"))
    ids = browser.rows("table#keys", "data-key-id")
    assert tenant.key_id in ids and spare_id in ids, f"table#keys lists {ids}, not both keys"
    assert tenant.api_key not in browser.driver.page_source and spare not in browser.driver.page_source, (
        "the keys page shows a whole key"
    )

    # Revoke the spare key.
    row = browser.find(f"tr[data-key-id='{spare_id}']")
    form = row.find_element("css selector", "form.revoke-key")
    assert form.get_attribute("action").endswith(f"/dashboard/keys/{spare_id}/revoke"), (
        "the revoke form does not post to /dashboard/keys/<id>/revoke"
    )
    browser.submit(browser.button(f"tr[data-key-id='{spare_id}'] form.revoke-key", "Revoke"))
    assert browser.status() in (200, None) and browser.path.startswith("/dashboard/keys"), (
        f"revoking ended on {browser.path} ({browser.status()})"
    )
    browser.get(server.url("/dashboard/keys"))
    assert not browser.find_all(f"tr[data-key-id='{spare_id}'] form.revoke-key"), "a revoked key still has a Revoke form"
    assert browser.find_all(f"tr[data-key-id='{tenant.key_id}'] form.revoke-key"), "the live key lost its Revoke form"
    assert not tenant.key_works(spare), "the revoked key still authenticates"
    assert tenant.keys()[spare_id].get("revoked_at"), "the API does not show the key as revoked"

    # Create a key with one scope: shown once, works with exactly that scope.
    before = set(tenant.keys())
    browser.set_control("form#create-key", "scopes", "connections:read")
    browser.submit(browser.button("form#create-key", "Create key"))
    new_key = browser.wait_for("output#new-key", "creating a key shows no output#new-key").text.strip()
    assert new_key.startswith("sbk_"), "output#new-key does not hold an sbk_ key"
    new_id = key_id(new_key)
    assert set(tenant.keys()) - before == {new_id}, "the dashboard did not create exactly the key it showed"
    scopes = tenant.keys()[new_id]["scopes"]
    assert scopes == ["connections:read"], f"the new key's scopes: {scopes}"
    assert tenant.key_works(new_key), "the new key does not authenticate"
    r = tenant.api("GET", "/switchboard/apikey", key=new_key)
    assert r.status_code == 403, f"a connections:read key listed keys ({r.status_code})"
    browser.get(server.url("/dashboard/keys"))
    assert new_id in browser.rows("table#keys", "data-key-id")
    assert new_key not in browser.driver.page_source, "the keys page shows the new key again"
    assert not browser.find_all("output#new-key"), "output#new-key is shown again"


def test_integration_settings_and_redirect_origins(server, tenant: Tenant, browser: Browser, provider, http, app: Site):
    browser.sign_in(server, tenant.api_key)
    browser.get(server.url("/dashboard/integrations"))
    types = browser.rows("table#integrations", "data-integration-type")
    for wanted in (OAUTH_TYPE, "hubspot", "bamboohr"):
        assert wanted in types, f"table#integrations lacks {wanted!r}"

    # A new OAuth client for hubspot.
    row = browser.find("tr[data-integration-type='hubspot']")
    browser.submit(row.find_element("css selector", "a[href$='/dashboard/integrations/hubspot']"))
    assert browser.path == "/dashboard/integrations/hubspot", f"the hubspot link led to {browser.path}"
    secret = "hub-secret-" + fingerprint(str(time.time()))
    secret_field = browser.find("form#integration-form [name='client_secret']")
    assert secret_field.get_attribute("type") == "password", "client_secret is not a password field"
    browser.set_control("form#integration-form", "client_id", "hub-client-1")
    browser.set_control("form#integration-form", "client_secret", secret)
    browser.set_control("form#integration-form", "scopes", "crm.objects.contacts.read, crm.objects.deals.read")
    browser.submit(browser.button("form#integration-form", "Save"))
    assert browser.status() in (200, None), f"saving answered {browser.status()}"
    assert secret not in browser.driver.page_source, "the page after saving shows the client secret"
    settings = {i["integration_type"]: i for i in tenant.api("GET", "/switchboard/integration").json()}
    hub = settings.get("hubspot")
    assert hub and hub.get("client_id") == "hub-client-1", f"the API shows {hub and hub.get('client_id')!r}"
    assert hub.get("extra_scopes") == ["crm.objects.contacts.read", "crm.objects.deals.read"], (
        f"the comma-separated scopes were stored as {hub.get('extra_scopes')}"
    )
    browser.get(server.url("/dashboard/integrations/hubspot"))
    assert browser.find("form#integration-form [name='client_secret']").get_attribute("value") == "", (
        "the stored client secret is written back into the form"
    )
    assert secret not in browser.driver.page_source, "the integration page shows the stored client secret"

    # The mock integration: an empty secret keeps the stored one, which a whole OAuth flow proves
    # (the provider refuses the code exchange with any other secret).
    browser.get(server.url(f"/dashboard/integrations/{OAUTH_TYPE}"))
    browser.set_control("form#integration-form", "client_id", provider.client_id)
    browser.set_control("form#integration-form", "client_secret", "")
    browser.submit(browser.button("form#integration-form", "Save"))
    r = tenant.api(
        "GET",
        f"/unified/integration/auth/{tenant.workspace.id}/{OAUTH_TYPE}",
        params={"success_redirect": app.url("/ok"), "failure_redirect": app.url("/failed")},
    )
    assert r.status_code == 200, f"the authorize URL answered {r.status_code}: {r.text[:200]}"
    to_provider = http.get(r.text.strip())
    assert to_provider.status_code == 302, f"the provider answered {to_provider.status_code}"
    callback = http.get(to_provider.headers["location"])
    assert callback.status_code == 302, f"the callback answered {callback.status_code}"
    location = callback.headers.get("location", "")
    assert location.startswith(app.url("/ok")), (
        f"the flow after saving with an empty secret ended at {shown(location)} "
        f"(error {query(location).get('error')!r}): the stored secret was not kept"
    )

    # Redirect origins, one per line.
    browser.get(server.url("/dashboard/integrations"))
    origins = [app.origin, "https://app.example.com"]
    browser.set_control("form#redirect-origins", "redirect_origins", "\n".join(origins))
    browser.submit(browser.find("form#redirect-origins").find_element("css selector", "button, input[type=submit]"))
    got = tenant.api("GET", "/switchboard/workspace").json().get("redirect_origins")
    assert sorted(got or []) == sorted(origins), f"the workspace's redirect_origins are {got}"


def test_events_and_redelivery(server, tenant: Tenant, browser: Browser, app: Site):
    hook = f"/hooks/{tenant.workspace.id}"
    r = tenant.api("PATCH", "/switchboard/workspace", json={"event_webhook_url": app.url(hook)})
    assert r.status_code == 200, f"setting the webhook answered {r.status_code}: {r.text[:200]}"
    conn = tenant.create_connection("hubspot", categories=["crm"], external_xref="evented")

    def created_event():
        events = tenant.api("GET", "/unified/notification", params={"connection_id": conn["id"]}).json()
        return next((e for e in events if e.get("event") == "CONNECTION_CREATED"), None)

    assert wait_until(lambda: created_event() is not None and created_event().get("delivery_status") == "delivered", 20), (
        f"precondition: CONNECTION_CREATED was not delivered to the app ({created_event()})"
    )
    event = created_event()
    deliveries_before = len(app.posts_to(hook))

    browser.sign_in(server, tenant.api_key)
    browser.get(server.url("/dashboard/events"))
    assert event["id"] in browser.rows("table#events", "data-event-id"), "table#events lacks the delivered event"
    assert app.url(hook) in browser.find("section#webhook").text, "section#webhook does not show the endpoint"
    browser.get(server.url(f"/dashboard/events/{event['id']}"))
    browser.wait_for("table#deliveries", "the event's page has no table#deliveries")
    assert "204" in browser.find("table#deliveries").text, (
        "table#deliveries does not show the delivery the webhook answered 204"
    )
    browser.submit(browser.wait_for("form#redeliver").find_element("css selector", "button, input[type=submit]"))
    assert browser.status() in (200, None), f"redelivering answered {browser.status()}"
    assert wait_until(lambda: len(app.posts_to(hook)) > deliveries_before, 20), "redelivery sent nothing to the webhook"
    sent = json.loads(app.posts_to(hook)[-1])
    assert sent.get("id") == event["id"] or event["id"] in json.dumps(sent), "the redelivery is not the event"
