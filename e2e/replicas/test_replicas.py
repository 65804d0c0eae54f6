"""Two `switchboard serve` replicas on one PostgreSQL database.

Both replicas run for the whole session on a fresh database (see conftest.py). What one replica
writes, the other must read at once; concurrent updates from both must never lose each other;
API keys created or revoked with the CLI take effect on both on the very next request.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional

import httpx

CONNECTIONS = "/unified/connection"
REQUEST_TIMEOUT_S = 15.0

# The concurrent-update test: every field below is owned by one writer that sets it to
# sequentially numbered values, alternating replicas; the writers run concurrently.
PATCH_FIELDS = [
    "integration_name",
    "external_xref",
    "auth_aws_arn",
    "auth_azure_keyvault_id",
    "auth_gcp_secret_name",
    "auth_hashi_vault_path",
    "secretsmanager_key",
]
WRITES_PER_FIELD = 50  # 7 fields x 50 = 350 PATCHes, 175 through each replica
PATCH_PHASE_BUDGET_S = 45.0


def new_connection(xref: str) -> dict:
    return {
        "integration_type": "hubspot",
        "categories": ["crm"],
        "permissions": ["crm_contact_read"],
        "external_xref": xref,
        "auth": {"access_token": f"at-{xref}", "refresh_token": f"rt-{xref}"},
    }


def clients(replicas, api_key: str) -> "tuple[httpx.Client, httpx.Client]":
    headers = {"Authorization": f"Bearer {api_key}"}
    return (
        httpx.Client(base_url=replicas.a.base_url, headers=headers, timeout=REQUEST_TIMEOUT_S),
        httpx.Client(base_url=replicas.b.base_url, headers=headers, timeout=REQUEST_TIMEOUT_S),
    )


def error_status(response: httpx.Response) -> Optional[int]:
    try:
        return response.json()["error"]["status"]
    except (ValueError, KeyError, TypeError):
        return None


def without(document: dict, *names: str) -> dict:
    return {k: v for k, v in document.items() if k not in names}


# ----- a. one connection's whole life, across replicas ---------------------------------------


def test_connection_written_on_one_replica_is_served_by_the_other(replicas, run_id):
    a, b = clients(replicas, replicas.workspace.api_key)
    xref = f"lifecycle-{run_id}"
    with a, b:
        r = a.post(CONNECTIONS, json=new_connection(xref))
        assert r.status_code == 200, r.text
        created = r.json()
        cid = created["id"]
        assert created["auth"] == {"access_token": f"at-{xref}", "refresh_token": f"rt-{xref}"}

        # Listed and fetched through B, credentials opened with the shared master key.
        r = b.get(CONNECTIONS, params={"external_xref": xref})
        assert r.status_code == 200, r.text
        assert r.json() == [created]
        r = b.get(f"{CONNECTIONS}/{cid}")
        assert r.status_code == 200, r.text
        assert r.json() == created

        # Patched through B; A serves the patched connection, by id and in its list.
        r = b.patch(
            f"{CONNECTIONS}/{cid}",
            json={"integration_name": "Renamed on B", "auth_aws_arn": "arn:aws:iam::1:role/b"},
        )
        assert r.status_code == 200, r.text
        patched = r.json()
        assert patched["integration_name"] == "Renamed on B"
        assert patched["auth_aws_arn"] == "arn:aws:iam::1:role/b"
        assert without(patched, "integration_name", "auth_aws_arn", "updated_at") == without(
            created, "updated_at"
        )
        assert patched["updated_at"] >= created["updated_at"]
        r = a.get(f"{CONNECTIONS}/{cid}")
        assert r.status_code == 200, r.text
        assert r.json() == patched
        r = a.get(CONNECTIONS, params={"external_xref": xref})
        assert r.status_code == 200, r.text
        assert r.json() == [patched]

        # Deleted through B: gone on both.
        r = b.delete(f"{CONNECTIONS}/{cid}")
        assert r.status_code == 200, r.text
        for client in (a, b):
            r = client.get(f"{CONNECTIONS}/{cid}")
            assert r.status_code == 404, r.text
            assert error_status(r) == 404
            r = client.get(CONNECTIONS, params={"external_xref": xref})
            assert r.status_code == 200, r.text
            assert r.json() == []
        r = a.delete(f"{CONNECTIONS}/{cid}")
        assert r.status_code == 404, r.text


# ----- b. concurrent PATCHes from both replicas lose nothing ---------------------------------


def seq_of(document: dict, name: str, tag: str) -> int:
    """The sequence number written into field `name` (0 while it still has no value of ours)."""
    value = document.get(name)
    if value is None or not value.startswith(f"{name}:{tag}"):
        return 0
    return int(value.rsplit(":", 1)[1])


def test_concurrent_patches_from_both_replicas_lose_no_update(replicas, run_id, figures):
    key = replicas.workspace.api_key
    headers = {"Authorization": f"Bearer {key}"}
    tag = f"{run_id}:"

    with httpx.Client(base_url=replicas.a.base_url, headers=headers, timeout=REQUEST_TIMEOUT_S) as a:
        r = a.post(CONNECTIONS, json=new_connection(f"patched-{run_id}"))
        assert r.status_code == 200, r.text
        initial = r.json()
    cid = initial["id"]
    path = f"{CONNECTIONS}/{cid}"

    def value(name: str, seq: int) -> str:
        return f"{name}:{tag}{seq:03d}"

    # One record per PATCH: (field, seq, replica, sent, acked, status, body or text).
    records: List[dict] = []
    records_lock = threading.Lock()
    deadline = time.monotonic() + PATCH_PHASE_BUDGET_S
    start = threading.Barrier(len(PATCH_FIELDS))

    def writer(index: int, name: str) -> None:
        with httpx.Client(base_url=replicas.a.base_url, headers=headers, timeout=REQUEST_TIMEOUT_S) as ca, \
                httpx.Client(base_url=replicas.b.base_url, headers=headers, timeout=REQUEST_TIMEOUT_S) as cb:  # fmt: skip
            start.wait(timeout=10)
            for seq in range(1, WRITES_PER_FIELD + 1):
                if time.monotonic() > deadline:
                    return  # the count check below reports the missing writes
                replica = "A" if (seq + index) % 2 == 0 else "B"
                client = ca if replica == "A" else cb
                sent = time.monotonic()
                body = None
                try:
                    resp = client.patch(path, json={name: value(name, seq)})
                    status, text = resp.status_code, resp.text
                    if status == 200:
                        body = resp.json()
                except httpx.HTTPError as exc:
                    status, text = None, f"{type(exc).__name__}: {exc}"
                except ValueError:
                    pass  # a 200 without a JSON body: reported below
                acked = time.monotonic()
                with records_lock:
                    records.append(dict(field=name, seq=seq, replica=replica, sent=sent, acked=acked,
                                        status=status, text=text[:300], body=body))  # fmt: skip
                if status != 200:
                    return  # a field's sequence must not skip a value; stop this writer

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(PATCH_FIELDS)) as pool:
        futures = [pool.submit(writer, i, name) for i, name in enumerate(PATCH_FIELDS)]
        for f in futures:
            f.result(timeout=PATCH_PHASE_BUDGET_S + 30)
    elapsed = time.monotonic() - began

    failures = [r for r in records if r["status"] != 200 or r["body"] is None]
    assert not failures, (
        f"{len(failures)} PATCHes did not answer 200 with a JSON body, e.g. "
        + "; ".join(f"{r['field']}#{r['seq']} via {r['replica']}: {r['status']} {r['text']}" for r in failures[:5])
    )
    assert len(records) == len(PATCH_FIELDS) * WRITES_PER_FIELD, (
        f"only {len(records)} of {len(PATCH_FIELDS) * WRITES_PER_FIELD} PATCHes ran within "
        f"{PATCH_PHASE_BUDGET_S:.0f}s"
    )
    per_replica = {rep: sum(1 for r in records if r["replica"] == rep) for rep in ("A", "B")}
    half = len(PATCH_FIELDS) * WRITES_PER_FIELD // 2
    assert per_replica == {"A": half, "B": half}
    latencies = sorted(r["acked"] - r["sent"] for r in records)
    figures(
        f"{len(records)} PATCHes ({per_replica['A']} via A, {per_replica['B']} via B) by "
        f"{len(PATCH_FIELDS)} concurrent writers in {elapsed:.2f}s; latency median "
        f"{latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
    )

    # Each answer shows its own write, and every write acknowledged before its request was sent:
    # an update that read a stale row would carry an older value of some other field.
    acks: Dict[str, List["tuple[float, int]"]] = {name: [] for name in PATCH_FIELDS}
    for r in records:
        acks[r["field"]].append((r["acked"], r["seq"]))
    stale = []
    for r in records:
        body = r["body"]
        assert body[r["field"]] == value(r["field"], r["seq"]), (r["field"], r["seq"], body[r["field"]])
        for name in PATCH_FIELDS:
            required = max((seq for acked, seq in acks[name] if acked < r["sent"]), default=0)
            seen = seq_of(body, name, tag)
            if seen < required:
                stale.append(f"{r['field']}#{r['seq']} via {r['replica']} answered {name}#{seen}, "
                             f"but {name}#{required} was acknowledged before it was sent")  # fmt: skip
    assert not stale, f"{len(stale)} answers lost an acknowledged update, e.g. " + "; ".join(stale[:5])

    # The updated_at of one writer's answers never goes back.
    for name in PATCH_FIELDS:
        stamps = [r["body"]["updated_at"] for r in sorted(records, key=lambda r: r["seq"]) if r["field"] == name]
        assert stamps == sorted(stamps), f"updated_at went back in {name}'s answers"

    # The final connection, read through each replica: every field holds its writer's last value.
    finals = []
    with httpx.Client(headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
        for server in replicas.both:
            r = client.get(f"{server.base_url}{path}")
            assert r.status_code == 200, r.text
            finals.append(r.json())
    assert finals[0] == finals[1], "the replicas serve different versions of the connection"
    final = finals[0]
    lost = {
        name: final.get(name)
        for name in PATCH_FIELDS
        if final.get(name) != value(name, WRITES_PER_FIELD)
    }
    assert not lost, f"lost updates: final values {lost} (expected #{WRITES_PER_FIELD} of each)"
    # Fields nobody patched are untouched.
    untouched = ("id", "created_at", "workspace_id", "integration_type", "categories", "permissions",
                 "auth", "environment", "is_paused")  # fmt: skip
    assert {k: final.get(k) for k in untouched} == {k: initial.get(k) for k in untouched}
    newest = max(r["body"]["updated_at"] for r in records)
    assert final["updated_at"] >= newest, (final["updated_at"], newest)
    assert final["updated_at"] >= initial["updated_at"]


# ----- c. API keys created and revoked with the CLI ------------------------------------------


def test_cli_key_changes_take_effect_on_both_replicas_at_once(replicas):
    ws = replicas.workspace
    key = replicas.a.create_key(ws.id)  # while both replicas run

    def list_with(server, api_key: str, scheme: str = "Bearer ") -> httpx.Response:
        with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
            return client.get(
                f"{server.base_url}{CONNECTIONS}",
                params={"limit": 1},
                headers={"Authorization": f"{scheme}{api_key}"},
            )

    # Works on both replicas at once: concurrent requests through A and B, both header forms.
    jobs = [(s, scheme) for s in replicas.both for scheme in ("Bearer ", "")] * 2
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        answers = list(pool.map(lambda job: list_with(job[0], key.api_key, job[1]), jobs))
    assert [r.status_code for r in answers] == [200] * len(jobs), [r.text[:200] for r in answers]

    replicas.b.revoke_key(key.key_prefix)

    # Rejected by both on the very next request (no cache anywhere), in both header forms.
    for server in replicas.both:
        for scheme in ("Bearer ", ""):
            r = list_with(server, key.api_key, scheme)
            assert r.status_code == 401, f"replica {server.name}: {r.status_code} {r.text[:200]}"
            assert error_status(r) == 401
    # The workspace's other key is unaffected.
    for server in replicas.both:
        r = list_with(server, ws.api_key)
        assert r.status_code == 200, f"replica {server.name}: {r.status_code} {r.text[:200]}"
