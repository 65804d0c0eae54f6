"""`/metrics` as Prometheus reads it, on SQLite and on PostgreSQL: after a scripted mix of traffic
(successes, 404s, failed authentications, a token refresh that succeeds and one the provider
refuses, events delivered to an event webhook), the exposition is parsed with prometheus_client's own parser; every metric that
docs/observability.md documents exists, counters moved by exactly what the traffic did,
histograms have buckets, and no label holds an id. Then the token and the separate port.

(Answers of a stopped database, 503s, are counted in e2e/replicas/test_outage.py.)
"""

from __future__ import annotations

import json
import re
import time
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

import httpx
from prometheus_client.parser import text_string_to_metric_families

from conftest import REPO_ROOT, connect, start_registered
from receiver import Receiver
from switchboard_testkit import free_loopback_port

Key = Tuple[str, FrozenSet[Tuple[str, str]]]

LIFETIME_S = 2
METRICS_TOKEN = "metrics-token-for-the-e2e-suite-0123456789"


def documented_metrics() -> Set[str]:
    """The metric names of docs/observability.md's metrics table (`| \\`switchboard_...\\` |`)."""
    text = (REPO_ROOT / "docs" / "observability.md").read_text(encoding="utf-8")
    names = set(re.findall(r"^\| `(switchboard_[a-z_]+)` \|", text, re.MULTILINE))
    assert len(names) >= 15, f"the metrics table of docs/observability.md lists only {sorted(names)}"
    return names


class Scrape:
    def __init__(self, text: str):
        self.types: Dict[str, str] = {}
        self.samples: Dict[Key, float] = {}
        for family in text_string_to_metric_families(text):
            # prometheus_client names a counter family without its _total suffix.
            self.types[family.name + ("_total" if family.type == "counter" else "")] = family.type
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def total(self, name: str) -> float:
        return sum(v for (n, _), v in self.samples.items() if n == name)

    def labels(self) -> List[Tuple[str, str, str]]:
        return [(n, k, v) for (n, labels) in self.samples for (k, v) in labels]


def scrape(base_url: str, headers: Optional[Dict[str, str]] = None) -> Scrape:
    r = httpx.get(f"{base_url}/metrics", headers=headers or {}, timeout=10)
    assert r.status_code == 200, f"/metrics answered {r.status_code}: {r.text[:300]}"
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4"), r.headers
    return Scrape(r.text)


def test_metrics_after_a_scripted_mix_of_traffic(backend, make_server, make_setup, provider, integration, http):
    server = make_server("metrics", "--refresh-margin", "1", "--refresh-interval", "0")
    setup = make_setup(server)
    base = server.base_url
    provider.set_lifetime(LIFETIME_S)
    refreshed_id = connect(setup, integration, http, state="m1")
    refused_id = connect(setup, integration, http, state="m2")
    receiver = Receiver()
    receiver.start()
    r = http.patch(f"{base}/switchboard/workspace", headers=setup.headers, json={"event_webhook_url": receiver.url})
    assert r.status_code == 200, f"setting the event webhook answered {r.status_code}: {r.text[:300]}"
    before = scrape(base)

    # Successes, 404s, and failed authentications (no header; a key that does not exist).
    for _ in range(5):
        assert http.get(f"{base}/unified/connection", headers=setup.headers).status_code == 200
    for _ in range(3):
        r = http.get(f"{base}/unified/connection/no-such-connection", headers=setup.headers)
        assert r.status_code == 404, r.text
    for _ in range(2):
        assert http.get(f"{base}/unified/connection").status_code == 401
        r = http.get(f"{base}/unified/connection", headers={"Authorization": "sbk_0000000000000000_" + "0" * 64})
        assert r.status_code == 401
    # A refresh that succeeds; then, with every refresh token revoked, one the provider refuses.
    time.sleep(LIFETIME_S + 0.5)
    assert setup.connection(refreshed_id).get("refresh_status") == "active"
    provider.revoke_refresh_tokens()
    assert setup.connection(refused_id).get("refresh_status") == "needs_reauth"
    # Events delivered: the refused refresh's CONNECTION_UNHEALTHY, then a created connection's.
    r = http.post(
        f"{base}/unified/connection",
        headers=setup.headers,
        json={
            "integration_type": integration.type,
            "categories": integration.categories,
            "permissions": [],
            "auth": {"access_token": "metrics-event-token"},
        },
    )
    assert r.status_code == 200, f"creating a connection answered {r.status_code}: {r.text[:300]}"
    try:
        assert receiver.wait_for(lambda d: len(d) >= 2, timeout=10), (
            f"expected 2 event deliveries, saw {len(receiver.deliveries())}"
        )
    finally:
        receiver.down()
    time.sleep(0.5)  # the deliverer records its outcomes on its next tick

    after = scrape(base)

    missing = sorted(name for name in documented_metrics() if name not in after.types)
    assert not missing, f"documented but not exposed: {missing}"
    undocumented = sorted(n for n in after.types if n.startswith("switchboard_") and n not in documented_metrics())
    assert not undocumented, f"exposed but not in docs/observability.md: {undocumented}"

    def delta(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    requests = "switchboard_http_requests_total"
    assert delta(requests, route="/unified/connection", method="GET", status="200") == 5
    assert delta(requests, route="/unified/connection/{id}", method="GET", status="404") == 3
    # The two refreshing GETs, and the one /metrics scrape between the two readings.
    assert delta(requests, route="/unified/connection/{id}", method="GET", status="200") == 2
    assert delta(requests, route="/metrics", method="GET", status="200") == 1
    assert delta(requests, route="/unified/connection", method="GET", status="401") == 4
    failures = "switchboard_authentication_failures_total"
    assert delta(failures, reason="missing_header") == 2
    assert delta(failures, reason="invalid_key") == 2
    attempts = "switchboard_token_refresh_attempts_total"
    assert delta(attempts, outcome="success") == 1, after.samples
    assert delta(attempts, outcome="needs_reauth") == 1
    assert delta(attempts, outcome="retrying") == 0
    assert after.value("switchboard_connections_needing_reauth") == 1
    assert delta("switchboard_event_deliveries_total", outcome="delivered") == 2
    assert delta("switchboard_event_deliveries_total", outcome="retry") == 0
    # The two connections, the workspace's OAuth client and its event webhook's secret, as the
    # first scrape read them (key counts are read at most once a minute).
    assert after.total("switchboard_sealed_records") == 4
    assert after.value("switchboard_key_rotation_pending_records") == 0
    db = "postgresql" if backend == "postgres" else "sqlite"
    assert after.value("switchboard_build_info", version=after_version(after), backend=db) == 1
    assert after.value("switchboard_db_pool_size", backend=db) >= 1

    # Histograms: cumulative buckets up to +Inf, whose count is the sample count.
    for name in ("switchboard_http_request_duration_seconds", "switchboard_db_operation_duration_seconds"):
        assert after.types[name] == "histogram", after.types[name]
        series = {labels for (n, labels) in after.samples if n == name + "_count"}
        assert series, f"{name} has no series"
        for labels in series:
            buckets = sorted(
                ((float(dict(l)["le"]), v) for (n, l), v in after.samples.items()
                 if n == name + "_bucket" and l - {("le", dict(l)["le"])} == labels),
            )  # fmt: skip
            assert len(buckets) >= 10 and buckets[-1][0] == float("inf"), (name, labels, buckets)
            assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), (name, labels, buckets)
            assert buckets[-1][1] == after.samples[(name + "_count", labels)]
    assert after.value(
        "switchboard_http_request_duration_seconds_count", route="/unified/connection/{id}", method="GET"
    ) >= 5

    # No label holds an id: not the connections', the workspace's or the key's, nor anything
    # shaped like one; routes are templates.
    ids = {refreshed_id, refused_id, setup.workspace.id, setup.workspace.key_prefix}
    for name, key, value in after.labels():
        assert not any(i and i in value for i in ids), f"{name}{{{key}={value!r}}} holds an id"
        if key == "route":
            assert value == "unmatched" or all(
                re.fullmatch(r"[a-z_.-]*|\{[a-z_]+\}", segment) for segment in value.strip("/").split("/")
            ), f"{name}{{route={value!r}}} is not a template"
        assert not re.search(r"[0-9a-f]{16,}", value), f"{name}{{{key}={value!r}}} looks like an id"


def after_version(scrape_: Scrape) -> str:
    versions = [dict(l).get("version", "") for (n, l) in scrape_.samples if n == "switchboard_build_info"]
    assert len(versions) == 1, versions
    return versions[0]


def test_the_grafana_dashboard_graphs_every_documented_metric_and_nothing_else():
    dashboard = json.loads((REPO_ROOT / "docs" / "grafana" / "switchboard.json").read_text(encoding="utf-8"))
    used: Set[str] = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            names = re.findall(r"switchboard_[a-z_]+", target["expr"])
            assert names, f"panel {panel['title']!r} queries no Switchboard metric"
            used.update(re.sub(r"_(bucket|sum|count)$", "", n) for n in names)
    assert used == documented_metrics(), (
        f"not graphed: {sorted(documented_metrics() - used)}; not documented: {sorted(used - documented_metrics())}"
    )


def test_metrics_token_and_port(backend, server_factory, databases, provider):
    metrics_port = free_loopback_port()
    server = server_factory(
        databases.new(backend, "metrics-port"), f"{backend}-metrics-port", ["--metrics-port", str(metrics_port)]
    )
    server.env["SWITCHBOARD_METRICS_TOKEN"] = METRICS_TOKEN
    start_registered(server, provider)
    try:
        # Not on the API port any more.
        assert httpx.get(f"{server.base_url}/metrics").status_code == 404
        separate = f"http://127.0.0.1:{metrics_port}"
        r = httpx.get(f"{separate}/metrics")
        assert r.status_code == 401 and r.headers.get("www-authenticate") == "Bearer", r.text
        assert METRICS_TOKEN not in r.text
        r = httpx.get(f"{separate}/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"})
        assert r.status_code == 401
        assert scrape(separate, {"Authorization": f"Bearer {METRICS_TOKEN}"}).types
        # Only /metrics there.
        assert httpx.get(f"{separate}/unified/connection").status_code == 404
    finally:
        server.stop_and_warn()
    log = server.stderr_path.read_text(encoding="utf-8") + server.stdout_path.read_text(encoding="utf-8")
    assert METRICS_TOKEN not in log, "the metrics token appears in the server's output"
