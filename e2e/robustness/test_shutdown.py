"""Graceful shutdown: SIGTERM drains in-flight requests; a timeout or a second SIGTERM stops
the server hard without harming the database."""

from __future__ import annotations

import json
import signal
import socket
import time
from typing import List

import httpx
import pytest

from rawhttp import connect, head, read_response

IN_FLIGHT = 5


def create_body(n: int) -> bytes:
    return json.dumps(
        {
            "integration_type": "shutdown",
            "external_xref": f"drain-{n}",
            "permissions": [],
            "categories": ["crm"],
            "auth": {"access_token": f"token-{n}"},
        }
    ).encode()


def start_half_sent_creates(port: int, headers: dict, count: int) -> List[tuple]:
    """Opens `count` POSTs whose head and first half of the body have been sent."""
    pending = []
    for n in range(count):
        body = create_body(n)
        sock = connect(port)
        request_headers = dict(headers, **{"Content-Type": "application/json", "Content-Length": str(len(body))})
        sock.sendall(head("POST", "/unified/connection", request_headers) + body[: len(body) // 2])
        pending.append((sock, body))
    return pending


def exit_within(server, seconds: float) -> float:
    """Waits for the server process to exit; returns how long it took."""
    assert server.proc is not None
    start = time.monotonic()
    try:
        server.proc.wait(timeout=seconds)
    except Exception:
        pytest.fail(f"the server did not exit within {seconds:.0f} s of the signal", pytrace=False)
    return time.monotonic() - start


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return False
    except OSError:
        return True


def test_sigterm_drains_in_flight_requests(make_server, backend, figures):
    server = make_server("--shutdown-timeout", "10", name="drain")
    workspace = server.create_workspace("drain")
    server.start()
    port = server.port
    pending = start_half_sent_creates(port, workspace.headers(), IN_FLIGHT)
    # An idle keep-alive connection must not hold the shutdown up.
    idle = httpx.Client(base_url=server.base_url, headers=workspace.headers())
    assert idle.get("/unified/connection").status_code == 200
    time.sleep(0.3)  # the heads have been parsed: these requests are in flight

    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(1.0)
    assert server.proc.poll() is None, "the server exited with requests in flight"
    assert refuses_connections(port), "the server still accepts connections after SIGTERM"

    ids = []
    for sock, body in pending:
        sock.sendall(body[len(body) // 2 :])
        status, _, payload = read_response(sock)
        assert status == 200, f"an in-flight create was answered {status}: {payload[:300]!r}"
        ids.append(json.loads(payload)["id"])
        sock.close()
    took = exit_within(server, 10)
    code = server.proc.returncode
    idle.close()
    server.proc = None
    assert code == 0, f"a drained shutdown exited with status {code}"
    assert not backend.integrity_problems()

    server.start()
    with httpx.Client(base_url=server.base_url, headers=workspace.headers()) as client:
        for cid in ids:
            assert client.get(f"/unified/connection/{cid}").status_code == 200, f"{cid} lost after shutdown"
    figures(
        f"{IN_FLIGHT} in-flight creates completed 200 after SIGTERM and persisted; listener closed at once; "
        f"exit 0 {took:.2f} s after the last response ({time.monotonic() - signalled:.1f} s after the signal)"
    )


def test_shutdown_timeout_stops_a_stuck_request(make_server, backend, figures):
    server = make_server("--shutdown-timeout", "2", name="timeout")
    workspace = server.create_workspace("timeout")
    server.start()
    (sock, _body), = start_half_sent_creates(server.port, workspace.headers(), 1)
    time.sleep(0.3)
    server.proc.send_signal(signal.SIGTERM)
    took = exit_within(server, 2 + 3 + 2)  # drain bound + cancellation bound + slack
    sock.close()
    server.proc = None
    assert took >= 1.5, f"the server exited after {took:.2f} s, before the 2 s drain timeout"
    assert not backend.integrity_problems()
    server.start()  # the store opens and serves after the hard stop
    with httpx.Client(base_url=server.base_url, headers=workspace.headers()) as client:
        assert client.get("/unified/connection").status_code == 200
    figures(f"a request stalled mid-body: exit {took:.2f} s after SIGTERM (drain timeout 2 s); store sound")


def test_second_sigterm_stops_at_once(make_server, backend, figures):
    server = make_server("--shutdown-timeout", "60", name="twice")
    workspace = server.create_workspace("twice")
    server.start()
    (sock, _body), = start_half_sent_creates(server.port, workspace.headers(), 1)
    time.sleep(0.3)
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert server.proc.poll() is None, "the server exited with a request in flight"
    second = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    took = exit_within(server, 5)
    sock.close()
    server.proc = None
    assert not backend.integrity_problems()
    server.start()
    with httpx.Client(base_url=server.base_url, headers=workspace.headers()) as client:
        assert client.get("/unified/connection").status_code == 200
    figures(f"second SIGTERM with a request stalled (drain timeout 60 s): exit {time.monotonic() - second:.2f} s later")


def test_shutdown_reports_not_ready_first_then_drains(make_server, backend, figures):
    """With --shutdown-delay, SIGTERM turns /health/ready to 503 while the server still answers
    (liveness and the API included) for the delay; then the listener closes and it exits."""
    server = make_server("--shutdown-delay", "2", name="drain")
    workspace = server.create_workspace("drain")
    server.start()
    with httpx.Client(base_url=server.base_url, timeout=5.0) as client:
        ready = client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {
            "status": "ready",
            "checks": {"shutdown": "ok", "database": "ok", "migrations": "ok", "master_keys": "ok"},
        }
        signalled = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        not_ready = None
        while time.monotonic() - signalled < 1.5:
            r = client.get("/health/ready")
            if r.status_code == 503:
                not_ready = r
                break
            time.sleep(0.05)
        assert not_ready is not None, "/health/ready kept answering 200 after SIGTERM"
        assert not_ready.json()["checks"]["shutdown"] == "draining"
        assert not_ready.headers.get("retry-after") == "1"
        reported = time.monotonic() - signalled
        # Still serving during the delay.
        assert client.get("/health/live").status_code == 200
        assert client.get("/unified/connection", headers=workspace.headers()).status_code == 200
        assert server.proc.poll() is None, "the server exited before its shutdown delay"
    took = exit_within(server, 15)
    server.proc = None
    assert took >= 1.0, f"the server exited {took:.2f} s after SIGTERM, before its 2 s shutdown delay"
    assert refuses_connections(server.port)
    assert not backend.integrity_problems()
    figures(f"not ready {reported:.2f} s after SIGTERM, still serving; exited {took:.2f} s after it (delay 2 s)")
