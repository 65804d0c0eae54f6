"""Sustained load: a fixed request rate with a realistic mix, watching errors, p99, RSS and fds.

Mix: 80% list with assorted filters, 10% get, 5% create, 4% patch, 1% delete, sent at a fixed
rate (SWITCHBOARD_SOAK_RATE, default 100/s) by a pool of keep-alive clients on loopback. After a
warm-up at the same rate (SWITCHBOARD_SOAK_WARMUP_SECONDS, default 60: connection pools, caches
and malloc arenas reach their working size, which took up to a minute on PostgreSQL on a loaded
machine; after 30 s PostgreSQL still grew 5-9% in the measured period), it runs for SWITCHBOARD_SOAK_SECONDS (default 40 in CI; `make soak` runs 300) and
asserts:

- no error: every answer is the expected 200, and no request fails;
- p99 latency stable: the median of the per-5-s-window p99s over the second half of the measured
  period is at most twice that over the first half, plus 25 ms (slack for a shared machine's
  noise, none for a steady slowdown);
- RSS at the end within 10% of RSS after the warm-up (no leak);
- open file descriptors at the end no more than 4 above those after the warm-up.
"""

from __future__ import annotations

import queue
import random
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import httpx

from conftest import env_int

WINDOW_S = 5
CLIENTS = 12
PRIME_ROUNDS = 5
SEED_CONNECTIONS = 300

CATEGORIES = ["crm", "hris", "ats", "accounting", "ticketing", "storage", "messaging", "commerce"]
ENVIRONMENTS = ["Production", "Sandbox", "Staging"]
TYPES = ["hubspot", "salesforce", "bamboohr", "greenhouse", "quickbooks", "zendesk", "box", "slack"]


def connection_body(rng: random.Random, n: int) -> dict:
    cats = rng.sample(CATEGORIES, rng.randint(1, 3))
    return {
        "integration_type": rng.choice(TYPES),
        "integration_name": f"Soak {n}",
        "external_xref": f"soak-{n % 50}",
        "environment": rng.choice(ENVIRONMENTS),
        "permissions": ["crm_contact_read", "hris_employee_read"],
        "categories": cats,
        "auth": {"access_token": f"token-{n}", "refresh_token": f"refresh-{n}", "expires_in": 3600},
    }


def list_params(rng: random.Random) -> dict:
    params: Dict[str, object] = {"limit": rng.choice([10, 25, 50, 100])}
    if rng.random() < 0.3:
        params["offset"] = rng.randrange(0, 200)
    if rng.random() < 0.4:
        params["categories"] = ",".join(rng.sample(CATEGORIES, rng.randint(1, 2)))
    if rng.random() < 0.3:
        params["env"] = rng.choice(ENVIRONMENTS)
    if rng.random() < 0.2:
        params["external_xref"] = f"soak-{rng.randrange(50)}"
    if rng.random() < 0.4:
        params["sort"] = rng.choice(["name", "updated_at", "created_at"])
        params["order"] = rng.choice(["asc", "desc"])
    if rng.random() < 0.2:
        params["updated_gte"] = "2020-01-01T00:00:00Z"
    return params


@dataclass
class Pools:
    """Ids to aim at. Gets and patches use the seeded rows; deletes only rows created during the
    soak, so a get never races a delete of the same row (that 404 would be the test's fault)."""

    stable: List[str]
    deletable: List[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Sample:
    at: float  # seconds since the start of the run
    kind: str
    latency_ms: float
    error: Optional[str]


def run_request(client: httpx.Client, kind: str, rng: random.Random, pools: Pools, n: int) -> Optional[str]:
    if kind == "list":
        r = client.get("/unified/connection", params=list_params(rng))
    elif kind == "get":
        r = client.get(f"/unified/connection/{rng.choice(pools.stable)}")
    elif kind == "create":
        r = client.post("/unified/connection", json=connection_body(rng, n))
        if r.status_code == 200:
            with pools.lock:
                pools.deletable.append(r.json()["id"])
    elif kind == "patch":
        body = {"integration_name": f"Soak patched {n}", "auth": {"access_token": f"rotated-{n}"}}
        r = client.patch(f"/unified/connection/{rng.choice(pools.stable)}", json=body)
    else:
        with pools.lock:
            target = pools.deletable.pop(rng.randrange(len(pools.deletable))) if pools.deletable else None
        if target is None:  # nothing created yet: a list stands in
            r = client.get("/unified/connection", params={"limit": 10})
        else:
            r = client.delete(f"/unified/connection/{target}")
    if r.status_code != 200:
        return f"{kind} answered {r.status_code}: {r.text[:200]}"
    return None


def pick_kind(rng: random.Random) -> str:
    roll = rng.random() * 100
    if roll < 80:
        return "list"
    if roll < 90:
        return "get"
    if roll < 95:
        return "create"
    if roll < 99:
        return "patch"
    return "delete"


def p99(values: List[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def test_soak_fixed_rate_mix(make_server, backend, figures):
    rate = env_int("SWITCHBOARD_SOAK_RATE", 100)
    measured_s = env_int("SWITCHBOARD_SOAK_SECONDS", 40)
    warmup_s = env_int("SWITCHBOARD_SOAK_WARMUP_SECONDS", 60)
    total_s = warmup_s + measured_s
    server = make_server(name="soak")
    workspace = server.create_workspace("soak")
    server.start()
    rng = random.Random(7)

    with httpx.Client(base_url=server.base_url, headers=workspace.headers(), timeout=10.0) as client:
        stable = []
        for n in range(SEED_CONNECTIONS):
            r = client.post("/unified/connection", json=connection_body(rng, n))
            assert r.status_code == 200, r.text[:300]
            stable.append(r.json()["id"])
    pools = Pools(stable=stable)

    tickets: "queue.Queue[Optional[Tuple[int, float]]]" = queue.Queue()
    samples: List[Sample] = []
    samples_lock = threading.Lock()
    start = time.monotonic()

    barrier = threading.Barrier(CLIENTS)
    prime_errors: List[str] = []

    def worker(index: int) -> None:
        wrng = random.Random(1000 + index)
        with httpx.Client(base_url=server.base_url, headers=workspace.headers(), timeout=10.0) as client:
            # Warm-up starts with every client asking at once, a few times, so connection pools
            # grow to the most this load can need now rather than during the measurement.
            for _ in range(PRIME_ROUNDS):
                barrier.wait(timeout=60)
                r = client.get("/unified/connection", params={"limit": 100})
                if r.status_code != 200:
                    prime_errors.append(f"warm-up list answered {r.status_code}: {r.text[:200]}")
            while True:
                ticket = tickets.get()
                if ticket is None:
                    return
                n, _scheduled = ticket
                kind = pick_kind(wrng)
                sent = time.monotonic()
                try:
                    error = run_request(client, kind, wrng, pools, SEED_CONNECTIONS + n)
                except httpx.HTTPError as exc:
                    error = f"{kind} failed: {type(exc).__name__}: {exc}"
                done = time.monotonic()
                with samples_lock:
                    samples.append(Sample(sent - start, kind, (done - sent) * 1000, error))

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(CLIENTS)]
    for t in workers:
        t.start()

    # Resource samples: (seconds since start, RSS KiB, open fds), one a second.
    resources: List[Tuple[float, int, int]] = []
    interval = 1.0 / rate
    n = 0
    next_sample = 0.0
    lag_max = 0.0
    while True:
        now = time.monotonic() - start
        if now >= total_s:
            break
        if now >= next_sample:
            resources.append((now, server.rss_kib(), server.open_fds()))
            next_sample += 1.0
        scheduled = n * interval
        if scheduled <= now:
            lag_max = max(lag_max, now - scheduled)
            tickets.put((n, scheduled))
            n += 1
        else:
            time.sleep(min(scheduled - now, 0.01))
    # The end sample is taken while the clients are still connected, like the warm-up one.
    resources.append((time.monotonic() - start, server.rss_kib(), server.open_fds()))
    for _ in workers:
        tickets.put(None)
    for t in workers:
        t.join(timeout=30)
    server.assert_running()

    assert not prime_errors, prime_errors[0]
    errors = [s.error for s in samples if s.error]
    assert not errors, f"{len(errors)} of {len(samples)} requests failed; first: {errors[0]}"
    backlog = tickets.qsize()
    assert len(samples) == n, f"{n - len(samples)} scheduled requests were not sent (the clients fell behind)"

    measured = [s for s in samples if s.at >= warmup_s]
    windows: List[List[float]] = []
    t0 = warmup_s
    while t0 + WINDOW_S <= total_s + 0.001:
        windows.append([s.latency_ms for s in measured if t0 <= s.at < t0 + WINDOW_S])
        t0 += WINDOW_S
    window_p99 = [p99(w) for w in windows if w]
    window_rss = [max(r[1] for r in resources if t <= r[0] < t + WINDOW_S) / 1024 for t in range(warmup_s, total_s, WINDOW_S)]
    # The median window of each half: one noisy window (a shared machine) does not decide.
    half = len(window_p99) // 2
    first_p99 = statistics.median(window_p99[:half])
    last_p99 = statistics.median(window_p99[half:])

    after_warmup = [r for r in resources if r[0] >= warmup_s][0]
    end = resources[-1]
    rss_growth = (end[1] - after_warmup[1]) / after_warmup[1]
    achieved = len(measured) / measured_s
    mix = {k: sum(1 for s in measured if s.kind == k) for k in ("list", "get", "create", "patch", "delete")}
    figures(
        f"{len(measured)} requests in {measured_s} s at {achieved:.0f}/s (target {rate}/s), mix {mix}, "
        f"0 errors; p99 per {WINDOW_S} s window (ms): {', '.join(f'{v:.1f}' for v in window_p99)}; "
        f"overall p50 {sorted(s.latency_ms for s in measured)[len(measured) // 2]:.1f} ms, "
        f"p99 {p99([s.latency_ms for s in measured]):.1f} ms (median window p99: first half {first_p99:.1f}, "
        f"second half {last_p99:.1f}); RSS {after_warmup[1] / 1024:.1f} MiB after warm-up, "
        f"{end[1] / 1024:.1f} MiB at end ({rss_growth * 100:+.1f}%), peak "
        f"{max(r[1] for r in resources) / 1024:.1f} MiB, per window {', '.join(f'{v:.1f}' for v in window_rss)}; fds {after_warmup[2]} -> {end[2]}; "
        f"max scheduler lag {lag_max * 1000:.0f} ms, backlog {backlog}"
    )
    assert achieved >= rate * 0.95, f"achieved {achieved:.1f} req/s, below 95% of the target {rate}/s"
    assert last_p99 <= 2 * first_p99 + 25, (
        f"p99 grew from {first_p99:.1f} ms (first half) to {last_p99:.1f} ms (second half)"
    )
    assert rss_growth <= 0.10, (
        f"RSS grew {rss_growth * 100:.1f}% after the warm-up "
        f"({after_warmup[1]} KiB -> {end[1]} KiB)"
    )
    assert end[2] <= after_warmup[2] + 4, f"open fds grew from {after_warmup[2]} to {end[2]}"
