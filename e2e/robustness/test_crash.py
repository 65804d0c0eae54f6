"""Crash safety: SIGKILL the server at random moments under concurrent writes.

Several writers create, update and delete their own connections through HTTP. At a random
moment the server is killed with SIGKILL. Then:

- the database passes its own integrity check (before anything else opens it);
- after a restart, every write whose 200 reached a writer is there, every acknowledged delete is
  gone, and a write that was in flight at the kill is either wholly there or wholly absent;
- no row is half-written: the version in `integration_name` and the one in the sealed
  `auth.access_token` always agree, and the credentials still decrypt.

This repeats for SWITCHBOARD_CRASH_KILLS kill points (default 20) on one database.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

import httpx

from conftest import env_int

WRITERS = 6
# Connections a writer keeps alive; below this it creates, above it it may delete.
TARGET_LIVE = 4


@dataclass
class Tracked:
    """What a writer knows about one of its connections."""

    acked_version: int  # last version whose 200 arrived
    pending_version: Optional[int] = None  # an update in flight at the kill
    delete_pending: bool = False


@dataclass
class WriterState:
    index: int
    live: Dict[str, Tracked] = field(default_factory=dict)
    deleted: Set[str] = field(default_factory=set)
    # external_xref -> version of a create in flight at the kill (its id is unknown).
    pending_creates: Dict[str, int] = field(default_factory=dict)
    acked_writes: int = 0
    version: int = 0
    error: Optional[str] = None  # a wrong answer seen by the writer thread

    def next_version(self) -> int:
        self.version += 1
        return self.version


def body_for(version: int, xref: Optional[str] = None) -> dict:
    body = {
        "integration_name": f"v{version}",
        "auth": {"access_token": f"token-v{version}", "meta": {"version": version}},
    }
    if xref is not None:
        body.update(
            integration_type="crashtest",
            external_xref=xref,
            permissions=["crm_contact_read"],
            categories=["crm"],
        )
    return body


def version_of(row: dict) -> int:
    """The row's version, after checking its parts agree (a torn row would not)."""
    name = row.get("integration_name") or ""
    token = (row.get("auth") or {}).get("access_token") or ""
    meta = (row.get("auth") or {}).get("meta") or {}
    assert name.startswith("v") and token == f"token-{name}" and meta.get("version") == int(name[1:]), (
        f"connection {row.get('id')} is inconsistent: integration_name={name!r}, "
        f"auth version={meta.get('version')!r}"
    )
    return int(name[1:])


def writer_loop(state: WriterState, base_url: str, headers: dict, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base_url, headers=headers, timeout=10.0) as client:
        while not stop.is_set():
            live_ids = [cid for cid, t in state.live.items() if not t.delete_pending and t.pending_version is None]
            roll = rng.random()
            try:
                if len(live_ids) < TARGET_LIVE or roll < 0.4:
                    version = state.next_version()
                    xref = f"w{state.index}-v{version}"
                    state.pending_creates[xref] = version
                    r = client.post("/unified/connection", json=body_for(version, xref))
                    assert r.status_code == 200, f"create answered {r.status_code}: {r.text[:300]}"
                    del state.pending_creates[xref]
                    state.live[r.json()["id"]] = Tracked(acked_version=version)
                elif roll < 0.85:
                    cid = rng.choice(live_ids)
                    version = state.next_version()
                    state.live[cid].pending_version = version
                    r = client.patch(f"/unified/connection/{cid}", json=body_for(version))
                    assert r.status_code == 200, f"patch answered {r.status_code}: {r.text[:300]}"
                    state.live[cid] = Tracked(acked_version=version)
                else:
                    cid = rng.choice(live_ids)
                    state.live[cid].delete_pending = True
                    r = client.delete(f"/unified/connection/{cid}")
                    assert r.status_code == 200, f"delete answered {r.status_code}: {r.text[:300]}"
                    del state.live[cid]
                    state.deleted.add(cid)
                state.acked_writes += 1
            except httpx.TransportError:
                # The server is gone: what was in flight stays pending, to be resolved after the restart.
                return
            except AssertionError as exc:
                state.error = str(exc)
                return


def list_all(client: httpx.Client) -> Dict[str, dict]:
    rows: Dict[str, dict] = {}
    offset = 0
    while True:
        r = client.get("/unified/connection", params={"limit": 1000, "offset": offset})
        assert r.status_code == 200, f"list answered {r.status_code}: {r.text[:300]}"
        page = r.json()
        for row in page:
            rows[row["id"]] = row
        if len(page) < 1000:
            return rows
        offset += len(page)


def verify_and_resolve(writers: List[WriterState], client: httpx.Client) -> int:
    """Checks the restarted server against what the writers know; resolves in-flight writes.

    Returns how many in-flight writes were resolved."""
    rows = list_all(client)
    known: Set[str] = set()
    resolved = 0
    for w in writers:
        for cid in list(w.live):
            t = w.live[cid]
            known.add(cid)
            row = rows.get(cid)
            if t.delete_pending:
                resolved += 1
                if row is None:
                    del w.live[cid]
                    w.deleted.add(cid)
                    continue
                t.delete_pending = False
            assert row is not None, f"acknowledged connection {cid} is missing after the crash"
            version = version_of(row)
            allowed = {t.acked_version} | ({t.pending_version} if t.pending_version else set())
            assert version in allowed, (
                f"connection {cid} has version {version}; acknowledged {t.acked_version}, "
                f"in flight {t.pending_version}"
            )
            if t.pending_version is not None:
                resolved += 1
            w.live[cid] = Tracked(acked_version=version)
        for cid in w.deleted:
            assert cid not in rows, f"connection {cid} was deleted (acknowledged) but is back after the crash"
        for xref, version in list(w.pending_creates.items()):
            resolved += 1
            matches = [row for row in rows.values() if row.get("external_xref") == xref]
            assert len(matches) <= 1, f"the in-flight create {xref} is stored {len(matches)} times"
            if matches:
                assert version_of(matches[0]) == version
                w.live[matches[0]["id"]] = Tracked(acked_version=version)
                known.add(matches[0]["id"])
            del w.pending_creates[xref]
    unknown = set(rows) - known
    assert not unknown, f"{len(unknown)} connections appeared that no writer created: {sorted(unknown)[:5]}"
    for row in rows.values():
        version_of(row)
    return resolved


def test_sigkill_loses_no_acknowledged_write(make_server, backend, figures):
    kills = env_int("SWITCHBOARD_CRASH_KILLS", 20)
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    server = make_server(name="crash")
    workspace = server.create_workspace("crash")
    writers = [WriterState(index=i) for i in range(WRITERS)]
    total_acked = 0
    total_resolved = 0
    started = time.monotonic()
    for kill in range(kills):
        server.start()
        with httpx.Client(base_url=server.base_url, headers=workspace.headers(), timeout=30.0) as client:
            if kill > 0:
                total_resolved += verify_and_resolve(writers, client)
        stop = threading.Event()
        before = sum(w.acked_writes for w in writers)
        threads = [
            threading.Thread(
                target=writer_loop,
                args=(w, server.base_url, workspace.headers(), stop, seed + kill * 100 + w.index),
                daemon=True,
            )
            for w in writers
        ]
        for t in threads:
            t.start()
        # Kill at a random moment once writes are flowing (a loaded machine may be slow to start).
        deadline = time.monotonic() + 30
        while sum(w.acked_writes for w in writers) - before < WRITERS and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 1.0))
        server.kill()
        stop.set()
        for t in threads:
            t.join(timeout=30)
            assert not t.is_alive(), "a writer did not stop after the kill"
        errors = [w.error for w in writers if w.error]
        assert not errors, f"kill point {kill}: a writer got a wrong answer: {errors[0]}"
        acked = sum(w.acked_writes for w in writers) - before
        assert acked > 0, f"kill point {kill}: no write was acknowledged before the kill (seed {seed})"
        total_acked += acked
        problems = backend.integrity_problems()
        assert not problems, f"kill point {kill}: integrity check failed (seed {seed}): {problems[:5]}"
    server.start()
    with httpx.Client(base_url=server.base_url, headers=workspace.headers(), timeout=30.0) as client:
        total_resolved += verify_and_resolve(writers, client)
        live = len(list_all(client))
    server.stop()
    assert not backend.integrity_problems()
    figures(
        f"{kills} kill points in {time.monotonic() - started:.0f} s, {total_acked} acknowledged writes "
        f"all present, {total_resolved} in-flight writes resolved all-or-nothing, {live} live rows, "
        f"integrity check clean (seed {seed})"
    )
