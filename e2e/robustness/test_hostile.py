"""Hostile input: oversized heads, deep JSON, huge strings, bad bytes, SQL metacharacters,
repeated parameters, unsupported methods and slowloris clients. Each gets a clear 4xx (an error
body naming the problem) or is handled, and the server keeps serving."""

from __future__ import annotations

import random
import threading
import time
from typing import Dict, List

import httpx
import pytest

from rawhttp import closed_by_peer, connect, head, json_error, read_response, request

KIB = 1024
MIB = 1024 * 1024

STRING_FIELDS = [
    "integration_type", "integration_name", "external_xref", "environment", "auth_aws_arn",
    "auth_azure_keyvault_id", "auth_gcp_secret_name", "auth_hashi_vault_path", "secretsmanager_id",
    "secretsmanager_key",
]  # fmt: skip
AUTH_STRING_FIELDS = ["access_token", "refresh_token", "client_secret", "pem", "name", "token"]


@pytest.fixture
def api(make_server):
    server = make_server("--idle-timeout", "2", name="hostile")
    workspace = server.create_workspace("hostile")
    server.start()
    client = httpx.Client(base_url=server.base_url, headers=workspace.headers(), timeout=30.0)
    client.server = server  # type: ignore[attr-defined]
    client.auth_headers = workspace.headers()  # type: ignore[attr-defined]
    yield client
    client.close()
    server.assert_running()


def base_body(**extra) -> Dict:
    body = {"integration_type": "hostile", "permissions": [], "categories": ["crm"]}
    body.update(extra)
    return body


def assert_client_error(r: httpx.Response, status: int, words: str) -> None:
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:300]}"
    error = r.json()["error"]
    assert words.lower() in error["message"].lower(), error


def assert_healthy(api) -> None:
    api.server.assert_running()
    assert api.get("/unified/connection", params={"limit": 1}).status_code == 200


def test_64k_header_and_url(api):
    port = api.server.port
    status, _, body = request(port, "GET", "/unified/connection", {**api.auth_headers, "X-Big": "a" * (64 * KIB)})
    assert status == 431 and "header" in json_error(body)["message"], (status, body[:200])
    status, _, body = request(port, "GET", "/unified/connection?external_xref=" + "b" * (64 * KIB), api.auth_headers)
    assert status == 414 and "request target" in json_error(body)["message"], (status, body[:200])
    status, _, body = request(port, "GET", "/" + "c" * (64 * KIB), api.auth_headers)
    assert status == 414, (status, body[:200])
    # Beyond the parser's 80 KiB bound the request is refused before it is buffered further.
    status, headers, _ = request(port, "GET", "/unified/connection", {"X-Huge": "d" * (100 * KIB)})
    assert status == 400 and headers.get("connection") == "close", status
    status, _, _ = request(port, "GET", "/unified/connection?x=" + "e" * (100 * KIB))
    assert status == 400, status
    assert_healthy(api)


def test_deeply_nested_json(api):
    deep = b'{"integration_type":"x","permissions":[],"categories":["crm"],"auth":{"meta":' + b"[" * 10_000 + b"]" * 10_000 + b"}}"
    r = api.post("/unified/connection", content=deep, headers={"Content-Type": "application/json"})
    assert_client_error(r, 400, "nest")
    r = api.post("/unified/connection", content=b"{" * 10_000, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text[:300]
    assert_healthy(api)


@pytest.mark.parametrize("where", ["top-level", "auth"])
def test_one_mib_strings_in_every_string_field(api, where):
    fields = STRING_FIELDS if where == "top-level" else AUTH_STRING_FIELDS
    created = api.post("/unified/connection", json=base_body()).json()["id"]
    for name in fields:
        huge = "x" * MIB
        body = base_body(**{name: huge}) if where == "top-level" else base_body(auth={name: huge})
        r = api.post("/unified/connection", json=body)
        assert_client_error(r, 413, "larger than")
        r = api.patch(f"/unified/connection/{created}", json={k: v for k, v in body.items() if k in (name, "auth")})
        assert_client_error(r, 413, "larger than")
        # Just under the body limit: the field's own limit answers, naming the field.
        big = "y" * (MIB - 4 * KIB)
        body = base_body(**{name: big}) if where == "top-level" else base_body(auth={name: big})
        r = api.post("/unified/connection", json=body)
        assert_client_error(r, 400, name)
    assert_healthy(api)


# Character limits (openapi.yaml maxLength): the indexed labels are shorter so that a PostgreSQL
# index entry fits even at 4 bytes per character.
LABEL_LIMITS = {name: 1024 for name in STRING_FIELDS}
LABEL_LIMITS.update(integration_type=64, environment=64, integration_name=255, external_xref=255)


def test_every_label_at_its_limit_is_stored(api):
    rng = random.Random(5)

    def noise(n: int) -> str:
        # 4-byte characters (U+1F300..U+1FAFF and U+20000..): the most bytes per character.
        return "".join(chr(rng.choice([rng.randrange(0x1F300, 0x1F5FF), rng.randrange(0x20000, 0x2A6DF)])) for _ in range(n))

    # secretsmanager_id must name a registered secrets manager, so it is only checked over its limit.
    stored = {name: limit for name, limit in LABEL_LIMITS.items() if name != "secretsmanager_id"}
    body = base_body(**{name: noise(limit) for name, limit in stored.items()})
    r = api.post("/unified/connection", json=body)
    assert r.status_code == 200, r.text[:300]
    got = api.get(f"/unified/connection/{r.json()['id']}").json()
    for name in stored:
        assert got[name] == body[name], name
    r = api.get("/unified/connection", params={"external_xref": body["external_xref"], "env": body["environment"]})
    assert [c["id"] for c in r.json()] == [got["id"]]
    r = api.get("/unified/connection", params={"env": body["environment"], "sort": "name"})
    assert [c["id"] for c in r.json()] == [got["id"]]
    for name, limit in LABEL_LIMITS.items():
        r = api.post("/unified/connection", json=base_body(**{name: "a" * (limit + 1)}))
        assert_client_error(r, 400, f"{name} is longer than {limit} characters")


def test_invalid_utf8(api):
    for bad in (b'{"integration_type":"\xff\xfe","permissions":[],"categories":["crm"]}', b'{"integration_name":"\xc3\x28"}', b'{"a":"\xed\xa0\x80"}'):
        r = api.post("/unified/connection", content=bad, headers={"Content-Type": "application/json"})
        assert_client_error(r, 400, "UTF-8")
    port = api.server.port
    status, _, body = request(port, "GET", "/unified/connection?external_xref=%FF%FE", api.auth_headers)
    assert status == 400, (status, body[:200])
    # Raw non-ASCII bytes in the request line or a header value.
    status, _, _ = _raw(port, b"GET /unified/connection/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert 400 <= status < 500, status
    headers = dict(api.auth_headers)
    raw = head("GET", "/unified/connection", headers)[:-2] + b"X-Bad: \xff\xfe\r\n\r\n"
    status, _, _ = _raw(port, raw)
    assert status in (200, 400), status
    assert_healthy(api)


def _raw(port: int, data: bytes):
    with connect(port) as sock:
        sock.sendall(data)
        return read_response(sock)


def test_nul_bytes(api):
    for name in ("integration_type", "integration_name", "external_xref", "environment"):
        r = api.post("/unified/connection", json=base_body(**{name: "a\u0000b"}))
        assert_client_error(r, 400, name)
    # Credentials are sealed, so a NUL inside one is kept verbatim.
    r = api.post("/unified/connection", json=base_body(auth={"access_token": "a\u0000b"}))
    assert r.status_code == 200, r.text[:300]
    assert api.get(f"/unified/connection/{r.json()['id']}").json()["auth"]["access_token"] == "a\u0000b"
    r = api.get("/unified/connection", params={"external_xref": "a\u0000b"})
    assert_client_error(r, 400, "external_xref")
    r = api.get("/unified/connection", params={"env": "\u0000"})
    assert_client_error(r, 400, "env")
    r = api.post("/unified/connection", content=b'{"integration_type":"a\x00"}', headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text[:300]
    assert_healthy(api)


XREFS = [
    "'; DROP TABLE connections; --",
    "\" OR 1=1 --",
    "%",
    "_",
    "a%b_c\\",
    "\\'\\\"",
    "x' UNION SELECT * FROM api_keys --",
    "Ünïcødé ✓ 日本語 😀",
    "e\u0301",  # e + combining acute: not to be normalised to é
    "\u00e9",
    "\u202eevil\u202c",
    "  padded  ",
    "a\tb\nc",
]


def test_sql_metacharacters_and_unicode_in_external_xref(api):
    ids = {}
    for xref in XREFS:
        r = api.post("/unified/connection", json=base_body(external_xref=xref))
        assert r.status_code == 200, (xref, r.text[:300])
        assert r.json()["external_xref"] == xref
        ids[xref] = r.json()["id"]
    for xref in XREFS:
        assert api.get(f"/unified/connection/{ids[xref]}").json()["external_xref"] == xref
        r = api.get("/unified/connection", params={"external_xref": xref})
        assert r.status_code == 200, r.text[:300]
        assert [c["id"] for c in r.json()] == [ids[xref]], f"external_xref {xref!r} matched {r.json()}"
    assert len(api.get("/unified/connection", params={"limit": 100}).json()) == len(XREFS)


def test_duplicate_query_keys(api):
    for query in ("limit=1&limit=2", "offset=0&offset=0", "sort=name&sort=created_at", "order=asc&order=desc",
                  "external_xref=a&external_xref=b", "env=a&env=b", "updated_gte=2020-01-01&updated_gte=2021-01-01"):
        r = api.get(f"/unified/connection?{query}")
        name = query.split("=")[0]
        assert_client_error(r, 400, f"{name} is given 2 times")
    # categories is a list: repeating it is allowed and means the union.
    assert api.get("/unified/connection?categories=crm&categories=hris").status_code == 200


def test_unsupported_methods_get_405_with_allow(api):
    cid = api.post("/unified/connection", json=base_body()).json()["id"]
    cases = {
        "/unified/connection": ["PUT", "PATCH", "DELETE", "TRACE", "OPTIONS"],
        f"/unified/connection/{cid}": ["POST", "TRACE", "OPTIONS"],
        "/health": ["POST", "DELETE"],
        "/openapi.yaml": ["PUT"],
    }
    for path, methods in cases.items():
        for method in methods:
            r = api.request(method, path)
            assert r.status_code == 405, f"{method} {path} answered {r.status_code}"
            allow = {m.strip() for m in r.headers.get("allow", "").split(",")}
            assert "GET" in allow and method not in allow, f"{method} {path}: Allow {allow}"
            assert method in r.json()["error"]["message"]


def test_slowloris_is_dropped_and_others_are_served(api, figures):
    port = api.server.port
    loris: List = []
    for _ in range(50):
        sock = connect(port)
        sock.sendall(b"GET /unified/connection HTTP/1.1\r\nHost: x\r\n")
        loris.append(sock)
    stop = threading.Event()

    def trickle(sock):
        # One header byte every 0.5 s: never idle by the byte, never a complete head.
        while not stop.is_set():
            try:
                sock.sendall(b"X")
            except OSError:
                return
            time.sleep(0.5)

    started = time.monotonic()
    threads = [threading.Thread(target=trickle, args=(s,), daemon=True) for s in loris]
    for t in threads:
        t.start()
    # Others are served meanwhile.
    latencies = []
    for _ in range(20):
        t0 = time.monotonic()
        assert api.get("/unified/connection", params={"limit": 5}).status_code == 200
        latencies.append(time.monotonic() - t0)
    waits = [closed_by_peer(s, within=10.0) for s in loris]
    all_dropped_by = time.monotonic() - started
    stop.set()
    for t in threads:
        t.join(timeout=5)
    for s in loris:
        s.close()
    assert all(w is not None for w in waits), f"{sum(w is None for w in waits)} slowloris connections stayed open 10 s"
    assert max(latencies) < 2.0, f"a normal request took {max(latencies):.2f} s during the attack"
    assert_healthy(api)
    figures(
        f"50 slowloris connections (1 header byte per 0.5 s) all dropped (idle timeout 2 s; all closed "
        f"within {all_dropped_by:.1f} s of opening); normal requests meanwhile: max {max(latencies) * 1000:.0f} ms"
    )
