#!/usr/bin/env python3
"""A strict loopback fake of Google Cloud Secret Manager's REST API (v1) and of Google's OAuth 2
token endpoint with the JWT-bearer grant (RFC 7523), for tests (scripts/secrets-up.sh starts it).

At start it generates an RSA-2048 service-account key and writes the JSON key file Google issues
to <state-dir>/gcp-service-account.json (mode 0600); its token_uri is this fake's /token. Bearer
tokens are the access tokens /token issues, or self-signed service-account JWTs (what Google's
client libraries send by default, https://google.aip.dev/auth/4111). Everything is kept in memory.
Proved against the official google-cloud-secret-manager and google-auth clients by
test_fakes_with_vendor_clients.py; README.md beside this file describes the API and the control
endpoints under /_fake/.

    fake_gcp_secretmanager.py --port 25405 --state-dir DIR --project-id P \
        [--project-number 424242424242] [--token-lifetime 3600]

Only the standard library and `cryptography` (RSA).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime
import json
import os
import re
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
SERVICE = "secretmanager.googleapis.com"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCES = ("https://oauth2.googleapis.com/token", "https://www.googleapis.com/oauth2/v4/token",
                          "https://accounts.google.com/o/oauth2/token")
SECRET_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,255}$")
MAX_BODY = 1 << 20
MAX_PAYLOAD = 64 * 1024
MAX_JWT_LIFETIME = 3600
CLOCK_SKEW = 60
SECRET_FIELDS = {"name", "replication", "createTime", "labels", "topics", "expireTime", "ttl", "etag",
                 "rotation", "versionAliases", "annotations", "versionDestroyTtl",
                 "customerManagedEncryption", "tags"}
STATES = {"ENABLED": 1, "DISABLED": 2, "DESTROYED": 3}
BAD_JWT_TIME = ("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
                "Check your iat and exp values in the JWT claim.")


def crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = crc32c_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc = CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def rfc3339(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def b64url_decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class HttpError(Exception):
    def __init__(self, status: int, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def google_error(code: int, status: str, message: str, details=None, headers=None) -> HttpError:
    error = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return HttpError(code, {"error": error}, headers)


def oauth_error(status: int, error: str, description: str) -> HttpError:
    return HttpError(status, {"error": error, "error_description": description})


def error_info(reason: str, domain: str, metadata: dict) -> list:
    return [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": domain,
             "metadata": metadata}]


INJECTED_API = {
    400: ("INVALID_ARGUMENT", "Injected failure: invalid argument."),
    401: ("UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, "
          "login cookie or other valid authentication credential. See "
          "https://developers.google.com/identity/sign-in/web/devconsole-project."),
    403: ("PERMISSION_DENIED", "Injected failure: the caller does not have permission."),
    404: ("NOT_FOUND", "Injected failure: not found."),
    409: ("ABORTED", "Injected failure: aborted, retry the whole transaction."),
    429: ("RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Access requests' and limit 'Access requests "
          "per minute per project' of service 'secretmanager.googleapis.com'."),
    500: ("INTERNAL", "Internal error encountered."),
    501: ("UNIMPLEMENTED", "Injected failure: not implemented."),
    502: ("UNAVAILABLE", "Injected failure: bad gateway."),
    503: ("UNAVAILABLE", "The service is currently unavailable."),
    504: ("DEADLINE_EXCEEDED", "The request deadline was exceeded."),
}
INJECTED_TOKEN = {
    400: "invalid_request", 401: "invalid_client", 403: "access_denied", 429: "rate_limit_exceeded",
    500: "internal_failure", 503: "internal_failure",
}


class State:
    def __init__(self, args, key_id: str, public_key, client_email: str, token_uri: str):
        self.lock = threading.Lock()
        self.project_id = args.project_id
        self.project_number = args.project_number
        self.key_id = key_id
        self.public_key = public_key
        self.client_email = client_email
        self.token_uri = token_uri
        self.default_lifetime = args.token_lifetime
        self.reset()

    def reset(self):
        self.token_lifetime = self.default_lifetime
        self.secrets = {}  # secret id -> {"created", "replication", "labels", "annotations", "etag", "versions": [...]}
        self.tokens = {}  # token -> {"expires", "revoked", "scopes"}
        self.revoked_at = None
        self.failures = []
        self.last_token_request = None
        self.stats = {
            "token_requests": 0, "tokens_issued": 0, "api_requests": 0, "self_signed_jwt_requests": 0,
            "unauthorized": 0, "injected_failures": 0,
        }
        self.recent = []


STATE: State  # set in main()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-gcp-secretmanager/1"
    timeout = 60

    def log_message(self, fmt, *args):  # stderr, no headers or bodies
        sys.stderr.write("[%s] %s\n" % (self.log_date_time_string(), fmt % args))

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
                    raise google_error(413, "INVALID_ARGUMENT", "Request payload size exceeds the limit.")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            raise google_error(413, "INVALID_ARGUMENT", "Request payload size exceeds the limit.")
        return self.rfile.read(length) if length > 0 else b""

    def record(self, status: int):
        # Logged before the answer is written, so the log is in the order the answers were given: a
        # client's retry cannot be logged before the failure it retries.
        if self.recorded or self.path.startswith("/_fake/"):
            return
        self.recorded = True
        with STATE.lock:
            STATE.recent.append({"method": self.command, "path": self.path, "status": status})
            del STATE.recent[:-100]

    def send(self, status: int, body, headers=None):
        payload = json.dumps(body).encode()
        self.record(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Vary", "Origin, X-Origin, Referer")
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
        path = unquote(url.path)
        self.query = parse_qs(url.query, keep_blank_values=True)
        try:
            try:
                body = self.read_body()
                if path.startswith("/_fake/"):
                    self.control(path, body)
                elif path == "/token":
                    self.token(path, body)
                elif path.startswith("/v1/"):
                    with STATE.lock:
                        STATE.stats["api_requests"] += 1
                    self.api(path, body)
                else:
                    raise google_error(404, "NOT_FOUND", f"The requested URL {url.path} was not found on this server.")
            except HttpError as e:
                if e.status == 401:
                    with STATE.lock:
                        STATE.stats["unauthorized"] += 1
                self.send(e.status, e.body, e.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # a bug in the fake: answer 500, keep serving
            sys.stderr.write(f"fake-gcp: internal error: {e!r}\n")
            if not self.status_sent:
                self.send(500, {"error": {"code": 500, "message": "Fake internal error.", "status": "INTERNAL"}})
        finally:
            self.record(self.status_sent)

    def injected(self, path: str, service: str):
        with STATE.lock:
            for rule in STATE.failures:
                prefix = rule.get("path_prefix")
                if prefix is not None:
                    if not path.startswith(prefix):
                        continue
                elif service != "api":
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
        if service == "token":
            e = oauth_error(status, INJECTED_TOKEN.get(status, "internal_failure"), "Injected failure.")
            e.headers = headers
            raise e
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        name, message = INJECTED_API.get(status, ("UNKNOWN", f"Injected failure with status {status}."))
        raise google_error(status, name, message, headers=headers)

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
                stats["secrets"] = len(STATE.secrets)
                stats["pending_failures"] = [dict(rule) for rule in STATE.failures]
                stats["token_lifetime"] = STATE.token_lifetime
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
                STATE.revoked_at = int(time.time())
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
                config = {"token_lifetime": STATE.token_lifetime}
            return self.send(200, config)
        raise HttpError(404, {"error": f"no control endpoint {path}"})

    # ---- JWTs -------------------------------------------------------------------------------

    def verify_jwt(self, token: str, fail):
        """Checks the header, the signature and the times of a service-account JWT and returns its
        claims; `fail(message)` returns the exception to raise."""
        parts = token.split(".")
        if len(parts) != 3:
            raise fail("Invalid JWT: the assertion is not a JWS compact serialization.")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            raise fail("Invalid JWT: the header, claims or signature are not base64url JSON.")
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise fail("Invalid JWT: the header and the claims must be JSON objects.")
        self.seen_jwt = (header, claims)
        if header.get("alg") != "RS256":
            raise fail("Invalid JWT: unsupported algorithm (RS256 is required).")
        if header.get("kid") != STATE.key_id:
            raise fail("Invalid JWT Signature.")
        try:
            STATE.public_key.verify(signature, (parts[0] + "." + parts[1]).encode("ascii"),
                                    padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise fail("Invalid JWT Signature.")
        if claims.get("iss") != STATE.client_email:
            raise fail("Invalid grant: account not found")
        iat, exp = claims.get("iat"), claims.get("exp")
        t = time.time()
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (iat, exp)) \
                or exp <= iat or exp - iat > MAX_JWT_LIFETIME or iat > t + CLOCK_SKEW or exp < t - CLOCK_SKEW:
            raise fail(BAD_JWT_TIME)
        return header, claims

    def token(self, path: str, body: bytes):
        with STATE.lock:
            STATE.stats["token_requests"] += 1
        if self.command != "POST":
            raise oauth_error(405, "invalid_request", f"Method {self.command} is not allowed; use POST.")
        self.injected(path, "token")
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        form = {}
        try:
            if content_type == "application/x-www-form-urlencoded":
                form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
            elif content_type == "application/json":
                form = json.loads(body.decode("utf-8"))
                if not isinstance(form, dict) or not all(isinstance(v, str) for v in form.values()):
                    form = {}
        except (UnicodeDecodeError, ValueError):
            form = {}
        grant = form.get("grant_type")
        if not grant:
            raise oauth_error(400, "invalid_request", "Missing required parameter: grant_type")
        if grant != JWT_GRANT:
            raise oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")
        assertion = form.get("assertion")
        if not assertion:
            raise oauth_error(400, "invalid_request", "Missing required parameter: assertion")
        self.seen_jwt = (None, None)
        try:
            header, claims = self.verify_jwt(assertion, lambda message: oauth_error(400, "invalid_grant", message))
        finally:  # what the client sent (the assertion's header and claims, not its signature)
            with STATE.lock:
                STATE.last_token_request = {"fields": sorted(form), "grant_type": grant,
                                            "header": self.seen_jwt[0], "claims": self.seen_jwt[1]}
        # google-auth always signs aud = https://oauth2.googleapis.com/token, whatever the token_uri;
        # Google also takes its older token endpoints, and the fake its own token_uri.
        if claims.get("aud") not in GOOGLE_TOKEN_AUDIENCES + (STATE.token_uri,):
            raise oauth_error(400, "invalid_grant", "Invalid JWT: Failed audience check. The expected value was "
                              f"{STATE.token_uri} or {GOOGLE_TOKEN_AUDIENCES[0]}; the received value was "
                              f"{claims.get('aud')}.")
        if claims.get("sub") not in (None, STATE.client_email):
            raise oauth_error(401, "unauthorized_client", "Client is unauthorized to retrieve access tokens "
                              "using this method, or client not authorized for any of the scopes requested.")
        scope = claims.get("scope")
        scopes = scope.split() if isinstance(scope, str) else []
        if not scopes or not all(s.startswith("https://www.googleapis.com/auth/") for s in scopes):
            raise oauth_error(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        token = "ya29.fake-" + secrets.token_urlsafe(48)
        with STATE.lock:
            lifetime = STATE.token_lifetime
            STATE.tokens[token] = {"expires": time.time() + lifetime, "revoked": False, "scopes": scopes}
            STATE.stats["tokens_issued"] += 1
        self.send(200, {"access_token": token, "expires_in": lifetime, "token_type": "Bearer"},
                  {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate", "Pragma": "no-cache"})

    # ---- Secret Manager ---------------------------------------------------------------------

    def unauthenticated(self, reason: str, method: str, missing: bool = False) -> HttpError:
        if missing:
            message = ("Request is missing required authentication credential. Expected OAuth 2 access token, "
                       "login cookie or other valid authentication credential. See "
                       "https://developers.google.com/identity/sign-in/web/devconsole-project.")
            header = 'Bearer realm="https://accounts.google.com/"'
        else:
            message = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                       "cookie or other valid authentication credential. See "
                       "https://developers.google.com/identity/sign-in/web/devconsole-project.")
            header = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        return google_error(401, "UNAUTHENTICATED", message,
                            error_info(reason, "googleapis.com", {"service": SERVICE, "method": method}),
                            {"WWW-Authenticate": header})

    def authenticate(self, rpc: str):
        method = "google.cloud.secretmanager.v1.SecretManagerService." + rpc
        auth = self.headers.get("Authorization") or ""
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            raise self.unauthenticated("CREDENTIALS_MISSING", method, missing=True)
        token = auth[7:].strip()
        if token.count(".") == 2 and not token.startswith("ya29."):  # a self-signed service-account JWT
            header, claims = self.verify_jwt(token, lambda message: self.unauthenticated(
                "ACCESS_TOKEN_EXPIRED" if message == BAD_JWT_TIME else "ACCESS_TOKEN_TYPE_UNSUPPORTED", method))
            if claims.get("sub") != STATE.client_email:
                raise self.unauthenticated("ACCESS_TOKEN_TYPE_UNSUPPORTED", method)
            aud = claims.get("aud")
            if aud is not None:
                if aud not in (f"https://{SERVICE}/", self.base_url() + "/"):
                    raise self.unauthenticated("ACCESS_TOKEN_TYPE_UNSUPPORTED", method)
                scopes = [CLOUD_PLATFORM]
            else:
                scope = claims.get("scope")
                scopes = scope.split() if isinstance(scope, str) else []
            with STATE.lock:
                revoked_at = STATE.revoked_at
                STATE.stats["self_signed_jwt_requests"] += 1
            if revoked_at is not None and claims["iat"] <= revoked_at:
                raise self.unauthenticated("ACCESS_TOKEN_EXPIRED", method)
        else:
            with STATE.lock:
                entry = STATE.tokens.get(token)
                entry = dict(entry) if entry else None
            if entry is None or entry["revoked"]:
                raise self.unauthenticated("ACCESS_TOKEN_TYPE_UNSUPPORTED", method)
            if entry["expires"] <= time.time():
                raise self.unauthenticated("ACCESS_TOKEN_EXPIRED", method)
            scopes = entry["scopes"]
        if CLOUD_PLATFORM not in scopes:
            raise google_error(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.",
                               error_info("ACCESS_TOKEN_SCOPE_INSUFFICIENT", "googleapis.com",
                                          {"service": SERVICE, "method": method}),
                               {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                                                    'error="insufficient_scope", scope="' + CLOUD_PLATFORM + '"'})

    def base_url(self) -> str:
        host = self.headers.get("Host") or ""
        if not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]{1,255}", host):
            host = "127.0.0.1:%d" % self.server.server_address[1]
        return f"http://{host}"

    def api(self, path: str, body: bytes):
        method = self.command
        # Routes of google.cloud.secretmanager.v1 (global secrets): (HTTP method, pattern, rpc, permission)
        routes = [
            ("GET", r"/v1/projects/([^/:]+)/secrets", "ListSecrets", "secrets.list"),
            ("POST", r"/v1/projects/([^/:]+)/secrets", "CreateSecret", "secrets.create"),
            ("GET", r"/v1/projects/([^/:]+)/secrets/([^/:]+)", "GetSecret", "secrets.get"),
            ("DELETE", r"/v1/projects/([^/:]+)/secrets/([^/:]+)", "DeleteSecret", "secrets.delete"),
            ("POST", r"/v1/projects/([^/:]+)/secrets/([^/:]+):addVersion", "AddSecretVersion", "versions.add"),
            ("GET", r"/v1/projects/([^/:]+)/secrets/([^/:]+)/versions", "ListSecretVersions", "versions.list"),
            ("GET", r"/v1/projects/([^/:]+)/secrets/([^/:]+)/versions/([^/:]+)", "GetSecretVersion",
             "versions.get"),
            ("GET", r"/v1/projects/([^/:]+)/secrets/([^/:]+)/versions/([^/:]+):access", "AccessSecretVersion",
             "versions.access"),
            ("POST", r"/v1/projects/([^/:]+)/secrets/([^/:]+)/versions/([^/:]+):disable", "DisableSecretVersion",
             "versions.disable"),
            ("POST", r"/v1/projects/([^/:]+)/secrets/([^/:]+)/versions/([^/:]+):enable", "EnableSecretVersion",
             "versions.enable"),
            ("POST", r"/v1/projects/([^/:]+)/secrets/([^/:]+)/versions/([^/:]+):destroy", "DestroySecretVersion",
             "versions.destroy"),
        ]
        for verb, pattern, rpc, permission in routes:
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                break
        else:
            # gRPC transcoding answers an unbound method or path with 404
            raise google_error(404, "NOT_FOUND", f"Method not found: {method} {path}")
        self.injected(path, "api")
        self.authenticate(rpc)
        alt = self.query.get("$alt", self.query.get("alt", ["json"]))[0]
        self.enums_as_ints = "enum-encoding=int" in alt
        groups = match.groups()
        project = groups[0]
        resource = path[len("/v1/"):].split(":")[0]
        if project not in (STATE.project_id, STATE.project_number):
            raise google_error(403, "PERMISSION_DENIED",
                               f"Permission 'secretmanager.{permission}' denied for resource '{resource}' "
                               "(or it may not exist).",
                               error_info("IAM_PERMISSION_DENIED", "iam.googleapis.com",
                                          {"permission": f"secretmanager.{permission}", "resource": resource}))
        secret_id = groups[1] if len(groups) > 1 else None
        if secret_id is not None:
            self.check_secret_id(secret_id)
        version_id = groups[2] if len(groups) > 2 else None
        if version_id is not None and version_id != "latest" and not re.fullmatch(r"[1-9][0-9]{0,17}", version_id):
            raise google_error(400, "INVALID_ARGUMENT", f"The provided version ID [{version_id}] is not valid. "
                               "Version IDs must be positive integers or the alias 'latest'.")
        getattr(self, "rpc_" + rpc)(secret_id, version_id, body)

    def check_secret_id(self, secret_id: str):
        if not SECRET_ID_RE.fullmatch(secret_id):
            raise google_error(400, "INVALID_ARGUMENT", f"The provided Secret ID [{secret_id}] does not match the "
                               "expected format [[a-zA-Z_0-9-]+] or is longer than 255 characters.")

    def json_body(self, body: bytes, where: str) -> dict:
        try:
            data = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, ValueError) as e:
            raise google_error(400, "INVALID_ARGUMENT", f"Invalid JSON payload received. {e}")
        if not isinstance(data, dict):
            raise google_error(400, "INVALID_ARGUMENT",
                               f"Invalid JSON payload received. Expected an object at '{where}'.")
        return data

    def unknown_fields(self, data: dict, known: set, where: str):
        for key in data:
            if key not in known:
                raise google_error(400, "INVALID_ARGUMENT", f'Invalid JSON payload received. Unknown name "{key}" '
                                   f"at '{where}': Cannot find field.",
                                   [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                                     "fieldViolations": [{"field": where, "description":
                                                          f'Invalid JSON payload received. Unknown name "{key}" '
                                                          f"at '{where}': Cannot find field."}]}])

    # -- resources

    def secret_name(self, secret_id: str) -> str:
        return f"projects/{STATE.project_number}/secrets/{secret_id}"

    def secret_resource(self, secret_id: str, entry: dict) -> dict:
        out = {"name": self.secret_name(secret_id), "replication": entry["replication"],
               "createTime": rfc3339(entry["created"])}
        if entry["labels"]:
            out["labels"] = entry["labels"]
        out["etag"] = entry["etag"]
        if entry["annotations"]:
            out["annotations"] = entry["annotations"]
        return out

    def version_resource(self, secret_id: str, entry: dict, version: dict) -> dict:
        out = {"name": f"{self.secret_name(secret_id)}/versions/{version['number']}",
               "createTime": rfc3339(version["created"])}
        if version.get("destroyed") is not None:
            out["destroyTime"] = rfc3339(version["destroyed"])
        out["state"] = STATES[version["state"]] if self.enums_as_ints else version["state"]
        if "automatic" in entry["replication"]:
            out["replicationStatus"] = {"automatic": {}}
        else:
            out["replicationStatus"] = {"userManaged": {"replicas": [
                {"location": r["location"]} for r in entry["replication"]["userManaged"]["replicas"]]}}
        out["etag"] = version["etag"]
        if version["client_checksum"]:
            out["clientSpecifiedPayloadChecksum"] = True
        return out

    def secret_not_found(self, secret_id: str) -> HttpError:
        return google_error(404, "NOT_FOUND", f"Secret [{self.secret_name(secret_id)}] not found.")

    def lookup(self, secret_id: str) -> dict:
        entry = STATE.secrets.get(secret_id)
        if entry is None:
            raise self.secret_not_found(secret_id)
        return entry

    def lookup_version(self, secret_id: str, version_id: str):
        entry = self.lookup(secret_id)
        if version_id == "latest":
            if not entry["versions"]:
                raise google_error(404, "NOT_FOUND",
                                   f"Secret [{self.secret_name(secret_id)}] not found or has no versions.")
            return entry, entry["versions"][-1]
        for version in entry["versions"]:
            if str(version["number"]) == version_id:
                return entry, version
        raise google_error(404, "NOT_FOUND",
                           f"Secret Version [{self.secret_name(secret_id)}/versions/{version_id}] not found.")

    @staticmethod
    def etag() -> str:
        return '"' + secrets.token_hex(7) + '"'

    # -- RPCs

    def rpc_CreateSecret(self, _secret, _version, body):
        ids = self.query.get("secretId")
        if not ids or not ids[0]:
            raise google_error(400, "INVALID_ARGUMENT", "The secret_id field is required.")
        secret_id = ids[0]
        self.check_secret_id(secret_id)
        data = self.json_body(body, "secret")
        self.unknown_fields(data, SECRET_FIELDS, "secret")
        replication = data.get("replication")
        if not isinstance(replication, dict) or not replication:
            raise google_error(400, "INVALID_ARGUMENT", "Secret.replication must be specified.")
        self.unknown_fields(replication, {"automatic", "userManaged"}, "secret.replication")
        if len(replication) != 1:
            raise google_error(400, "INVALID_ARGUMENT",
                               "Exactly one of Replication.automatic and Replication.user_managed must be set.")
        if "automatic" in replication:
            if not isinstance(replication["automatic"], dict):
                raise google_error(400, "INVALID_ARGUMENT", "Replication.automatic must be an object.")
            replication = {"automatic": {}}
        else:
            replicas = (replication["userManaged"] or {}).get("replicas") if isinstance(
                replication["userManaged"], dict) else None
            if not isinstance(replicas, list) or not replicas or not all(
                    isinstance(r, dict) and isinstance(r.get("location"), str) and r["location"] for r in replicas):
                raise google_error(400, "INVALID_ARGUMENT",
                                   "UserManaged.replicas must list at least one replica with a location.")
            replication = {"userManaged": {"replicas": [{"location": r["location"]} for r in replicas]}}
        for field in ("labels", "annotations"):
            value = data.get(field)
            if value is not None and (not isinstance(value, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in value.items())):
                raise google_error(400, "INVALID_ARGUMENT", f"Secret.{field} must map strings to strings.")
        entry = {"created": time.time(), "replication": replication, "labels": data.get("labels") or {},
                 "annotations": data.get("annotations") or {}, "etag": self.etag(), "versions": []}
        with STATE.lock:
            if secret_id in STATE.secrets:
                raise google_error(409, "ALREADY_EXISTS", f"Secret [{self.secret_name(secret_id)}] already exists.")
            STATE.secrets[secret_id] = entry
            out = self.secret_resource(secret_id, entry)
        self.send(200, out)

    def rpc_GetSecret(self, secret_id, _version, body):
        with STATE.lock:
            out = self.secret_resource(secret_id, self.lookup(secret_id))
        self.send(200, out)

    def rpc_ListSecrets(self, _secret, _version, body):
        with STATE.lock:
            items = [self.secret_resource(s, e) for s, e in sorted(STATE.secrets.items())]
        self.send(200, {"secrets": items, "totalSize": len(items)} if items else {})

    def rpc_DeleteSecret(self, secret_id, _version, body):
        etag = self.query.get("etag", [None])[0]
        with STATE.lock:
            entry = self.lookup(secret_id)
            if etag and etag != entry["etag"]:
                raise google_error(409, "ABORTED", "The etag provided does not match the current etag of the "
                                   f"secret [{self.secret_name(secret_id)}].")
            del STATE.secrets[secret_id]
        self.send(200, {})

    def rpc_AddSecretVersion(self, secret_id, _version, body):
        data = self.json_body(body, "")
        self.unknown_fields(data, {"payload"}, "")
        payload = data.get("payload")
        if not isinstance(payload, dict):
            raise google_error(400, "INVALID_ARGUMENT", "Secret Payload cannot be empty.")
        self.unknown_fields(payload, {"data", "dataCrc32c"}, "payload")
        encoded = payload.get("data")
        if not isinstance(encoded, str) or not encoded:
            raise google_error(400, "INVALID_ARGUMENT", "Secret Payload cannot be empty.")
        try:
            compact = encoded.replace("-", "+").replace("_", "/").rstrip("=")  # both alphabets, padding optional
            raw = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
        except (ValueError, binascii.Error):
            raise google_error(400, "INVALID_ARGUMENT", 'Invalid value at \'payload.data\' (TYPE_BYTES), Base64 '
                               f'decoding failed for "{encoded[:40]}"')
        if not raw:
            raise google_error(400, "INVALID_ARGUMENT", "Secret Payload cannot be empty.")
        if len(raw) > MAX_PAYLOAD:
            raise google_error(400, "INVALID_ARGUMENT",
                               f"Secret Payload is too large. The maximum size is {MAX_PAYLOAD} bytes.")
        checksum = payload.get("dataCrc32c")
        client_checksum = checksum is not None
        if client_checksum:
            try:
                if isinstance(checksum, bool):
                    raise ValueError
                wanted = int(checksum)
            except (TypeError, ValueError):
                raise google_error(400, "INVALID_ARGUMENT", "Invalid value at 'payload.data_crc32c' (TYPE_INT64), "
                                   f'"{checksum}"')
            if wanted != crc32c(raw):
                raise google_error(400, "INVALID_ARGUMENT", "Checksum mismatch: the data_crc32c of the payload "
                                   "does not match the CRC32C of its data. Data corrupted in transit?")
        with STATE.lock:
            entry = self.lookup(secret_id)
            number = entry["versions"][-1]["number"] + 1 if entry["versions"] else 1
            version = {"number": number, "data": raw, "created": time.time(), "state": "ENABLED",
                       "etag": self.etag(), "client_checksum": client_checksum, "destroyed": None}
            entry["versions"].append(version)
            out = self.version_resource(secret_id, entry, version)
        self.send(200, out)

    def rpc_ListSecretVersions(self, secret_id, _version, body):
        with STATE.lock:
            entry = self.lookup(secret_id)
            items = [self.version_resource(secret_id, entry, v) for v in reversed(entry["versions"])]
        self.send(200, {"versions": items, "totalSize": len(items)} if items else {})

    def rpc_GetSecretVersion(self, secret_id, version_id, body):
        with STATE.lock:
            entry, version = self.lookup_version(secret_id, version_id)
            out = self.version_resource(secret_id, entry, version)
        self.send(200, out)

    def rpc_AccessSecretVersion(self, secret_id, version_id, body):
        with STATE.lock:
            entry, version = self.lookup_version(secret_id, version_id)
            name = f"{self.secret_name(secret_id)}/versions/{version['number']}"
            if version["state"] != "ENABLED":
                raise google_error(400, "FAILED_PRECONDITION",
                                   f"Secret Version [{name}] is in {version['state']} state.")
            data = version["data"]
        self.send(200, {"name": name, "payload": {"data": base64.b64encode(data).decode("ascii"),
                                                  "dataCrc32c": str(crc32c(data))}})

    def change_state(self, secret_id, version_id, body, state):
        data = self.json_body(body, "")
        self.unknown_fields(data, {"etag"}, "")
        with STATE.lock:
            entry, version = self.lookup_version(secret_id, version_id)
            if data.get("etag") and data["etag"] != version["etag"]:
                raise google_error(409, "ABORTED", "The etag provided does not match the current etag of the "
                                   "secret version.")
            if version["state"] == "DESTROYED" and state != "DESTROYED":
                raise google_error(400, "FAILED_PRECONDITION", f"Secret Version [{self.secret_name(secret_id)}/"
                                   f"versions/{version['number']}] is in DESTROYED state.")
            version["state"] = state
            version["etag"] = self.etag()
            if state == "DESTROYED" and version["destroyed"] is None:
                version["destroyed"] = time.time()
                version["data"] = b""
            out = self.version_resource(secret_id, entry, version)
        self.send(200, out)

    def rpc_DisableSecretVersion(self, secret_id, version_id, body):
        self.change_state(secret_id, version_id, body, "DISABLED")

    def rpc_EnableSecretVersion(self, secret_id, version_id, body):
        self.change_state(secret_id, version_id, body, "ENABLED")

    def rpc_DestroySecretVersion(self, secret_id, version_id, body):
        self.change_state(secret_id, version_id, body, "DESTROYED")


def write_private(path: str, data: bytes):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global STATE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--project-id", required=True)
    parser.add_argument("--project-number", default="424242424242",
                        help="the number resource names in responses carry (default 424242424242)")
    parser.add_argument("--token-lifetime", type=int, default=3600, help="seconds (default 3600)")
    args = parser.parse_args()
    if not re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", args.project_id):
        parser.error("--project-id must look like a Google Cloud project id")
    if not re.fullmatch(r"[1-9][0-9]{5,18}", args.project_number):
        parser.error("--project-number must be a number")
    if args.token_lifetime < 1:
        parser.error("--token-lifetime must be positive")
    os.makedirs(args.state_dir, exist_ok=True)
    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_id = secrets.token_hex(20)
    client_email = f"switchboard@{args.project_id}.iam.gserviceaccount.com"
    token_uri = f"http://127.0.0.1:{port}/token"
    key_file = {
        "type": "service_account",
        "project_id": args.project_id,
        "private_key_id": key_id,
        "private_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode("ascii"),
        "client_email": client_email,
        "client_id": str(10 ** 20 + secrets.randbelow(9 * 10 ** 20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
                                f"switchboard%40{args.project_id}.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com",
    }
    key_path = os.path.join(args.state_dir, "gcp-service-account.json")
    write_private(key_path, (json.dumps(key_file, indent=2) + "\n").encode())
    STATE = State(args, key_id, key.public_key(), client_email, token_uri)
    print(f"fake-gcp-secretmanager: http://127.0.0.1:{port} project {args.project_id} "
          f"({args.project_number}) key file {key_path}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
