"""Logs as an SRE's collector meets them: the real binary writing to a file logs one JSON object
per line; each request has one line with its request id (the caller's when well-formed, echoed
as X-Request-Id), route template (never the raw path, which holds ids), status, duration and the
workspace and key ids; and no secret appears anywhere in the log."""

from __future__ import annotations

import json
import time

import httpx

from test_security import log_records


def test_json_request_lines_and_no_secret_in_the_log(make_server, figures):
    server = make_server(name="logs")
    workspace = server.create_workspace("logs")
    server.start()
    token = "log-canary-access-token-7d41"
    with httpx.Client(base_url=server.base_url, headers=workspace.headers(), timeout=10.0) as client:
        created = client.post("/unified/connection", json={
            "integration_type": "hubspot", "categories": ["crm"], "permissions": ["crm_contact_read"],
            "auth": {"access_token": token, "refresh_token": "log-canary-refresh-token-2b90"},
        }, headers={"X-Request-Id": "caller-chosen.id_1:2-3"})
        assert created.status_code == 200, created.text
        assert created.headers["x-request-id"] == "caller-chosen.id_1:2-3"
        connection_id = created.json()["id"]
        got = client.get(f"/unified/connection/{connection_id}", headers={"X-Request-Id": "bad id with spaces"})
        assert got.status_code == 200
        generated = got.headers["x-request-id"]
        assert generated != "bad id with spaces" and len(generated) == 36
        assert client.get("/unified/connection/not-there").status_code == 404
        refused = httpx.get(f"{server.base_url}/unified/connection", headers={"Authorization": "Bearer sbk_wrong"})
        assert refused.status_code == 401 and refused.headers.get("x-request-id")
        assert httpx.get(f"{server.base_url}/no/such/route").status_code == 404
    time.sleep(0.3)
    text = server.stderr_path.read_text(errors="replace")
    records = log_records(server)
    requests = [r for r in records if r.get("message") == "request"]
    by_id = {r["request_id"]: r for r in requests}

    first = by_id["caller-chosen.id_1:2-3"]
    assert first["method"] == "POST" and first["status"] == "200"
    assert first["route"] == "/unified/connection"
    assert first["workspace_id"] == workspace.id and first["key_id"]
    assert float(first["duration_ms"]) > 0
    second = by_id[generated]
    assert connection_id not in second["route"], second
    assert second["route"].startswith("/unified/connection/")
    statuses = sorted(r["status"] for r in requests)
    assert statuses.count("404") >= 2 and "401" in statuses
    unmatched = [r for r in requests if r["route"] == "unmatched"]
    assert unmatched and "workspace_id" not in unmatched[0]
    for r in records:
        assert {"time", "level", "label", "message"} <= r.keys()

    # No secret in the log: the key, the credentials, the master key.
    for secret in [workspace.api_key, token, "log-canary-refresh-token-2b90", workspace.api_key.split("_")[-1]]:
        assert secret not in text, "a secret is in the server log"
    figures(f"{len(records)} JSON log lines, {len(requests)} request lines; no secret in {len(text)} bytes of log")
