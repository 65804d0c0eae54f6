"""A real OAuth 2 authorization server for the OAuth suite (tests only), built on Authlib + Flask.

    python e2e/oauth/provider.py [--host 127.0.0.1] [--port 31410]
                                   [--authorize-path /oauth/authorize] [--token-path /oauth/token]

What it implements (RFC 6749 with RFC 7636):
- One confidential client, `switchboard-test`, whose secret is given in the environment variable
  OAUTH_PROVIDER_CLIENT_SECRET (default: a fixed test value). The token endpoint accepts only
  client_secret_basic.
- The authorization code grant, with PKCE required and S256 the only method: an authorize request
  without `code_challenge`, or with another method, is refused (error=invalid_request on the
  redirect), and the token request must carry the matching `code_verifier`.
- The refresh token grant with rotation: every refresh issues a new refresh token and revokes the
  one presented, so presenting an old refresh token again answers 400 invalid_grant.
- The authorize endpoint has no login page: it approves a fixed user (`test-user`) at once, after
  checking `redirect_uri` against the URIs the tests registered (POST /_control/redirect-uris).
  Like QuickBooks', its redirect back carries `realmId` beside `code` and `state`; like
  Salesforce's, every token answer carries `instance_url` (mock.yaml's `meta_from` keeps both).
- GET /api/me with `Authorization: Bearer <access token>`: 200 with the user while the token is
  live (not expired, not superseded by a refresh), 401 otherwise.
- A provider API for passthrough tests (any method): /api/<path> takes a live access token
  (`Authorization: Bearer`, 401 otherwise); /plain/<path> takes anything (API-key integrations).
  Both echo the request as JSON: method, raw path, raw query, headers, body length and SHA-256,
  with credentials (Authorization, X-Api-Key, the api_token parameter) shown only as
  fingerprints. Special paths, matched on the path's end: `status/<code>` answers that status (with a
  `Location` from the `location` parameter, an `X-RateLimit-Remaining` and CORS headers),
  `download/<bytes>` streams that many bytes (`chunked=1`: without Content-Length), `upload`
  reads the body in chunks and answers its length and SHA-256.
- The token endpoint is serialised (one request at a time), so two concurrent refreshes with the
  same refresh token cannot both succeed.

Control endpoints for the tests (loopback callers only; JSON in and out):
- GET  /_control/health                   -> {"ok": true}
- GET  /_control/stats                    -> {"token_calls", "token_calls_by_grant", "authorize_calls",
                                               "expires_in", "faults_queued", "token_traceparents",
                                               "api_calls", "api_refusals"}
- POST /_control/reset                    -> counters, faults, denials, issued tokens and
                                             registered redirect URIs cleared; lifetime back to 3600
- POST /_control/reset-counters           -> only the counters cleared
- POST /_control/lifetime {"expires_in": N}   lifetime (seconds) of the access tokens issued next
- POST /_control/redirect-uris {"uris": [...]} adds allowed redirect URIs for the client
- POST /_control/faults {"faults": [F, ...]}  queues faults, one per coming token call, in order:
      {"kind": "status", "status": 503}                  plain HTTP error, JSON body
      {"kind": "status", "status": 429, "retry_after": 2} with a Retry-After header
      {"kind": "invalid_grant"}                          400 {"error": "invalid_grant"}
      {"kind": "drop"}                                   the TCP connection is closed, no answer
      {"kind": "delay", "seconds": 2}                    waits, then answers normally
  A faulted call counts as a token call like any other.
- POST /_control/deny {"count": N}            the next N authorize requests are denied by the
                                              user: redirect with error=access_denied
- POST /_control/revoke-refresh-tokens        every refresh token issued so far becomes invalid
- POST /_control/revoke-access-tokens         every access token issued so far becomes invalid
- GET  /_control/tokens                   -> {"issued": [{"access_token", "refresh_token",
                                               "grant_type", "expires_in", "issued_at"}, ...]}
                                             oldest first (the tests compare, never print them)
- GET  /_control/authorize-requests       -> the query parameters of every authorize request

Everything is kept in memory and lost when the process stops.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, Response, abort, jsonify, request

CLIENT_ID = "switchboard-test"
# What every token answer and every successful authorize redirect carry beside the OAuth fields.
INSTANCE_URL = "https://acme.example.com"
REALM_ID = "4620816365"
DEFAULT_CLIENT_SECRET = "switchboard-test-secret-not-for-production"
USER_ID = "test-user"
DEFAULT_EXPIRES_IN = 3600

log = logging.getLogger("oauth-provider")


# ----- state --------------------------------------------------------------------------------


@dataclass
class User:
    id: str

    def get_user_id(self) -> str:
        return self.id


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: List[str] = field(default_factory=list)

    # authlib's ClientMixin protocol
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> Optional[str]:
        return None  # redirect_uri is always required

    def get_allowed_scope(self, scope: Optional[str]) -> str:
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        with STATE.lock:
            return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return client_secret == self.client_secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint == "token":
            return method == "client_secret_basic"
        return True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user_id: str
    code_challenge: Optional[str]
    code_challenge_method: Optional[str]
    created_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return time.time() - self.created_at > 300


@dataclass
class Token:
    client_id: str
    user_id: str
    access_token: str
    refresh_token: Optional[str]
    scope: str
    expires_in: int
    issued_at: float
    grant_type: str
    access_revoked: bool = False
    refresh_revoked: bool = False

    # authlib's TokenMixin protocol
    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.access_revoked


class State:
    def __init__(self, client_secret: str):
        self.lock = threading.RLock()
        # Serialises the token endpoint (after any injected delay).
        self.token_lock = threading.Lock()
        self.client = Client(CLIENT_ID, client_secret)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.client.redirect_uris = []
            self.codes: Dict[str, AuthorizationCode] = {}
            self.tokens: List[Token] = []
            self.faults: List[dict] = []
            self.denials = 0
            self.expires_in = DEFAULT_EXPIRES_IN
            self.authorize_requests: List[Dict[str, str]] = []
            self.reset_counters()

    def reset_counters(self) -> None:
        with self.lock:
            self.token_calls = 0
            self.token_calls_by_grant: Dict[str, int] = {}
            self.authorize_calls = 0
            # The W3C trace context each token request carried (None when it had none).
            self.token_traceparents: List[Optional[str]] = []
            # Passthrough: calls to /api and /plain, and the /api calls refused with a 401.
            self.api_calls = 0
            self.api_refusals = 0


STATE = State(os.environ.get("OAUTH_PROVIDER_CLIENT_SECRET", DEFAULT_CLIENT_SECRET))


def query_client(client_id: str) -> Optional[Client]:
    return STATE.client if client_id == STATE.client.client_id else None


def save_token(token: dict, req) -> None:
    with STATE.lock:
        STATE.tokens.append(
            Token(
                client_id=req.client.client_id,
                user_id=req.user.id,
                access_token=token["access_token"],
                refresh_token=token.get("refresh_token"),
                scope=token.get("scope", ""),
                expires_in=int(token["expires_in"]),
                issued_at=time.time(),
                grant_type=req.payload.grant_type or "",
            )
        )


# ----- grants -------------------------------------------------------------------------------


class RequiredS256CodeChallenge(CodeChallenge):
    """PKCE for every client, confidential ones included, and S256 only.

    authlib's CodeChallenge(required=True) insists on a verifier for public clients only; this
    provider refuses any authorize request without an S256 challenge. A code issued with a
    challenge then needs the matching verifier at the token endpoint (authlib checks that).
    """

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE: 'code_challenge_method' must be S256")
        return super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

    def save_authorization_code(self, code: str, req) -> None:
        data = req.payload.data
        with STATE.lock:
            STATE.codes[code] = AuthorizationCode(
                code=code,
                client_id=req.client.client_id,
                redirect_uri=req.payload.redirect_uri,
                scope=req.scope or "",
                user_id=req.user.id,
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                created_at=time.time(),
            )

    def query_authorization_code(self, code: str, client: Client) -> Optional[AuthorizationCode]:
        with STATE.lock:
            item = STATE.codes.get(code)
        if item and item.client_id == client.client_id and not item.is_expired():
            return item
        return None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        with STATE.lock:
            STATE.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User:
        return User(authorization_code.user_id)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation

    def authenticate_refresh_token(self, refresh_token: str) -> Optional[Token]:
        with STATE.lock:
            for token in STATE.tokens:
                if token.refresh_token == refresh_token and not token.refresh_revoked:
                    return token
        return None

    def authenticate_user(self, refresh_token: Token) -> User:
        return User(refresh_token.user_id)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        with STATE.lock:
            refresh_token.refresh_revoked = True
            refresh_token.access_revoked = True


def expires_in_generator(client, grant_type) -> int:
    with STATE.lock:
        return STATE.expires_in


# ----- the Flask app ------------------------------------------------------------------------


def create_app(authorize_path: str, token_path: str) -> Flask:
    app = Flask("oauth-provider")
    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    # Refresh tokens always, and the access token lifetime the tests set (/_control/lifetime).
    bearer = BearerTokenGenerator(
        access_token_generator=lambda *a, **k: generate_token(42),
        refresh_token_generator=lambda *a, **k: generate_token(48),
        expires_generator=expires_in_generator,
    )

    def generate(*args, **kwargs):
        # Like Salesforce's, every answer names the account's API host.
        token = bearer(*args, **kwargs)
        token["instance_url"] = INSTANCE_URL
        return token

    server.register_token_generator("default", generate)
    server.register_grant(AuthorizationCodeGrant, [RequiredS256CodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)

    @app.get(authorize_path)
    def authorize():
        with STATE.lock:
            STATE.authorize_calls += 1
            STATE.authorize_requests.append(dict(request.args.items()))
            deny = STATE.denials > 0
            if deny:
                STATE.denials -= 1
        user = None if deny else User(USER_ID)
        try:
            grant = server.get_consent_grant(end_user=user)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        response = server.create_authorization_response(grant=grant, grant_user=user)
        # Like QuickBooks', the redirect back names the account (realmId) beside code and state.
        location = response.headers.get("Location", "")
        if "code=" in location:
            response.headers["Location"] = location + ("&" if "?" in location else "?") + f"realmId={REALM_ID}"
        return response

    @app.post(token_path)
    def issue_token():
        with STATE.lock:
            STATE.token_calls += 1
            grant_type = request.form.get("grant_type", "")
            STATE.token_calls_by_grant[grant_type] = STATE.token_calls_by_grant.get(grant_type, 0) + 1
            STATE.token_traceparents.append(request.headers.get("traceparent"))
            fault = STATE.faults.pop(0) if STATE.faults else None
        if fault is not None:
            answer = apply_fault(fault)
            if answer is not None:
                return answer
        with STATE.token_lock:
            return server.create_token_response()

    @app.get("/api/me")
    def me():
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            value = header[len("Bearer ") :]
            with STATE.lock:
                for token in STATE.tokens:
                    if token.access_token == value and not token.is_revoked() and not token.is_expired():
                        return jsonify({"id": token.user_id, "scope": token.scope})
        return jsonify({"error": "invalid_token"}), 401

    # ----- the provider API, for passthrough ----------------------------------------------

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]

    @app.route("/api/<path:rest>", methods=methods)
    def api(rest):
        header = request.headers.get("Authorization", "")
        live = False
        if header.startswith("Bearer "):
            value = header[len("Bearer ") :]
            with STATE.lock:
                live = any(
                    t.access_token == value and not t.is_revoked() and not t.is_expired() for t in STATE.tokens
                )
        with STATE.lock:
            STATE.api_calls += 1
            if not live:
                STATE.api_refusals += 1
        if not live:
            request.get_data()
            response = jsonify({"error": "invalid_token"})
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        return provider_api(rest)

    @app.route("/plain/<path:rest>", methods=methods)
    def plain(rest):
        with STATE.lock:
            STATE.api_calls += 1
        return provider_api(rest)

    # ----- control ------------------------------------------------------------------------

    @app.before_request
    def loopback_only_control():
        if request.path.startswith("/_control/") and not (request.remote_addr or "").startswith("127."):
            abort(403)

    @app.get("/_control/health")
    def control_health():
        return jsonify({"ok": True})

    @app.get("/_control/stats")
    def control_stats():
        with STATE.lock:
            return jsonify(
                {
                    "token_calls": STATE.token_calls,
                    "token_calls_by_grant": dict(STATE.token_calls_by_grant),
                    "authorize_calls": STATE.authorize_calls,
                    "expires_in": STATE.expires_in,
                    "faults_queued": len(STATE.faults),
                    "api_calls": STATE.api_calls,
                    "api_refusals": STATE.api_refusals,
                    "token_traceparents": list(STATE.token_traceparents),
                }
            )

    @app.post("/_control/reset")
    def control_reset():
        STATE.reset()
        return jsonify({"ok": True})

    @app.post("/_control/reset-counters")
    def control_reset_counters():
        STATE.reset_counters()
        return jsonify({"ok": True})

    @app.post("/_control/lifetime")
    def control_lifetime():
        value = int(request.get_json(force=True)["expires_in"])
        if value < 1:
            return jsonify({"error": "expires_in must be >= 1"}), 400
        with STATE.lock:
            STATE.expires_in = value
        return jsonify({"expires_in": value})

    @app.post("/_control/redirect-uris")
    def control_redirect_uris():
        uris = request.get_json(force=True)["uris"]
        with STATE.lock:
            for uri in uris:
                if uri not in STATE.client.redirect_uris:
                    STATE.client.redirect_uris.append(uri)
            return jsonify({"uris": list(STATE.client.redirect_uris)})

    @app.post("/_control/faults")
    def control_faults():
        faults = request.get_json(force=True)["faults"]
        for fault in faults:
            if fault.get("kind") not in ("status", "invalid_grant", "drop", "delay"):
                return jsonify({"error": f"unknown fault kind {fault.get('kind')!r}"}), 400
        with STATE.lock:
            STATE.faults.extend(faults)
            return jsonify({"faults_queued": len(STATE.faults)})

    @app.post("/_control/deny")
    def control_deny():
        count = int(request.get_json(force=True).get("count", 1))
        with STATE.lock:
            STATE.denials += count
        return jsonify({"denials": count})

    @app.post("/_control/revoke-refresh-tokens")
    def control_revoke():
        with STATE.lock:
            for token in STATE.tokens:
                token.refresh_revoked = True
        return jsonify({"ok": True})

    @app.post("/_control/revoke-access-tokens")
    def control_revoke_access():
        with STATE.lock:
            for token in STATE.tokens:
                token.access_revoked = True
        return jsonify({"ok": True})

    @app.get("/_control/tokens")
    def control_tokens():
        with STATE.lock:
            return jsonify(
                {
                    "issued": [
                        {
                            "access_token": t.access_token,
                            "refresh_token": t.refresh_token,
                            "grant_type": t.grant_type,
                            "expires_in": t.expires_in,
                            "issued_at": t.issued_at,
                        }
                        for t in STATE.tokens
                    ]
                }
            )

    @app.get("/_control/authorize-requests")
    def control_authorize_requests():
        with STATE.lock:
            return jsonify({"requests": list(STATE.authorize_requests)})

    return app


def fingerprint(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


CREDENTIAL_HEADERS = {"authorization", "x-api-key"}


def provider_api(rest: str):
    """The echo, status, download and upload endpoints shared by /api and /plain."""
    # Matched on the path's end, whatever base path the integration puts before it.
    parts = rest.split("/")[-2:]
    if len(parts) == 2 and parts[0] == "status" and parts[1].isdigit():
        request.get_data()
        status = int(parts[1])
        response = Response(b"" if status in (204, 304) else b'{"status": %d}' % status, status=status)
        if status not in (204, 304):
            response.headers["Content-Type"] = "application/json"
        if "location" in request.args:
            response.headers["Location"] = request.args["location"]
        response.headers["X-RateLimit-Remaining"] = "42"
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Credentials"] = "true"
        return response
    if len(parts) == 2 and parts[0] == "download" and parts[1].isdigit():
        total = int(parts[1])
        chunk = bytes(range(256)) * 256

        def generate():
            sent = 0
            while sent < total:
                piece = chunk[: min(len(chunk), total - sent)]
                sent += len(piece)
                yield piece

        response = Response(generate(), mimetype="application/octet-stream")
        if request.args.get("chunked") != "1":
            response.headers["Content-Length"] = str(total)
        return response
    digest = hashlib.sha256()
    length = 0
    while True:
        piece = request.stream.read(1 << 16)
        if not piece:
            break
        digest.update(piece)
        length += len(piece)
    if parts[-1] == "upload":
        return jsonify({"length": length, "sha256": digest.hexdigest()})
    headers = []
    for name, value in request.headers.items():
        shown = fingerprint(value) if name.lower() in CREDENTIAL_HEADERS else value
        headers.append([name.lower(), shown])
    query = "&".join(
        f"api_token={fingerprint(pair.split('=', 1)[1])}" if pair.startswith("api_token=") else pair
        for pair in request.environ.get("QUERY_STRING", "").split("&")
        if pair
    )
    return jsonify(
        {
            "method": request.method,
            "raw_uri": request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI"),
            "query": query,
            "headers": headers,
            "body_length": length,
            "body_sha256": digest.hexdigest(),
        }
    )


def apply_fault(fault: dict):
    """The answer for a faulted token call, or None to go on and answer normally."""
    kind = fault["kind"]
    if kind == "status":
        status = int(fault.get("status", 503))
        response = jsonify({"error": "temporarily_unavailable", "status": status})
        response.status_code = status
        if "retry_after" in fault:
            response.headers["Retry-After"] = str(fault["retry_after"])
        return response
    if kind == "invalid_grant":
        response = jsonify({"error": "invalid_grant", "error_description": "injected by the test"})
        response.status_code = 400
        response.headers["Cache-Control"] = "no-store"
        return response
    if kind == "delay":
        time.sleep(float(fault.get("seconds", 1)))
        return None
    if kind == "drop":
        # The dev server hands the WSGI app its socket: close it under the request, so the client
        # sees the connection end without any answer.
        sock = request.environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        response = jsonify({})
        response.status_code = 500
        return response
    raise ValueError(kind)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=31410)
    parser.add_argument("--authorize-path", default="/oauth/authorize")
    parser.add_argument("--token-path", default="/oauth/token")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # The access log names paths only; the query strings (codes, states) are not logged.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app(args.authorize_path, args.token_path)
    log.info("listening on %s:%d (authorize %s, token %s)", args.host, args.port, args.authorize_path, args.token_path)
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False, debug=False)


if __name__ == "__main__":
    main()
