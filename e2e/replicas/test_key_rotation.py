"""Master-key rotation under load, through the real binary, on SQLite and on PostgreSQL.

`switchboard keys rotate` adds a new active key to the key file and re-seals every stored
credential while clients keep creating, updating and reading credentials: on SQLite through the
embedded default's generated `master.key`, on PostgreSQL through two replicas sharing
SWITCHBOARD_MASTER_KEY_FILE. No request may fail, every connection must still open with the
credentials last written to it, and the old key can then be retired (and not before).
"""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import httpx
import pytest

from conftest import is_postgres_url, psql, require_postgres, with_database
from switchboard_testkit import SwitchboardServer

CONNECTIONS = "/unified/connection"
WRITERS = 4
CONNECTIONS_PER_WRITER = 25
LOAD_AFTER_ROTATION_S = 2.0
ROTATION_TIMEOUT_S = 120.0


def run_cli(server: SwitchboardServer, *args: str) -> subprocess.CompletedProcess:
    """The CLI on the server's database and environment, without raising on failure."""
    return subprocess.run(
        [str(server.binary), *args, "--database", server.database_url],
        env=server.env,
        cwd=server.workdir,
        capture_output=True,
        text=True,
        timeout=ROTATION_TIMEOUT_S,
    )


def key_table(server: SwitchboardServer) -> List[Tuple[str, str, int]]:
    """`keys list` as (key id, role, sealed count) rows, active first."""
    res = run_cli(server, "keys", "list")
    assert res.returncode == 0, res.stderr[-2000:]
    rows = []
    for line in res.stdout.splitlines():
        parts = line.split()
        rows.append((parts[0], parts[1], int(parts[2])))
    return rows


class Load:
    """Writers that own their connections, so every read has one expected token."""

    def __init__(self, servers: List[SwitchboardServer], api_key: str):
        self.servers = servers
        self.api_key = api_key
        self.stop = threading.Event()
        self.failures: List[str] = []
        self.expected: Dict[str, str] = {}
        self.requests = 0
        self.lock = threading.Lock()

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)

    def writer(self, number: int) -> None:
        rng = random.Random(number)
        owned: Dict[str, str] = {}
        clients = [
            httpx.Client(base_url=s.base_url, headers={"Authorization": self.api_key}, timeout=30.0)
            for s in self.servers
        ]
        try:
            sequence = 0
            while not self.stop.is_set() or len(owned) < CONNECTIONS_PER_WRITER:
                sequence += 1
                client = clients[sequence % len(clients)]
                token = f"tok-{number}-{sequence}"
                if len(owned) < CONNECTIONS_PER_WRITER:
                    body = {
                        "integration_type": "hubspot",
                        "categories": ["crm"],
                        "permissions": ["crm_contact_read"],
                        "auth": {"access_token": token},
                    }
                    r = client.post(CONNECTIONS, json=body)
                    if r.status_code != 200:
                        self.fail(f"create: {r.status_code} {r.text[:200]}")
                        continue
                    owned[r.json()["id"]] = token
                elif rng.random() < 0.4:
                    cid = rng.choice(list(owned))
                    r = client.patch(f"{CONNECTIONS}/{cid}", json={"auth": {"access_token": token}})
                    if r.status_code != 200:
                        self.fail(f"patch: {r.status_code} {r.text[:200]}")
                        continue
                    owned[cid] = token
                else:
                    cid = rng.choice(list(owned))
                    r = client.get(f"{CONNECTIONS}/{cid}")
                    got = r.json().get("auth", {}).get("access_token") if r.status_code == 200 else None
                    if got != owned[cid]:
                        self.fail(f"get: {r.status_code}, expected the last written token, got {got!r}")
                with self.lock:
                    self.requests += 1
        finally:
            for c in clients:
                c.close()
            with self.lock:
                self.expected.update(owned)


@pytest.fixture(params=["sqlite", "postgres"])
def rotation_servers(request, switchboard_bin: Path, workdir: Path, run_id: str) -> Iterator[List[SwitchboardServer]]:
    backend = request.param
    base = workdir / f"rotation-{backend}"
    base.mkdir()
    servers: List[SwitchboardServer] = []
    database = ""
    try:
        if backend == "sqlite":
            # The embedded default: no key in the environment, master.key generated beside the database.
            servers = [SwitchboardServer(switchboard_bin, f"sqlite:{base}/db.sqlite", base, "rot-sqlite")]
        else:
            url = os.environ.get("SWITCHBOARD_DATABASE_URL", "")
            if not is_postgres_url(url):
                require_postgres("SWITCHBOARD_DATABASE_URL is not a postgres:// URL")
            database = f"sb_rotation_{run_id}"
            psql(url, f"CREATE DATABASE {database}")
            db_url = with_database(url, database)
            key_file = base / "master.keys"
            generated = subprocess.run([str(switchboard_bin), "keys", "generate"], capture_output=True, text=True)
            assert generated.returncode == 0, generated.stderr
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, generated.stdout.encode())
            os.close(fd)
            servers = [SwitchboardServer(switchboard_bin, db_url, base, f"rot-pg-{n}") for n in "AB"]
            for s in servers:
                s.env["SWITCHBOARD_MASTER_KEY_FILE"] = str(key_file)
        for s in servers:
            s.env.pop("SWITCHBOARD_MASTER_KEY", None)
        yield servers
    finally:
        for s in servers:
            s.stop_and_warn()
        if database:
            psql(os.environ["SWITCHBOARD_DATABASE_URL"], f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def test_rotation_under_load_loses_nothing_and_retires_the_old_key(rotation_servers, figures):
    servers = rotation_servers
    workspace = servers[0].create_workspace("rotation")
    for s in servers:
        s.start()
    [(old_key, role, _)] = key_table(servers[0])
    assert role == "active"
    refused = run_cli(servers[0], "keys", "retire", old_key)
    assert refused.returncode != 0 and "active key" in refused.stderr

    load = Load(servers, workspace.api_key)
    threads = [threading.Thread(target=load.writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)  # credentials exist under the old key before the rotation starts
        started = time.monotonic()
        rotated = run_cli(servers[0], "keys", "rotate", "--batch-size", "20")
        rotation_s = time.monotonic() - started
        time.sleep(LOAD_AFTER_ROTATION_S)  # and the servers keep writing under the new key
    finally:
        load.stop.set()
        for t in threads:
            t.join(timeout=60)
    assert rotated.returncode == 0, rotated.stderr[-2000:]
    assert "re-sealed" in rotated.stdout
    assert load.failures == [], load.failures[:5]
    assert load.requests > 50, load.requests

    table = key_table(servers[0])
    new_key = table[0][0]
    assert new_key != old_key and table[0][1] == "active"
    assert dict((k, n) for k, _, n in table) == {new_key: len(load.expected), old_key: 0}

    passes = [line for line in rotated.stdout.splitlines() if line.startswith("Pass ")]
    figures(
        f"{len(servers)} server(s): rotation took {rotation_s:.2f}s in {len(passes)} pass(es) "
        f"({'; '.join(passes)}); {load.requests} requests by {WRITERS} writers, 0 failed; "
        f"{len(load.expected)} connections open under the new key"
    )
    retired = run_cli(servers[0], "keys", "retire", old_key)
    assert retired.returncode == 0, retired.stderr[-2000:]
    assert [k for k, _, _ in key_table(servers[0])] == [new_key]
    # After the old key is gone from the file, every connection still opens on every server.
    for s in servers:
        with httpx.Client(base_url=s.base_url, headers=workspace.headers(), timeout=30.0) as client:
            for cid, token in load.expected.items():
                r = client.get(f"{CONNECTIONS}/{cid}")
                assert r.status_code == 200, r.text[:200]
                assert r.json()["auth"]["access_token"] == token
