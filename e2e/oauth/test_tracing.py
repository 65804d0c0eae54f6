"""Tracing, on SQLite and on PostgreSQL: `serve --otel-endpoint` exports spans over OTLP/HTTP to a
receiver on loopback (below, decoding with OpenTelemetry's own protobuf messages). A request
carrying a W3C `traceparent` continues the caller's trace: its server span, the store operations
it ran and the token refresh it made are all in that trace, and the refresh's request to the
OAuth provider carries a `traceparent` naming the refresh's client span as its parent.
"""

from __future__ import annotations

import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Iterator, List

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from conftest import connect, start_registered, wait_until
from switchboard_testkit import free_loopback_port

LIFETIME_S = 2


class Receiver:
    """An OTLP/HTTP trace receiver: POST /v1/traces with an ExportTraceServiceRequest."""

    def __init__(self) -> None:
        self.spans: List[Dict] = []
        self.requests: List[Dict[str, str]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "content_type": self.headers.get("Content-Type", "")})
                if self.path == "/v1/traces":
                    export = ExportTraceServiceRequest.FromString(body)
                    with receiver.lock:
                        for resource_spans in export.resource_spans:
                            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                            for scope_spans in resource_spans.scope_spans:
                                for span in scope_spans.spans:
                                    receiver.spans.append(receiver.describe(span, resource))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_loopback_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @staticmethod
    def describe(span: Span, resource: Dict[str, str]) -> Dict:
        attributes = {}
        for a in span.attributes:
            v = a.value
            attributes[a.key] = v.string_value if v.HasField("string_value") else v.int_value
        return {
            "trace_id": span.trace_id.hex(),
            "span_id": span.span_id.hex(),
            "parent_span_id": span.parent_span_id.hex(),
            "name": span.name,
            "kind": Span.SpanKind.Name(span.kind),
            "attributes": attributes,
            "status": span.status.code,
            "resource": resource,
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def trace(self, trace_id: str) -> List[Dict]:
        with self.lock:
            return [s for s in self.spans if s["trace_id"] == trace_id]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()


def test_a_callers_trace_reaches_the_collector_and_the_provider(
    backend, server_factory, databases, provider, make_setup, integration, http, receiver
):
    server = server_factory(
        databases.new(backend, "tracing"), f"{backend}-tracing",
        ["--refresh-margin", "1", "--refresh-interval", "0", "--otel-endpoint", receiver.url],
    )  # fmt: skip
    server.env["OTEL_BSP_SCHEDULE_DELAY"] = "200"  # export within a fraction of a second
    start_registered(server, provider)
    try:
        setup = make_setup(server)
        provider.set_lifetime(LIFETIME_S)
        connection_id = connect(setup, integration, http, state="traced")
        time.sleep(LIFETIME_S + 0.5)
        provider.reset_counters()

        trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
        headers = dict(setup.headers, traceparent=f"00-{trace_id}-{caller_span}-01")
        r = http.get(f"{server.base_url}/unified/connection/{connection_id}", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json().get("refresh_status") == "active"

        # The refresh's token request carried the caller's trace.
        sent = provider.stats()["token_traceparents"]
        assert len(sent) == 1 and sent[0], f"the token request carried no traceparent: {sent}"
        version, sent_trace, sent_parent, flags = sent[0].split("-")
        assert (version, sent_trace, flags) == ("00", trace_id, "01"), sent[0]

        assert wait_until(lambda: any(s["kind"] == "SPAN_KIND_SERVER" for s in receiver.trace(trace_id)), timeout=15), (
            f"no server span of trace {trace_id} reached the receiver; it got {len(receiver.spans)} spans "
            f"in {receiver.requests[:3]}"
        )
        assert wait_until(lambda: any(s["span_id"] == sent_parent for s in receiver.trace(trace_id)), timeout=10)
        spans = receiver.trace(trace_id)
        by_id = {s["span_id"]: s for s in spans}

        (request_span,) = [s for s in spans if s["kind"] == "SPAN_KIND_SERVER"]
        assert request_span["parent_span_id"] == caller_span, request_span
        assert request_span["name"] == "GET /unified/connection/{id}", request_span
        assert request_span["attributes"]["http.route"] == "/unified/connection/{id}"
        assert request_span["attributes"]["http.response.status_code"] == 200
        assert request_span["resource"]["service.name"] == "switchboard"

        outbound = by_id[sent_parent]
        assert outbound["kind"] == "SPAN_KIND_CLIENT" and outbound["name"] == "HTTP POST", outbound
        assert outbound["attributes"]["server.address"] == "127.0.0.1"
        assert outbound["attributes"]["http.response.status_code"] == 200

        # Every span of the trace descends from the request's, and the store's operations are there.
        for span in spans:
            ancestor = span
            while ancestor["span_id"] != request_span["span_id"]:
                assert ancestor["parent_span_id"] in by_id, f"{span['name']} is not under the request's span"
                ancestor = by_id[ancestor["parent_span_id"]]
        db = [s for s in spans if "db.system.name" in s["attributes"]]
        assert {s["attributes"]["db.system.name"] for s in db} == {"postgresql" if backend == "postgres" else "sqlite"}
        assert {"connection", "acquireRefreshLease", "finishRefresh"} <= {s["name"] for s in db}, [s["name"] for s in db]

        # No attribute holds the connection's id, the key, or a token.
        body = r.json()
        forbidden = [connection_id, setup.workspace.api_key, body["auth"]["access_token"], body["auth"]["refresh_token"]]
        for span in spans:
            for key, value in span["attributes"].items():
                assert not any(f in str(value) for f in forbidden), f"{span['name']}: {key}={value!r}"

        # A request without traceparent starts a trace of its own.
        r = http.get(f"{server.base_url}/unified/connection", headers=setup.headers)
        assert r.status_code == 200
        assert wait_until(
            lambda: any(s["name"] == "GET /unified/connection" and s["parent_span_id"] == "" for s in receiver.spans),
            timeout=10,
        )
    finally:
        server.stop_and_warn()
