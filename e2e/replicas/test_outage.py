"""PostgreSQL outages under traffic, on a private cluster (never the shared one).

PostgreSQL is killed with `pg_ctl stop -m immediate` (a crash: no checkpoint) while threads keep
listing, fetching and creating connections. While it is down, every request must get a 503 with
the JSON error body and a Retry-After header, in bounded time (the store's 5 s deadline); /health
stays up. Once it is started again on the same data directory, the server must serve again by
itself, and everything acknowledged before (or between) must still be there.
"""

from __future__ import annotations

import threading
import time
from typing import Dict, List, Optional

import httpx
from prometheus_client.parser import text_string_to_metric_families

CONNECTIONS = "/unified/connection"
CLIENT_TIMEOUT_S = 15.0  # per request: a hang shows up as a timeout, not a stuck test
MAX_LATENCY_S = 12.0  # store deadline 5 s (+ connect timeout 3 s) plus slack for a debug build
WARMUP_S = 1.0
OUTAGE_S = 7.0  # longer than the 5 s deadline, so requests sent in the outage also end in it
RECOVERY_BUDGET_S = 30.0
PAUSE_S = 0.02  # between one thread's requests
MAX_REQUESTS_PER_THREAD = 5000
SEED_CONNECTIONS = 5
READERS, WRITERS = 3, 3
CRASH_CYCLES = 10  # the repeated-crash test: short outages, each hitting requests in flight
CRASH_DOWNTIME_S = 0.5


class Traffic:
    """Background threads issuing requests in a bounded loop, recording every outcome."""

    def __init__(self, base_url: str, api_key: str, seed_ids: List[str], readers: int, writers: int):
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.seed_ids = seed_ids
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.records: List[dict] = []
        self.in_flight: Dict[str, dict] = {}  # thread name -> the request it is waiting on
        self.names = [f"reader{i}" for i in range(readers)] + [f"writer{i}" for i in range(writers)]
        self.threads = [threading.Thread(target=self._run, args=(name,), daemon=True) for name in self.names]
        self.hard_deadline = time.monotonic() + 120.0

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=CLIENT_TIMEOUT_S + 5)
        assert not any(t.is_alive() for t in self.threads), "a traffic thread did not finish"

    def snapshot(self) -> List[dict]:
        with self.lock:
            return list(self.records)

    def oldest_in_flight(self) -> float:
        """How long the oldest request still waiting for its answer has been waiting."""
        now = time.monotonic()
        with self.lock:
            return max((now - rec["sent"] for rec in self.in_flight.values()), default=0.0)

    def _request(self, client: httpx.Client, name: str, n: int) -> dict:
        if name.startswith("writer"):
            method, path = "POST", CONNECTIONS
            kwargs = {"json": {
                "integration_type": "bamboohr", "categories": ["hris"],
                "permissions": ["hris_employee_read"], "external_xref": f"outage-{name}-{n}",
                "auth": {"access_token": f"at-{name}-{n}"},
            }}  # fmt: skip
        elif n % 2 == 0:
            method, path, kwargs = "GET", CONNECTIONS, {"params": {"limit": 5}}
        else:
            method, path, kwargs = "GET", f"{CONNECTIONS}/{self.seed_ids[n % len(self.seed_ids)]}", {}
        rec = {"thread": name, "method": method, "path": path, "n": n, "status": None, "error": None,
               "json": None, "retry_after": None, "content_type": None, "sent": time.monotonic()}  # fmt: skip
        with self.lock:
            self.in_flight[name] = rec
        try:
            r = client.request(method, path, **kwargs)
            rec["status"] = r.status_code
            rec["retry_after"] = r.headers.get("retry-after")
            rec["content_type"] = r.headers.get("content-type")
            try:
                rec["json"] = r.json()
            except ValueError:
                rec["text"] = r.text[:300]
        except httpx.HTTPError as exc:
            rec["error"] = f"{type(exc).__name__}: {exc}"
        rec["done"] = time.monotonic()
        with self.lock:
            del self.in_flight[name]
            self.records.append(rec)
        return rec

    def _run(self, name: str) -> None:
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=CLIENT_TIMEOUT_S) as client:
            for n in range(MAX_REQUESTS_PER_THREAD):
                if self.stop.is_set() or time.monotonic() > self.hard_deadline:
                    return
                self._request(client, name, n)
                time.sleep(PAUSE_S)


def describe(rec: dict, t0: float = 0.0) -> str:
    what = rec["error"] or f"{rec['status']} {rec.get('json') or rec.get('text', '')}"
    return (
        f"{rec['thread']} {rec['method']} {rec['path']} sent at {rec['sent'] - t0:+.2f}s -> "
        f"{str(what)[:160]} after {rec['done'] - rec['sent']:.2f}s"
    )


def unavailable_problem(rec: dict) -> Optional[str]:
    """None when `rec` is a proper 503; else what is wrong with it."""
    if rec["status"] != 503:
        return "not a 503"
    body = rec["json"]
    if not (isinstance(body, dict) and isinstance(body.get("error"), dict)):
        return "no JSON error body"
    if body["error"].get("status") != 503:
        return f"error.status is {body['error'].get('status')!r}"
    if not (rec["content_type"] or "").startswith("application/json"):
        return f"content-type {rec['content_type']!r}"
    ra = rec["retry_after"]
    if ra is None or not ra.strip().isdigit() or int(ra) < 1:
        return f"Retry-After {ra!r}"
    return None


def check_every_answer(records: List[dict], t0: float) -> None:
    """No transport failure or hang, only 200s and well-formed 503s, every one in bounded time."""
    slow = [r for r in records if r["done"] - r["sent"] > MAX_LATENCY_S]
    assert not slow, (
        f"{len(slow)} requests took over {MAX_LATENCY_S:.0f}s (times relative to the PostgreSQL stop): "
        + "; ".join(describe(r, t0) for r in slow[:5])
    )
    transport = [r for r in records if r["error"]]
    assert not transport, f"{len(transport)} requests got no answer: " + "; ".join(
        describe(r, t0) for r in transport[:5]
    )
    odd = [r for r in records if r["status"] not in (200, 503)]
    assert not odd, f"{len(odd)} answers were neither 200 nor 503: " + "; ".join(describe(r, t0) for r in odd[:5])
    bad = [(r, why) for r in records if r["status"] == 503 and (why := unavailable_problem(r))]
    assert not bad, "malformed 503s: " + "; ".join(f"{describe(r, t0)} ({why})" for r, why in bad[:5])


def wait_for_recovery(traffic: Traffic, since: float, budget: float) -> Optional[float]:
    """When every thread got 3 answers of 200 in a row to requests sent after `since`.

    A thread stuck in one request for over 6 s does not hold this up: the latency checks report it.
    """
    while time.monotonic() < since + budget:
        recs = [r for r in traffic.snapshot() if r["sent"] >= since]
        now = time.monotonic()
        with traffic.lock:
            stuck = {name for name, rec in traffic.in_flight.items() if now - rec["sent"] > 6.0}
        ok = [
            [r["status"] for r in recs if r["thread"] == name][-3:] == [200, 200, 200]
            for name in traffic.names
            if name not in stuck
        ]
        if ok and all(ok):
            return time.monotonic()
        time.sleep(0.1)
    return None


def wait_until_settled(traffic: Traffic) -> None:
    """Until no request has been waiting long, or one has waited past the bound (a hang)."""
    deadline = time.monotonic() + MAX_LATENCY_S + 3
    while time.monotonic() < deadline:
        oldest = traffic.oldest_in_flight()
        if oldest < 1.0 or oldest > MAX_LATENCY_S:
            return
        time.sleep(0.2)


def seed(server, api_key: str) -> List[dict]:
    seeded = []
    with httpx.Client(base_url=server.base_url, headers={"Authorization": api_key}, timeout=CLIENT_TIMEOUT_S) as c:
        for i in range(SEED_CONNECTIONS):
            r = c.post(CONNECTIONS, json={
                "integration_type": "hubspot", "categories": ["crm"],
                "permissions": ["crm_contact_read"], "external_xref": f"seed-{i}",
                "integration_name": f"Seed {i}", "auth": {"access_token": f"at-{i}"},
            })  # fmt: skip
            assert r.status_code == 200, r.text
            seeded.append(r.json())
    return seeded


def check_durable(server, api_key: str, expected: List[dict]) -> None:
    """Every connection in `expected` (as acknowledged) is there, unchanged, and listed."""
    with httpx.Client(base_url=server.base_url, headers={"Authorization": api_key}, timeout=CLIENT_TIMEOUT_S) as c:
        for conn in expected:
            r = c.get(f"{CONNECTIONS}/{conn['id']}")
            assert r.status_code == 200, f"{conn['external_xref']}: {r.status_code} {r.text[:200]}"
            assert r.json() == conn, f"{conn['external_xref']} changed across the outage"
        # Page through the whole list: a busy run acknowledges more than one page of creates.
        listed, offset = set(), 0
        while True:
            r = c.get(CONNECTIONS, params={"limit": 1000, "offset": offset})
            assert r.status_code == 200, r.text
            page = r.json()
            listed |= {row["id"] for row in page}
            if len(page) < 1000:
                break
            offset += 1000
        assert {conn["id"] for conn in expected} <= listed


def probe(base_url: str, api_key: str, name: str, method: str, path: str, body: Optional[dict]) -> dict:
    """One request on a fresh client, recorded like the traffic's."""
    rec = {"thread": name, "method": method, "path": path, "status": None, "error": None, "json": None,
           "retry_after": None, "content_type": None, "sent": time.monotonic()}  # fmt: skip
    try:
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"},
                          timeout=CLIENT_TIMEOUT_S) as client:  # fmt: skip
            r = client.request(method, path, json=body)
        rec.update(status=r.status_code, retry_after=r.headers.get("retry-after"),
                   content_type=r.headers.get("content-type"))  # fmt: skip
        try:
            rec["json"] = r.json()
        except ValueError:
            rec["text"] = r.text[:300]
    except httpx.HTTPError as exc:
        rec["error"] = f"{type(exc).__name__}: {exc}"
    rec["done"] = time.monotonic()
    return rec


def server_tail(server) -> str:
    try:
        return server.stderr_path.read_text(errors="replace")[-3000:]
    except OSError:
        return "<no stderr>"


def test_postgres_outage_yields_503s_and_the_server_recovers(private_cluster, make_server, run_id, figures):
    server = make_server(private_cluster.url, "outage")
    ws = server.create_workspace(f"outage-{run_id}")  # the CLI first (it also migrates)
    server.start()
    seeded = seed(server, ws.api_key)

    victim = seeded[-1]  # the probes' PATCH, PUT and DELETE target: all must come to nothing
    probe_xref = f"outage-probe-{run_id}"
    probes = [
        ("probe-list", "GET", CONNECTIONS, None),
        ("probe-get", "GET", f"{CONNECTIONS}/{seeded[0]['id']}", None),
        ("probe-create", "POST", CONNECTIONS, {"integration_type": "hubspot", "categories": ["crm"],
                                              "permissions": ["crm_contact_read"], "external_xref": probe_xref}),
        ("probe-patch", "PATCH", f"{CONNECTIONS}/{victim['id']}", {"integration_name": "patched in the outage"}),
        ("probe-put", "PUT", f"{CONNECTIONS}/{victim['id']}", {"auth_aws_arn": "put in the outage"}),
        ("probe-delete", "DELETE", f"{CONNECTIONS}/{victim['id']}", None),
    ]  # fmt: skip
    probe_results: List[dict] = []
    probe_threads: List[threading.Thread] = []

    def run_probe(spec) -> None:
        probe_results.append(probe(server.base_url, ws.api_key, *spec))

    traffic = Traffic(server.base_url, ws.api_key, [c["id"] for c in seeded[:-1]], READERS, WRITERS)
    health: List[tuple] = []
    live: List[tuple] = []
    ready: List[tuple] = []
    recovered_at: Optional[float] = None
    try:
        traffic.start()
        time.sleep(WARMUP_S)

        t_stop = time.monotonic()
        private_cluster.down("immediate")
        t_down = time.monotonic()
        assert not private_cluster.accepts_connections(), "PostgreSQL still accepts connections"
        # Every kind of request, sent now that PostgreSQL is down, alongside the traffic.
        probe_threads.extend(threading.Thread(target=run_probe, args=(spec,), daemon=True) for spec in probes)
        for t in probe_threads:
            t.start()
        with httpx.Client(timeout=5.0) as plain:
            # /metrics still answers, within its 2 s wait for the database's gauges.
            started = time.monotonic()
            r = plain.get(f"{server.base_url}/metrics")
            metrics_in_outage = (r.status_code, time.monotonic() - started)
            while time.monotonic() < t_down + OUTAGE_S:
                for path, answers in (("/health", health), ("/health/live", live), ("/health/ready", ready)):
                    try:
                        started = time.monotonic()
                        r = plain.get(f"{server.base_url}{path}")
                        answers.append((r.status_code, time.monotonic() - started, r.text))
                    except httpx.HTTPError:
                        answers.append((-1, 0.0, ""))
                time.sleep(0.5)
        server.assert_running()

        t_up_begin = time.monotonic()
        private_cluster.up()  # the same data directory, started again
        t_up = time.monotonic()
        recovered_at = wait_for_recovery(traffic, t_up, RECOVERY_BUDGET_S)
        if recovered_at is not None:
            time.sleep(1.0)  # it must stay recovered
        wait_until_settled(traffic)
    finally:
        traffic.join()
        for t in probe_threads:
            t.join(timeout=CLIENT_TIMEOUT_S + 5)
    records = traffic.snapshot() + probe_results
    server.assert_running()

    check_every_answer(records, t_stop)
    assert len(probe_results) == len(probes), "a probe did not finish"
    late = [r for r in probe_results if r["done"] > t_up_begin]
    assert not late, "probes answered only after PostgreSQL was back: " + "; ".join(describe(r, t_stop) for r in late)

    before = [r for r in records if r["done"] < t_stop]
    assert before and all(r["status"] == 200 for r in before), [describe(r, t_stop) for r in before][:5]

    # Sent after PostgreSQL stopped and answered before it was back: all 503. (A request still
    # waiting for a connection when it came back may succeed: that is fine.)
    during = [r for r in records if r["sent"] >= t_down and r["done"] <= t_up_begin]
    assert len(during) >= len(probes), (
        f"only {len(during)} requests ran within the outage ({t_down - t_stop:.2f}s to "
        f"{t_up_begin - t_stop:.2f}s after the stop); requests sent in it:\n"
        + "\n".join(describe(r, t_stop) for r in records if t_down <= r["sent"] < t_up_begin)
    )
    not_503 = [r for r in during if r["status"] != 503]
    assert not not_503, f"{len(not_503)} non-503 answers in the outage: " + "; ".join(
        describe(r, t_stop) for r in not_503[:5]
    )
    assert health and all(a[0] == 200 for a in health), f"/health in the outage: {health}"
    assert live and all(a[0] == 200 for a in live), f"/health/live in the outage: {live}"
    # Readiness fails in the outage, within its 2 s database deadline (plus slack), naming the check.
    assert ready and all(a[0] == 503 and '"database":"no answer' in a[2] for a in ready), (
        f"/health/ready in the outage: {ready}"
    )
    assert max(a[1] for a in ready) < 3.5, f"/health/ready took too long in the outage: {ready}"

    after_restart = [r for r in records if r["sent"] >= t_up]
    assert recovered_at is not None, (
        f"no recovery within {RECOVERY_BUDGET_S:.0f}s of the restart; last answers: "
        f"{[r['status'] for r in after_restart][-20:]}\n--- server stderr (tail) ---\n{server_tail(server)}"
    )
    back = httpx.get(f"{server.base_url}/health/ready", timeout=5.0)
    assert back.status_code == 200, f"/health/ready after recovery: {back.status_code} {back.text}"
    after_recovery = [r for r in records if r["sent"] >= recovered_at]
    assert after_recovery and all(r["status"] == 200 for r in after_recovery), [
        describe(r, t_stop) for r in after_recovery if r["status"] != 200
    ][:5]

    # Every 503 the clients saw is counted by route template (the clients may have given up on
    # a few answers, which the server still counted).
    assert metrics_in_outage[0] == 200 and metrics_in_outage[1] < 3.5, f"/metrics in the outage: {metrics_in_outage}"
    counted = 0.0
    for family in text_string_to_metric_families(httpx.get(f"{server.base_url}/metrics", timeout=5.0).text):
        for sample in family.samples:
            if sample.name == "switchboard_http_requests_total" and sample.labels["status"] == "503":
                if sample.labels["route"] == "/health/ready":
                    assert sample.value == sum(a[0] == 503 for a in ready), (sample, ready)
                    continue
                assert sample.labels["route"].startswith("/unified/connection"), sample
                counted += sample.value
    seen = sum(r["status"] == 503 for r in records)
    unanswered = sum(r["status"] is None for r in records)
    assert seen <= counted <= seen + unanswered, f"{counted} 503s counted, the clients saw {seen} ({unanswered} unanswered)"

    lat = sorted(r["done"] - r["sent"] for r in during)
    first_ok = min(r["done"] for r in records if r["sent"] >= t_down and r["status"] == 200)
    figures(
        f"outage of {t_up_begin - t_down:.1f}s: {len(during)} requests within it, all 503 "
        f"(latency min {lat[0] * 1000:.0f} ms, median {lat[len(lat) // 2] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms); "
        f"503s in total {sum(r['status'] == 503 for r in records)}; max latency of any request "
        f"{max(r['done'] - r['sent'] for r in records) * 1000:.0f} ms"
    )
    figures(
        f"recovery: PostgreSQL restart took {t_up - t_up_begin:.2f}s; first 200 {first_ok - t_up:+.2f}s after it "
        f"was back; {sum(r['status'] == 503 for r in after_restart)} 503s to requests sent after that; every "
        f"thread 3 x 200 in a row after {recovered_at - t_up:.2f}s; {len(records)} requests in all"
    )

    created = [r["json"] for r in records if r["method"] == "POST" and r["status"] == 200]
    check_durable(server, ws.api_key, seeded + created)
    # What was refused with a 503 while PostgreSQL was down never took effect later: the victim
    # is unchanged (checked above) and no refused create shows up.
    refused = [r for r in records if r["method"] == "POST" and r["status"] == 503 and r["sent"] >= t_down]
    with httpx.Client(base_url=server.base_url, headers={"Authorization": ws.api_key}, timeout=CLIENT_TIMEOUT_S) as c:
        for r in refused:
            xref = probe_xref if r["thread"] == "probe-create" else f"outage-{r['thread']}-{r['n']}"
            found = c.get(CONNECTIONS, params={"external_xref": xref})
            assert found.status_code == 200 and found.json() == [], f"a create refused with 503 exists: {xref}"


def test_repeated_postgres_crashes_never_hang_a_request(private_cluster, make_server, run_id, figures):
    """Short crashes while requests are in flight: each request still ends, quickly, as 200 or 503."""
    server = make_server(private_cluster.url, "crashes")
    ws = server.create_workspace(f"crashes-{run_id}")
    server.start()
    seeded = seed(server, ws.api_key)

    traffic = Traffic(server.base_url, ws.api_key, [c["id"] for c in seeded], READERS, WRITERS)
    t_first = time.monotonic()
    recovered_at: Optional[float] = None
    try:
        traffic.start()
        for _ in range(CRASH_CYCLES):
            time.sleep(0.7)  # traffic on a healthy database, then a crash in the middle of it
            private_cluster.down("immediate")
            time.sleep(CRASH_DOWNTIME_S)
            private_cluster.up()
        t_up = time.monotonic()
        recovered_at = wait_for_recovery(traffic, t_up, RECOVERY_BUDGET_S)
        wait_until_settled(traffic)
        hung_for = traffic.oldest_in_flight()
        back_for = time.monotonic() - t_up
    finally:
        traffic.join()
    records = traffic.snapshot()

    assert hung_for <= MAX_LATENCY_S, (
        f"a request was still unanswered {hung_for:.1f}s after it was sent, PostgreSQL being back since "
        f"{back_for:.1f}s (times relative to the first crash): "
        + "; ".join(describe(r, t_first) for r in records if r["done"] - r["sent"] > MAX_LATENCY_S)
    )
    check_every_answer(records, t_first)
    assert recovered_at is not None, f"no recovery within {RECOVERY_BUDGET_S:.0f}s after the last crash"
    figures(
        f"{CRASH_CYCLES} crashes of {CRASH_DOWNTIME_S}s: {len(records)} requests, "
        f"{sum(r['status'] == 503 for r in records)} x 503, max latency "
        f"{max(r['done'] - r['sent'] for r in records) * 1000:.0f} ms"
    )
    created = [r["json"] for r in records if r["method"] == "POST" and r["status"] == 200]
    check_durable(server, ws.api_key, seeded + created)
