"""The official SDK's integration and re-authorization operations against the real server.

The shipped catalog through `list_unified_integrations` and the key-less
`list_unified_integration_workspaces`; an authorize URL for a shipped provider (HubSpot) through
`get_unified_integration_auth`; and `create_unified_connection_reauth`. The whole flow against a
real OAuth provider is e2e/oauth.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from unified_python_sdk import UnifiedTo
from unified_python_sdk.models import shared

APP = "https://app.example.com"


def _enable_hubspot(raw: httpx.Client, api_key: str) -> None:
    headers = {"Authorization": api_key}
    enabled = raw.put(
        "/switchboard/integration/hubspot",
        json={"client_id": "hubspot-client", "client_secret": "not-a-real-secret"},
        headers=headers,
    )
    assert enabled.status_code == 200, enabled.text
    allowed = raw.patch("/switchboard/workspace", json={"redirect_origins": [APP]}, headers=headers)
    assert allowed.status_code == 200, allowed.text


def test_the_catalog_through_the_sdk(fresh_workspace, raw: httpx.Client):
    workspace, sdk = fresh_workspace
    everything = sdk.integration.list_unified_integrations(request={}).integrations
    types = [i.type for i in everything or []]
    assert {"hubspot", "salesforce", "slack", "github"} <= set(types)
    assert all(i.name and i.categories for i in everything)
    assert all(i.is_active is False for i in everything)

    hris = sdk.integration.list_unified_integrations(request={"categories": ["hris"]}).integrations
    assert hris and all("hris" in i.categories for i in hris)
    assert [i.type for i in sdk.integration.list_unified_integrations(request={"type": "slack"}).integrations] == ["slack"]
    paged = sdk.integration.list_unified_integrations(request={"limit": 3, "offset": 1}).integrations
    assert [i.type for i in paged] == types[1:4]

    _enable_hubspot(raw, workspace.api_key)
    active = sdk.integration.list_unified_integrations(request={"active": True}).integrations
    assert [i.type for i in active] == ["hubspot"]
    # The front-end listing needs only the workspace id.
    keyless = UnifiedTo(server_url=str(raw.base_url), security=shared.Security(jwt=""))
    listed = keyless.integration.list_unified_integration_workspaces(
        request={"workspace_id": workspace.id, "active": True}
    ).integrations
    assert [i.type for i in listed] == ["hubspot"]


def test_an_authorize_url_for_a_shipped_provider(fresh_workspace, raw: httpx.Client):
    workspace, sdk = fresh_workspace
    _enable_hubspot(raw, workspace.api_key)
    url = sdk.integration.get_unified_integration_auth(
        request={
            "workspace_id": workspace.id,
            "integration_type": "hubspot",
            "success_redirect": f"{APP}/connected",
            "state": "my-state",
            "scopes": ["crm_contact_read"],
        }
    ).res
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "app.hubspot.com", "/oauth/authorize")
    query = parse_qs(parts.query)
    assert query["client_id"] == ["hubspot-client"]
    assert query["redirect_uri"][0].endswith("/switchboard/oauth/callback")
    assert "crm.objects.contacts.read" in query["scope"][0].split(" ")
    assert query["state"][0] != "my-state"


def test_a_reauth_token_through_the_sdk(sdk_a: UnifiedTo):
    conn = sdk_a.connection.create_unified_connection(
        request=shared.Connection(integration_type="hubspot", categories=["crm"], permissions=["crm_contact_read"])
    ).connection
    first = sdk_a.connection.create_unified_connection_reauth(request={"id": conn.id}).connection_reauth
    second = sdk_a.connection.create_unified_connection_reauth(request={"id": conn.id}).connection_reauth
    assert first.reauth_token and first.expires_at
    assert first.reauth_token != second.reauth_token
