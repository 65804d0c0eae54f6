#!/usr/bin/env python3
"""A strict loopback fake of the Azure Key Vault secrets REST API and of the Microsoft Entra
(Azure AD) v2 token endpoint, in one process, for tests (scripts/secrets-up.sh starts it).

It serves the same handlers on a plain HTTP port and on an HTTPS port whose certificate is signed
by a CA the fake generates at every start (<state-dir>/azure-ca.pem; trust that file). Everything
is kept in memory. Proved against the official azure-keyvault-secrets and azure-identity clients by
test_fakes_with_vendor_clients.py; README.md beside this file describes the API and the control
endpoints under /_fake/.

    fake_azure_keyvault.py --http-port 25406 --https-port 25407 --state-dir DIR \
        --tenant-id T --client-id C --client-secret-file FILE [--token-lifetime 3600] \
        [--purge-protection]

Only the standard library and `cryptography` (certificate generation).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import ipaddress
import json
import os
import re
import secrets
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

VAULT_RESOURCE = "https://vault.azure.net"
VAULT_SCOPE = VAULT_RESOURCE + "/.default"
# Every api-version the current SDKs know for secrets; anything else is refused.
API_VERSIONS = (
    "2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01", "2026-04-01",
)
NAME_RE = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
VERSION_RE = re.compile(r"^[0-9a-f]{32}$")
MAX_BODY = 1 << 20
MAX_VALUE_BYTES = 25 * 1024
MAX_TAGS = 15
RECOVERABLE_DAYS = 90
HELP_LINK = "For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"


def now() -> int:
    return int(time.time())


class HttpError(Exception):
    def __init__(self, status: int, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def kv_error(status: int, code: str, message: str, inner: str | None = None, headers=None) -> HttpError:
    error = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner}
    return HttpError(status, {"error": error}, headers)


def entra_error(status: int, error: str, aadsts: int, description: str, headers=None) -> HttpError:
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    text = (f"AADSTS{aadsts}: {description} Trace ID: {trace} Correlation ID: {correlation} "
            f"Timestamp: {stamp}")
    return HttpError(status, {
        "error": error,
        "error_description": text,
        "error_codes": [aadsts],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": f"https://login.microsoftonline.com/error?code={aadsts}",
    }, headers)


# Realistic bodies for injected failures (/_fake/fail).
INJECTED_KV = {
    400: ("BadParameter", "Injected failure: bad parameter.", None),
    401: ("Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.", None),
    403: ("Forbidden", "Caller is not authorized to perform action on resource.\r\n"
          "If role assignments, deny assignments or role definitions were changed recently, "
          "please observe propagation time.", "ForbiddenByRbac"),
    404: ("NotFound", "Injected failure: not found.", None),
    409: ("Conflict", "Injected failure: conflict.", None),
    429: ("Throttled", "Request was not allowed because application request rate exceeded the "
          "service limit. " + HELP_LINK, None),
    500: ("InternalServerError", "Injected failure: internal server error.", None),
    502: ("BadGateway", "Injected failure: bad gateway.", None),
    503: ("ServiceUnavailable", "The service is temporarily unavailable. Please retry.", None),
    504: ("GatewayTimeout", "Injected failure: gateway timeout.", None),
}
INJECTED_ENTRA = {
    400: ("invalid_request", 900144),
    401: ("invalid_client", 7000215),
    403: ("access_denied", 50105),
    429: ("temporarily_unavailable", 50196),
    500: ("server_error", 90033),
    503: ("temporarily_unavailable", 90033),
}


class State:
    def __init__(self, args, client_secret: str):
        self.lock = threading.Lock()
        self.tenant = args.tenant_id
        self.client_id = args.client_id
        self.client_secret = client_secret
        self.default_lifetime = args.token_lifetime
        self.default_purge_protection = args.purge_protection
        self.reset()

    def reset(self):
        self.token_lifetime = self.default_lifetime
        self.purge_protection = self.default_purge_protection
        self.secrets = {}  # name -> {"versions": [version dicts, oldest first], "deleted": None|dict}
        self.tokens = {}  # token -> {"expires": t, "revoked": bool, "cae": bool}
        self.failures = []
        self.revoked_at = None
        self.last_token_request = None
        self.stats = {
            "token_requests": 0, "tokens_issued": 0, "openid_configuration_requests": 0,
            "vault_requests": 0, "unauthorized": 0, "injected_failures": 0,
        }
        self.recent = []


STATE: State  # set in main()


def recovery_level() -> str:
    return "Recoverable" if STATE.purge_protection else "Recoverable+Purgeable"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-azure-keyvault/1"
    timeout = 60

    # ---- plumbing ---------------------------------------------------------------------------

    def log_message(self, fmt, *args):  # stderr, no headers or bodies
        sys.stderr.write("%s [%s] %s\n" % (self.scheme, self.log_date_time_string(), fmt % args))

    @property
    def scheme(self) -> str:
        return "https" if self.server.tls else "http"

    def base_url(self) -> str:
        host = self.headers.get("Host") or ""
        if not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]{1,255}", host):
            host = "127.0.0.1:%d" % self.server.server_address[1]
        return f"{self.scheme}://{host}"

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
                if len(data) > MAX_BODY:
                    self.close_connection = True
                    raise kv_error(413, "RequestTooLarge", "The request body is too large.")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            raise kv_error(413, "RequestTooLarge", "The request body is too large.")
        return self.rfile.read(length) if length > 0 else b""

    def record(self, status: int):
        # Logged before the answer is written, so the log is in the order the answers were given: a
        # client's retry cannot be logged before the failure it retries.
        if self.recorded or self.path.startswith("/_fake/"):
            return
        self.recorded = True
        with STATE.lock:
            STATE.recent.append({"method": self.command, "path": self.path, "status": status,
                                 "scheme": self.scheme})
            del STATE.recent[:-100]

    def send(self, status: int, body=None, headers=None):
        payload = b"" if body is None else json.dumps(body).encode()
        self.record(status)
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.status_sent = status

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def dispatch(self):
        self.status_sent = 0
        self.recorded = False
        url = urlsplit(self.path)
        path = url.path
        self.query = parse_qs(url.query, keep_blank_values=True)
        try:
            try:
                body = self.read_body()
                if path.startswith("/_fake/"):
                    self.control(path, body)
                elif re.fullmatch(r"/[^/]+/oauth2/v2\.0/token", path) or \
                        re.fullmatch(r"/[^/]+/v2\.0/\.well-known/openid-configuration", path):
                    self.entra(path, body)
                elif path in ("/secrets", "/deletedsecrets") or path.startswith(("/secrets/", "/deletedsecrets/")):
                    with STATE.lock:
                        STATE.stats["vault_requests"] += 1
                    self.vault(path, body)
                else:
                    raise kv_error(404, "NotFound", f"The requested resource '{path}' was not found.")
            except HttpError as e:
                if e.status == 401:
                    with STATE.lock:
                        STATE.stats["unauthorized"] += 1
                self.send(e.status, e.body, e.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # a bug in the fake: answer 500, keep serving
            sys.stderr.write(f"fake-azure: internal error: {e!r}\n")
            if not self.status_sent:
                self.send(500, {"error": {"code": "InternalServerError", "message": "Fake internal error."}})
        finally:
            self.record(self.status_sent)

    def injected(self, path: str, service: str):
        """Raises the next injected failure that matches this request, if any."""
        with STATE.lock:
            for rule in STATE.failures:
                prefix = rule.get("path_prefix")
                if prefix is not None:
                    if not path.startswith(prefix):
                        continue
                elif service != "vault":
                    continue
                if rule.get("method") and rule["method"].upper() != self.command:
                    continue
                rule["times"] -= 1
                if rule["times"] <= 0:
                    STATE.failures.remove(rule)
                STATE.stats["injected_failures"] += 1
                status = rule["status"]
                headers = {}
                if rule.get("retry_after") is not None:
                    headers["Retry-After"] = str(rule["retry_after"])
                break
            else:
                return
        if service == "entra":
            error, code = INJECTED_ENTRA.get(status, ("server_error", 90033))
            raise entra_error(status, error, code, "Injected failure.", headers)
        if status == 401:
            headers["WWW-Authenticate"] = self.challenge()
        code, message, inner = INJECTED_KV.get(status, ("InternalServerError" if status >= 500 else "BadRequest",
                                                        f"Injected failure with status {status}.", None))
        raise kv_error(status, code, message, inner, headers)

    # ---- /_fake/ control endpoints ----------------------------------------------------------

    def control(self, path: str, body: bytes):
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            raise HttpError(400, {"error": "body is not JSON"})
        if not isinstance(data, dict):
            raise HttpError(400, {"error": "body must be a JSON object"})
        if path == "/_fake/stats" and self.command == "GET":
            with STATE.lock:
                stats = dict(STATE.stats)
                stats["live_tokens"] = sum(1 for t in STATE.tokens.values()
                                           if not t["revoked"] and t["expires"] > time.time())
                stats["secrets"] = sum(1 for s in STATE.secrets.values() if s["deleted"] is None)
                stats["deleted_secrets"] = sum(1 for s in STATE.secrets.values() if s["deleted"] is not None)
                stats["pending_failures"] = [dict(rule) for rule in STATE.failures]
                stats["token_lifetime"] = STATE.token_lifetime
                stats["purge_protection"] = STATE.purge_protection
                stats["last_token_request"] = STATE.last_token_request
                stats["requests"] = list(STATE.recent)
            return self.send(200, stats)
        if self.command != "POST":
            raise HttpError(405, {"error": "use POST (GET for /_fake/stats)"}, {"Allow": "POST"})
        if path == "/_fake/fail":
            status = data.get("status")
            times = data.get("times", 1)
            if not isinstance(status, int) or not 400 <= status <= 599:
                raise HttpError(400, {"error": "status must be an integer 400-599"})
            if not isinstance(times, int) or times < 1:
                raise HttpError(400, {"error": "times must be a positive integer"})
            rule = {"status": status, "times": times}
            for key, kind in (("retry_after", int), ("path_prefix", str), ("method", str)):
                if data.get(key) is not None:
                    if not isinstance(data[key], kind):
                        raise HttpError(400, {"error": f"{key} has the wrong type"})
                    rule[key] = data[key]
            with STATE.lock:
                STATE.failures.append(rule)
            return self.send(200, {"queued": rule})
        if path == "/_fake/revoke-tokens":
            with STATE.lock:
                for token in STATE.tokens.values():
                    token["revoked"] = True
                STATE.revoked_at = now()
                count = len(STATE.tokens)
            return self.send(200, {"revoked": count})
        if path == "/_fake/reset":
            with STATE.lock:
                STATE.reset()
            return self.send(200, {"reset": True})
        if path == "/_fake/config":
            with STATE.lock:
                if "token_lifetime" in data:
                    if not isinstance(data["token_lifetime"], int) or data["token_lifetime"] < 1:
                        raise HttpError(400, {"error": "token_lifetime must be a positive integer"})
                    STATE.token_lifetime = data["token_lifetime"]
                if "purge_protection" in data:
                    if not isinstance(data["purge_protection"], bool):
                        raise HttpError(400, {"error": "purge_protection must be a boolean"})
                    STATE.purge_protection = data["purge_protection"]
                config = {"token_lifetime": STATE.token_lifetime, "purge_protection": STATE.purge_protection}
            return self.send(200, config)
        raise HttpError(404, {"error": f"no control endpoint {path}"})

    # ---- Microsoft Entra --------------------------------------------------------------------

    def tenant_not_found(self, tenant: str) -> HttpError:
        return entra_error(400, "invalid_request", 90002,
                           f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                           "and are signing into the correct cloud. Check with your subscription "
                           "administrator, this may happen if there are no active subscriptions for the tenant.")

    def entra(self, path: str, body: bytes):
        tenant = unquote(path.split("/")[1])
        if path.endswith("/openid-configuration"):
            with STATE.lock:
                STATE.stats["openid_configuration_requests"] += 1
            if self.command != "GET":
                raise entra_error(405, "invalid_request", 900561,
                                  "The endpoint only accepts GET requests.", {"Allow": "GET"})
            if tenant != STATE.tenant:
                raise self.tenant_not_found(tenant)
            base = self.base_url()
            issuer = f"{base}/{tenant}/v2.0"
            return self.send(200, {
                "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                          "client_secret_basic"],
                "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": issuer,
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": f"{base}/{tenant}/openid/userinfo",
                "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{base}/{tenant}/oauth2/v2.0/logout",
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver"],
                "kerberos_endpoint": f"{base}/{tenant}/kerberos",
                "tenant_region_scope": "EU",
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            })
        # the token endpoint
        with STATE.lock:
            STATE.stats["token_requests"] += 1
        if self.command != "POST":
            raise entra_error(405, "invalid_request", 900561,
                              "The endpoint only accepts POST, OPTIONS requests. Received a "
                              f"{self.command} request.", {"Allow": "POST, OPTIONS"})
        self.injected(path, "entra")
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        form = {}
        if content_type == "application/x-www-form-urlencoded":
            try:
                parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
            except (UnicodeDecodeError, ValueError):
                parsed = {}
            form = {key: values[0] for key, values in parsed.items()}
        if tenant != STATE.tenant:
            raise self.tenant_not_found(tenant)
        grant = form.get("grant_type")
        if not grant:
            raise entra_error(400, "invalid_request", 900144,
                              "The request body must contain the following parameter: 'grant_type'.")
        if grant != "client_credentials":
            raise entra_error(400, "unsupported_grant_type", 70003,
                              f"The app requested an unsupported grant type '{grant}'.")
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(auth[6:].strip(), validate=True).decode().partition(":")
                client_id, client_secret = unquote(user), unquote(password)
            except (ValueError, UnicodeDecodeError):
                raise entra_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
        if not client_id:
            raise entra_error(400, "invalid_request", 900144,
                              "The request body must contain the following parameter: 'client_id'.")
        if client_id != STATE.client_id:
            raise entra_error(400, "unauthorized_client", 700016,
                              f"Application with identifier '{client_id}' was not found in the directory "
                              f"'{STATE.tenant}'. This can happen if the application has not been installed "
                              "by the administrator of the tenant or consented to by any user in the tenant. "
                              "You may have sent your authentication request to the wrong tenant.")
        if not client_secret:
            raise entra_error(401, "invalid_client", 7000216,
                              "'client_assertion', 'client_secret' or 'request' is required for the "
                              "'client_credentials' grant type.")
        if not secrets.compare_digest(client_secret.encode(), STATE.client_secret.encode()):
            raise entra_error(401, "invalid_client", 7000215,
                              "Invalid client secret provided. Ensure the secret being sent in the request "
                              f"is the client secret value, not the client secret ID, for a secret added to "
                              f"app '{STATE.client_id}'.")
        scope = form.get("scope")
        if not scope:
            raise entra_error(400, "invalid_request", 900144,
                              "The request body must contain the following parameter: 'scope'.")
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            raise entra_error(400, "invalid_scope", 1002012,
                              f"The provided value for scope {scope} is not valid. Client credential flows "
                              "must have a scope value with /.default suffixed to the resource identifier "
                              "(application ID URI).")
        if scopes[0].rstrip("/") != VAULT_SCOPE and scopes[0] != VAULT_RESOURCE + "//.default":
            raise entra_error(400, "invalid_scope", 500011,
                              f"The resource principal named {scopes[0][:-len('/.default')]} was not found "
                              f"in the tenant named {STATE.tenant}. This can happen if the application has "
                              "not been installed by the administrator of the tenant or consented to by any "
                              "user in the tenant. You might have sent your authentication request to the "
                              "wrong tenant.")
        with STATE.lock:  # what the client sent, without the secret, for tests to assert on
            STATE.last_token_request = {
                "fields": sorted(form), "grant_type": grant, "client_id": client_id, "scope": scope,
                "claims": form.get("claims"),
                "client_auth": "client_secret_basic" if auth.lower().startswith("basic ") else "client_secret_post"}
        cae = False
        if form.get("claims"):
            try:
                claims = json.loads(form["claims"])
                cae = "CP1" in json.dumps(claims.get("access_token", {}).get("xms_cc", {}))
            except (ValueError, AttributeError):
                raise entra_error(400, "invalid_request", 70011, "The provided value for the input parameter "
                                  "'claims' is not valid.")
        token = "fake-entra-" + secrets.token_urlsafe(32)
        with STATE.lock:
            lifetime = STATE.token_lifetime
            STATE.tokens[token] = {"expires": time.time() + lifetime, "revoked": False, "cae": cae}
            STATE.stats["tokens_issued"] += 1
        self.send(200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                        "access_token": token}, {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})

    # ---- Key Vault --------------------------------------------------------------------------

    def challenge(self) -> str:
        return f'Bearer authorization="{self.base_url()}/{STATE.tenant}", resource="{VAULT_RESOURCE}"'

    def authenticate(self):
        auth = self.headers.get("Authorization") or ""
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            raise kv_error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.",
                           headers={"WWW-Authenticate": self.challenge()})
        with STATE.lock:
            token = STATE.tokens.get(auth[7:].strip())
            token = dict(token) if token else None
            revoked_at = STATE.revoked_at
        if token is None:
            raise kv_error(401, "Unauthorized", "AKV10022: Invalid token: the token was not issued by the "
                           "expected authority.", headers={"WWW-Authenticate": self.challenge()})
        if token["revoked"]:
            header = self.challenge()
            if token["cae"]:  # a CAE-capable client is told to fetch a fresh token (a claims challenge)
                claims = json.dumps({"access_token": {"nbf": {"essential": True, "value": str(revoked_at)}}},
                                    separators=(",", ":"))
                header = (f'Bearer realm="", authorization_uri="{self.base_url()}/{STATE.tenant}/oauth2/'
                          f'authorize", client_id="00000003-0000-0000-c000-000000000000", '
                          f'error="insufficient_claims", '
                          f'claims="{base64.b64encode(claims.encode()).decode()}"')
            raise kv_error(401, "Unauthorized", "AKV10032: Token was revoked.", headers={"WWW-Authenticate": header})
        if token["expires"] <= time.time():
            raise kv_error(401, "Unauthorized", "AKV10013: Token is expired.",
                           headers={"WWW-Authenticate": self.challenge()})

    def json_body(self, body: bytes) -> dict:
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise kv_error(400, "BadParameter", "The request body is not valid JSON.")
        if not isinstance(data, dict):
            raise kv_error(400, "BadParameter", "The request body must be a JSON object.")
        return data

    def vault(self, path: str, body: bytes):
        parts = path.split("/")[1:]
        collection = parts[0]
        if parts[-1] == "" and len(parts) > 1:
            parts = parts[:-1]  # /secrets/name/ reads the latest version, as /secrets/name
        method = self.command
        # routing: (allowed methods, operation)
        if collection == "secrets":
            if len(parts) == 1:
                allowed, op = ("GET",), "list"
            elif len(parts) == 2:
                allowed, op = ("GET", "PUT", "DELETE"), None
            elif len(parts) == 3 and parts[2] == "versions":
                allowed, op = ("GET",), "versions"
            elif len(parts) == 3:
                allowed, op = ("GET",), "get"
            else:
                raise kv_error(404, "NotFound", f"The requested resource '{path}' was not found.")
        else:
            if len(parts) == 1:
                allowed, op = ("GET",), "list-deleted"
            elif len(parts) == 2:
                allowed, op = ("GET", "DELETE"), None
            elif len(parts) == 3 and parts[2] == "recover":
                allowed, op = ("POST",), "recover"
            else:
                raise kv_error(404, "NotFound", f"The requested resource '{path}' was not found.")
        if method not in allowed:
            raise kv_error(405, "MethodNotAllowed",
                           f"The requested resource does not support http method '{method}'.",
                           headers={"Allow": ", ".join(allowed)})
        if op is None:
            op = {("secrets", "GET"): "get", ("secrets", "PUT"): "set", ("secrets", "DELETE"): "delete",
                  ("deletedsecrets", "GET"): "get-deleted", ("deletedsecrets", "DELETE"): "purge"}[(collection, method)]
        self.injected(path, "vault")
        versions = self.query.get("api-version")
        if not versions or not versions[0]:
            raise kv_error(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for all requests.")
        if versions[0] not in API_VERSIONS:
            raise kv_error(400, "InvalidApiVersionParameter",
                           f"The api-version '{versions[0]}' is invalid. The supported versions are "
                           f"'{', '.join(API_VERSIONS)}'.")
        self.api_version = versions[0]
        self.authenticate()
        name = unquote(parts[1]) if len(parts) > 1 else None
        if name is not None and not NAME_RE.fullmatch(name):
            raise kv_error(400, "BadParameter", f"The request URI contains an invalid name: {name}")
        getattr(self, "op_" + op.replace("-", "_"))(name, parts, body)

    # -- bundles

    def attributes(self, version: dict) -> dict:
        attrs = {"enabled": version["enabled"]}
        for key in ("nbf", "exp"):
            if version.get(key) is not None:
                attrs[key] = version[key]
        attrs["created"] = version["created"]
        attrs["updated"] = version["updated"]
        attrs["recoveryLevel"] = recovery_level()
        if self.api_version not in ("2016-10-01", "7.0"):
            attrs["recoverableDays"] = RECOVERABLE_DAYS
        return attrs

    def secret_id(self, name: str, version: str | None = None) -> str:
        return f"{self.base_url()}/secrets/{name}" + (f"/{version}" if version else "")

    def bundle(self, name: str, version: dict, with_value: bool) -> dict:
        out = {}
        if with_value:
            out["value"] = version["value"]
        if version.get("contentType") is not None:
            out["contentType"] = version["contentType"]
        out["id"] = self.secret_id(name, version["version"])
        out["attributes"] = self.attributes(version)
        if version.get("tags"):
            out["tags"] = version["tags"]
        return out

    def deleted_bundle(self, name: str, entry: dict) -> dict:
        out = {"recoveryId": f"{self.base_url()}/deletedsecrets/{name}",
               "deletedDate": entry["deleted"]["deletedDate"],
               "scheduledPurgeDate": entry["deleted"]["scheduledPurgeDate"]}
        out.update(self.bundle(name, entry["versions"][-1], with_value=False))
        return out

    def not_found(self, name: str) -> HttpError:
        return kv_error(404, "SecretNotFound", f"A secret with (name/id) {name} was not found in this key vault. "
                        "If you recently deleted this secret you may be able to recover it using the correct "
                        "recovery command. " + HELP_LINK)

    def deleted_not_found(self, name: str) -> HttpError:
        return kv_error(404, "SecretNotFound", f"Deleted Secret not found: {name}")

    def live(self, name: str) -> dict:
        entry = STATE.secrets.get(name)
        if entry is None or entry["deleted"] is not None:
            raise self.not_found(name)
        return entry

    def deleted(self, name: str) -> dict:
        entry = STATE.secrets.get(name)
        if entry is None or entry["deleted"] is None:
            raise self.deleted_not_found(name)
        return entry

    # -- operations

    def op_set(self, name, parts, body):
        data = self.json_body(body)
        value = data.get("value")
        if value is None:
            raise kv_error(400, "BadParameter", "Property 'value' is required.")
        if not isinstance(value, str):
            raise kv_error(400, "BadParameter", "Property 'value' must be a string.")
        if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
            raise kv_error(400, "BadParameter", f"Secret value is too large; the maximum is {MAX_VALUE_BYTES} bytes.")
        content_type = data.get("contentType")
        if content_type is not None and not isinstance(content_type, str):
            raise kv_error(400, "BadParameter", "Property 'contentType' must be a string.")
        tags = data.get("tags")
        if tags is not None:
            if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
                raise kv_error(400, "BadParameter", "Property 'tags' must be an object of strings.")
            if len(tags) > MAX_TAGS:
                raise kv_error(400, "BadParameter", f"A secret can have at most {MAX_TAGS} tags.")
        attrs = data.get("attributes") or {}
        if not isinstance(attrs, dict):
            raise kv_error(400, "BadParameter", "Property 'attributes' must be an object.")
        enabled = attrs.get("enabled", True)
        if not isinstance(enabled, bool):
            raise kv_error(400, "BadParameter", "Property 'attributes.enabled' must be a boolean.")
        for key in ("nbf", "exp"):
            if attrs.get(key) is not None and (not isinstance(attrs[key], int) or isinstance(attrs[key], bool)):
                raise kv_error(400, "BadParameter", f"Property 'attributes.{key}' must be a Unix time in seconds.")
        stamp = now()
        version = {"version": secrets.token_hex(16), "value": value, "contentType": content_type,
                   "tags": tags or None, "enabled": enabled, "nbf": attrs.get("nbf"), "exp": attrs.get("exp"),
                   "created": stamp, "updated": stamp}
        with STATE.lock:
            entry = STATE.secrets.get(name)
            if entry is not None and entry["deleted"] is not None:
                raise kv_error(409, "Conflict", f"Secret {name} is currently in a deleted but recoverable state, "
                               "and its name cannot be reused; in this state, the secret can only be recovered "
                               "or purged.", "ObjectIsDeletedButRecoverable")
            if entry is None:
                entry = STATE.secrets[name] = {"versions": [], "deleted": None}
            entry["versions"].append(version)
        self.send(200, self.bundle(name, version, with_value=True))

    def op_get(self, name, parts, body):
        wanted = unquote(parts[2]) if len(parts) > 2 else ""
        with STATE.lock:
            entry = self.live(name)
            if wanted:
                matches = [v for v in entry["versions"] if v["version"] == wanted]
                if not matches:
                    raise self.not_found(f"{name}/{wanted}")
                version = matches[0]
            else:
                version = entry["versions"][-1]
            if not version["enabled"]:
                raise kv_error(403, "Forbidden", "Operation get is not allowed on a disabled secret.",
                               "SecretDisabled")
            bundle = self.bundle(name, version, with_value=True)
        self.send(200, bundle)

    def item(self, name, version, with_version=False):
        out = {"id": self.secret_id(name, version["version"] if with_version else None)}
        out["attributes"] = self.attributes(version)
        if version.get("contentType") is not None:
            out["contentType"] = version["contentType"]
        if version.get("tags"):
            out["tags"] = version["tags"]
        return out

    def op_list(self, name, parts, body):
        with STATE.lock:
            items = [self.item(n, e["versions"][-1]) for n, e in sorted(STATE.secrets.items())
                     if e["deleted"] is None]
        self.send(200, {"value": items, "nextLink": None})

    def op_versions(self, name, parts, body):
        with STATE.lock:
            entry = self.live(name)
            items = [self.item(name, v, with_version=True) for v in entry["versions"]]
        self.send(200, {"value": items, "nextLink": None})

    def op_list_deleted(self, name, parts, body):
        with STATE.lock:
            items = []
            for n, e in sorted(STATE.secrets.items()):
                if e["deleted"] is not None:
                    item = {"recoveryId": f"{self.base_url()}/deletedsecrets/{n}",
                            "deletedDate": e["deleted"]["deletedDate"],
                            "scheduledPurgeDate": e["deleted"]["scheduledPurgeDate"]}
                    item.update(self.item(n, e["versions"][-1]))
                    items.append(item)
        self.send(200, {"value": items, "nextLink": None})

    def op_delete(self, name, parts, body):
        stamp = now()
        with STATE.lock:
            entry = self.live(name)
            entry["deleted"] = {"deletedDate": stamp, "scheduledPurgeDate": stamp + RECOVERABLE_DAYS * 86400}
            bundle = self.deleted_bundle(name, entry)
        self.send(200, bundle)

    def op_get_deleted(self, name, parts, body):
        with STATE.lock:
            bundle = self.deleted_bundle(name, self.deleted(name))
        self.send(200, bundle)

    def op_purge(self, name, parts, body):
        with STATE.lock:
            self.deleted(name)
            if STATE.purge_protection:
                host = urlsplit(self.base_url()).netloc
                raise kv_error(403, "Forbidden", 'Operation "purge" is not allowed because purge protection is '
                               "enabled for this vault. Key Vault service will automatically purge it after the "
                               f"retention period has passed.\r\nVault: {host};location=local")
            del STATE.secrets[name]
        self.send(204)

    def op_recover(self, name, parts, body):
        with STATE.lock:
            entry = self.deleted(name)
            entry["deleted"] = None
            bundle = self.bundle(name, entry["versions"][-1], with_value=False)
        self.send(200, bundle)


# ---- TLS and startup ----------------------------------------------------------------------------

def write_private(path: str, data: bytes):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def make_certificates(state_dir: str):
    """A CA and a server certificate for 127.0.0.1, ::1 and localhost, signed by it. Returns the
    paths of (CA certificate, server certificate chain, server key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Switchboard test Azure fake CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1")),
                x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    ca_path = os.path.join(state_dir, "azure-ca.pem")
    cert_path = os.path.join(state_dir, "azure-tls-cert.pem")
    key_path = os.path.join(state_dir, "azure-tls-key.pem")
    write_private(key_path, key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    write_private(cert_path, leaf.public_bytes(pem) + ca.public_bytes(pem))
    write_private(ca_path, ca.public_bytes(pem))
    os.chmod(ca_path, 0o644)
    return ca_path, cert_path, key_path


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, context: ssl.SSLContext | None):
        self.tls = context is not None
        self.context = context
        super().__init__(("127.0.0.1", port), Handler)

    def finish_request(self, request, client_address):
        if self.context is not None:  # the handshake runs in the connection's thread
            request.settimeout(30)
            try:
                request = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                sys.stderr.write(f"https: TLS handshake with {client_address[0]} failed: {e}\n")
                return
        super().finish_request(request, client_address)


def main():
    global STATE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--https-port", type=int, required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--tenant-id", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret-file", required=True,
                        help="file holding the one client secret the token endpoint accepts")
    parser.add_argument("--token-lifetime", type=int, default=3600, help="seconds (default 3600)")
    parser.add_argument("--purge-protection", action="store_true",
                        help="refuse purges (403), recoveryLevel 'Recoverable'")
    args = parser.parse_args()
    with open(args.client_secret_file, encoding="utf-8") as f:
        client_secret = f.read().strip()
    if not client_secret:
        parser.error("the client secret file is empty")
    if args.token_lifetime < 1:
        parser.error("--token-lifetime must be positive")
    os.makedirs(args.state_dir, exist_ok=True)
    STATE = State(args, client_secret)
    ca_path, cert_path, key_path = make_certificates(args.state_dir)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    servers = [Server(args.http_port, None), Server(args.https_port, context)]
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"fake-azure-keyvault: http://127.0.0.1:{args.http_port} https://127.0.0.1:{args.https_port} "
          f"tenant {args.tenant_id} client {args.client_id} CA {ca_path}", file=sys.stderr, flush=True)
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
