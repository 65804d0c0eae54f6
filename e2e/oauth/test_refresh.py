"""Token refresh against the real provider: dead refresh tokens, transient failures, the
background refresher. Each test runs on SQLite and on PostgreSQL.

The servers refresh a token expiring within 1 s (`--refresh-margin 1`) when a caller with
`connections:credentials` asks for the connection; the provider's token lifetime is set per test.

Contract: the OAuth contract's "Refresh semantics" section.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Dict, List

import pytest

from conftest import connect, error_code, fingerprint, reauth_token, redacted, wait_until

LIFETIME_S = 3
EXPIRED_AFTER_S = LIFETIME_S + 0.5


def ts(value: Any) -> datetime:
    assert isinstance(value, str) and value, f"not a timestamp: {value!r}"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def access_fp(body: Dict[str, Any]) -> str:
    return fingerprint((body.get("auth") or {}).get("access_token"))


def test_invalid_grant_marks_needs_reauth_and_stops_calling(setup, provider, integration, http):
    provider.set_lifetime(LIFETIME_S)
    connection_id = connect(setup, integration, http, state="dead")
    dead_fp = access_fp(setup.connection(connection_id))
    # The provider forgets every refresh token: the next refresh gets a genuine invalid_grant.
    provider.revoke_refresh_tokens()
    time.sleep(EXPIRED_AFTER_S)
    provider.reset_counters()

    r = setup.get_connection(connection_id)
    assert r.status_code == 200, f"GET answered {r.status_code}: {r.text[:300]}"
    body = r.json()
    assert provider.token_calls("refresh_token") == 1, provider.stats()
    assert body.get("refresh_status") == "needs_reauth", redacted(body)
    ts(body.get("last_unhealthy_at"))
    assert str(body.get("last_unhealthy_code")) == "400", redacted(body)
    assert access_fp(body) == dead_fp, "GET did not answer with the stored (dead) token"

    # No more attempts: GETs and lists answer from the store without calling the provider.
    for _ in range(3):
        r = setup.get_connection(connection_id)
        assert r.status_code == 200, r.status_code
        assert r.json().get("refresh_status") == "needs_reauth", redacted(r.json())
    listed = [c for c in setup.connections() if c["id"] == connection_id]
    assert listed and listed[0].get("refresh_status") == "needs_reauth"
    time.sleep(1.0)
    setup.get_connection(connection_id)
    assert provider.token_calls() == 1, f"the provider was called again: {provider.stats()}"

    # Re-authorizing in place brings it back.
    provider.set_lifetime(3600)
    again = connect(
        setup, integration, http, state="back", connection_id=connection_id,
        reauth_token=reauth_token(setup, connection_id),
    )  # fmt: skip
    assert again == connection_id
    body = setup.connection(connection_id)
    assert body.get("refresh_status") == "active", redacted(body)
    got, want = access_fp(body), fingerprint(provider.last_issued()["access_token"])
    assert got == want, f"after re-authorization the connection holds {got}, the provider issued {want}"


TRANSIENT_FAULTS = [
    {"kind": "status", "status": 503},
    {"kind": "drop"},  # the connection closes without an answer
    {"kind": "status", "status": 429, "retry_after": 7},  # longer than the first backoff (2-5 s)
]


def test_new_auth_written_by_patch_clears_needs_reauth(setup, provider, integration, http):
    provider.set_lifetime(LIFETIME_S)
    connection_id = connect(setup, integration, http, state="patched")
    provider.revoke_refresh_tokens()
    time.sleep(EXPIRED_AFTER_S)
    body = setup.connection(connection_id)
    assert body.get("refresh_status") == "needs_reauth", redacted(body)

    expiry = datetime.fromtimestamp(time.time() + 3600, timezone.utc).isoformat().replace("+00:00", "Z")
    auth = {"access_token": "at-patched-by-operator", "refresh_token": "rt-patched-by-operator", "expiry_date": expiry}
    r = setup.http.patch(
        f"{setup.server.base_url}/unified/connection/{connection_id}", headers=setup.headers, json={"auth": auth}
    )
    assert r.status_code == 200, f"PATCH answered {r.status_code}: {r.text[:300]}"
    body = setup.connection(connection_id)
    assert body.get("refresh_status") == "active", redacted(body)
    assert access_fp(body) == fingerprint("at-patched-by-operator")
    assert provider.token_calls("refresh_token") == 1, "a fresh token written by PATCH was refreshed"


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS, ids=["503", "drop", "429-retry-after"])
def test_transient_failure_is_retried_after_backoff(setup, provider, integration, http, fault):
    provider.set_lifetime(LIFETIME_S)
    connection_id = connect(setup, integration, http, state="flaky")
    old_fp = access_fp(setup.connection(connection_id))
    provider.set_lifetime(3600)  # the successful refresh's token stays valid
    provider.queue_faults(fault)
    time.sleep(EXPIRED_AFTER_S)
    provider.reset_counters()

    # The token has expired and the refresh failed: 503 with Retry-After, not the dead token.
    r = setup.get_connection(connection_id)
    assert r.status_code == 503, f"GET answered {r.status_code}: {r.text[:300]}"
    assert error_code(r) == "token_refresh_failed", r.text[:300]
    retry_after = r.headers.get("retry-after")
    assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1, retry_after
    assert provider.token_calls("refresh_token") == 1
    if "retry_after" in fault:
        # The provider's Retry-After is honoured: no earlier retry (a second of rounding allowed).
        assert int(retry_after) >= fault["retry_after"] - 1, f"Retry-After {retry_after} < the provider's {fault['retry_after']}"
    failed_at = time.monotonic()

    # Until the backoff passes, callers are told to wait and the provider is left alone; then a
    # GET succeeds. No response may say needs_reauth.
    statuses: List[int] = [503]
    deadline = time.monotonic() + int(retry_after) + 20
    body: Dict[str, Any] = {}
    while time.monotonic() < deadline:
        time.sleep(0.5)
        r = setup.get_connection(connection_id)
        statuses.append(r.status_code)
        if r.status_code == 503:
            assert error_code(r) == "token_refresh_failed", r.text[:300]
            assert r.headers.get("retry-after"), "a 503 without Retry-After"
            continue
        assert r.status_code == 200, f"GET answered {r.status_code}: {r.text[:300]}"
        if "retry_after" in fault:
            waited = time.monotonic() - failed_at
            assert waited >= fault["retry_after"] - 1, f"retried after {waited:.1f} s, before the provider's Retry-After"
        body = r.json()
        assert body.get("refresh_status") != "needs_reauth", redacted(body)
        break
    assert body, f"no GET succeeded within Retry-After + 20 s (statuses: {statuses})"
    assert body.get("refresh_status") == "active", redacted(body)
    assert provider.token_calls("refresh_token") == 2, (
        f"expected the failed call and one successful retry, got {provider.stats()} (statuses: {statuses})"
    )
    got, want = access_fp(body), fingerprint(provider.last_issued()["access_token"])
    assert got == want and got != old_fp, f"the connection holds {got}, the provider issued {want}"
    assert ts(body.get("last_healthy_at")) > ts(body.get("last_unhealthy_at")), redacted(body)


def test_background_refresher_refreshes_unasked(backend, make_server, make_setup, provider, integration, http):
    server = make_server("background", "--refresh-margin", "30", "--refresh-interval", "1")
    setup = make_setup(server)
    provider.set_lifetime(10)  # inside the 30 s margin from the start
    connection_id = connect(setup, integration, http, state="bg")
    created_fp = fingerprint(provider.last_issued()["access_token"])

    # Nobody asks for the connection; the refresher must call the provider by itself.
    assert wait_until(lambda: provider.token_calls("refresh_token") >= 1, timeout=15), (
        f"no refresh within 15 s: {provider.stats()}"
    )
    # Tokens issued from now on last an hour, out of the margin: the next refresh is the last.
    provider.set_lifetime(3600)
    assert wait_until(lambda: provider.last_issued()["expires_in"] == 3600, timeout=15), provider.stats()
    time.sleep(2.5)  # two more refresher rounds, which must find nothing due
    calls = provider.token_calls("refresh_token")
    time.sleep(2.5)
    assert provider.token_calls("refresh_token") == calls, "the refresher kept refreshing a token not due"

    body = setup.connection(connection_id)
    got, want = access_fp(body), fingerprint(provider.last_issued()["access_token"])
    assert got == want, f"the stored token {got} is not the provider's latest {want}"
    assert got != created_fp
    assert body.get("refresh_status") == "active", redacted(body)
    assert provider.token_calls("refresh_token") == calls, "a GET of a fresh token called the provider"
    assert provider.token_is_live(body["auth"]["access_token"]), "the provider does not accept the stored token"
