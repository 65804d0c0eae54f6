"""Spec conformance fuzzing: schemathesis against the server's own GET /openapi.yaml.

Every operation, positive and negative cases (examples, coverage, fuzzing and stateful phases),
all checks: no 5xx, every response matches what the document declares (status, content type,
headers, body schema), negative cases get a 4xx, positive ones a 2xx, a 405 carries `Allow`.
The run must make at least SWITCHBOARD_FUZZ_MIN_REQUESTS (default 2,000) requests, counted from
the HAR report.

Two exceptions to "schema-valid requests get a 2xx": a list request may get a 400 when its `cursor`
is not one the server issued (cursors are opaque tokens from `Link: rel="next"`) or comes with
`offset`; the OAuth authorize URL and callback may refuse with a 400 for reasons that live in
server state (the redirect allowlist, the permissions an integration grants, issued states and
reauth tokens); and passthrough relays any status the provider answers, besides refusals that
depend on the connection and the egress policy. The schema cannot express these. Every other
check still applies to them.

NUL characters are not generated (`--generation-allow-x00 false`): the server refuses them in
identifier fields with a 400 (PostgreSQL text cannot hold them), which test_hostile.py covers.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from conftest import env_int

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
TIMEOUT_S = 900


def test_schemathesis_against_served_spec(make_server, workdir, figures):
    minimum = env_int("SWITCHBOARD_FUZZ_MIN_REQUESTS", 2000)
    examples = env_int("SWITCHBOARD_FUZZ_EXAMPLES", 60)
    seed = env_int("SWITCHBOARD_FUZZ_SEED", random.randrange(1 << 31))
    # The authorize URL's rate limit would answer most fuzzed calls 429, leaving its logic untested.
    server = make_server("--authorize-rate-limit", "1000000", name="fuzz")
    workspace = server.create_workspace("fuzz")
    server.start()

    # The key reaches schemathesis through its environment, never its command line or output.
    config = workdir / "schemathesis.toml"
    config.write_text(
        'headers = { Authorization = "Bearer ${SWITCHBOARD_FUZZ_KEY}" }\n'
        # The one schema-valid request the server may refuse: a list whose `cursor` the server never
        # issued (an opaque token) or that also names `offset`. The schema cannot express either.
        # A query string made too long by out-of-range values is refused as too long (414).
        'checks.negative_data_rejection.expected-statuses = '
        '["400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "428", "429", "5xx"]\n'
        "[[operations]]\n"
        'include-operation-id = "listUnifiedConnections"\n'
        "checks.positive_data_acceptance.expected-statuses = "
        '["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]\n'
        # The OAuth flow's refusals depend on server state no schema can express: the workspace's
        # redirect allowlist, the permissions an integration can grant, single-use reauth tokens,
        # and states the server issued.
        # A secrets manager's address must also pass the egress policy (no loopback, private or
        # link-local address unless allowed), which depends on DNS and the server's settings; an
        # authorize token's integration_type must be an OAuth integration of the catalog, which an
        # operator can extend.
        # A workspace integration's api_base_url must be a usable base URL template (https or
        # loopback http, no query, balanced placeholders), which a schema string cannot express.
        # An event webhook URL must resolve to addresses the egress policy allows, at the time it
        # is set (DNS and the server's settings).
        # A Connect session's integrations must be in the catalog (which an operator can extend)
        # and its redirects on the workspace's allowlist.
        "[[operations]]\n"
        'include-operation-id = ["createUnifiedSecretsmanager", "createAuthorizeToken", "enableWorkspaceIntegration", '
        '"patchWorkspace", "createConnectSession"]\n'
        "checks.positive_data_acceptance.expected-statuses = "
        '["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]\n'
        # A workspace declares at most 100 environments (409 past that, which the fuzzer's own
        # declarations reach), and one that holds connections cannot be removed (409).
        "[[operations]]\n"
        'include-operation-id = ["createUnifiedEnvironment", "removeUnifiedEnvironment"]\n'
        "checks.positive_data_acceptance.expected-statuses = "
        '["2xx", "401", "403", "404", "409", "429", "5xx"]\n'
        # Passthrough relays whatever the provider answers, any status; and Switchboard's own
        # refusals depend on state no schema expresses: the connection's integration must have an
        # api section, its auth the values that section names, and the destination must pass the
        # egress policy (this machine resolves no provider host).
        "[[operations]]\n"
        'include-operation-id = ["listPassthroughs", "createPassthroughJson", "updatePassthroughJson", '
        '"patchPassthroughJson", "removePassthrough"]\n'
        "checks.positive_data_acceptance.expected-statuses = "
        '["2xx", "3xx", "4xx", "5xx"]\n'
        "[[operations]]\n"
        'include-operation-id = ["getUnifiedIntegrationAuth", "completeOAuthAuthorization"]\n'
        "checks.positive_data_acceptance.expected-statuses = "
        '["2xx", "3xx", "400", "401", "403", "404", "409", "414", "429", "5xx"]\n'
    )
    har = workdir / "fuzz.har"
    env = dict(os.environ, SWITCHBOARD_FUZZ_KEY=workspace.api_key)
    cmd = [
        str(SCHEMATHESIS), "--no-color", "--config-file", str(config), "run",
        f"{server.base_url}/openapi.yaml", "--url", server.base_url,
        "--checks", "all", "--mode", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(examples), "--seed", str(seed),
        "--workers", "2", "--request-timeout", "20",
        "--generation-allow-x00", "false", "--generation-database", "none",
        "--suppress-health-check", "all",
        "--report", "har", "--report-har-path", str(har),
    ]  # fmt: skip
    started = time.monotonic()
    res = subprocess.run(cmd, env=env, cwd=workdir, capture_output=True, text=True, timeout=TIMEOUT_S)
    took = time.monotonic() - started
    output = res.stdout + res.stderr
    assert res.returncode == 0, f"schemathesis failed (exit {res.returncode}, seed {seed}):\n{output[-12000:]}"
    entries = json.loads(har.read_text())["log"]["entries"]
    statuses = {}
    for entry in entries:
        status = entry["response"]["status"]
        statuses[status] = statuses.get(status, 0) + 1
    assert not [s for s in statuses if s >= 500], f"5xx answers: {statuses}"
    assert len(entries) >= minimum, (
        f"schemathesis made {len(entries)} requests, fewer than {minimum}; raise SWITCHBOARD_FUZZ_EXAMPLES"
    )
    server.assert_running()
    figures(
        f"{len(entries)} requests in {took:.0f} s (seed {seed}, {examples} examples/operation/phase), "
        f"0 failures; statuses {dict(sorted(statuses.items()))}"
    )
