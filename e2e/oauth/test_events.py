"""Events, notifications and signed event webhooks end to end, on SQLite and on PostgreSQL.

Changes are made through the real API (and the OAuth flow against the loopback provider); the
workspace's event webhook points at a loopback receiver (e2e/oauth/receiver.py) that verifies
every delivery with the reference Standard Webhooks library and answers as each test tells it
(a status, Retry-After, a delay, or down: connection refused). Events are read back with
`GET /unified/notification` and the official SDK.

The servers here retry fast: `--event-retry-schedule 1s,1s,1s` (4 attempts over about 3 s) and
`--event-delivery-timeout 2`. The crash test also takes `--event-lease-seconds 3` (a claim of a
killed replica is taken again after 3 s instead of the delivery timeout plus 30 s).

Contract: docs/events.md.
"""

from __future__ import annotations

import base64
import concurrent.futures
import secrets
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from standardwebhooks.webhooks import Webhook

from conftest import (
    DEFAULT_SERVE_ARGS,
    Databases,
    OAuthServer,
    Provider,
    Setup,
    connect,
    fingerprint,
    reauth_token,
    start_registered,
    wait_until,
)
from receiver import Delivery, Receiver, Reply

FAST_EVENTS = ("--event-retry-schedule", "1s,1s,1s", "--event-delivery-timeout", "2")
EVENTS_SERVE_ARGS = (*DEFAULT_SERVE_ARGS, *FAST_EVENTS)
ATTEMPTS = 4  # the first attempt and the schedule's three retries
LEASE_S = 3

# How long a delivery may take to arrive when nothing fails (a deliverer's pickup included).
ARRIVAL_S = 10.0
# How long an event may take to be listed when it is made after the answer (health stamps).
LISTED_S = 10.0
# How long nothing more must arrive before "nothing else was sent" is believed.
QUIET_S = 1.5

CONNECTION_EVENTS = ("CONNECTION_CREATED", "CONNECTION_UPDATED", "CONNECTION_DELETED")
DELIVERY_FIELDS = ("delivery_status", "delivery_attempts")
LIFETIME_S = 3

EventKey = Tuple[str, Optional[str]]  # (event, connection_id)


# ----- helpers ---------------------------------------------------------------------------------


def ts(value: Any) -> datetime:
    assert isinstance(value, str) and value, f"expected an RFC 3339 timestamp, saw {value!r}"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def message(r: httpx.Response) -> str:
    """The message of a JSON error answer (the whole text when it is not one)."""
    try:
        error = r.json().get("error")
    except (ValueError, AttributeError):
        return r.text[:500]
    if isinstance(error, dict):
        return str(error.get("message", ""))
    return r.text[:500]


def summary(notifications: Sequence[Dict[str, Any]]) -> List[Tuple[str, str, str]]:
    """Notifications for messages: (event, connection id prefix, delivery_status)."""
    return [
        (n.get("event", "?"), (n.get("connection_id") or "-")[:8], n.get("delivery_status", "?")) for n in notifications
    ]


def connection_body(
    xref: str, key: Optional[str] = None, environment: Optional[str] = None, **extra: Any
) -> Dict[str, Any]:
    """A `mock_apikey` connection (no OAuth client needed) for POST /unified/connection."""
    body: Dict[str, Any] = {
        "integration_type": "mock_apikey",
        "auth": {"key": key or "k-" + secrets.token_hex(8), "meta": {"subdomain": "acme"}},
        "permissions": [],
        "categories": ["hris"],
        "external_xref": xref,
        **extra,
    }
    if environment is not None:
        body["environment"] = environment
    return body


def is_secret_format(secret: Any) -> bool:
    """`whsec_` + base64 of 32 bytes."""
    if not (isinstance(secret, str) and secret.startswith("whsec_")):
        return False
    try:
        return len(base64.b64decode(secret[len("whsec_") :], validate=True)) == 32
    except ValueError:
        return False


class Hooks:
    """One workspace's events API (on `setup.server`, whatever its current port) and its receiver."""

    def __init__(self, setup: Setup, receiver: Receiver):
        self.setup = setup
        self.receiver = receiver
        self.secret = ""

    @property
    def base(self) -> str:
        return self.setup.server.base_url

    @property
    def headers(self) -> Dict[str, str]:
        return self.setup.headers

    def request(
        self, method: str, path: str, headers: Optional[Dict[str, str]] = None, **kwargs: Any
    ) -> httpx.Response:
        return self.setup.http.request(method, self.base + path, headers=headers or self.headers, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self.request(method, path, **kwargs)
        assert r.status_code == 200, f"{method} {path}: expected 200, saw {r.status_code}: {r.text[:300]}"
        return r.json() if r.content else None

    # the workspace ----------------------------------------------------------------------------

    def workspace(self, headers: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
        return self.ok("GET", "/switchboard/workspace", headers=headers)

    def patch_workspace(self, body: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> httpx.Response:
        return self.request("PATCH", "/switchboard/workspace", headers=headers, json=body)

    def subscribe(self, **settings: Any) -> Dict[str, Any]:
        """Points the event webhook at the receiver (with `settings`, e.g. event_webhook_events);
        the receiver verifies with the workspace's secret from then on."""
        r = self.patch_workspace({"event_webhook_url": self.receiver.url, **settings})
        assert r.status_code == 200, f"PATCH event_webhook_url: expected 200, saw {r.status_code}: {r.text[:300]}"
        ws = self.workspace()
        assert ws.get("event_webhook_url") == self.receiver.url, (
            f"expected event_webhook_url {self.receiver.url}, saw {ws.get('event_webhook_url')!r}"
        )
        secret = ws.get("event_webhook_secret")
        assert is_secret_format(secret), "expected event_webhook_secret = whsec_ + base64 of 32 bytes"
        assert ws.get("event_webhook_is_healthy") is True, (
            f"expected a new webhook to be healthy, saw event_webhook_is_healthy={ws.get('event_webhook_is_healthy')!r}"
        )
        self.secret = secret
        self.receiver.secrets = [secret]
        return ws

    def unsubscribe_quietly(self) -> None:
        """Removes the webhook (the end of a test), so a later test's receiver on a reused port
        gets nothing of this workspace."""
        try:
            self.patch_workspace({"event_webhook_url": None})
        except httpx.HTTPError:
            pass

    def new_key(self, scopes: Sequence[str]) -> Dict[str, str]:
        body = self.ok(
            "POST", "/switchboard/apikey", json={"name": "events-" + "-".join(scopes), "scopes": list(scopes)}
        )
        return {"Authorization": f"Bearer {body['key']}"}

    # connections --------------------------------------------------------------------------------

    def create_connection(self, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        return self.ok("POST", "/unified/connection", json=body or connection_body("x-" + uuid.uuid4().hex[:6]))

    # notifications ------------------------------------------------------------------------------

    def notifications(self, headers: Optional[Dict[str, str]] = None, **params: Any) -> List[Dict[str, Any]]:
        r = self.request("GET", "/unified/notification", headers=headers, params={"limit": 100, **params})
        assert r.status_code == 200, (
            f"GET /unified/notification {params}: expected 200, saw {r.status_code}: {r.text[:300]}"
        )
        body = r.json()
        assert isinstance(body, list), f"expected a JSON array of notifications, saw {type(body).__name__}"
        return body

    def all_notifications(self) -> List[Dict[str, Any]]:
        """Every notification of the workspace, newest first (paged by offset)."""
        found: List[Dict[str, Any]] = []
        while True:
            page = self.notifications(limit=100, offset=len(found), order="desc", sort="created_at")
            found.extend(page)
            if len(page) < 100 or len(found) >= 10_000:
                return found

    def notification(self, event_id: str) -> Dict[str, Any]:
        return self.ok("GET", f"/unified/notification/{event_id}")

    def wait_events(self, expected: Sequence[EventKey], timeout: float = LISTED_S) -> List[Dict[str, Any]]:
        """Every notification, once those of `expected` (event, connection id) are all listed."""
        want = Counter(expected)
        seen: List[Dict[str, Any]] = []

        def enough() -> bool:
            nonlocal seen
            seen = self.all_notifications()
            have = Counter((n.get("event"), n.get("connection_id")) for n in seen)
            return all(have[k] >= v for k, v in want.items())

        assert wait_until(enough, timeout), (
            f"expected events {sorted(want.items(), key=str)} within {timeout} s; listed: {summary(seen)}"
        )
        return seen

    def wait_event(self, event: str, connection_id: Optional[str] = None, timeout: float = LISTED_S) -> Dict[str, Any]:
        """The one notification of `event` (for `connection_id`), once it is listed."""
        listed = self.wait_events([(event, connection_id)], timeout)
        return pick(listed, event, connection_id)

    def wait_status(self, event_id: str, status: str, timeout: float = ARRIVAL_S) -> Dict[str, Any]:
        last: Dict[str, Any] = {}

        def reached() -> bool:
            nonlocal last
            last = self.notification(event_id)
            return last.get("delivery_status") == status

        assert wait_until(reached, timeout), (
            f"event {event_id} ({last.get('event')}): expected delivery_status {status!r} within {timeout} s, "
            f"saw {last.get('delivery_status')!r} after {last.get('delivery_attempts')} attempt(s)"
        )
        return last

    def deliveries(self, event_id: str, headers: Optional[Dict[str, str]] = None) -> List[Dict[str, Any]]:
        body = self.ok("GET", f"/switchboard/event/{event_id}/deliveries", headers=headers)
        assert isinstance(body, list), f"expected a JSON array of delivery attempts, saw {type(body).__name__}"
        return body

    def wait_attempts(self, event_id: str, count: int, timeout: float = ARRIVAL_S) -> List[Dict[str, Any]]:
        log: List[Dict[str, Any]] = []

        def enough() -> bool:
            nonlocal log
            log = self.deliveries(event_id)
            return len(log) >= count

        assert wait_until(enough, timeout), (
            f"event {event_id}: expected {count} logged attempt(s) within {timeout} s, saw {log}"
        )
        return log

    def wait_workspace(self, field: str, value: Any, timeout: float = ARRIVAL_S) -> Dict[str, Any]:
        ws: Dict[str, Any] = {}

        def reached() -> bool:
            nonlocal ws
            ws = self.workspace()
            return ws.get(field) == value

        assert wait_until(reached, timeout), (
            f"expected workspace {field}={value!r} within {timeout} s, saw {ws.get(field)!r}"
        )
        return ws

    def delivered(self, ids: Set[str], timeout: float = ARRIVAL_S) -> None:
        """Waits until the receiver answered a 2xx to each of `ids`."""
        missing = self.receiver.wait_for_ids(ids, timeout)
        assert not missing, (
            f"expected deliveries of {len(ids)} event(s) within {timeout} s; {len(missing)} never accepted "
            f"(e.g. {sorted(missing)[:3]}); the receiver saw {len(self.receiver.deliveries)} request(s), "
            f"attempts logged for one missing: {self.deliveries(sorted(missing)[0])}"
        )


def pick(notifications: Sequence[Dict[str, Any]], event: str, connection_id: Optional[str] = None) -> Dict[str, Any]:
    found = [n for n in notifications if n.get("event") == event and n.get("connection_id") == connection_id]
    assert len(found) == 1, (
        f"expected one {event} for connection {connection_id}, saw {len(found)}: {summary(notifications)}"
    )
    return found[0]


def only_delivery(receiver: Receiver, event_id: str) -> Delivery:
    got = receiver.deliveries_of(event_id)
    assert len(got) == 1, f"event {event_id}: expected exactly 1 delivery, the receiver got {len(got)}"
    return got[0]


def check_delivery(
    delivery: Delivery,
    notification: Dict[str, Any],
    secret: str,
    *,
    absent: Sequence[str] = (),
    **fields: Any,
) -> Dict[str, Any]:
    """A delivery as docs/events.md's "A delivery" describes it; returns the parsed body.

    `fields` are body fields with their expected values; `absent` are secrets the raw body must not hold.
    """
    event_id = notification["id"]
    error = delivery.verification_error(secret)
    assert error is None, f"event {event_id}: expected the reference library to verify the delivery, it said {error}"
    headers = delivery.headers
    assert delivery.method == "POST", f"expected a POST, saw {delivery.method}"
    assert headers.get("content-type", "").startswith("application/json"), (
        f"expected content-type application/json, saw {headers.get('content-type')!r}"
    )
    assert headers.get("user-agent") == "Switchboard-Webhooks/1", (
        f"expected user-agent Switchboard-Webhooks/1, saw {headers.get('user-agent')!r}"
    )
    assert delivery.webhook_id == event_id, (
        f"expected webhook-id {event_id} (the notification id), saw {delivery.webhook_id!r}"
    )
    sent = int(headers.get("webhook-timestamp", "0"))
    assert abs(sent - delivery.wall_at) <= 60, (
        f"expected webhook-timestamp near ({delivery.wall_at:.0f}), saw {headers.get('webhook-timestamp')!r}"
    )
    text = delivery.body.decode("utf-8", errors="replace")
    for value in absent:
        assert value not in text, f"event {event_id}: a credential ({fingerprint(value)}) is in the delivered body"
    body = delivery.json()
    event = notification["event"]
    assert body.get("type") == event and body.get("event") == event, (
        f"expected type and event {event}, saw type={body.get('type')!r} event={body.get('event')!r}"
    )
    assert body.get("id") == event_id, f"expected body id {event_id}, saw {body.get('id')!r}"
    assert body.get("timestamp") == notification.get("created_at"), (
        f"expected timestamp = the event's created_at {notification.get('created_at')!r}, saw {body.get('timestamp')!r}"
    )
    for name in ("workspace_id", "connection_id", "integration_type", "external_xref", "environment", "created_at"):
        if name in notification:
            assert body.get(name) == notification[name], (
                f"event {event_id}: expected body {name} {notification[name]!r} (as listed), saw {body.get(name)!r}"
            )
    for name, value in fields.items():
        assert body.get(name) == value, f"event {event_id} ({event}): expected {name} {value!r}, saw {body.get(name)!r}"
    leaked = [name for name in (*DELIVERY_FIELDS, "auth") if name in body]
    assert not leaked, f"event {event_id}: expected no delivery fields or auth in the body, saw {leaked}"
    return body


def deliveries_counted(base_url: str) -> float:
    """The sum of `switchboard_event_deliveries_total` (every outcome) on one server's /metrics."""
    r = httpx.get(f"{base_url}/metrics", timeout=10)
    assert r.status_code == 200, f"/metrics: expected 200, saw {r.status_code}"
    total = 0.0
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            if sample.name == "switchboard_event_deliveries_total":
                total += sample.value
    return total


# ----- fixtures --------------------------------------------------------------------------------

_EVENTS_SERVERS: Dict[str, OAuthServer] = {}


@pytest.fixture
def events_server(backend: str, server_factory, databases: Databases, provider: Provider) -> OAuthServer:
    """The session's server with the fast retry schedule on `backend` (each test: its own workspace)."""
    srv = _EVENTS_SERVERS.get(backend)
    if srv is None:
        srv = server_factory(databases.new(backend, "events"), f"{backend}-events", EVENTS_SERVE_ARGS)
        start_registered(srv, provider)
        _EVENTS_SERVERS[backend] = srv
    srv.assert_running()
    return srv


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def hooks(events_server: OAuthServer, make_setup, receiver: Receiver) -> Iterator[Hooks]:
    """A new workspace on the events server (the mock integration enabled) and a receiver; the
    webhook is not set yet."""
    h = Hooks(make_setup(events_server), receiver)
    yield h
    h.unsubscribe_quietly()


# ----- event types ---------------------------------------------------------------------------------


def test_connection_changes_are_delivered_signed_and_without_credentials(hooks: Hooks, provider, integration, http):
    hooks.subscribe()
    key = "key-" + secrets.token_hex(12)
    xref = "user-" + uuid.uuid4().hex[:8]
    cid = hooks.create_connection(connection_body(xref, key=key))["id"]
    r = hooks.request("PATCH", f"/unified/connection/{cid}", json={"external_xref": xref + "-b"})
    assert r.status_code == 200, f"PATCH connection: expected 200, saw {r.status_code}: {r.text[:300]}"
    r = hooks.request("PUT", f"/unified/connection/{cid}", json={"external_xref": xref + "-c"})
    assert r.status_code == 200, f"PUT connection: expected 200, saw {r.status_code}: {r.text[:300]}"
    r = hooks.request("DELETE", f"/unified/connection/{cid}")
    assert r.status_code == 200, f"DELETE connection: expected 200, saw {r.status_code}: {r.text[:300]}"

    # Through the OAuth flow, in Sandbox; then re-authorized in place.
    flow_xref = "flow-" + uuid.uuid4().hex[:8]
    oauth_id = connect(hooks.setup, integration, http, state="events", external_xref=flow_xref, env="Sandbox")
    again = connect(
        hooks.setup, integration, http, state="events-again", connection_id=oauth_id,
        reauth_token=reauth_token(hooks.setup, oauth_id),
    )  # fmt: skip
    assert again == oauth_id, f"expected the re-authorization to keep {oauth_id}, saw {again}"

    expected: List[EventKey] = [
        ("CONNECTION_CREATED", cid), ("CONNECTION_UPDATED", cid), ("CONNECTION_UPDATED", cid),
        ("CONNECTION_DELETED", cid), ("CONNECTION_CREATED", oauth_id), ("CONNECTION_UPDATED", oauth_id),
    ]  # fmt: skip
    listed = hooks.wait_events(expected)
    have = Counter((n.get("event"), n.get("connection_id")) for n in listed)
    # One event per committed change (the integration was enabled before the webhook existed).
    assert have == Counter(expected + [("INTEGRATION_ACTIVATED", None)]), (
        f"expected exactly {sorted(Counter(expected + [('INTEGRATION_ACTIVATED', None)]).items(), key=str)}, "
        f"saw {sorted(have.items(), key=str)}"
    )
    ours = [n for n in listed if n.get("connection_id")]
    hooks.delivered({n["id"] for n in ours})

    issued = provider.issued()
    credentials = [key, hooks.setup.workspace.api_key, provider.client_secret]
    credentials += [t["access_token"] for t in issued] + [t["refresh_token"] for t in issued if t.get("refresh_token")]
    expect = {
        ("CONNECTION_CREATED", cid): {
            "integration_type": "mock_apikey",
            "external_xref": xref,
            "environment": "Production",
        },
        ("CONNECTION_UPDATED", cid): {"integration_type": "mock_apikey"},
        ("CONNECTION_DELETED", cid): {"integration_type": "mock_apikey", "external_xref": xref + "-c"},
        ("CONNECTION_CREATED", oauth_id): {
            "integration_type": "mock",
            "external_xref": flow_xref,
            "environment": "Sandbox",
        },
        ("CONNECTION_UPDATED", oauth_id): {
            "integration_type": "mock",
            "external_xref": flow_xref,
            "environment": "Sandbox",
        },
    }
    for n in ours:
        event_key = (n["event"], n["connection_id"])
        check_delivery(
            only_delivery(hooks.receiver, n["id"]), n, hooks.secret, absent=credentials,
            workspace_id=hooks.setup.workspace.id, connection_id=n["connection_id"], **expect[event_key],
        )  # fmt: skip
        done = hooks.wait_status(n["id"], "delivered")
        assert done.get("delivery_attempts") == 1, (
            f"{event_key}: expected 1 attempt, saw {done.get('delivery_attempts')!r}"
        )
        assert ts(done.get("sent_at")) >= ts(done.get("created_at")), f"{event_key}: sent_at {done.get('sent_at')!r}"
        assert ts(done.get("updated_at")) >= ts(done.get("created_at")), (
            f"{event_key}: updated_at {done.get('updated_at')!r}"
        )
    cid_updates = [n for n in ours if (n["event"], n["connection_id"]) == ("CONNECTION_UPDATED", cid)]
    updates = sorted(only_delivery(hooks.receiver, n["id"]).json().get("external_xref") for n in cid_updates)
    assert updates == [xref + "-b", xref + "-c"], f"expected the PATCH's and the PUT's external_xref, saw {updates}"
    activated = pick(listed, "INTEGRATION_ACTIVATED")
    assert activated.get("delivery_status") == "none", (
        f"expected the event made before the webhook existed to be 'none', saw {activated.get('delivery_status')!r}"
    )
    assert hooks.receiver.ids() == {n["id"] for n in ours}, "the receiver got an event that is not one of the changes"


def test_integration_changes_make_integration_events(hooks: Hooks, provider, integration):
    hooks.subscribe()
    path = f"/switchboard/integration/{integration.type}"
    settings = {"client_id": provider.client_id, "client_secret": provider.client_secret}
    hooks.ok("PUT", path, json={**settings, "extra_scopes": ["contacts.read"]})  # changed, stays active
    hooks.ok("PUT", path, json={**settings, "is_active": False})
    hooks.ok("PUT", path, json=settings)  # active again
    hooks.ok("DELETE", path)

    kinds = ["INTEGRATION_ACTIVATED", "INTEGRATION_UPDATED", "INTEGRATION_DEACTIVATED"]
    listed = [n for n in hooks.all_notifications() if n.get("event") in kinds]
    oldest_first = [n["event"] for n in sorted(listed, key=lambda n: ts(n["created_at"]))]
    assert oldest_first == [
        "INTEGRATION_ACTIVATED", "INTEGRATION_UPDATED", "INTEGRATION_DEACTIVATED",
        "INTEGRATION_ACTIVATED", "INTEGRATION_DEACTIVATED",
    ], f"expected setup's activation, updated, deactivated, activated, deactivated; saw {oldest_first}"  # fmt: skip
    new = [n for n in listed if n.get("delivery_status") != "none"]
    assert len(new) == 4, f"expected the 4 changes after the webhook was set to be sent, saw {summary(listed)}"
    hooks.delivered({n["id"] for n in new})
    for n in new:
        check_delivery(
            only_delivery(hooks.receiver, n["id"]), n, hooks.secret,
            absent=[provider.client_secret, hooks.setup.workspace.api_key],
            workspace_id=hooks.setup.workspace.id, integration_type=integration.type,
        )  # fmt: skip
        assert not n.get("connection_id"), f"expected no connection_id on {n['event']}, saw {n.get('connection_id')!r}"


def test_health_transitions_make_one_event_each(hooks: Hooks, provider, integration, http):
    hooks.subscribe()
    setup = hooks.setup
    provider.set_lifetime(LIFETIME_S)
    cid = connect(setup, integration, http, state="health")
    # A successful refresh changes nothing the application sees: no event.
    time.sleep(LIFETIME_S + 0.5)
    provider.reset_counters()
    body = setup.connection(cid)
    assert provider.token_calls("refresh_token") == 1, f"expected one refresh, saw {provider.stats()}"
    assert body.get("refresh_status") == "active", (
        f"expected active after the refresh, saw {body.get('refresh_status')!r}"
    )
    # The provider forgets every refresh token: the next refresh gets a genuine invalid_grant.
    provider.set_lifetime(3600)
    provider.revoke_refresh_tokens()
    time.sleep(LIFETIME_S + 0.5)
    body = setup.connection(cid)
    assert body.get("refresh_status") == "needs_reauth", f"expected needs_reauth, saw {body.get('refresh_status')!r}"
    unhealthy = hooks.wait_event("CONNECTION_UNHEALTHY", cid)

    # Failing again while unhealthy records nothing: a GET (no call), a passthrough call whose
    # stored token has expired.
    setup.connection(cid)
    r = setup.http.get(f"{setup.server.base_url}/passthrough/{cid}/v1/me", headers=setup.headers)
    assert r.status_code >= 400, f"expected the expired token's call to fail, saw {r.status_code}"

    # Re-authorized in place, then a passthrough call succeeds: healthy again.
    connect(setup, integration, http, state="healthy", connection_id=cid, reauth_token=reauth_token(setup, cid))
    r = setup.http.get(f"{setup.server.base_url}/passthrough/{cid}/v1/me", headers=setup.headers)
    assert r.status_code == 200, f"expected the passthrough call to succeed, saw {r.status_code}: {r.text[:200]}"
    healthy = hooks.wait_event("CONNECTION_HEALTHY", cid)
    hooks.delivered({unhealthy["id"], healthy["id"]})
    for n in (unhealthy, healthy):
        check_delivery(
            only_delivery(hooks.receiver, n["id"]), n, hooks.secret,
            absent=[t["access_token"] for t in provider.issued()],
            connection_id=cid, integration_type="mock",
        )  # fmt: skip

    time.sleep(0.5)  # a health stamp written after the answer has had time to land
    have = Counter(n["event"] for n in hooks.all_notifications() if n.get("connection_id") == cid)
    want = Counter(["CONNECTION_CREATED", "CONNECTION_UNHEALTHY", "CONNECTION_UPDATED", "CONNECTION_HEALTHY"])
    assert have == want, f"expected one event per transition {dict(want)}, saw {dict(have)}"
    # docs/events.md: "the cause and the connection's last_unhealthy_code, such as
    # `token refresh failed: 400`" (the provider's invalid_grant answer is a 400).
    description = unhealthy.get("description") or ""
    assert description == "token refresh failed: 400", (
        f"expected the description 'token refresh failed: 400', saw {description!r}"
    )


def test_event_filter_sends_only_the_listed_types(hooks: Hooks):
    ws = hooks.subscribe(event_webhook_events=["CONNECTION_CREATED"])
    assert ws.get("event_webhook_events") == ["CONNECTION_CREATED"], (
        f"expected event_webhook_events ['CONNECTION_CREATED'], saw {ws.get('event_webhook_events')!r}"
    )
    cid = hooks.create_connection()["id"]
    hooks.ok("PATCH", f"/unified/connection/{cid}", json={"external_xref": "filtered"})
    hooks.ok("DELETE", f"/unified/connection/{cid}")
    listed = hooks.all_notifications()
    created = pick(listed, "CONNECTION_CREATED", cid)
    for event in ("CONNECTION_UPDATED", "CONNECTION_DELETED"):
        n = pick(listed, event, cid)
        assert n.get("delivery_status") == "none", (
            f"expected {event} not wanted ('none'), saw {n.get('delivery_status')!r}"
        )
        assert not n.get("sent_at"), f"expected no sent_at on {event}, saw {n.get('sent_at')!r}"
    hooks.delivered({created["id"]})
    hooks.wait_status(created["id"], "delivered")
    assert not hooks.receiver.wait_for(lambda ds: len({d.webhook_id for d in ds}) > 1, QUIET_S), (
        f"expected only CONNECTION_CREATED to be sent, the receiver got {len(hooks.receiver.ids())} events"
    )

    # null: every type again (the URL kept).
    r = hooks.patch_workspace({"event_webhook_events": None})
    assert r.status_code == 200, f"PATCH event_webhook_events null: expected 200, saw {r.status_code}: {r.text[:300]}"
    other = hooks.create_connection()["id"]
    hooks.ok("DELETE", f"/unified/connection/{other}")
    listed = hooks.all_notifications()
    hooks.delivered({pick(listed, e, other)["id"] for e in ("CONNECTION_CREATED", "CONNECTION_DELETED")})
    ws = hooks.workspace()
    assert ws.get("event_webhook_url") == hooks.receiver.url, (
        f"expected the URL kept, saw {ws.get('event_webhook_url')!r}"
    )
    # GET shows the setting "as set": null (all types), not a list of names.
    assert ws.get("event_webhook_events") is None, (
        f"expected event_webhook_events null, saw {ws.get('event_webhook_events')!r}"
    )


# ----- reading events ------------------------------------------------------------------------------


BAD_PARAMETERS = [
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"limit": "2.5"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"offset": "10001"}, "offset"),
    ({"sort": "name"}, "sort"),
    ({"order": "sideways"}, "order"),
    ({"updated_gte": "yesterday"}, "updated_gte"),
    ({"event": "NO_SUCH_EVENT"}, "event"),
]


def test_notifications_through_the_sdk_by_id_and_filters(hooks: Hooks, make_setup):
    ids = [
        hooks.create_connection(connection_body("list-1"))["id"],
        hooks.create_connection(connection_body("list-2", environment="Sandbox"))["id"],
        hooks.create_connection(connection_body("list-3"))["id"],
    ]
    listed = hooks.all_notifications()
    assert [(n["event"], n.get("connection_id")) for n in listed] == [
        ("CONNECTION_CREATED", ids[2]), ("CONNECTION_CREATED", ids[1]), ("CONNECTION_CREATED", ids[0]),
        ("INTEGRATION_ACTIVATED", None),
    ], f"expected the three creations newest first, then the activation; saw {summary(listed)}"  # fmt: skip

    # The official SDK, as docs/events.md shows it (it sends limit=2.0).
    res = hooks.setup.sdk.notification.list_unified_notifications(
        request={"limit": 2, "order": "desc", "sort": "created_at"}
    )
    assert res.status_code == 200, f"expected 200, saw {res.status_code}"
    got = [(getattr(n.event, "value", n.event), n.connection_id, n.id) for n in res.notifications or []]
    want = [("CONNECTION_CREATED", ids[2], listed[0]["id"]), ("CONNECTION_CREATED", ids[1], listed[1]["id"])]
    assert got == want, f"expected the two newest events {want}, the SDK saw {got}"
    newest = (res.notifications or [])[0]
    assert newest.workspace_id == hooks.setup.workspace.id and newest.integration_type == "mock_apikey", newest
    assert newest.created_at is not None and newest.updated_at is not None, "expected created_at and updated_at"
    res = hooks.setup.sdk.notification.list_unified_notifications(request={"limit": 1, "order": "asc"})
    first = [getattr(n.event, "value", n.event) for n in res.notifications or []]
    assert first == ["INTEGRATION_ACTIVATED"], f"expected the oldest event first in asc order, saw {first}"

    # One by id: the same object as listed.
    one = hooks.notification(listed[1]["id"])
    assert one == listed[1], f"expected GET by id to equal the listed object {listed[1]}, saw {one}"
    assert one.get("environment") == "Sandbox" and one.get("external_xref") == "list-2", one
    for key in ("id", "event", "created_at", "updated_at", "workspace_id", "delivery_status", "delivery_attempts"):
        assert key in one, f"expected field {key} in the notification, saw {sorted(one)}"

    # Unknown, and another workspace's: 404.
    r = hooks.request("GET", f"/unified/notification/{uuid.uuid4()}")
    assert r.status_code == 404, f"unknown id: expected 404, saw {r.status_code}: {r.text[:200]}"
    other = Hooks(make_setup(hooks.setup.server), hooks.receiver)
    theirs = other.all_notifications()
    assert theirs, "expected the other workspace to have its activation event"
    r = hooks.request("GET", f"/unified/notification/{theirs[0]['id']}")
    assert r.status_code == 404, f"another workspace's event: expected 404, saw {r.status_code}: {r.text[:200]}"
    assert not {n["id"] for n in theirs} & {n["id"] for n in listed}, "one workspace lists another's events"

    # Parameters: the SDK's float limit, offset, Switchboard's filters.
    assert [n["id"] for n in hooks.notifications(limit="2.0")] == [n["id"] for n in listed[:2]], "limit=2.0"
    assert [n["id"] for n in hooks.notifications(limit=1, offset=1)] == [listed[1]["id"]], "limit=1&offset=1"
    created = {n["id"] for n in listed[:3]}
    assert {n["id"] for n in hooks.notifications(event="CONNECTION_CREATED")} == created, "event=CONNECTION_CREATED"
    both = {n["id"] for n in listed}
    assert {n["id"] for n in hooks.notifications(event="CONNECTION_CREATED,INTEGRATION_ACTIVATED")} == both, (
        "event=A,B (comma-separated)"
    )
    r = hooks.request(
        "GET", "/unified/notification", params=[("event", "CONNECTION_CREATED"), ("event", "INTEGRATION_ACTIVATED")]
    )
    assert r.status_code == 200 and {n["id"] for n in r.json()} == both, (
        f"event repeated: {r.status_code} {r.text[:200]}"
    )
    assert [n["connection_id"] for n in hooks.notifications(connection_id=ids[0])] == [ids[0]], "connection_id"
    assert [n["connection_id"] for n in hooks.notifications(env="Sandbox")] == [ids[1]], "env=Sandbox"
    assert hooks.notifications(updated_gte="2999-01-01") == [], "updated_gte in the future: expected nothing"
    assert len(hooks.notifications(updated_gte="2000-01-01T00:00:00Z")) == 4, "updated_gte in the past: expected all"
    by_update = hooks.notifications(sort="updated_at", order="asc")
    stamps = [ts(n["updated_at"]) for n in by_update]
    assert stamps == sorted(stamps) and len(stamps) == 4, (
        f"sort=updated_at&order=asc: {[n['updated_at'] for n in by_update]}"
    )

    for params, name in BAD_PARAMETERS:
        r = hooks.request("GET", "/unified/notification", params=params)
        assert r.status_code == 400, f"{params}: expected 400, saw {r.status_code}: {r.text[:200]}"
        assert name in message(r), f"{params}: expected the message to name {name!r}, saw {message(r)!r}"


# ----- the webhook's settings --------------------------------------------------------------------


def test_rotated_secret_signs_with_both_secrets(hooks: Hooks):
    hooks.subscribe()
    old = hooks.secret
    first = hooks.create_connection()["id"]
    n1 = hooks.wait_event("CONNECTION_CREATED", first)
    hooks.delivered({n1["id"]})
    d1 = only_delivery(hooks.receiver, n1["id"])
    assert len(d1.signatures) == 1, f"expected one signature before a rotation, saw {len(d1.signatures)}"

    rotated = hooks.ok("POST", "/switchboard/workspace/event-webhook/rotate-secret")
    new = rotated.get("event_webhook_secret")
    assert is_secret_format(new) and new != old, "expected a new whsec_ secret from rotate-secret"
    assert hooks.workspace().get("event_webhook_secret") == new, (
        "expected GET /switchboard/workspace to show the new secret"
    )
    expires = ts(rotated.get("event_webhook_previous_secret_expires_at"))
    in_hours = (expires - datetime.now(timezone.utc)) / timedelta(hours=1)
    assert 23 <= in_hours <= 24.1, (
        f"expected the previous secret to expire in 24 h (the default overlap), saw {in_hours:.2f} h"
    )

    hooks.receiver.secrets = [new, old]
    second = hooks.create_connection()["id"]
    n2 = hooks.wait_event("CONNECTION_CREATED", second)
    hooks.delivered({n2["id"]})
    d2 = only_delivery(hooks.receiver, n2["id"])
    assert len(d2.signatures) == 2, f"expected two signatures during the rotation, saw {len(d2.signatures)}"
    for name, secret in (("new", new), ("old", old)):
        error = d2.verification_error(secret)
        assert error is None, f"expected the reference library to verify with the {name} secret, it said {error}"
    stamp = datetime.fromtimestamp(int(d2.headers["webhook-timestamp"]), tz=timezone.utc)
    by_new = Webhook(new).sign(d2.webhook_id, stamp, d2.body)
    assert d2.signatures[0] == by_new, "expected the new secret's signature first"
    assert d1.verified(old) and not d1.verified(new), (
        "the delivery before the rotation verifies with the old secret only"
    )


def test_settings_refusals_and_the_secret_hidden_from_other_keys(hooks: Hooks):
    before = hooks.subscribe()
    for url in ("ftp://127.0.0.1/hooks", "not a url", "http:///no-host"):
        r = hooks.patch_workspace({"event_webhook_url": url})
        assert r.status_code == 400, f"{url!r}: expected 400, saw {r.status_code}: {r.text[:200]}"
    r = hooks.patch_workspace({"event_webhook_events": ["CONNECTION_CREATED", "NO_SUCH_EVENT"]})
    assert r.status_code == 400, f"an unknown event name: expected 400, saw {r.status_code}: {r.text[:200]}"
    assert "NO_SUCH_EVENT" in message(r), f"expected the message to name NO_SUCH_EVENT, saw {message(r)!r}"
    after = hooks.workspace()
    for name in ("event_webhook_url", "event_webhook_events", "event_webhook_secret"):
        assert after.get(name) == before.get(name), f"a refused PATCH changed {name}"

    # A key without integrations:admin: no secret, no URL; none of the admin routes.
    reader = hooks.new_key(["connections:read"])
    # (GET /switchboard/workspace itself needs integrations:admin: a 403 shows neither either.)
    r = hooks.request("GET", "/switchboard/workspace", headers=reader)
    assert r.status_code in (200, 403), f"GET workspace with connections:read: expected 200 or 403, saw {r.status_code}"
    assert hooks.secret not in r.text, "expected a key without integrations:admin not to see the secret"
    assert hooks.receiver.url not in r.text, "expected a key without integrations:admin not to see the URL"
    for method, path, body in (
        ("PATCH", "/switchboard/workspace", {"event_webhook_url": None}),
        ("POST", "/switchboard/workspace/event-webhook/rotate-secret", None),
        ("POST", "/switchboard/workspace/event-webhook/resume", None),
    ):
        r = hooks.request(method, path, headers=reader, json=body)
        assert r.status_code == 403, f"{method} {path} with connections:read: expected 403, saw {r.status_code}"
    assert hooks.workspace().get("event_webhook_secret") == hooks.secret, "a refused call changed the secret"
    assert isinstance(hooks.notifications(headers=reader), list)

    # No webhook: events are still recorded ("none"); a redelivery is a 400.
    r = hooks.patch_workspace({"event_webhook_url": None})
    assert r.status_code == 200, f"PATCH event_webhook_url null: expected 200, saw {r.status_code}: {r.text[:200]}"
    assert hooks.workspace().get("event_webhook_url") is None, "expected the URL removed"
    cid = hooks.create_connection()["id"]
    n = pick(hooks.all_notifications(), "CONNECTION_CREATED", cid)
    assert n.get("delivery_status") == "none", f"expected 'none' without a webhook, saw {n.get('delivery_status')!r}"
    assert hooks.deliveries(n["id"], headers=reader) == [], "expected no attempts without a webhook"
    r = hooks.request("POST", f"/switchboard/event/{n['id']}/redeliver")
    assert r.status_code == 409, f"redeliver without a webhook: expected 409, saw {r.status_code}: {r.text[:200]}"
    r = hooks.request("POST", f"/switchboard/event/{n['id']}/redeliver", headers=reader)
    assert r.status_code == 403, f"redeliver with connections:read: expected 403, saw {r.status_code}"
    assert hooks.receiver.ids() == set(), "expected nothing delivered"

    # The egress policy: private, metadata, IPv6 loopback and unspecified addresses are refused
    # (the suite allows only 127.0.0.1, so `localhost`, which resolves to it, would pass).
    for url, host in (
        ("http://10.0.0.1/hooks", "10.0.0.1"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://[::1]:9/x", "::1"),
        ("http://0.0.0.0/x", "0.0.0.0"),
    ):
        r = hooks.patch_workspace({"event_webhook_url": url})
        assert r.status_code == 400, f"{url}: expected 400 (egress policy), saw {r.status_code}: {r.text[:200]}"
        assert host in message(r), f"{url}: expected the message to name {host}, saw {message(r)!r}"


def test_refused_changes_make_no_event(hooks: Hooks):
    hooks.subscribe()
    cid = hooks.create_connection(connection_body("rollback"))["id"]
    refused = [
        ("PATCH", f"/unified/connection/{cid}", {"categories": ["not_a_category"]}),
        ("PATCH", f"/unified/connection/{cid}", {"auth": {"no_such_auth_field": "x"}}),
        ("PATCH", f"/unified/connection/{cid}", {"external_xref": 42}),
        ("POST", "/unified/connection", {"auth": {"key": "k"}, "categories": ["hris"]}),
        ("DELETE", f"/unified/connection/{uuid.uuid4()}", None),
        ("PATCH", f"/unified/connection/{uuid.uuid4()}", {"external_xref": "nobody"}),
    ]
    for method, path, body in refused:
        r = hooks.request(method, path, json=body)
        assert 400 <= r.status_code < 500, (
            f"{method} {path} {body}: expected a 4xx, saw {r.status_code}: {r.text[:200]}"
        )
    events = [(n["event"], n.get("connection_id")) for n in hooks.all_notifications()]
    assert events == [("CONNECTION_CREATED", cid), ("INTEGRATION_ACTIVATED", None)], (
        f"expected no event for refused changes, saw {events}"
    )
    hooks.ok("PATCH", f"/unified/connection/{cid}", json={"external_xref": "kept"})
    hooks.ok("DELETE", f"/unified/connection/{cid}")
    r = hooks.request("DELETE", f"/unified/connection/{cid}")
    assert r.status_code == 404, f"a second DELETE: expected 404, saw {r.status_code}"
    listed = hooks.all_notifications()
    events = Counter((n["event"], n.get("connection_id")) for n in listed)
    want = Counter([(e, cid) for e in CONNECTION_EVENTS] + [("INTEGRATION_ACTIVATED", None)])
    assert events == want, f"expected one event per committed change {dict(want)}, saw {dict(events)}"
    sent = {n["id"] for n in listed if n.get("connection_id")}
    hooks.delivered(sent)
    assert not hooks.receiver.wait_for(lambda ds: {d.webhook_id for d in ds} - sent != set(), QUIET_S), (
        f"expected exactly the {len(sent)} committed changes delivered, the receiver got {len(hooks.receiver.ids())}"
    )


# ----- delivery: failures, retries, the log ----------------------------------------------------


def test_receiver_down_then_up_gets_every_event(hooks: Hooks):
    hooks.subscribe()
    hooks.receiver.down()
    ids = [hooks.create_connection()["id"] for _ in range(3)]
    listed = hooks.all_notifications()
    events = [pick(listed, "CONNECTION_CREATED", cid) for cid in ids]
    for n in events:
        log = hooks.wait_attempts(n["id"], 1, timeout=ARRIVAL_S)
        assert log[0].get("error") and not log[0].get("status"), (
            f"expected a connection failure (an error, no status) while the receiver is down, saw {log[0]}"
        )
    hooks.receiver.up()
    hooks.delivered({n["id"] for n in events}, timeout=ATTEMPTS * 2.0)
    for n in events:
        done = hooks.wait_status(n["id"], "delivered")
        log = hooks.deliveries(n["id"])
        assert 2 <= len(log) <= ATTEMPTS, f"expected 2 to {ATTEMPTS} attempts, saw {len(log)}: {log}"
        assert done.get("delivery_attempts") == len(log), (
            f"delivery_attempts {done.get('delivery_attempts')} != {len(log)} logged"
        )
        assert log[-1].get("status") == 200 and "error" not in log[-1], (
            f"expected the last attempt to succeed, saw {log[-1]}"
        )
        assert all(a.get("error") for a in log[:-1]), f"expected every earlier attempt to have an error, saw {log}"
        check_delivery(only_delivery(hooks.receiver, n["id"]), n, hooks.secret)


def test_410_disables_the_endpoint_until_resume(hooks: Hooks):
    hooks.subscribe()
    hooks.receiver.default = Reply(410, b"gone for good")
    first = hooks.create_connection()["id"]
    gone = pick(hooks.all_notifications(), "CONNECTION_CREATED", first)
    ws = hooks.wait_workspace("event_webhook_is_healthy", False)
    assert "410" in str(ws.get("event_webhook_disabled_reason")), (
        f"expected disabled_reason '410 Gone', saw {ws.get('event_webhook_disabled_reason')!r}"
    )
    unhealthy = hooks.wait_event("WEBHOOK_UNHEALTHY")
    assert not unhealthy.get("connection_id"), f"expected no connection on WEBHOOK_UNHEALTHY, saw {unhealthy}"
    tried = len(hooks.receiver.deliveries_of(gone["id"]))
    assert tried == 1, f"expected one attempt (410 is not retried), the receiver got {tried}"

    hooks.receiver.default = Reply()
    cid = hooks.create_connection()["id"]
    held = pick(hooks.all_notifications(), "CONNECTION_CREATED", cid)
    assert held.get("delivery_status") == "held", (
        f"expected a new event to be 'held' while disabled, saw {held.get('delivery_status')!r}"
    )
    assert not hooks.receiver.wait_for(lambda ds: held["id"] in {d.webhook_id for d in ds}, QUIET_S), (
        "expected nothing sent to a disabled endpoint"
    )
    assert len(hooks.receiver.deliveries_of(gone["id"])) == 1, "expected no retry of the 410'd event while disabled"
    gone_state = hooks.notification(gone["id"]).get("delivery_status")

    resumed = hooks.ok("POST", "/switchboard/workspace/event-webhook/resume")
    assert resumed.get("event_webhook_is_healthy") is True, (
        f"expected resume to re-enable, saw {resumed.get('event_webhook_is_healthy')!r}"
    )
    assert not resumed.get("event_webhook_disabled_reason"), (
        f"expected no disabled_reason, saw {resumed.get('event_webhook_disabled_reason')!r}"
    )
    hooks.delivered({held["id"]})
    check_delivery(only_delivery(hooks.receiver, held["id"]), held, hooks.secret, connection_id=cid)
    hooks.wait_status(held["id"], "delivered")
    # At least once: the endpoint was disabled, not removed, so the event answered with 410 is
    # sent again on resume too.
    missing = hooks.receiver.wait_for_ids({gone["id"]}, ARRIVAL_S)
    assert not missing, (
        f"expected the event answered with 410 (then {gone_state!r}) to be sent on resume, "
        f"it is {hooks.notification(gone['id']).get('delivery_status')!r} and was not received again"
    )


def test_exhausted_retries_fail_the_event_and_disable_the_endpoint(hooks: Hooks):
    hooks.subscribe()
    hooks.receiver.default = Reply(503, b"upstream down")
    cid = hooks.create_connection()["id"]
    event = pick(hooks.all_notifications(), "CONNECTION_CREATED", cid)
    failed = hooks.wait_status(event["id"], "failed", timeout=ATTEMPTS * 3.0)
    assert failed.get("delivery_attempts") == ATTEMPTS, (
        f"expected {ATTEMPTS} attempts, saw {failed.get('delivery_attempts')!r}"
    )
    assert not failed.get("sent_at"), f"expected no sent_at on a failed event, saw {failed.get('sent_at')!r}"

    got = hooks.receiver.deliveries_of(event["id"])
    assert len(got) == ATTEMPTS, f"expected {ATTEMPTS} requests for the event, the receiver got {len(got)}"
    for d in got:
        check_delivery(d, event, hooks.secret, connection_id=cid)
    gaps = [round(b.received_at - a.received_at, 2) for a, b in zip(got, got[1:], strict=False)]
    assert all(0.85 <= g <= 3.0 for g in gaps), f"expected retries about 1 s apart (1s,1s,1s +-10%), saw gaps {gaps}"
    log = hooks.deliveries(event["id"])
    assert [a.get("status") for a in log] == [503] * ATTEMPTS, (
        f"expected {ATTEMPTS} logged attempts answered 503, saw {log}"
    )
    for a in log:
        assert "503" in str(a.get("error")) and a.get("response_body") == "upstream down", (
            f"expected error HTTP 503 and the body, saw {a}"
        )
        assert a.get("redelivery") is False, f"expected redelivery false, saw {a}"

    ws = hooks.wait_workspace("event_webhook_is_healthy", False)
    reason = str(ws.get("event_webhook_disabled_reason"))
    assert reason.startswith("retries exhausted") and "503" in reason, (
        f"expected 'retries exhausted: HTTP 503', saw {reason!r}"
    )
    listed = hooks.all_notifications()
    assert [n["event"] for n in listed].count("WEBHOOK_UNHEALTHY") == 1, (
        f"expected one WEBHOOK_UNHEALTHY, saw {summary(listed)}"
    )

    # Held while disabled; resume sends the held event, not the failed one; redeliver does.
    hooks.receiver.default = Reply()
    later = hooks.create_connection()["id"]
    held = pick(hooks.all_notifications(), "CONNECTION_CREATED", later)
    assert held.get("delivery_status") == "held", f"expected 'held' while disabled, saw {held.get('delivery_status')!r}"
    hooks.ok("POST", "/switchboard/workspace/event-webhook/resume")
    hooks.delivered({held["id"]})
    assert not hooks.receiver.wait_for(lambda _: hooks.receiver.accepted_ids() >= {event["id"]}, QUIET_S), (
        "expected resume not to send the failed event again"
    )
    assert hooks.notification(event["id"]).get("delivery_status") == "failed", (
        "expected the failed event to stay failed"
    )
    again = hooks.ok("POST", f"/switchboard/event/{event['id']}/redeliver")
    assert again.get("id") == event["id"], f"expected redeliver to return the notification, saw {again}"
    hooks.delivered({event["id"]})
    hooks.wait_status(event["id"], "delivered")


def test_retry_after_the_delivery_log_and_redelivery(hooks: Hooks):
    hooks.subscribe()
    long_body = ("upstream down, retry later; " * 60).encode()  # 1680 bytes
    hooks.receiver.script(Reply(503, long_body, (("Retry-After", "3"),)))
    cid = hooks.create_connection()["id"]
    event = pick(hooks.all_notifications(), "CONNECTION_CREATED", cid)
    hooks.delivered({event["id"]}, timeout=ARRIVAL_S + 3)
    got = hooks.receiver.deliveries_of(event["id"])
    assert len(got) == 2, f"expected a 503 then a 200, the receiver got {[d.status for d in got]}"
    first, second = got
    waited = second.received_at - first.received_at
    assert waited >= 2.8, f"expected the retry after Retry-After: 3 (>= ~3 s), saw it {waited:.2f} s later"
    assert first.webhook_id == second.webhook_id and second.json() == first.json(), (
        "expected the same event on every attempt"
    )
    done = hooks.wait_status(event["id"], "delivered")
    assert done.get("delivery_attempts") == 2, f"expected 2 attempts, saw {done.get('delivery_attempts')!r}"

    log = hooks.deliveries(event["id"])
    assert len(log) == 2, f"expected 2 logged attempts, saw {log}"
    failed, ok = log
    assert (failed.get("status"), failed.get("redelivery")) == (503, False), f"expected a logged 503, saw {failed}"
    assert "503" in str(failed.get("error")), f"expected error 'HTTP 503', saw {failed.get('error')!r}"
    assert failed.get("response_body") == long_body[:1024].decode(), (
        f"expected the first 1 KiB of the answer, saw {len(str(failed.get('response_body')))} characters"
    )
    for attempt in log:
        assert isinstance(attempt.get("latency_ms"), int) and attempt["latency_ms"] >= 0, f"latency_ms: {attempt}"
        ts(attempt.get("at"))
    assert (ok.get("status"), ok.get("redelivery")) == (200, False), f"expected a logged 200, saw {ok}"
    assert "error" not in ok, f"expected no error on success, saw {ok.get('error')!r}"
    assert ok.get("response_body") == "ok", f"expected the receiver's answer 'ok', saw {ok.get('response_body')!r}"
    assert ts(ok["at"]) - ts(failed["at"]) >= timedelta(seconds=2.8), f"logged attempts {failed['at']} and {ok['at']}"

    again = hooks.ok("POST", f"/switchboard/event/{event['id']}/redeliver")
    assert again.get("id") == event["id"] and again.get("event") == "CONNECTION_CREATED", (
        f"expected the notification, saw {again}"
    )
    assert hooks.receiver.wait_for(lambda _: len(hooks.receiver.deliveries_of(event["id"])) == 3, ARRIVAL_S), (
        "expected the redelivery to arrive"
    )
    third = hooks.receiver.deliveries_of(event["id"])[2]
    check_delivery(third, event, hooks.secret, connection_id=cid)
    assert third.json() == first.json(), "expected the redelivery to carry the same event"
    log = hooks.wait_attempts(event["id"], 3)
    assert log[-1].get("redelivery") is True and log[-1].get("status") == 200, (
        f"expected a logged redelivery, saw {log[-1]}"
    )
    # docs/events.md's log entries number their attempts ("attempt": 1, ...), oldest first.
    numbers = [a.get("attempt") for a in log]
    assert numbers[:2] == [1, 2], f"expected each logged attempt to carry its number (attempt 1, 2, ...), saw {numbers}"


def test_redirects_and_timeouts_are_failed_attempts(hooks: Hooks):
    hooks.subscribe()
    elsewhere = f"http://127.0.0.1:{hooks.receiver.port}/elsewhere"
    hooks.receiver.script(
        Reply(302, b"moved", (("Location", elsewhere),)),  # never followed
        Reply(200, b"too late", delay=2.6),  # past the 2 s delivery timeout
    )
    cid = hooks.create_connection()["id"]
    event = pick(hooks.all_notifications(), "CONNECTION_CREATED", cid)
    done = hooks.wait_status(event["id"], "delivered", timeout=ARRIVAL_S + 5)
    log = hooks.deliveries(event["id"])
    assert done.get("delivery_attempts") == 3 and len(log) == 3, f"expected 3 attempts (302, timeout, 200), saw {log}"
    moved, late, ok = log
    assert moved.get("status") == 302 and moved.get("error"), f"expected a 302 to be a failed attempt, saw {moved}"
    assert not late.get("status") and late.get("error"), f"expected a timeout (an error, no status), saw {late}"
    assert late.get("latency_ms", 0) < 2600, f"expected the attempt cut off at the 2 s timeout, saw {late}"
    assert ok.get("status") == 200 and "error" not in ok, f"expected the third attempt to succeed, saw {ok}"
    paths = [d.path for d in hooks.receiver.deliveries]
    assert all(p.startswith("/hooks/") for p in paths), f"expected the redirect not followed, the receiver saw {paths}"


def test_cli_lists_and_redelivers_events(hooks: Hooks):
    hooks.subscribe()
    cid = hooks.create_connection()["id"]
    event = pick(hooks.all_notifications(), "CONNECTION_CREATED", cid)
    hooks.delivered({event["id"]})
    hooks.wait_status(event["id"], "delivered")
    server, ws = hooks.setup.server, hooks.setup.workspace.id
    activated = pick(hooks.all_notifications(), "INTEGRATION_ACTIVATED")

    out = server.cli("events", "list", "--workspace", ws).stdout
    assert event["id"] in out and activated["id"] in out, f"expected both events listed by the CLI, saw {out[:500]!r}"
    out = server.cli(
        "events", "list", "--workspace", ws, "--event", "CONNECTION_CREATED", "--status", "delivered"
    ).stdout
    assert event["id"] in out and activated["id"] not in out, f"expected only the delivered creation, saw {out[:500]!r}"
    out = server.cli("events", "list", "--workspace", ws, "--status", "none").stdout
    assert activated["id"] in out and event["id"] not in out, f"expected only the 'none' event, saw {out[:500]!r}"

    server.cli("events", "redeliver", "--workspace", ws, event["id"])
    assert hooks.receiver.wait_for(lambda _: len(hooks.receiver.deliveries_of(event["id"])) == 2, ARRIVAL_S), (
        f"expected the CLI's redelivery to arrive, the receiver got {len(hooks.receiver.deliveries_of(event['id']))}"
    )
    again = hooks.receiver.deliveries_of(event["id"])[1]
    check_delivery(again, event, hooks.secret, connection_id=cid)
    log = hooks.wait_attempts(event["id"], 2)
    assert log[-1].get("redelivery") is True, f"expected the CLI's send logged as a redelivery, saw {log[-1]}"


# docs/events.md: "at most 16 deliveries at a time to one workspace's endpoint" per replica.
PER_ENDPOINT = 16


def test_a_slow_endpoint_holds_up_no_other_workspace(hooks: Hooks, make_setup, figures):
    slow = hooks
    slow.subscribe()
    slow.receiver.default = Reply(delay=1.5)  # under the 2 s delivery timeout
    count = 36
    ids = [slow.create_connection()["id"] for _ in range(count)]
    assert slow.receiver.wait_for(lambda _: slow.receiver.in_flight >= PER_ENDPOINT, ARRIVAL_S), (
        f"expected {PER_ENDPOINT} deliveries in flight to the slow endpoint, saw {slow.receiver.in_flight}"
    )
    with Receiver() as fast_receiver:
        fast = Hooks(make_setup(slow.setup.server), fast_receiver)
        try:
            fast.subscribe()
            started = time.monotonic()
            cid = fast.create_connection()["id"]
            event = pick(fast.all_notifications(), "CONNECTION_CREATED", cid)
            fast.delivered({event["id"]}, timeout=5)
            elapsed = time.monotonic() - started
        finally:
            fast.unsubscribe_quietly()
    busy = slow.receiver.in_flight
    assert elapsed < 1.5, (
        f"expected the other workspace's event within one slow answer (1.5 s), it took {elapsed:.2f} s"
    )
    events = {pick(slow.all_notifications(), "CONNECTION_CREATED", i)["id"] for i in ids}
    slow.delivered(events, timeout=count * 1.5 / PER_ENDPOINT + 10)
    peak = slow.receiver.max_in_flight_total
    assert peak <= PER_ENDPOINT, f"expected at most {PER_ENDPOINT} deliveries at a time to one endpoint, saw {peak}"
    figures(f"slow endpoint: {peak} at once; another workspace's event in {elapsed:.2f} s while {busy} were in flight")


# ----- crashes and replicas ----------------------------------------------------------------------


KILLS = 10
WRITE_PAUSE_S = 0.01


def test_sigkills_during_delivery_lose_no_committed_event(backend, make_server, make_setup, receiver, figures):
    started = time.monotonic()
    server = make_server("events-crash", *EVENTS_SERVE_ARGS, "--event-lease-seconds", str(LEASE_S))
    hooks = Hooks(make_setup(server), receiver)
    receiver.default = Reply(delay=0.05)
    hooks.subscribe()
    created: List[str] = []
    failures: Counter = Counter()
    stop = threading.Event()

    def write() -> None:
        with httpx.Client(timeout=5.0) as client:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    r = client.post(
                        f"{server.base_url}/unified/connection",
                        headers=hooks.headers,
                        json=connection_body(f"crash-{n}"),
                    )
                except httpx.HTTPError as exc:  # the server is down or restarting
                    failures[type(exc).__name__] += 1
                    time.sleep(0.05)
                    continue
                if r.status_code == 200:
                    created.append(r.json()["id"])
                else:
                    failures[r.status_code] += 1
                time.sleep(WRITE_PAUSE_S)

    writer = threading.Thread(target=write, name="events-writer", daemon=True)
    writer.start()
    mid_delivery = 0
    try:
        for _ in range(KILLS):
            before = len(created)
            # Some writes committed since the last start, and a delivery is being answered.
            wait_until(lambda n=before: len(created) >= n + 10 and receiver.in_flight > 0, timeout=5, interval=0.005)
            mid_delivery += receiver.in_flight > 0
            server.kill()
            server.start()
        last = len(created)
        wait_until(lambda: len(created) >= last + 5, timeout=5)  # writes go on after the last start
    finally:
        stop.set()
        writer.join(timeout=10)
    assert created, f"expected writes to commit between the kills, saw none (failures: {dict(failures)})"

    # Every event the database holds is delivered (a killed replica's claims come back after the lease).
    listed: List[Dict[str, Any]] = []

    def settled() -> bool:
        nonlocal listed
        listed = hooks.all_notifications()
        wanted = {n["id"] for n in listed if n.get("delivery_status") != "none"}
        return (
            all(n.get("delivery_status") in ("delivered", "none") for n in listed) and wanted <= receiver.accepted_ids()
        )

    settled_ok = wait_until(settled, timeout=LEASE_S + ATTEMPTS * 2 + 15, interval=0.5)
    statuses = Counter(n.get("delivery_status") for n in listed)
    committed = {n["id"] for n in listed if n.get("delivery_status") != "none"}
    received = receiver.ids()
    lost = committed - receiver.accepted_ids()
    assert not lost, (
        f"expected every committed event delivered after {KILLS} SIGKILLs; {len(lost)} of {len(committed)} never "
        f"accepted (statuses {dict(statuses)}), e.g. {sorted(lost)[:3]}"
    )
    assert settled_ok, f"expected every event 'delivered', saw statuses {dict(statuses)}"
    phantom = received - {n["id"] for n in listed}
    assert not phantom, (
        f"expected only ids of listed events, the receiver got {len(phantom)} others, e.g. {sorted(phantom)[:3]}"
    )
    by_connection = {n.get("connection_id") for n in listed if n.get("event") == "CONNECTION_CREATED"}
    unrecorded = set(created) - by_connection
    assert not unrecorded, f"expected a CONNECTION_CREATED for every create answered 200; {len(unrecorded)} have none"
    unverified = [d.webhook_id for d in receiver.deliveries if not d.verified(hooks.secret)]
    assert not unverified, f"expected every delivery to verify, {len(unverified)} did not (e.g. {unverified[:3]})"
    for d in receiver.deliveries:
        assert d.json().get("id") == d.webhook_id, (
            f"a delivery's body id {d.json().get('id')} is not its webhook-id {d.webhook_id}"
        )
    per_id = Counter(d.webhook_id for d in receiver.deliveries if d.ok)
    duplicates = sum(c - 1 for c in per_id.values())
    elapsed = time.monotonic() - started
    figures(
        f"{KILLS} SIGKILLs ({mid_delivery} mid-delivery): {len(created)} creates got 200, {len(committed)} events, "
        f"{duplicates} duplicate deliveries (same webhook-id), {elapsed:.1f} s; write failures {dict(failures)}"
    )
    assert elapsed < 120, f"expected the crash test to stay bounded, it took {elapsed:.1f} s"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_two_replicas_share_deliveries_and_never_send_one_event_at_once(
    backend, databases, make_server, make_setup, receiver, figures
):
    database = databases.new("postgres", "events_replicas")
    a = make_server("events-A", *EVENTS_SERVE_ARGS, database_url=database)
    b = make_server("events-B", *EVENTS_SERVE_ARGS, database_url=database)
    hooks = Hooks(make_setup(a), receiver)
    receiver.default = Reply(delay=0.1)
    receiver.script(*[Reply(503, b"not yet")] * 10)  # some events are retried, by either replica
    hooks.subscribe()
    before = {s.name: deliveries_counted(s.base_url) for s in (a, b)}
    count = 60

    def create(i: int) -> str:
        server = a if i % 2 == 0 else b
        r = hooks.setup.http.post(
            f"{server.base_url}/unified/connection", headers=hooks.headers, json=connection_body(f"replica-{i}")
        )
        assert r.status_code == 200, f"create on {server.name}: expected 200, saw {r.status_code}: {r.text[:200]}"
        return r.json()["id"]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(create, range(count)))
    listed = hooks.all_notifications()
    events = {pick(listed, "CONNECTION_CREATED", cid)["id"] for cid in ids}
    hooks.delivered(events, timeout=30)
    concurrent_ids = {i: m for i, m in receiver.max_in_flight_by_id().items() if m > 1}
    assert not concurrent_ids, (
        f"expected no event delivered by two replicas at once; {len(concurrent_ids)} were (max in flight per id: "
        f"{sorted(concurrent_ids.values())[-3:]})"
    )
    peak = receiver.max_in_flight_total
    assert peak <= 2 * PER_ENDPOINT, (
        f"expected at most {PER_ENDPOINT} deliveries at a time per replica ({2 * PER_ENDPOINT} for two), saw {peak}"
    )
    for event_id in events:
        hooks.wait_status(event_id, "delivered")
    after = {s.name: deliveries_counted(s.base_url) for s in (a, b)}
    shares = {name: after[name] - before[name] for name in after}
    assert all(v > 0 for v in shares.values()), (
        f"expected both replicas to deliver (switchboard_event_deliveries_total moved on each), saw {shares}"
    )
    duplicates = len(receiver.deliveries) - len(events) - 10
    figures(f"2 replicas: {count} events, deliveries counted per replica {shares}, {peak} at once, {duplicates} extra")
