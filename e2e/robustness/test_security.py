"""Security regressions: each test pins a defect that was fixed in the server and fails on the old
behaviour. Request bodies that are too large, badly framed or cut short are 4xx answers that close
the connection (never a 500, never an error-level log line: client faults are not server faults);
a key without the scope is refused before its body is read; control characters in ids and filters
are 400s on every backend; refused and trickled bodies are not drained; the audit Link header is a
path, never a protocol-relative URL; the SQLite files are private; a server out of file
descriptors neither spins nor stops serving; the lockout throttles failing keys per client (behind
a trusted proxy too) without locking out working ones; anonymous authorize calls are rate limited.
"""

from __future__ import annotations

import json
import os
import re
import resource
import socket
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import httpx
import pytest
import yaml

from rawhttp import connect, head, json_error, parse_response, read_until_closed, request
from test_hostile import api, assert_healthy, base_body  # noqa: F401  (api is a fixture)

# Servers here write their logs to a file, so they log JSON (`--log-format` defaults to json when
# standard error is not a terminal): one object per line with `level`.
ERROR_LEVELS = {"error", "critical"}


def log_records(server) -> list:
    """Every log line of the server as a JSON object; fails on a line that is not one."""
    records = []
    for line in server.stderr_path.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a log line is not JSON: {line[:200]!r}", pytrace=False)
    return records


JSON = {"Content-Type": "application/json"}
BAD_KEY = "Bearer sbk_0000000000000000_not-a-valid-key"


# ----- helpers ---------------------------------------------------------------------------------


def assert_no_error_logs(server) -> None:
    """Client faults are not logged at error level. The check is not vacuous: the log must hold
    lines in the expected format (the startup lines at least)."""
    time.sleep(0.2)  # let the log catch up with the last answer
    records = log_records(server)
    assert any(r.get("message") == "request" for r in records), f"no request log line in {server.stderr_path}"
    errors = [r for r in records if r.get("level") in ERROR_LEVELS]
    assert not errors, f"{len(errors)} error-level log lines for client faults:\n" + "\n".join(map(str, errors[:10]))


def serve(make_server, *serve_args: str, name: str) -> httpx.Client:
    """A started server (with `serve_args`) and an httpx client holding a full-access key, shaped
    like test_hostile's `api` fixture. The caller closes the client."""
    server = make_server(*serve_args, name=name)
    workspace = server.create_workspace(name)
    server.start()
    client = httpx.Client(base_url=server.base_url, headers=workspace.headers(), timeout=30.0)
    client.server = server  # type: ignore[attr-defined]
    client.auth_headers = workspace.headers()  # type: ignore[attr-defined]
    client.workspace = workspace  # type: ignore[attr-defined]
    return client


@dataclass
class Exchange:
    """What the server wrote on one connection until it closed it (or `within` ran out)."""

    status: int
    headers: Dict[str, str]
    body: bytes
    answered: float  # seconds until the first response was complete
    closed: Optional[float]  # seconds until the server closed the connection; None: still open
    trailing: bytes  # anything written after the first response (a second response, say)


def exchange(sock: socket.socket, within: float = 5.0) -> Exchange:
    """Reads from `sock` until the server closes it, for at most `within` seconds from now."""
    start = time.monotonic()
    data = b""
    answered: Optional[float] = None
    closed: Optional[float] = None
    while closed is None and time.monotonic() - start < within:
        more, closed_after = read_until_closed(sock, min(0.05, max(0.0, within - (time.monotonic() - start))))
        data += more
        if answered is None:
            try:
                parse_response(data)
                answered = time.monotonic() - start
            except ValueError:
                pass
        if closed_after is not None:
            closed = time.monotonic() - start
    if answered is None:
        state = "still open" if closed is None else f"closed after {closed:.2f} s"
        pytest.fail(f"no complete response within {within} s ({len(data)} bytes); connection {state}", pytrace=False)
    status, headers, body, trailing = parse_response(data)
    return Exchange(status, headers, body, answered, closed, trailing)


def assert_refused_and_closed(what: str, got: Exchange, status: int, code: str, says_close: bool = False) -> None:
    """One `status` response with error `code`, after which the server closed the connection;
    `says_close`: the response also says `Connection: close`."""
    assert got.status == status, f"{what}: expected {status}, got {got.status}: {got.body[:300]!r}"
    assert json_error(got.body)["code"] == code, f"{what}: {got.body[:300]!r}"
    if says_close:
        assert got.headers.get("connection", "").lower() == "close", f"{what}: no Connection: close ({got.headers})"
    assert got.closed is not None, f"{what}: the connection stayed open after the {got.status}"
    assert got.trailing == b"", f"{what}: more bytes after the {got.status} response: {got.trailing[:300]!r}"


def trickle(sock: socket.socket, byte: bytes, interval: float, stop: threading.Event) -> threading.Thread:
    """Sends `byte` every `interval` seconds until `stop` is set or the server closes the socket."""

    def run() -> None:
        while not stop.is_set():
            try:
                sock.sendall(byte)
            except OSError:
                return
            stop.wait(interval)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def body_routes() -> List[tuple]:
    """Every operation of the API document that takes a JSON body, so a route added later is
    covered without touching this file; {cid} stands for a real connection's id."""
    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "Sources/SwitchboardServer/openapi.yaml").read_text())
    routes = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            # JSON bodies only: passthrough's are opaque, streamed to the provider and bounded by
            # --passthrough-body-limit (e2e/oauth/test_passthrough.py covers them).
            if path.startswith("/passthrough/"):
                continue
            if method in ("post", "put", "patch") and "requestBody" in operation:
                routes.append(
                    (method.upper(), path.replace("{id}", "{cid}").replace("{integration_type}", "hubspot"))
                )
    assert len(routes) >= 8, routes
    return sorted(routes)


BODY_ROUTES = body_routes()


def workspace_id(api) -> str:
    """The id of the workspace of `api`'s key."""
    r = api.get("/switchboard/workspace")
    assert r.status_code == 200, r.text[:300]
    return r.json()["id"]


# ----- 1. bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path", BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
def test_broken_bodies_are_4xx_that_close_the_connection(api, method, path):
    """Chunked bodies are bounded like declared ones (a 1.5 MiB chunked body is a 413, not
    buffered); broken chunk framing and unknown transfer codings are a 400 `malformed_body`, not a
    500; a client that stops mid-body is no server fault. Each answer closes the connection, is
    the only response on the wire, and none of it is logged at error level."""
    if "{cid}" in path:
        path = path.format(cid=api.post("/unified/connection", json=base_body()).json()["id"])
    port = api.server.port
    headers = {**api.auth_headers, **JSON}
    chunked = {**headers, "Transfer-Encoding": "chunked"}

    # (a) 1.5 MiB, chunked: sent from a thread, as the server answers (and closes) mid-body.
    with connect(port) as sock:
        sock.sendall(head(method, path, chunked))
        piece = b"a" * (64 * 1024)

        def send_chunks() -> None:
            try:
                for _ in range(24):  # 24 x 64 KiB = 1.5 MiB
                    sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                sock.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # closed by the server after its 413

        sender = threading.Thread(target=send_chunks, daemon=True)
        sender.start()
        got = exchange(sock)
        sender.join(timeout=5)
    assert_refused_and_closed(f"{method} {path} 1.5 MiB chunked", got, 413, "payload_too_large")
    assert_healthy(api)

    framing = {
        "(b) chunk size zz": (chunked, b"zz\r\n"),
        "(c) chunk without CRLF": (chunked, b"5\r\nhelloXX0\r\n\r\n"),
        "(d) Transfer-Encoding: gzip": ({**headers, "Transfer-Encoding": "gzip"}, b'{"a":1}'),
        "(e) Transfer-Encoding: xchunked": ({**headers, "Transfer-Encoding": "xchunked"}, b'{"a":1}'),
    }
    for what, (request_headers, payload) in framing.items():
        with connect(port) as sock:
            sock.sendall(head(method, path, request_headers) + payload)
            got = exchange(sock)
        # After broken framing the next request cannot be found: the connection must close.
        assert_refused_and_closed(f"{method} {path} {what}", got, 400, "malformed_body")
        assert_healthy(api)

    # (f) Content-Length: 1000, 10 bytes, then the client closes: nobody is left to answer.
    with connect(port) as sock:
        sock.sendall(head(method, path, {**headers, "Content-Length": "1000"}) + b'{"a":12345')
    time.sleep(0.3)
    assert_healthy(api)
    assert_no_error_logs(api.server)


# ----- 2. scope before body --------------------------------------------------------------------


def test_missing_scope_is_refused_before_the_body(api):
    """A key that may not create connections gets its 403 from the head alone: the server neither
    waits for nor reads a 900 KB body it would refuse anyway, and closes the connection."""
    r = api.post("/switchboard/apikey", json={"scopes": ["connections:read"]})
    assert r.status_code == 200, r.text[:300]
    read_only = {"Authorization": f"Bearer {r.json()['key']}"}
    with connect(api.server.port) as sock:
        sock.sendall(head("POST", "/unified/connection", {**read_only, **JSON, "Content-Length": "900000"}))
        got = exchange(sock, within=5.0)
    assert got.answered < 2.0, f"the 403 took {got.answered:.2f} s: the server waited for the body"
    # The refusal comes before the body is read; a client that never sends the body is closed once
    # the unread-body grace period (2 s) has passed, instead of holding the socket.
    assert_refused_and_closed("connections:read key creating a connection", got, 403, "insufficient_scope")
    assert_healthy(api)
    assert_no_error_logs(api.server)


# ----- 3. NUL and control characters -----------------------------------------------------------


def test_nul_in_ids_and_filters_is_a_400(api):
    """A NUL in a path id or a query filter is a 400 before any database work (PostgreSQL refuses
    NUL in text, which made these 500s), on every route that takes one, the anonymous authorize
    URL included."""
    port = api.server.port
    cid = api.post("/unified/connection", json=base_body()).json()["id"]
    cases = []
    for target in ("/unified/connection/%00", f"/unified/connection/{cid}%00"):
        cases += [("GET", target, b""), ("PATCH", target, b'{"environment":"x"}'), ("DELETE", target, b"")]
    cases += [("GET", "/switchboard/audit?connection_id=%00", b""), ("GET", "/switchboard/audit?actor=a%00", b"")]
    wrong = []
    for method, target, body in cases:
        status, _, answer = request(port, method, target, {**api.auth_headers, **JSON} if body else api.auth_headers, body)
        if status != 400:
            wrong.append((method, target, status, answer[:200]))
    authorize = f"/unified/integration/auth/{workspace_id(api)}/hubspot?connection_id=%00&reauth_token={'A' * 43}"
    status, _, answer = request(port, "GET", authorize)
    if status != 400:
        wrong.append(("GET", authorize, status, answer[:200]))
    assert not wrong, f"not 400: {wrong}"
    # The real connection is untouched by the DELETE of "<id>%00".
    assert api.get(f"/unified/connection/{cid}").status_code == 200
    assert_healthy(api)
    assert_no_error_logs(api.server)


# ----- 4. slow bodies --------------------------------------------------------------------------


def trickled_exchange(port: int, headers: Dict[str, str], every: float, within: float):
    """POSTs a head to /unified/connection, then trickles its body one byte per `every` seconds
    while reading what the server answers within `within` seconds."""
    stop = threading.Event()
    with connect(port) as sock:
        sock.sendall(head("POST", "/unified/connection", headers))
        sender = trickle(sock, b" ", every, stop)
        try:
            return exchange(sock, within=within)
        finally:
            stop.set()
            sender.join(timeout=5)


def test_refused_trickled_body_is_not_drained(api):
    """After a refusal that never reads the body (no key, 10 MB declared), the server closes the
    connection instead of draining a trickle that could hold it for hours."""
    got = trickled_exchange(
        api.server.port, {**JSON, "Content-Length": str(10 * 1000 * 1000)}, every=0.1, within=3.5
    )
    assert_refused_and_closed("anonymous 10 MB trickle (within 3.5 s)", got, 401, "unauthorized")
    assert_healthy(api)
    assert_no_error_logs(api.server)


def test_body_read_timeout_answers_408_and_closes(make_server):
    """A body trickled one byte per 0.5 s never trips the idle timeout, so the whole body has a
    deadline (`--body-read-timeout`): past it the client gets a 408 and the connection closes."""
    client = serve(make_server, "--body-read-timeout", "2", name="bodytimeout")
    try:
        got = trickled_exchange(
            client.server.port, {**client.auth_headers, **JSON, "Content-Length": "100"}, every=0.5, within=8.0
        )
        assert got.answered < 4.0, f"the 408 took {got.answered:.2f} s with a 2 s body timeout"
        assert_refused_and_closed("authenticated trickled body", got, 408, "body_timeout")
        assert client.get("/unified/connection", params={"limit": 1}).status_code == 200
        assert_no_error_logs(client.server)
    finally:
        client.close()


# ----- 5. audit Link header --------------------------------------------------------------------


def test_audit_link_is_a_path_not_a_protocol_relative_url(api):
    """The next-page Link of GET //switchboard/audit is built from the route, not from the request
    path: "<//switchboard/audit?...>" would be a protocol-relative URL naming host "switchboard"."""
    for _ in range(2):
        assert api.post("/unified/connection", json=base_body()).status_code == 200
    status, headers, body = request(api.server.port, "GET", "//switchboard/audit?limit=1", api.auth_headers)
    assert status == 200, (status, body[:300])
    link = headers.get("link", "")
    assert link.startswith("</switchboard/audit?"), f"Link: {link!r}"
    target = link[1 : link.index(">")]
    status, _, body = request(api.server.port, "GET", target, api.auth_headers)
    assert status == 200 and len(json.loads(body)) == 1, (status, body[:300])


# ----- 6. files at rest ------------------------------------------------------------------------


def test_sqlite_files_are_private(make_server, backend):
    """The database holds sealed credentials and key hashes: the server creates its data directory
    0700 and the database, -wal and -shm files 0600, whatever the umask."""
    if backend.name != "sqlite":
        pytest.skip("SQLite files only")
    data_dir = backend.sqlite_path.parent
    assert not data_dir.exists()
    server = make_server(name="files")
    old_umask = os.umask(0o022)
    try:
        server.start()
    finally:
        os.umask(old_umask)
    modes = {}
    for path in (data_dir, backend.sqlite_path, Path(f"{backend.sqlite_path}-wal"), Path(f"{backend.sqlite_path}-shm")):
        assert path.exists(), f"{path.name} does not exist after start"
        modes[path.name] = oct(stat.S_IMODE(path.stat().st_mode))
    expected = {data_dir.name: "0o700", **{p: "0o600" for p in modes if p != data_dir.name}}
    assert modes == expected


# ----- 7. file descriptors ---------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_file_descriptors_neither_spins_nor_stops_serving(make_server, figures):
    """With 256 descriptors and 300 idle connections, the server caps its connections (256 - 96)
    and leaves the rest in the listen backlog, instead of accepting until EMFILE and then retrying
    accept in a busy loop; idle ones are closed after the idle timeout, so /health gets through."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1024:  # the test itself holds 300 sockets
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    server = make_server("--idle-timeout", "3", name="fds")
    server.preexec_fn = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    server.start()
    limits = Path(f"/proc/{server.pid}/limits").read_text()
    assert re.search(r"Max open files\s+256\s+256", limits), limits
    idle: List[socket.socket] = []
    try:
        for _ in range(300):
            idle.append(connect(server.port, timeout=5.0))
        time.sleep(0.3)
        fds = server.open_fds()
        assert fds < 256, f"the server holds {fds} descriptors: it accepted up to its limit"
        wall0, cpu0 = time.monotonic(), cpu_seconds(server.pid)
        time.sleep(3.0)
        wall, cpu = time.monotonic() - wall0, cpu_seconds(server.pid) - cpu0
        started = time.monotonic()
        r = httpx.get(f"{server.base_url}/health", timeout=10.0)
        health = time.monotonic() - started
        assert r.status_code == 200, r.status_code
        assert cpu < 0.3 * wall, f"the server used {cpu:.2f} s of CPU in {wall:.2f} s with 300 idle connections"
        assert health < 10.0
    finally:
        for sock in idle:
            sock.close()
    server.assert_running()
    assert httpx.get(f"{server.base_url}/health", timeout=10.0).status_code == 200
    figures(f"256 fds, 300 idle connections: server held {fds} fds, CPU {cpu / wall:.0%} of wall time; /health answered in {health:.1f} s")


# ----- 8. lockout ------------------------------------------------------------------------------


def test_lockout_throttles_failures_not_working_keys(make_server):
    """After more failed keys from one address than `--auth-failure-limit`, a bad key from it is a
    429, but a valid key from the same address (a NAT, a proxy) still works."""
    client = serve(make_server, "--auth-failure-limit", "5", name="lockout")
    try:
        statuses = [client.get("/unified/connection", headers={"Authorization": BAD_KEY}).status_code for _ in range(10)]
        assert statuses == [401] * 5 + [429] * 5, statuses
        assert client.get("/unified/connection").status_code == 200
        r = client.get("/unified/connection", headers={"Authorization": BAD_KEY})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0, (r.status_code, r.text[:300])
        assert_no_error_logs(client.server)
    finally:
        client.close()


def test_lockout_behind_a_trusted_proxy_is_per_client(make_server):
    """Behind a trusted proxy the lockout is keyed by the X-Forwarded-For client: one client's bad
    keys lock out that client, not the proxy's other clients."""
    client = serve(make_server, "--trusted-proxy", "127.0.0.1", "--auth-failure-limit", "5", name="proxy")
    try:

        def bad(forwarded_for: str) -> int:
            headers = {"Authorization": BAD_KEY, "X-Forwarded-For": forwarded_for}
            return client.get("/unified/connection", headers=headers).status_code

        statuses = [bad("203.0.113.7") for _ in range(10)]
        assert statuses == [401] * 5 + [429] * 5, statuses
        assert bad("203.0.113.7") == 429
        assert bad("203.0.113.8") == 401
        # The proxy's own address was never the one failing, and a working key from the locked-out
        # client still works.
        assert client.get("/unified/connection", headers={"Authorization": BAD_KEY}).status_code == 401
        r = client.get("/unified/connection", headers={"X-Forwarded-For": "203.0.113.7"})
        assert r.status_code == 200, r.status_code
        assert_no_error_logs(client.server)
    finally:
        client.close()


# ----- 9. authorize rate limit -----------------------------------------------------------------


def test_anonymous_authorize_is_rate_limited(make_server):
    """Each anonymous authorize call may store a row, so calls per address (and per workspace) are
    limited: the sixth within a minute with `--authorize-rate-limit 5` is a 429 with Retry-After,
    whatever the first five answered."""
    client = serve(make_server, "--authorize-rate-limit", "5", name="authorize")
    try:
        url = f"{client.server.base_url}/unified/integration/auth/{client.workspace.id}/hubspot"
        with httpx.Client(timeout=10.0) as anonymous:
            first = [anonymous.get(url).status_code for _ in range(5)]
            assert 429 not in first, first
            r = anonymous.get(url)
        assert r.status_code == 429, (first, r.status_code, r.text[:300])
        assert r.json()["error"]["code"] == "too_many_authorizations"
        assert int(r.headers["retry-after"]) > 0
        assert_no_error_logs(client.server)
    finally:
        client.close()
