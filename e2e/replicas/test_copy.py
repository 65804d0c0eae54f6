"""`switchboard copy`: an embedded SQLite install moved to PostgreSQL, the way an operator would."""

from __future__ import annotations

import subprocess

import httpx

from conftest import psql, with_database

CONNECTIONS = "/unified/connection"


def test_copy_moves_a_sqlite_install_to_postgres_and_it_serves_unchanged(
    postgres_url, make_server, workdir, run_id, switchboard_bin
):
    # given: a SQLite install with a workspace, a key and connections carrying credentials
    sqlite_url = f"sqlite:{workdir}/copy-{run_id}.sqlite"
    source = make_server(sqlite_url, "copy-source")
    workspace = source.create_workspace(f"copy-{run_id}")
    source.start()
    created = []
    with httpx.Client(base_url=source.base_url, headers={"Authorization": workspace.api_key}, timeout=15) as c:
        for i in range(7):
            r = c.post(CONNECTIONS, json={
                "integration_type": "hubspot", "categories": ["crm", "hris"], "permissions": ["crm_contact_read"],
                "external_xref": f"copy-{i}", "environment": "Sandbox" if i % 2 else "Production",
                "auth": {"access_token": f"copied-token-{i}", "meta": {"n": i}},
            })  # fmt: skip
            assert r.status_code == 200, r.text
            created.append(r.json())
    source.stop()

    database = f"sb_copy_{run_id}"
    psql(postgres_url, f"CREATE DATABASE {database}")
    target_url = with_database(postgres_url, database)
    try:
        # when
        copy = [str(switchboard_bin), "copy", "--from", sqlite_url, "--to", target_url]
        first = subprocess.run(copy, capture_output=True, text=True, timeout=120, cwd=workdir)
        # then: counts are printed, and nothing secret is
        assert first.returncode == 0, first.stderr[-2000:]
        assert "workspaces:  1" in first.stdout
        assert "api keys:    1" in first.stdout
        assert "connections: 7" in first.stdout
        # The audit trail moves too: the first key's creation and the 7 connections' creations.
        assert "audit records: 8" in first.stdout
        # Events move too: the 7 connections' CONNECTION_CREATED (no event webhook was set).
        assert "event webhooks: 0" in first.stdout
        assert "events: 7" in first.stdout
        assert "skipped (already in the target): 0" in first.stdout
        assert workspace.api_key not in first.stdout + first.stderr
        assert "copied-token" not in first.stdout + first.stderr

        # a second copy into the now non-empty target is refused, unless allowed (then all skipped)
        again = subprocess.run(copy, capture_output=True, text=True, timeout=120, cwd=workdir)
        assert again.returncode != 0
        assert "--allow-non-empty" in again.stderr
        allowed = subprocess.run([*copy, "--allow-non-empty"], capture_output=True, text=True, timeout=120, cwd=workdir)
        assert allowed.returncode == 0, allowed.stderr[-2000:]
        assert "skipped (already in the target): 24" in allowed.stdout  # 1 + 1 + 7 + 8 + 7

        # and the PostgreSQL install serves the same key and the same connections, credentials included
        target = make_server(target_url, "copy-target")
        target.start()
        with httpx.Client(base_url=target.base_url, headers={"Authorization": workspace.api_key}, timeout=15) as c:
            for connection in created:
                r = c.get(f"{CONNECTIONS}/{connection['id']}")
                assert r.status_code == 200, r.text
                assert r.json() == connection
            listed = c.get(CONNECTIONS, params={"env": "Sandbox"}).json()
            assert [row["id"] for row in listed] == [row["id"] for row in created if row["environment"] == "Sandbox"]
        target.stop()
    finally:
        psql(postgres_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
