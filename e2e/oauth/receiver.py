"""A loopback webhook receiver for the events suite (e2e/oauth/test_events.py).

It runs in the test process: a threaded HTTP server on 127.0.0.1 (a free port), one thread per
request, HTTP/1.0 (every delivery on its own connection, so `down()` leaves no kept-alive socket
behind). It

- records every delivery: arrival time, method, path, headers (names lower-cased), raw body, what
  it answered and whether the answer was written;
- verifies each with the reference Standard Webhooks library,
  `standardwebhooks.webhooks.Webhook(secret).verify(body, headers)`, against every secret the test
  gave it (`secrets`), at arrival;
- answers as told: one-off answers queued with `script()` first, then `default` (a status, a
  body, headers such as Retry-After, after a delay);
- counts deliveries in flight at once, per `webhook-id` and in all (two replicas must never send
  one event concurrently; a replica at most 8 at a time to one endpoint);
- goes `down()` (the listening socket closed: connections are refused) and `up()` again on the
  same port.

Secrets are secrets even here: they are never put in reprs or messages (`fingerprint`).
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Set, Tuple

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PATH = "/hooks/switchboard"
BIND_TIMEOUT_S = 5.0


def fingerprint(secret: str) -> str:
    """A short digest of a secret, safe for messages and dictionary keys."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def verify(secret: str, body: bytes, headers: Dict[str, str]) -> Optional[str]:
    """None when the reference library accepts the delivery with `secret`, else its error."""
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError as exc:
        return f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # a malformed header or body is a failed verification too
        return f"{type(exc).__name__}: {exc}"
    return None


@dataclass(frozen=True)
class Reply:
    """How the receiver answers one delivery."""

    status: int = 200
    body: bytes = b"ok"
    headers: Tuple[Tuple[str, str], ...] = ()
    delay: float = 0.0


@dataclass
class Delivery:
    """One request the receiver got (secrets kept out of repr)."""

    received_at: float  # time.monotonic() at arrival
    wall_at: float  # time.time() at arrival
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes = field(repr=False)
    reply: Reply = field(default_factory=Reply, repr=False)
    # fingerprint(secret) -> None (verified) or the library's error
    verification: Dict[str, Optional[str]] = field(default_factory=dict, repr=False)
    in_flight_same_id: int = 1  # deliveries of this webhook-id in flight at arrival, this one included
    answered: bool = False  # the answer was written to the socket
    finished_at: Optional[float] = None

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def status(self) -> int:
        return self.reply.status

    @property
    def ok(self) -> bool:
        """Answered with a 2xx (the sender may still have died before reading it)."""
        return self.answered and 200 <= self.reply.status < 300

    @property
    def signatures(self) -> List[str]:
        return [s for s in self.headers.get("webhook-signature", "").split(" ") if s]

    def json(self) -> Dict[str, Any]:
        return json.loads(self.body)

    def verified(self, secret: str) -> bool:
        """Whether the reference library accepts this delivery with `secret` (checked at arrival
        for the secrets the receiver had then, now for others)."""
        key = fingerprint(secret)
        if key not in self.verification:
            self.verification[key] = verify(secret, self.body, self.headers)
        return self.verification[key] is None

    def verification_error(self, secret: str) -> Optional[str]:
        self.verified(secret)
        return self.verification[fingerprint(secret)]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    receiver: "Receiver"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: _Server

    def do_POST(self) -> None:
        self.server.receiver._handle(self)

    do_PUT = do_POST
    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in (handler.headers.get("transfer-encoding") or "").lower():
        chunks: List[bytes] = []
        while True:
            size_line = handler.rfile.readline()
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("content-length") or 0)
    return handler.rfile.read(length) if length else b""


class Receiver:
    """The loopback event webhook receiver (see the module docstring).

    with Receiver() as receiver:
        receiver.secrets = [secret]
        ... PATCH /switchboard/workspace {"event_webhook_url": receiver.url} ...
        receiver.wait_for_ids({event_id}, timeout=5)
    """

    def __init__(self, secrets: Sequence[str] = (), default: Reply = Reply()):
        self.secrets: List[str] = list(secrets)
        self.default = default
        self.port: int = 0
        self._lock = threading.Lock()
        self._script: Deque[Reply] = deque()
        self._deliveries: List[Delivery] = []
        self._in_flight: Dict[str, int] = {}
        self._max_in_flight: Dict[str, int] = {}
        self._in_flight_total = 0
        self._max_in_flight_total = 0
        self._httpd: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None

    # lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> "Receiver":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def url(self) -> str:
        assert self.port, "the receiver was never started"
        return f"http://127.0.0.1:{self.port}{PATH}"

    @property
    def is_up(self) -> bool:
        return self._httpd is not None

    def start(self) -> None:
        """Listens on a free port (the first time) or on the same port again."""
        assert self._httpd is None, "the receiver is already listening"
        deadline = time.monotonic() + BIND_TIMEOUT_S
        while True:
            try:
                httpd = _Server(("127.0.0.1", self.port), _Handler)
                break
            except OSError:
                if not self.port or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)
        httpd.receiver = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"receiver-{self.port}", daemon=True
        )
        self._thread.start()

    up = start

    def down(self) -> None:
        """Stops listening: new connections are refused until `up()`. Requests already being
        answered finish."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        # Nothing may be left accepting on the port (connection refused, not a timeout).
        with socket.socket() as probe:
            probe.settimeout(1)
            assert probe.connect_ex(("127.0.0.1", self.port)) != 0, f"port {self.port} still accepts connections"

    close = down

    # behaviour ----------------------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Queues one-off answers, used in order before `default`."""
        with self._lock:
            self._script.extend(replies)

    def clear_script(self) -> None:
        with self._lock:
            self._script.clear()

    # records ------------------------------------------------------------------------------------

    @property
    def deliveries(self) -> List[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def deliveries_of(self, webhook_id: str) -> List[Delivery]:
        return [d for d in self.deliveries if d.webhook_id == webhook_id]

    def ids(self) -> Set[str]:
        """Every webhook-id received, whatever the answer."""
        return {d.webhook_id for d in self.deliveries}

    def accepted_ids(self) -> Set[str]:
        """The webhook-ids answered with a 2xx."""
        return {d.webhook_id for d in self.deliveries if d.ok}

    def max_in_flight(self, webhook_id: str) -> int:
        with self._lock:
            return self._max_in_flight.get(webhook_id, 0)

    def max_in_flight_by_id(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._max_in_flight)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight_total

    @property
    def max_in_flight_total(self) -> int:
        with self._lock:
            return self._max_in_flight_total

    def reset_max_in_flight(self) -> None:
        with self._lock:
            self._max_in_flight_total = self._in_flight_total

    def wait_for(self, predicate: Callable[[List[Delivery]], bool], timeout: float, interval: float = 0.05) -> bool:
        """Polls `predicate(deliveries)` until it holds or `timeout` seconds passed."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate(self.deliveries):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    def wait_for_ids(self, ids: Set[str], timeout: float) -> Set[str]:
        """Waits until every id in `ids` was answered with a 2xx; returns those still missing."""
        self.wait_for(lambda _: ids <= self.accepted_ids(), timeout)
        return set(ids) - self.accepted_ids()

    # the handler --------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        arrived, wall = time.monotonic(), time.time()
        body = _read_body(handler)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        delivery = Delivery(
            received_at=arrived, wall_at=wall, method=handler.command, path=handler.path, headers=headers, body=body
        )
        webhook_id = delivery.webhook_id
        with self._lock:
            secrets = list(self.secrets)
            reply = self._script.popleft() if self._script else self.default
            delivery.reply = reply
            count = self._in_flight.get(webhook_id, 0) + 1
            self._in_flight[webhook_id] = count
            self._max_in_flight[webhook_id] = max(self._max_in_flight.get(webhook_id, 0), count)
            self._in_flight_total += 1
            self._max_in_flight_total = max(self._max_in_flight_total, self._in_flight_total)
            delivery.in_flight_same_id = count
            self._deliveries.append(delivery)
        try:
            for secret in secrets:
                delivery.verification[fingerprint(secret)] = verify(secret, body, headers)
            if reply.delay:
                time.sleep(reply.delay)
            handler.send_response(reply.status)
            for name, value in reply.headers:
                handler.send_header(name, value)
            handler.send_header("Content-Type", "text/plain; charset=utf-8")
            handler.send_header("Content-Length", str(len(reply.body)))
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.wfile.write(reply.body)
            handler.wfile.flush()
            delivery.answered = True
        except OSError:
            pass  # the sender went away (a killed server, a timeout)
        finally:
            delivery.finished_at = time.monotonic()
            with self._lock:
                self._in_flight[webhook_id] -= 1
                self._in_flight_total -= 1
