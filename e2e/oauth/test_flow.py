"""The authorization flow end to end: Switchboard, the official SDK and a real OAuth 2 server.

Each test runs on SQLite and on PostgreSQL (the `backend` parameter). The browser is played by
a plain httpx client that never follows redirects: each hop's Location is asserted on, then
requested by hand. The end user's app (APP_ORIGIN) is never contacted.

Contract: the OAuth contract's HTTP API section (authorize URL, callback, reauth).
"""

from __future__ import annotations

import concurrent.futures
import time
import uuid

import httpx
import pytest
from unified_python_sdk.models import errors, operations

from conftest import (
    FAILURE_REDIRECT,
    SUCCESS_REDIRECT,
    Flow,
    error_code,
    fingerprint,
    get_authorize_url,
    query,
    redacted,
    replace_query,
    run_flow,
    to_provider,
    without_query,
)


def assert_success_redirect(flow: Flow, caller_state: str) -> str:
    """The callback's 302 to success_redirect, with `id` and the caller's state. Returns the id."""
    r = flow.callback_response
    assert r is not None
    assert r.status_code == 302, f"callback answered {r.status_code}: {r.text[:300]}"
    location = flow.location
    assert without_query(location) == SUCCESS_REDIRECT, f"callback redirected to {without_query(location)}"
    params = query(location)
    assert params.get("id"), f"no id on the success redirect (parameters: {sorted(params)})"
    assert params.get("state") == caller_state, "the caller's state did not come back on the success redirect"
    assert "error" not in params, params.get("error")
    return params["id"]


def assert_failure_redirect(response: httpx.Response, error: str) -> None:
    assert response.status_code == 302, f"callback answered {response.status_code}: {response.text[:300]}"
    location = response.headers.get("location", "")
    assert without_query(location) == FAILURE_REDIRECT, f"callback redirected to {without_query(location)}"
    assert query(location).get("error") == error, f"error on the failure redirect: {query(location).get('error')!r}"


def assert_no_connections(setup) -> None:
    conns = setup.connections()
    assert conns == [], f"{len(conns)} connection(s) were created"


# ----- the full flow ----------------------------------------------------------------------


def test_full_flow_with_pkce(setup, provider, integration, http):
    server = setup.server
    caller_state = f"caller-{uuid.uuid4().hex}"
    xref = f"user-{uuid.uuid4().hex[:8]}"
    permissions = integration.permissions[:2]
    assert permissions, "mock.yaml maps no Unified permission to provider scopes"
    env = "Sandbox"

    flow = Flow()
    flow.authorize_url = get_authorize_url(
        setup, integration, state=caller_state, external_xref=xref, scopes=permissions, env=env
    )
    params = flow.authorize_params = query(flow.authorize_url)

    # The authorize URL: the provider's endpoint, our client, Switchboard's callback, PKCE S256.
    assert without_query(flow.authorize_url) == integration.authorize_url
    assert params.get("response_type") == "code"
    assert params.get("client_id") == provider.client_id
    assert params.get("redirect_uri") == server.callback_url
    assert params.get("state"), "no state on the authorize URL"
    assert params["state"] != caller_state, "Switchboard passed the caller's state to the provider as is"
    assert params.get("code_challenge"), "no code_challenge on the authorize URL (mock.yaml has pkce: true)"
    assert params.get("code_challenge_method") == "S256"
    assert 43 <= len(params["code_challenge"]) <= 128, len(params["code_challenge"])
    assert "code_verifier" not in params, "the PKCE verifier leaked into the authorize URL"
    requested = set(integration.default_scopes)
    for permission in permissions:
        requested.update(integration.permission_scopes[permission])
    sent = set(params.get("scope", "").split(" ")) - {""}
    assert sent >= requested, f"scope {sorted(sent)} lacks {sorted(requested - sent)}"

    # The provider saw the same challenge and approved: a redirect to the callback.
    to_provider(flow, http)
    seen = provider.authorize_requests()[-1]
    assert seen.get("code_challenge") == params["code_challenge"]
    assert seen.get("code_challenge_method") == "S256"
    assert without_query(flow.callback_url) == server.callback_url
    assert query(flow.callback_url).get("state") == params["state"]
    assert query(flow.callback_url).get("code")

    # Switchboard's callback exchanges the code (with the verifier: the provider refuses otherwise).
    flow.callback_response = http.get(flow.callback_url)
    connection_id = assert_success_redirect(flow, caller_state)
    assert provider.token_calls("authorization_code") == 1
    issued = provider.last_issued()
    assert issued["grant_type"] == "authorization_code"

    # The connection, through the SDK.
    res = setup.sdk.connection.get_unified_connection(request=operations.GetUnifiedConnectionRequest(id=connection_id))
    assert res.status_code == 200
    conn = res.connection
    assert conn is not None
    assert conn.id == connection_id
    assert conn.integration_type == integration.type
    categories = sorted(getattr(c, "value", c) for c in conn.categories)
    assert categories == sorted(integration.categories), categories
    perms = sorted(getattr(p, "value", p) for p in conn.permissions)
    assert perms == sorted(permissions), perms
    assert conn.external_xref == xref
    assert conn.environment == env
    assert conn.workspace_id == setup.workspace.id
    assert conn.auth is not None, "the connection has no auth"
    got, want = fingerprint(conn.auth.access_token), fingerprint(issued["access_token"])
    assert got == want, f"auth.access_token {got} is not the token the provider issued ({want})"
    if conn.auth.refresh_token is not None:
        got, want = fingerprint(conn.auth.refresh_token), fingerprint(issued["refresh_token"])
        assert got == want, f"auth.refresh_token {got} is not the one the provider issued ({want})"
    assert provider.token_is_live(conn.auth.access_token), "the provider does not accept the stored token"

    # Raw JSON: the integration's catalog name and the refresh state.
    body = setup.connection(connection_id)
    if integration.name:
        assert body.get("integration_name") == integration.name, redacted(body)
    assert body.get("refresh_status") == "active", redacted(body)
    assert [c["id"] for c in setup.connections(env=env)] == [connection_id]
    assert setup.connections() == [], "a Sandbox connection is listed under Production"

    # The audit record of the flow-made connection names the browser's address.
    audit = http.get(
        f"{server.base_url}/switchboard/audit",
        params={"connection_id": connection_id, "action": "connection.create"},
        headers=setup.headers,
    )
    assert audit.status_code == 200, audit.status_code
    assert [(r["actor"], r.get("client_address")) for r in audit.json()] == [("oauth", "127.0.0.1")]


def test_callback_without_success_redirect_names_the_connection(setup, provider, integration, http):
    flow = Flow()
    flow.authorize_url = get_authorize_url(setup, integration, success_redirect=None, failure_redirect=None)
    to_provider(flow, http)
    r = http.get(flow.callback_url)
    assert r.status_code == 200, f"callback answered {r.status_code}: {r.text[:300]}"
    assert r.headers.get("content-type", "").startswith("text/plain")
    ids = [c["id"] for c in setup.connections()]
    assert len(ids) == 1 and ids[0] in r.text, "the callback's text does not name the new connection"


# ----- refusals -----------------------------------------------------------------------------


def test_replayed_callback_is_refused(setup, provider, integration, http):
    flow = run_flow(setup, integration, http, state="once")
    connection_id = assert_success_redirect(flow, "once")
    calls = provider.token_calls()

    again = http.get(flow.callback_url)
    assert again.status_code == 400, f"the replayed callback answered {again.status_code}"
    assert "location" not in again.headers, "the replayed callback redirected"
    assert provider.token_calls() == calls, "the replayed callback reached the token endpoint"
    assert [c["id"] for c in setup.connections()] == [connection_id], "the replay created a connection"


def test_concurrent_callbacks_with_one_state_make_one_connection(setup, provider, integration, http):
    """A double-submitted callback (10 at once): the state is consumed once, atomically."""
    flow = run_flow(setup, integration, http, callback=False, state="double")

    def hit(_: int) -> int:
        with httpx.Client(timeout=15.0) as client:
            return client.get(flow.callback_url).status_code

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        codes = sorted(pool.map(hit, range(10)))
    assert codes == [302] + [400] * 9, f"callback answers: {codes}"
    assert len(setup.connections()) == 1, "more than one connection from one state"
    assert provider.token_calls() == 1, "the code was exchanged more than once"


def test_tampered_state_is_refused(setup, provider, integration, http):
    flow = run_flow(setup, integration, http, callback=False, state="tamper")
    state = query(flow.callback_url)["state"]
    flipped = ("A" if state[-1] != "A" else "B")
    for bad in (state[:-1] + flipped, state + "x", "", "not-a-state"):
        r = http.get(replace_query(flow.callback_url, state=bad))
        assert r.status_code == 400, f"a tampered state answered {r.status_code}"
        assert "location" not in r.headers, "a tampered state redirected"
    r = http.get(without_query(flow.callback_url), params={"code": query(flow.callback_url)["code"]})
    assert r.status_code == 400, f"a callback without state answered {r.status_code}"
    assert provider.token_calls() == 0, "a tampered state reached the token endpoint"
    assert_no_connections(setup)

    # The genuine state was not used up by the forgeries.
    flow.callback_response = http.get(flow.callback_url)
    assert_success_redirect(flow, "tamper")


def test_expired_state_redirects_with_state_expired(backend, make_server, make_setup, provider, integration, http):
    server = make_server("short-state", "--refresh-margin", "1", "--refresh-interval", "0", "--oauth-state-ttl", "1")
    setup = make_setup(server)
    flow = run_flow(setup, integration, http, callback=False, state="late")
    time.sleep(2.0)  # past the 1 s state lifetime
    r = http.get(flow.callback_url)
    assert_failure_redirect(r, "state_expired")
    assert "id" not in query(r.headers["location"]), "an expired state's failure redirect carries an id"
    assert provider.token_calls() == 0, "the code of an expired state was exchanged"
    assert_no_connections(setup)


@pytest.mark.parametrize(
    "field,url",
    [
        ("success_redirect", "https://evil.example/oauth/success"),
        ("success_redirect", "http://127.0.0.1:1/oauth/success"),  # same host, another port
        ("failure_redirect", "https://evil.example/oauth/failure"),
    ],
)
def test_redirect_outside_the_allowlist_is_refused(setup, provider, integration, http, field, url):
    with pytest.raises(errors.SDKError) as info:
        get_authorize_url(setup, integration, **{field: url})
    response = info.value.raw_response
    assert response.status_code == 400, f"the authorize URL request answered {response.status_code}"
    assert "location" not in response.headers
    assert error_code(response), response.text[:300]
    # Nothing was started at the provider, nothing was created.
    assert provider.authorize_requests() == []
    assert_no_connections(setup)
    # With redirect=true the refusal is the same: no redirect anywhere.
    raw = http.get(
        f"{setup.server.base_url}/unified/integration/auth/{setup.workspace.id}/{integration.type}",
        params={"success_redirect": SUCCESS_REDIRECT, "failure_redirect": FAILURE_REDIRECT, field: url, "redirect": "true"},
    )
    assert raw.status_code == 400, f"with redirect=true: {raw.status_code}"
    assert "location" not in raw.headers


def test_unsupported_permission_is_refused(setup, provider, integration, http):
    with pytest.raises(errors.SDKError) as info:
        get_authorize_url(setup, integration, scopes=["no_such_permission_read"])
    assert info.value.raw_response.status_code == 400, info.value.raw_response.status_code
    assert provider.authorize_requests() == []


def test_provider_access_denied_goes_to_failure_redirect(setup, provider, integration, http):
    provider.deny_next()
    flow = run_flow(setup, integration, http, callback=False, state="deny")
    assert query(flow.callback_url).get("error") == "access_denied", "the provider did not deny"
    r = http.get(flow.callback_url)
    assert_failure_redirect(r, "access_denied")
    assert provider.token_calls() == 0
    assert_no_connections(setup)


def test_failed_code_exchange_goes_to_failure_redirect(setup, provider, integration, http):
    flow = run_flow(setup, integration, http, callback=False, state="exchange")
    provider.queue_faults({"kind": "invalid_grant"})
    r = http.get(flow.callback_url)
    assert_failure_redirect(r, "token_exchange_failed")
    assert provider.token_calls() == 1
    assert_no_connections(setup)


def test_redirect_true_answers_302_to_the_provider(setup, provider, integration, http):
    r = http.get(
        f"{setup.server.base_url}/unified/integration/auth/{setup.workspace.id}/{integration.type}",
        params={"success_redirect": SUCCESS_REDIRECT, "redirect": "true"},
    )
    assert r.status_code == 302, f"redirect=true answered {r.status_code}: {r.text[:300]}"
    assert without_query(r.headers["location"]) == integration.authorize_url


def test_integration_not_enabled_is_refused(server, make_setup, provider, integration, http):
    setup = make_setup(server)
    r = http.delete(f"{server.base_url}/switchboard/integration/{integration.type}", headers=setup.headers)
    assert r.status_code == 200, r.status_code
    # Not enabled and not in the catalog read the same to an anonymous caller.
    with pytest.raises(errors.SDKError) as info:
        get_authorize_url(setup, integration)
    assert info.value.raw_response.status_code == 404, info.value.raw_response.status_code
    with pytest.raises(errors.SDKError) as info:
        get_authorize_url(setup, integration, integration_type="no-such-integration")
    assert info.value.raw_response.status_code == 404, info.value.raw_response.status_code


# ----- re-authorization in place -----------------------------------------------------------


def test_reauth_in_place(setup, provider, integration, http):
    first = run_flow(setup, integration, http, state="first", external_xref="xref-reauth")
    connection_id = assert_success_redirect(first, "first")
    old = setup.connection(connection_id)
    old_fp = fingerprint(old["auth"]["access_token"])

    res = setup.sdk.connection.create_unified_connection_reauth(
        request=operations.CreateUnifiedConnectionReauthRequest(id=connection_id)
    )
    assert res.status_code == 200
    assert res.connection_reauth is not None and res.connection_reauth.reauth_token
    assert res.connection_reauth.expires_at, "no expires_at on the reauth token"
    reauth_token = res.connection_reauth.reauth_token

    second = run_flow(
        setup, integration, http, state="second", connection_id=connection_id, reauth_token=reauth_token
    )
    assert_success_redirect(second, "second")
    assert query(second.location)["id"] == connection_id, "re-authorization created another connection"

    conn = setup.connection(connection_id)
    issued = provider.last_issued()
    new_fp, want = fingerprint(conn["auth"]["access_token"]), fingerprint(issued["access_token"])
    assert new_fp == want, f"the re-authorized connection holds {new_fp}, the provider issued {want}"
    assert new_fp != old_fp, "the access token did not change"
    assert conn.get("external_xref") == "xref-reauth", redacted(conn)
    assert conn.get("refresh_status") == "active", redacted(conn)
    assert [c["id"] for c in setup.connections()] == [connection_id]

    # The reauth token was used: asking for a URL with it again is refused, before the provider.
    authorize_calls = len(provider.authorize_requests())
    with pytest.raises(errors.SDKError) as info:
        get_authorize_url(setup, integration, connection_id=connection_id, reauth_token=reauth_token)
    assert info.value.raw_response.status_code == 400, info.value.raw_response.status_code
    assert len(provider.authorize_requests()) == authorize_calls


def test_reauth_token_is_bound_to_its_connection(setup, provider, integration, http):
    a = assert_success_redirect(run_flow(setup, integration, http, state="a"), "a")
    b = assert_success_redirect(run_flow(setup, integration, http, state="b"), "b")
    res = setup.sdk.connection.create_unified_connection_reauth(
        request=operations.CreateUnifiedConnectionReauthRequest(id=a)
    )
    token = res.connection_reauth.reauth_token
    for params in ({"connection_id": b, "reauth_token": token}, {"connection_id": a, "reauth_token": token + "x"}, {"connection_id": a}):
        with pytest.raises(errors.SDKError) as info:
            get_authorize_url(setup, integration, **params)
        assert info.value.raw_response.status_code == 400, (sorted(params), info.value.raw_response.status_code)
