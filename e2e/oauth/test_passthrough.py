"""Passthrough (`/passthrough/{connection_id}/{path}`) through the official SDK, on both backends.

The provider is the suite's loopback OAuth server (e2e/oauth/provider.py): its /api routes take
the access tokens it issued, its /plain routes take anything, and both echo what arrived (method,
raw path, raw query, headers, body digest), with credentials shown only as fingerprints. The
integrations are e2e/oauth/integrations/mock*.yaml: `mock` (OAuth, bearer), `mock_apikey` (a key
in X-Api-Key, the subdomain in the path), `mock_basic` (Basic), `mock_query` (a query parameter)
and `mock_internal` (a whole base URL from the connection, limited by `api.hosts`).

Contract: docs/passthrough.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import secrets
import sqlite3
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Tuple

import httpx
import pytest
from unified_python_sdk import UnifiedTo
from unified_python_sdk.models import errors, shared

from conftest import DEFAULT_SERVE_ARGS, Setup, connect, error_code, fingerprint, wait_until
from switchboard_testkit import SwitchboardServer, psql

ORIGIN = "x-switchboard-origin"


def provider_fingerprint(secret: str) -> str:
    """How the provider's echo shows a credential (see provider.py)."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


def create_connection(setup: Setup, integration_type: str, auth: Dict[str, Any]) -> str:
    r = setup.http.post(
        f"{setup.server.base_url}/unified/connection",
        headers=setup.headers,
        json={"integration_type": integration_type, "auth": auth, "permissions": [], "categories": ["hris"]},
    )
    assert r.status_code == 200, f"create answered {r.status_code}: {r.text[:300]}"
    return r.json()["id"]


def passthrough(setup: Setup, method: str, connection_id: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {**setup.headers, **kwargs.pop("headers", {})}
    return setup.http.request(
        method, f"{setup.server.base_url}/passthrough/{connection_id}/{path}", headers=headers, **kwargs
    )


def raw_get(setup: Setup, target: str) -> Tuple[int, str]:
    """A GET whose request target goes on the wire exactly as written (httpx would resolve `..`)."""
    parts = httpx.URL(setup.server.base_url)
    conn = http.client.HTTPConnection(parts.host, parts.port, timeout=15)
    try:
        conn.request("GET", target, headers=setup.headers)
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        conn.close()


def echoed_headers(echo: Dict[str, Any]) -> Dict[str, List[str]]:
    headers: Dict[str, List[str]] = {}
    for name, value in echo["headers"]:
        headers.setdefault(name, []).append(value)
    return headers


# ----- the SDK, every verb ------------------------------------------------------------------


def test_sdk_passthrough_every_verb_forwards_and_relays(setup: Setup, provider):
    key = "key-" + secrets.token_hex(8)
    connection_id = create_connection(setup, "mock_apikey", {"key": key, "meta": {"subdomain": "acme"}})
    sdk = setup.sdk.passthrough
    caller_headers = {
        "X-Custom": "1",
        "X-Api-Key": "the-callers-own",
        "Cookie": "session=caller",
        "X-Switchboard-Debug": "1",
        "Authorization": "Bearer the-callers-own",
    }
    body_json = [{"a": None, "b": 1}]
    body_raw = b"<a>\x00\xff</a>"
    calls = [
        ("GET", lambda: sdk.list_passthroughs(
            request={"connection_id": connection_id, "path": "v1/objects contacts", "query": {"limit": 5, "ids": [1, 2]}},
            http_headers=caller_headers,
        ), None, None),
        ("POST", lambda: sdk.create_passthrough_json(
            request={"connection_id": connection_id, "path": "/v1/items", "request_body": body_json, "query": {"q": "x y"}},
            http_headers=caller_headers,
        ), json.dumps(body_json, separators=(",", ":")).encode(), "application/json"),
        ("POST", lambda: sdk.create_passthrough_raw(
            request={"connection_id": connection_id, "path": "v1/files", "request_body": body_raw},
            http_headers={**caller_headers, "content-type": "application/xml"},
        ), body_raw, "application/xml"),
        ("PUT", lambda: sdk.update_passthrough_json(
            request={"connection_id": connection_id, "path": "v1/items/1", "request_body": {"n": 1.5}},
            http_headers=caller_headers,
        ), b'{"n":1.5}', "application/json"),
        ("PUT", lambda: sdk.update_passthrough_raw(
            request={"connection_id": connection_id, "path": "v1/items/1", "request_body": body_raw},
            http_headers=caller_headers,
        ), body_raw, "application/octet-stream"),
        ("PATCH", lambda: sdk.patch_passthrough_json(
            request={"connection_id": connection_id, "path": "v1/items/1", "request_body": "scalar"},
            http_headers=caller_headers,
        ), b'"scalar"', "application/json"),
        ("PATCH", lambda: sdk.patch_passthrough_raw(
            request={"connection_id": connection_id, "path": "v1/items/1", "request_body": body_raw},
            http_headers=caller_headers,
        ), body_raw, "application/octet-stream"),
        ("DELETE", lambda: sdk.remove_passthrough(
            request={"connection_id": connection_id, "path": "v1/items/1"},
            http_headers=caller_headers,
        ), None, None),
    ]  # fmt: skip
    for method, call, body, content_type in calls:
        res = call()
        assert res.status_code == 200, (method, res.status_code)
        assert res.headers.get(ORIGIN) == ["vendor"], (method, res.headers.get(ORIGIN))
        echo = res.default_application_json_any
        assert echo is not None, (method, res.content_type)
        assert echo.get("method") == method, (method, echo)
        headers = echoed_headers(echo)
        # The connection's credential, never the caller's; the caller's other headers as sent.
        assert headers.get("x-api-key") == [provider_fingerprint(key)], method
        assert "authorization" not in headers, f"{method}: the caller's Authorization was forwarded"
        assert "cookie" not in headers, f"{method}: the caller's Cookie was forwarded"
        assert not [h for h in headers if h.startswith("x-switchboard-")], method
        assert headers.get("x-custom") == ["1"], method
        assert headers.get("host") == ["127.0.0.1:31410"], headers.get("host")
        if body is None:
            assert echo["body_length"] == 0, method
        else:
            assert echo["body_length"] == len(body), (method, echo["body_length"])
            assert echo["body_sha256"] == hashlib.sha256(body).hexdigest(), method
            assert headers.get("content-type") == [content_type], (method, headers.get("content-type"))
    # The raw path (base path, then the caller's with its escapes; `//` collapsed) and the raw
    # query, Python reprs included, as the SDK put them on the wire.
    first = calls[0][1]().default_application_json_any
    assert first["raw_uri"] == "/plain/acme/v1/objects%20contacts?limit=5&ids=%5B1%2C+2%5D", first["raw_uri"]
    second = calls[1][1]().default_application_json_any
    assert second["raw_uri"] == "/plain/acme/v1/items?q=x+y", second["raw_uri"]


def test_statuses_and_headers_are_relayed_redirects_not_followed(setup: Setup, provider):
    connection_id = create_connection(setup, "mock_apikey", {"key": "k-" + secrets.token_hex(6), "meta": {"subdomain": "acme"}})
    sdk = setup.sdk.passthrough

    res = sdk.list_passthroughs(request={"connection_id": connection_id, "path": "status/204"})
    assert res.status_code == 204 and res.headers.get(ORIGIN) == ["vendor"]
    assert res.headers.get("x-ratelimit-remaining") == ["42"]
    assert not [h for h in res.headers if h.startswith("access-control-")], sorted(res.headers)

    res = sdk.create_passthrough_json(request={"connection_id": connection_id, "path": "status/201", "request_body": {}})
    assert res.status_code == 201 and res.default_application_json_any == {"status": 201}

    # A redirect to an internal address is relayed to the caller, never followed.
    calls = provider.api_calls()
    r = passthrough(setup, "GET", connection_id, "status/302", params={"location": "http://169.254.169.254/latest"})
    assert r.status_code == 302, r.text[:200]
    assert r.headers["location"] == "http://169.254.169.254/latest"
    assert r.headers[ORIGIN] == "vendor"
    assert provider.api_calls() == calls + 1

    # A provider error reaches the SDK's caller as its SDKError, with the provider's body.
    with pytest.raises(errors.SDKError) as raised:
        sdk.list_passthroughs(request={"connection_id": connection_id, "path": "status/404"})
    assert raised.value.status_code == 404 and '"status": 404' in raised.value.body
    assert raised.value.raw_response.headers[ORIGIN] == "vendor"

    # Switchboard's own 404 says so.
    r = passthrough(setup, "GET", "00000000-0000-7000-8000-000000000000", "v1/x")
    assert r.status_code == 404 and r.headers[ORIGIN] == "switchboard", r.text[:200]
    # Framing: never both Content-Length and Transfer-Encoding.
    for path in ("download/100000", "download/100000?chunked=1"):
        r = passthrough(setup, "GET", connection_id, path)
        assert r.status_code == 200 and len(r.content) == 100_000
        assert not ("content-length" in r.headers and "transfer-encoding" in r.headers), dict(r.headers)


def test_basic_and_query_credentials_win_over_the_callers(setup: Setup, provider):
    key = "basic-" + secrets.token_hex(6)
    basic_id = create_connection(setup, "mock_basic", {"key": key})
    r = passthrough(setup, "GET", basic_id, "v1/me", headers={**setup.headers, "X-Custom": "2"})
    assert r.status_code == 200, r.text[:200]
    import base64

    expected = "Basic " + base64.b64encode(f"{key}:x".encode()).decode()
    assert echoed_headers(r.json())["authorization"] == [provider_fingerprint(expected)]

    token = "query-" + secrets.token_hex(6)
    query_id = create_connection(setup, "mock_query", {"key": token})
    r = passthrough(setup, "GET", query_id, "v1/list", params={"page": "2", "api_token": "callers"})
    assert r.status_code == 200, r.text[:200]
    assert r.json()["query"] == f"page=2&api_token={provider_fingerprint(token)}", r.json()["query"]


def test_missing_placeholder_and_unlisted_host_are_400s(setup: Setup, provider):
    calls = provider.api_calls()
    no_subdomain = create_connection(setup, "mock_apikey", {"key": "k"})
    r = passthrough(setup, "GET", no_subdomain, "v1/x")
    assert r.status_code == 400 and error_code(r) == "missing_placeholder", r.text[:300]
    assert "auth.subdomain" in r.json()["error"]["message"] and r.headers[ORIGIN] == "switchboard"

    # A whole base URL from the connection may only name the hosts the definition lists: a key
    # that may write connections cannot send a connection's credential to a host of its choice.
    evil = create_connection(setup, "mock_internal", {"key": "k", "meta": {"instance_url": "https://evil.test"}})
    r = passthrough(setup, "GET", evil, "v1/x")
    assert r.status_code == 400 and error_code(r) == "invalid_placeholder", r.text[:300]
    for path in ("v1/../../admin", "v1/%2e%2E/admin", "./x"):
        status, text = raw_get(setup, f"/passthrough/{no_subdomain}/{path}")
        assert status == 400 and "segment" in text, (path, status, text[:200])
    assert provider.api_calls() == calls, "a refused call reached the provider"


def test_streams_large_bodies_both_ways(setup: Setup, provider):
    connection_id = create_connection(setup, "mock_apikey", {"key": "k", "meta": {"subdomain": "acme"}})
    size = 20 * 1024 * 1024
    digest = hashlib.sha256()
    received = 0
    with setup.http.stream(
        "GET", f"{setup.server.base_url}/passthrough/{connection_id}/download/{size}", headers=setup.headers
    ) as r:
        assert r.status_code == 200
        for chunk in r.iter_bytes():
            received += len(chunk)
            digest.update(chunk)
    pattern = bytes(range(256)) * 256
    expected = hashlib.sha256((pattern * (size // len(pattern) + 1))[:size]).hexdigest()
    assert received == size and digest.hexdigest() == expected

    def upload():
        piece = b"\xab" * 65536
        for _ in range(size // len(piece)):
            yield piece

    r = setup.http.put(
        f"{setup.server.base_url}/passthrough/{connection_id}/upload",
        headers={**setup.headers, "content-type": "application/octet-stream"},
        content=upload(),
    )
    assert r.status_code == 200, r.text[:200]
    assert r.json() == {"length": size, "sha256": hashlib.sha256(b"\xab" * size).hexdigest()}


def test_200_mb_each_way_with_bounded_memory(backend, make_server, make_setup, provider, figures):
    server = make_server("stream", *DEFAULT_SERVE_ARGS, "--passthrough-body-limit", "256")
    setup = make_setup(server)
    connection_id = create_connection(setup, "mock_apikey", {"key": "k", "meta": {"subdomain": "acme"}})
    url = f"{server.base_url}/passthrough/{connection_id}"
    size = 200 * 1024 * 1024
    piece = b"\x5a" * 65536

    def upload(total: int):
        for _ in range(total // len(piece)):
            yield piece

    def download(total: int) -> None:
        with setup.http.stream("GET", f"{url}/download/{total}", headers=setup.headers) as r:
            assert r.status_code == 200
            assert sum(len(c) for c in r.iter_bytes()) == total

    def send(total: int) -> None:
        r = setup.http.put(
            f"{url}/upload", headers={**setup.headers, "content-type": "application/octet-stream"}, content=upload(total)
        )
        assert r.status_code == 200 and r.json()["length"] == total, r.text[:200]

    download(16 * 1024 * 1024)  # pools and buffers warmed up
    send(16 * 1024 * 1024)
    growth = {}
    started = time.monotonic()
    for name, transfer in (("download", download), ("upload", send)):
        baseline = server.rss_kib()
        peak = baseline
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, server.rss_kib())
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            transfer(size)
        finally:
            stop.set()
            sampler.join()
        growth[name] = (peak - baseline) / 1024
    elapsed = time.monotonic() - started
    figures(
        f"200 MiB down and 200 MiB up in {elapsed:.1f} s; server RSS {server.rss_kib() / 1024:.0f} MiB, "
        f"peak growth {growth['download']:.1f} MiB downloading, {growth['upload']:.1f} MiB uploading"
    )
    for name, mib in growth.items():
        assert mib <= 16, f"the server's RSS grew by {mib:.1f} MiB during the {name}"


def test_bodies_over_the_limit_are_413s(backend, make_server, make_setup, provider):
    server = make_server("limit", *DEFAULT_SERVE_ARGS, "--passthrough-body-limit", "1")
    setup = make_setup(server)
    connection_id = create_connection(setup, "mock_apikey", {"key": "k", "meta": {"subdomain": "acme"}})
    url = f"{server.base_url}/passthrough/{connection_id}/upload"
    two_mib = b"\x01" * (2 * 1024 * 1024)
    calls = provider.api_calls()
    r = setup.http.post(url, headers=setup.headers, content=two_mib)  # declared Content-Length
    assert r.status_code == 413 and r.headers[ORIGIN] == "switchboard", r.text[:200]
    assert error_code(r) == "payload_too_large" and "1 MiB" in r.json()["error"]["message"]
    assert provider.api_calls() == calls, "a body over the limit was sent on"

    def chunks():
        for i in range(0, len(two_mib), 65536):
            yield two_mib[i : i + 65536]

    r = setup.http.post(url, headers=setup.headers, content=chunks())  # chunked: cut off at the limit
    assert r.status_code == 413 and error_code(r) == "payload_too_large", r.text[:200]
    assert r.headers[ORIGIN] == "switchboard"
    # Exactly the limit passes.
    r = setup.http.post(url, headers=setup.headers, content=two_mib[: 1024 * 1024])
    assert r.status_code == 200 and r.json()["length"] == 1024 * 1024, r.text[:200]


# ----- OAuth: fresh tokens, one forced refresh on a 401 ----------------------------------------


def test_oauth_token_injected_and_refreshed_once_on_401(setup: Setup, provider, integration, http):
    connection_id = connect(setup, integration, http)
    r = passthrough(setup, "GET", connection_id, "v1/me", headers={**setup.headers, "Mock-Version": "old"})
    assert r.status_code == 200 and r.headers[ORIGIN] == "vendor", r.text[:200]
    headers = echoed_headers(r.json())
    assert headers["authorization"] == [provider_fingerprint("Bearer " + provider.last_issued()["access_token"])]
    assert headers["mock-version"] == ["2026-12-01"], "the definition's fixed header must win"
    # What the definition's meta_from keeps: the token answer's instance_url, the callback's realmId.
    meta = setup.connection(connection_id)["auth"]["meta"]
    assert (meta.get("instance_url"), meta.get("realm_id")) == ("https://acme.example.com", "4620816365"), meta

    # The provider stops accepting the token: one forced refresh, one retry, a 200.
    provider.revoke_access_tokens()
    provider.reset_counters()
    r = passthrough(setup, "POST", connection_id, "v1/items", json={"a": 1})
    assert r.status_code == 200, r.text[:200]
    assert r.json()["body_length"] == len(b'{"a":1}') or r.json()["body_length"] > 0
    assert provider.token_calls("refresh_token") == 1, provider.stats()
    assert provider.stats()["api_refusals"] == 1
    healthy = setup.connection(connection_id)
    assert healthy.get("last_healthy_at"), healthy.get("last_healthy_at")

    # Refused again within a minute: no second forced refresh (the token is new, so the provider
    # refuses for another reason); the 401 is relayed and the connection is unhealthy.
    provider.revoke_access_tokens()
    provider.reset_counters()
    r = passthrough(setup, "GET", connection_id, "v1/me")
    assert r.status_code == 401 and r.headers[ORIGIN] == "vendor", r.text[:200]
    assert provider.token_calls() == 0, provider.stats()
    after = setup.connection(connection_id)
    assert after.get("last_unhealthy_at") and after["last_unhealthy_at"] >= after.get("last_healthy_at", ""), after

    # Another connection whose refresh is refused too: one token call, the 401 relayed, the
    # connection unhealthy and in need of re-authorization.
    other = connect(setup, integration, http)
    provider.revoke_access_tokens()
    provider.revoke_refresh_tokens()
    provider.reset_counters()
    r = passthrough(setup, "GET", other, "v1/me")
    assert r.status_code == 401 and r.headers[ORIGIN] == "vendor", r.text[:200]
    assert provider.token_calls("refresh_token") == 1, provider.stats()
    refused = setup.connection(other)
    assert refused.get("last_unhealthy_at") and refused.get("refresh_status") == "needs_reauth", refused


def test_a_workspace_can_override_the_base_url(setup: Setup, provider, integration, http):
    base = setup.server.base_url
    settings = {"client_id": provider.client_id, "client_secret": provider.client_secret}
    for bad in ("ftp://127.0.0.1/x", "https://api.example.com/v1?x=1", "{instance_url}/x", "https://{Sub}.x.com"):
        r = http.put(f"{base}/switchboard/integration/{integration.type}", headers=setup.headers, json={**settings, "api_base_url": bad})
        assert r.status_code == 400 and "api_base_url" in r.text, (bad, r.status_code, r.text[:200])
    r = http.put(
        f"{base}/switchboard/integration/{integration.type}",
        headers=setup.headers,
        json={**settings, "api_base_url": "http://127.0.0.1:31410/plain/self-hosted"},
    )
    assert r.status_code == 200 and r.json()["api_base_url"] == "http://127.0.0.1:31410/plain/self-hosted", r.text
    connection_id = connect(setup, integration, http)
    r = passthrough(setup, "GET", connection_id, "v1/me")
    assert r.status_code == 200, r.text[:200]
    assert r.json()["raw_uri"] == "/plain/self-hosted/v1/me"
    token = provider.last_issued()["access_token"]
    assert echoed_headers(r.json())["authorization"] == [provider_fingerprint("Bearer " + token)]


def test_proxy_only_key_calls_passthrough_but_never_reads_credentials(setup: Setup, provider):
    key = "k-" + secrets.token_hex(6)
    connection_id = create_connection(setup, "mock_apikey", {"key": key, "meta": {"subdomain": "acme"}})
    base = setup.server.base_url

    def new_key(scopes: List[str]) -> Dict[str, str]:
        r = setup.http.post(f"{base}/switchboard/apikey", headers=setup.headers, json={"name": "p", "scopes": scopes})
        assert r.status_code == 200, r.text[:300]
        return {"Authorization": r.json()["key"]}

    proxy = new_key(["connections:proxy"])
    r = setup.http.get(f"{base}/passthrough/{connection_id}/v1/me", headers=proxy)
    assert r.status_code == 200, r.text[:200]
    assert echoed_headers(r.json())["x-api-key"] == [provider_fingerprint(key)]
    for path in (f"/unified/connection/{connection_id}", "/unified/connection"):
        r = setup.http.get(base + path, headers=proxy)
        assert r.status_code == 403, (path, r.status_code)
        assert key not in r.text

    reader = new_key(["connections:read", "connections:credentials"])
    r = setup.http.get(f"{base}/passthrough/{connection_id}/v1/me", headers=reader)
    assert r.status_code == 403 and "connections:proxy" in r.json()["error"]["message"], r.text[:200]
    assert r.headers[ORIGIN] == "switchboard"


# ----- egress -----------------------------------------------------------------------------------


INTERNAL_BASES = {
    "private": "https://10.0.0.1/api",
    "metadata": "https://169.254.169.254/latest",
    "ipv6_loopback": "http://[::1]:31410/plain",
    "unspecified": "https://0.0.0.0/api",
    "name_to_loopback": "http://localhost:31410/plain",
}


def test_internal_destinations_are_refused_without_egress_allow(
    backend, switchboard_bin, workdir, databases, provider
):
    directory = workdir / f"egress-{uuid.uuid4().hex[:8]}"
    directory.mkdir()
    for name, base in INTERNAL_BASES.items():
        (directory / f"{name}.yaml").write_text(
            f"type: egress_{name}\nname: Egress {name}\ncategories: [crm]\n"
            f"auth:\n  kind: api_key\n  token_names: [api_key]\n"
            f"api:\n  base_url: {base}\n  credential: {{in: bearer, value: \"{{key}}\"}}\n"
        )
    server = SwitchboardServer(
        switchboard_bin,
        databases.new(backend, "egress"),
        workdir,
        name=f"{backend}-egress-{uuid.uuid4().hex[:6]}",
        serve_args=["--integrations-dir", str(directory)],
    )
    server.start()
    try:
        ws = server.create_workspace("egress")
        calls = provider.api_calls()
        for name in INTERNAL_BASES:
            r = httpx.post(
                f"{server.base_url}/unified/connection",
                headers=ws.headers(),
                json={
                    "integration_type": f"egress_{name}",
                    "auth": {"key": "secret-" + name},
                    "permissions": [],
                    "categories": ["crm"],
                },
            )
            assert r.status_code == 200, r.text[:200]
            started = time.monotonic()
            r = httpx.get(f"{server.base_url}/passthrough/{r.json()['id']}/v1/x", headers=ws.headers(), timeout=15)
            assert r.status_code == 403 and error_code(r) == "egress_refused", (name, r.status_code, r.text[:300])
            assert r.headers[ORIGIN] == "switchboard"
            message = r.json()["error"]["message"]
            assert "--egress-allow" in message and "secret-" not in message, message
            assert time.monotonic() - started < 2, f"{name}: the refusal took a connection attempt"
        assert provider.api_calls() == calls, "a refused destination was contacted"
    finally:
        server.stop_and_warn()


# ----- two replicas, 100 concurrent 401s ---------------------------------------------------------

CALLERS = 100


async def concurrent_gets(urls: List[str], headers: dict) -> List[Tuple[int, str]]:
    limits = httpx.Limits(max_connections=len(urls), max_keepalive_connections=len(urls))
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:
        start = asyncio.Event()

        async def one(url: str) -> Tuple[int, str]:
            await start.wait()
            try:
                r = await client.get(url, headers=headers)
            except httpx.HTTPError as exc:
                return (0, type(exc).__name__)
            return (r.status_code, r.headers.get(ORIGIN, ""))

        tasks = [asyncio.create_task(one(u)) for u in urls]
        await asyncio.sleep(0.05)
        start.set()
        return await asyncio.gather(*tasks)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_concurrent_401s_on_two_replicas_make_one_token_call(
    backend, databases, make_server, make_setup, provider, integration, http, figures
):
    database = databases.new("postgres", "passthrough_race")
    a = make_server("pt-race-A", *DEFAULT_SERVE_ARGS, database_url=database)
    b = make_server("pt-race-B", *DEFAULT_SERVE_ARGS, database_url=database)
    setup = make_setup(a)
    connection_id = connect(setup, integration, http)
    urls = [f"{(a if i % 2 == 0 else b).base_url}/passthrough/{connection_id}/v1/me" for i in range(CALLERS)]
    assert Counter(asyncio.run(concurrent_gets(urls[:4], setup.headers))) == {(200, "vendor"): 4}

    provider.revoke_access_tokens()
    provider.reset_counters()
    started = time.monotonic()
    results = asyncio.run(concurrent_gets(urls, setup.headers))
    elapsed = time.monotonic() - started
    assert Counter(results) == {(200, "vendor"): CALLERS}, Counter(results)
    assert provider.token_calls("refresh_token") == 1, provider.stats()
    assert provider.token_calls() == 1
    figures(f"{CALLERS} passthrough GETs refused with 401 over 2 replicas: 1 token call, all 200 in {elapsed:.2f} s")


# ----- the API call log ---------------------------------------------------------------------------


def database_text(database_url: str, table: str) -> str:
    """Every row of `table` as text (SQLite: the database file and its WAL, bytes as text)."""
    if database_url.startswith("sqlite:"):
        path = Path(database_url[len("sqlite:") :])
        return "".join(
            p.read_bytes().decode("latin-1") for p in (path, Path(f"{path}-wal")) if p.exists()
        )
    name = httpx.URL(database_url.replace("postgres://", "http://", 1)).path.lstrip("/")
    return psql(database_url, f"SELECT t::text FROM {table} t", database=name)


def run_sql(database_url: str, sql: str) -> None:
    if database_url.startswith("sqlite:"):
        with sqlite3.connect(database_url[len("sqlite:") :]) as db:
            db.execute(sql)
        return
    name = httpx.URL(database_url.replace("postgres://", "http://", 1)).path.lstrip("/")
    psql(database_url, sql, database=name)


def wait_for_calls(setup: Setup, count: int, **filters: Any) -> List[Any]:
    """The calls of the API call log matching `filters`, once there are `count` (written within a second)."""
    calls: List[Any] = []

    def enough() -> bool:
        nonlocal calls
        res = setup.sdk.apicall.list_unified_apicalls(request={"limit": 100, **filters})
        calls = res.api_calls or []
        return len(calls) >= count

    assert wait_until(enough, timeout=5), f"{len(calls)} calls logged, expected {count} ({filters})"
    return calls


def test_api_call_log_records_calls_and_no_secret(backend, setup: Setup, provider, integration, http):
    key = "logged-" + secrets.token_hex(8)
    connection_id = create_connection(setup, "mock_apikey", {"key": key, "meta": {"subdomain": "acme"}})
    assert passthrough(setup, "GET", connection_id, "v1/users", params={"secret_q": key}).status_code == 200
    assert passthrough(setup, "POST", connection_id, "v1/users", json={"k": key}).status_code == 200
    assert passthrough(setup, "GET", connection_id, "status/404").status_code == 404
    calls = wait_for_calls(setup, 3, connection_id=connection_id)
    assert len(calls) == 3
    newest = calls[0]
    assert (newest.method, newest.path, newest.status) == ("GET", f"/passthrough/{connection_id}/status/404", "404")
    assert newest.error and newest.type == "inbound" and newest.name == "passthrough"
    assert newest.integration_type == "mock_apikey" and newest.environment == "Production"
    assert newest.ip_address == "127.0.0.1" and "python-httpx" in (newest.user_agent or "")
    assert newest.unified_response_time is not None and newest.endapi_response_time is not None
    oldest = calls[-1]
    assert oldest.path == f"/passthrough/{connection_id}/v1/users" and oldest.status == "200", oldest
    assert oldest.size and oldest.size > 0 and not oldest.error
    errors = setup.sdk.apicall.list_unified_apicalls(request={"connection_id": connection_id, "error": True}).api_calls
    assert [c.status for c in errors or []] == ["404"]
    one = setup.sdk.apicall.get_unified_apicall(request={"id": oldest.id}).api_call
    assert one is not None and one.id == oldest.id and one.status == "200"

    # Answers without a body (HEAD, 204) are complete calls, not abandoned ones.
    other = create_connection(setup, "mock_apikey", {"key": key, "meta": {"subdomain": "acme"}})
    assert passthrough(setup, "HEAD", other, "v1/users").status_code == 200
    assert passthrough(setup, "DELETE", other, "status/204").status_code == 204
    bodiless = wait_for_calls(setup, 2, connection_id=other)
    assert sorted((c.method, c.status, c.error) for c in bodiless) == [("DELETE", "204", None), ("HEAD", "200", None)]

    # OAuth: the code exchange and a forced refresh are logged as `login` calls.
    oauth_id = connect(setup, integration, http)
    provider.revoke_access_tokens()
    assert passthrough(setup, "GET", oauth_id, "v1/me").status_code == 200
    logins = wait_for_calls(setup, 2, type="login", integration_type="mock")
    assert sorted(c.name for c in logins) == ["oauth.refresh", "oauth.token"], [c.name for c in logins]
    assert all(c.status == "200" and c.method == "POST" and c.path == "/oauth/token" for c in logins)
    passthroughs = wait_for_calls(setup, 1, connection_id=oauth_id, type="inbound")
    assert passthroughs[0].status == "200"

    # Nothing secret in the log: not the key, not the tokens, not the query string.
    issued = provider.issued()
    text = database_text(setup.server.database_url, "api_calls")
    assert "/passthrough/" in text, "the scan did not see the log"
    for secret in [key, setup.workspace.api_key] + [t["access_token"] for t in issued] + [
        t["refresh_token"] for t in issued if t.get("refresh_token")
    ]:
        assert secret not in text, f"a secret ({fingerprint(secret)}) is in the API call log"


def moved(setup: Setup, server) -> Setup:
    """`setup`'s workspace and key on another server of the same database."""
    sdk = UnifiedTo(
        server_url=server.base_url,
        security=shared.Security(jwt=setup.workspace.api_key),
        client=httpx.Client(timeout=15),
    )
    return Setup(server=server, workspace=setup.workspace, sdk=sdk, http=setup.http)


def test_api_call_log_survives_a_graceful_stop_and_is_purged(backend, databases, make_server, make_setup, provider):
    database = databases.new(backend, "calllog")
    server = make_server("calllog-1", *DEFAULT_SERVE_ARGS, database_url=database)
    setup = make_setup(server)
    connection_id = create_connection(setup, "mock_apikey", {"key": "k", "meta": {"subdomain": "acme"}})
    for _ in range(20):
        assert passthrough(setup, "GET", connection_id, "v1/x").status_code == 200
    # Stopped at once: the last calls are still in memory, and a graceful stop writes them.
    assert server.stop() == 0
    server = make_server("calllog-2", *DEFAULT_SERVE_ARGS, database_url=database)
    setup = moved(setup, server)
    assert len(wait_for_calls(setup, 20, connection_id=connection_id)) == 20

    # Older than the retention: purged by the background writer when a server starts.
    run_sql(database, "UPDATE api_calls SET created_at = created_at - 3 * 86400000")
    assert server.stop() == 0
    server = make_server("calllog-3", *DEFAULT_SERVE_ARGS, "--apicall-retention-days", "2", database_url=database)
    setup = moved(setup, server)

    def purged() -> bool:
        res = setup.sdk.apicall.list_unified_apicalls(request={"connection_id": connection_id})
        return not res.api_calls

    assert wait_until(purged, timeout=10), "calls older than the retention were not purged"
