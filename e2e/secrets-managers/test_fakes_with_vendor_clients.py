"""Proves the Azure Key Vault and Google Secret Manager fakes (fake_azure_keyvault.py,
fake_gcp_secretmanager.py) against the vendors' official Python clients, and pins the wire
details a Swift client relies on (challenge headers, error bodies, api-version handling).

Needs the fakes started by scripts/secrets-up.sh (see run.sh beside this file):

    eval "$(scripts/secrets-up.sh)" && e2e/secrets-managers/run.sh

Every test resets the fakes first (POST /_fake/reset), so do not run this while another suite
uses them.
"""

from __future__ import annotations

import base64
import json
import os
import time

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f'{name} is not set: start the fakes with eval "$(scripts/secrets-up.sh)"', pytrace=False)
    return value


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


# ---- Azure ------------------------------------------------------------------------------------


class Azure:
    def __init__(self):
        self.http = env("SWITCHBOARD_TEST_AZURE_URL")
        self.https = env("SWITCHBOARD_TEST_AZURE_HTTPS_URL")
        self.ca = env("SWITCHBOARD_TEST_AZURE_CA_FILE")
        self.tenant = env("SWITCHBOARD_TEST_AZURE_TENANT")
        self.client_id = env("SWITCHBOARD_TEST_AZURE_CLIENT_ID")
        with open(env("SWITCHBOARD_TEST_AZURE_CLIENT_SECRET_FILE"), encoding="utf-8") as f:
            self.secret = f.read().strip()
        self.session = requests.Session()
        self.session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment beats `verify`
        self.session.verify = self.ca

    def control(self, name: str, body=None) -> dict:
        if name == "stats":
            response = self.session.get(f"{self.https}/_fake/stats", timeout=10)
        else:
            response = self.session.post(f"{self.https}/_fake/{name}", json=body or {}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def credential(self, secret: str | None = None):
        from azure.identity import ClientSecretCredential

        # The authority is the fake (it must be https for azure-identity); instance discovery would
        # ask login.microsoftonline.com, so it is off.
        return ClientSecretCredential(self.tenant, self.client_id, secret or self.secret, authority=self.https,
                                      disable_instance_discovery=True, connection_verify=self.ca)

    def client(self, credential=None, **kwargs):
        from azure.keyvault.secrets import SecretClient

        # verify_challenge_resource=False: the vault is not on *.vault.azure.net, so the SDK would
        # refuse the challenge's resource (https://vault.azure.net) otherwise.
        return SecretClient(vault_url=self.https, credential=credential or self.credential(),
                            verify_challenge_resource=False, connection_verify=self.ca,
                            retry_backoff_factor=0.01, **kwargs)

    def token(self, base: str | None = None, **overrides) -> requests.Response:
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.secret,
                "scope": "https://vault.azure.net/.default"}
        form.update(overrides)
        form = {k: v for k, v in form.items() if v is not None}
        tenant = form.pop("tenant", self.tenant)
        return self.session.post(f"{base or self.https}/{tenant}/oauth2/v2.0/token", data=form, timeout=10)

    def bearer(self, base: str | None = None) -> str:
        response = self.token(base)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def vault(self, method: str, path: str, token: str | None, base: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.session.request(method, f"{base or self.https}{path}", headers=headers, timeout=10, **kwargs)


@pytest.fixture
def azure():
    fake = Azure()
    fake.control("reset")
    return fake


def test_azure_set_get_delete_purge_with_the_sdk(azure):
    from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

    client = azure.client()
    created = client.set_secret("db-password", "s3cr3t", content_type="text/plain", tags={"env": "test"})
    assert created.value == "s3cr3t"
    assert created.name == "db-password"
    assert created.id.startswith(f"{azure.https}/secrets/db-password/") and len(created.properties.version) == 32
    assert created.properties.enabled is True
    assert created.properties.recovery_level == "Recoverable+Purgeable"
    assert created.properties.content_type == "text/plain" and created.properties.tags == {"env": "test"}

    second = client.set_secret("db-password", "rotated")
    assert second.properties.version != created.properties.version
    assert client.get_secret("db-password").value == "rotated"
    assert client.get_secret("db-password", created.properties.version).value == "s3cr3t"

    deleted = client.begin_delete_secret("db-password").result()
    assert deleted.recovery_id == f"{azure.https}/deletedsecrets/db-password"
    assert deleted.deleted_date is not None
    assert (deleted.scheduled_purge_date - deleted.deleted_date).days == 90
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_secret("db-password")
    assert missing.value.error.code == "SecretNotFound"
    with pytest.raises(ResourceExistsError) as conflict:
        client.set_secret("db-password", "again")
    assert conflict.value.status_code == 409
    assert conflict.value.error.code == "Conflict"
    assert conflict.value.error.innererror["code"] == "ObjectIsDeletedButRecoverable"
    assert client.get_deleted_secret("db-password").name == "db-password"

    client.purge_deleted_secret("db-password")
    with pytest.raises(ResourceNotFoundError):
        client.get_deleted_secret("db-password")
    assert client.set_secret("db-password", "fresh").value == "fresh"

    stats = azure.control("stats")
    assert stats["token_requests"] == 1, "the SDK caches its token; the fake must not force refetches"
    assert stats["unauthorized"] == 1  # only the SDK's first, unauthenticated challenge probe
    assert stats["last_token_request"]["scope"] == "https://vault.azure.net/.default"
    assert stats["last_token_request"]["grant_type"] == "client_credentials"


def test_azure_recover_a_deleted_secret(azure):
    client = azure.client()
    client.set_secret("api-key", "value-1")
    client.begin_delete_secret("api-key").result()
    recovered = client.begin_recover_deleted_secret("api-key").result()
    assert recovered.name == "api-key"
    assert client.get_secret("api-key").value == "value-1"


def test_azure_purge_protection(azure):
    from azure.core.exceptions import HttpResponseError

    azure.control("config", {"purge_protection": True})
    client = azure.client()
    assert client.set_secret("kept", "v").properties.recovery_level == "Recoverable"
    client.begin_delete_secret("kept").result()
    with pytest.raises(HttpResponseError) as refused:
        client.purge_deleted_secret("kept")
    assert refused.value.status_code == 403
    assert refused.value.error.code == "Forbidden"
    assert 'Operation "purge" is not allowed because purge protection is enabled' in refused.value.error.message


def test_azure_wrong_client_secret_is_refused(azure):
    from azure.core.exceptions import ClientAuthenticationError

    client = azure.client(azure.credential(secret="not-the-secret"))
    with pytest.raises(ClientAuthenticationError) as refused:
        client.get_secret("anything")
    assert "AADSTS7000215" in str(refused.value)

    response = azure.token(client_secret="not-the-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_codes"] == [7000215]


@pytest.mark.parametrize("overrides, status, error, code", [
    ({"tenant": "00000000-0000-0000-0000-000000000000"}, 400, "invalid_request", 90002),
    ({"client_id": "11111111-1111-1111-1111-111111111111"}, 400, "unauthorized_client", 700016),
    ({"client_secret": None}, 401, "invalid_client", 7000216),
    ({"grant_type": None}, 400, "invalid_request", 900144),
    ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
    ({"scope": "https://vault.azure.net"}, 400, "invalid_scope", 1002012),
    ({"scope": "https://graph.microsoft.com/.default"}, 400, "invalid_scope", 500011),
])
def test_azure_token_endpoint_errors(azure, overrides, status, error, code):
    response = azure.token(**overrides)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")


def test_azure_token_endpoint_over_http(azure):
    response = azure.token(base=azure.http)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["ext_expires_in"] == 3600
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    put = azure.vault("PUT", "/secrets/plain?api-version=7.4", body["access_token"], base=azure.http,
                      json={"value": "over-http"})
    assert put.status_code == 200
    assert put.json()["id"].startswith(f"{azure.http}/secrets/plain/")


def test_azure_api_version_is_required_and_checked(azure):
    token = azure.bearer()
    missing = azure.vault("GET", "/secrets/x", token)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "MissingApiVersionParameter"
    unknown = azure.vault("GET", "/secrets/x?api-version=7.99", token)
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "InvalidApiVersionParameter"
    for version in ("7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01"):
        put = azure.vault("PUT", f"/secrets/v?api-version={version}", token, json={"value": version})
        assert put.status_code == 200, (version, put.text)
        attributes = put.json()["attributes"]
        assert ("recoverableDays" in attributes) == (version != "7.0")
        assert azure.vault("GET", f"/secrets/v/?api-version={version}", token).json()["value"] == version


def test_azure_sdk_with_an_older_api_version(azure):
    client = azure.client(api_version="7.4")
    client.set_secret("older", "v")
    assert client.get_secret("older").value == "v"
    assert all("api-version=7.4" in r["path"] for r in azure.control("stats")["requests"] if "/secrets" in r["path"])


def test_azure_unknown_paths_methods_and_names(azure):
    from azure.core.exceptions import HttpResponseError

    token = azure.bearer()
    assert azure.vault("GET", "/keys/k?api-version=7.4", token).status_code == 404
    assert azure.vault("GET", "/secrets/a/b/c?api-version=7.4", token).status_code == 404
    not_allowed = azure.vault("POST", "/secrets/x?api-version=7.4", token)
    assert not_allowed.status_code == 405
    assert not_allowed.json()["error"]["code"] == "MethodNotAllowed"
    bad_name = azure.vault("PUT", "/secrets/bad_name?api-version=7.4", token, json={"value": "v"})
    assert bad_name.status_code == 400
    assert bad_name.json()["error"]["code"] == "BadParameter"
    missing = azure.vault("GET", "/secrets/nope?api-version=7.4", token)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "SecretNotFound"
    no_value = azure.vault("PUT", "/secrets/x?api-version=7.4", token, json={"contentType": "text/plain"})
    assert no_value.status_code == 400 and no_value.json()["error"]["code"] == "BadParameter"
    with pytest.raises(HttpResponseError) as refused:
        azure.client().set_secret("a" * 128, "v")
    assert refused.value.status_code == 400


def test_azure_challenge_on_missing_or_bad_token(azure):
    expected = f'Bearer authorization="{azure.https}/{azure.tenant}", resource="https://vault.azure.net"'
    for token in (None, "not-a-token"):
        response = azure.vault("GET", "/secrets/x?api-version=7.6", token)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == expected
        assert response.json()["error"]["code"] == "Unauthorized"
    over_http = azure.vault("GET", "/secrets/x?api-version=7.6", None, base=azure.http)
    assert over_http.headers["WWW-Authenticate"] == expected.replace(azure.https, azure.http)


def test_azure_sdk_reauthenticates_after_revocation(azure):
    client = azure.client()
    client.set_secret("cached", "v1")
    old = azure.bearer()  # a token of this test's own, revoked below as well
    assert azure.control("stats")["token_requests"] == 2
    assert azure.control("revoke-tokens")["revoked"] == 2
    revoked = azure.vault("GET", "/secrets/cached?api-version=7.6", old)
    assert revoked.status_code == 401 and "WWW-Authenticate" in revoked.headers
    # The SDK holds a cached token; it gets a 401 (a CAE claims challenge, as it asked for CAE),
    # fetches a new token and retries.
    assert client.get_secret("cached").value == "v1"
    stats = azure.control("stats")
    assert stats["token_requests"] == 3
    assert '"nbf"' in stats["last_token_request"]["claims"]


def test_azure_expired_token(azure):
    azure.control("config", {"token_lifetime": 1})
    token = azure.bearer()
    assert azure.vault("GET", "/secrets/x?api-version=7.6", token).status_code == 404
    time.sleep(2.1)
    expired = azure.vault("GET", "/secrets/x?api-version=7.6", token)
    assert expired.status_code == 401
    assert expired.headers["WWW-Authenticate"].startswith("Bearer authorization=")
    client = azure.client()  # the SDK refreshes tokens that are about to expire, so it keeps working
    client.set_secret("short", "v")
    assert client.get_secret("short").value == "v"


def test_azure_fail_control_and_stats(azure):
    from azure.core.exceptions import HttpResponseError

    client = azure.client()
    client.set_secret("flaky", "v")
    queued = azure.control("fail", {"status": 503, "times": 2, "retry_after": 0})
    assert queued["queued"] == {"status": 503, "times": 2, "retry_after": 0}
    assert client.get_secret("flaky").value == "v"  # the SDK retries through two 503s
    stats = azure.control("stats")
    assert stats["injected_failures"] == 2 and stats["pending_failures"] == []
    assert [r["status"] for r in stats["requests"][-3:]] == [503, 503, 200]

    azure.control("fail", {"status": 429, "times": 1, "retry_after": 7, "path_prefix": "/secrets/flaky"})
    token = azure.bearer()
    assert azure.vault("GET", "/secrets/other?api-version=7.6", token).status_code == 404  # prefix does not match
    throttled = azure.vault("GET", "/secrets/flaky?api-version=7.6", token)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
    assert throttled.json()["error"]["code"] == "Throttled"

    azure.control("fail", {"status": 403, "times": 1})
    with pytest.raises(HttpResponseError) as forbidden:
        client.get_secret("flaky")
    assert forbidden.value.status_code == 403 and forbidden.value.error.code == "Forbidden"

    azure.control("fail", {"status": 500, "times": 1, "path_prefix": f"/{azure.tenant}/oauth2/"})
    failing = azure.token()
    assert failing.status_code == 500 and failing.json()["error"] == "server_error"
    assert azure.token().status_code == 200


# ---- Google -----------------------------------------------------------------------------------


class Google:
    def __init__(self):
        self.url = env("SWITCHBOARD_TEST_GCP_URL")
        self.project = env("SWITCHBOARD_TEST_GCP_PROJECT")
        self.number = env("SWITCHBOARD_TEST_GCP_PROJECT_NUMBER")
        self.key_file = env("SWITCHBOARD_TEST_GCP_KEY_FILE")
        with open(self.key_file, encoding="utf-8") as f:
            self.key = json.load(f)
        self.session = requests.Session()
        self.session.trust_env = False

    def control(self, name: str, body=None) -> dict:
        if name == "stats":
            response = self.session.get(f"{self.url}/_fake/stats", timeout=10)
        else:
            response = self.session.post(f"{self.url}/_fake/{name}", json=body or {}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def credentials(self, info: dict | None = None):
        from google.oauth2 import service_account

        return service_account.Credentials.from_service_account_info(info or self.key, scopes=[CLOUD_PLATFORM])

    def client(self, credentials=None):
        from google.cloud import secretmanager

        return secretmanager.SecretManagerServiceClient(
            credentials=credentials or self.credentials(), transport="rest",
            client_options={"api_endpoint": self.url})

    def access_token(self) -> str:
        import google.auth.transport.requests

        credentials = self.credentials()
        credentials.refresh(google.auth.transport.requests.Request())  # the JWT-bearer grant at /token
        return credentials.token

    def api(self, method: str, path: str, token: str | None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.session.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)


@pytest.fixture
def gcp():
    fake = Google()
    fake.control("reset")
    return fake


def status_of(raised) -> str:
    """The `status` of Google's JSON error body behind an api_core exception."""
    return raised.value.response.json()["error"]["status"]


def other_key_info(info: dict) -> dict:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = dict(info)
    other["private_key"] = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode()
    return other


def test_google_key_file(gcp):
    key = gcp.key
    assert key["type"] == "service_account" and key["project_id"] == gcp.project
    assert key["client_email"] == f"switchboard@{gcp.project}.iam.gserviceaccount.com"
    assert key["token_uri"] == f"{gcp.url}/token"
    assert key["private_key"].startswith("-----BEGIN PRIVATE KEY-----\n")
    assert len(key["private_key_id"]) == 40
    assert os.stat(gcp.key_file).st_mode & 0o777 == 0o600


def test_google_create_add_access_delete_with_the_client(gcp):
    from google.api_core import exceptions

    client = gcp.client()
    secret = client.create_secret(request={"parent": f"projects/{gcp.project}", "secret_id": "db-password",
                                           "secret": {"replication": {"automatic": {}}, "labels": {"app": "sb"}}})
    # Google answers with the project number in resource names, whatever the request used.
    assert secret.name == f"projects/{gcp.number}/secrets/db-password"
    assert secret.labels == {"app": "sb"} and secret.create_time.year >= 2024
    # The REST transport maps errors by HTTP status (Conflict, not AlreadyExists); the body says more.
    with pytest.raises(exceptions.Conflict) as exists:
        client.create_secret(request={"parent": f"projects/{gcp.project}", "secret_id": "db-password",
                                      "secret": {"replication": {"automatic": {}}}})
    assert status_of(exists) == "ALREADY_EXISTS"

    first = client.add_secret_version(request={"parent": secret.name, "payload": {
        "data": b"s3cr3t", "data_crc32c": crc32c(b"s3cr3t")}})
    assert first.name == f"{secret.name}/versions/1"
    assert first.state == first.State.ENABLED and first.client_specified_payload_checksum
    second = client.add_secret_version(request={"parent": secret.name, "payload": {"data": b"rotated"}})
    assert second.name == f"{secret.name}/versions/2" and not second.client_specified_payload_checksum

    latest = client.access_secret_version(
        request={"name": f"projects/{gcp.project}/secrets/db-password/versions/latest"})
    assert latest.name == f"{secret.name}/versions/2"
    assert latest.payload.data == b"rotated" and latest.payload.data_crc32c == crc32c(b"rotated")
    assert client.access_secret_version(request={"name": f"{secret.name}/versions/1"}).payload.data == b"s3cr3t"
    assert [v.name for v in client.list_secret_versions(request={"parent": secret.name})] == [
        f"{secret.name}/versions/2", f"{secret.name}/versions/1"]

    client.disable_secret_version(request={"name": f"{secret.name}/versions/2"})
    with pytest.raises(exceptions.BadRequest) as disabled:
        client.access_secret_version(request={"name": f"{secret.name}/versions/latest"})
    assert status_of(disabled) == "FAILED_PRECONDITION"

    client.delete_secret(request={"name": secret.name})
    with pytest.raises(exceptions.NotFound) as gone:
        client.get_secret(request={"name": secret.name})
    assert status_of(gone) == "NOT_FOUND"
    with pytest.raises(exceptions.NotFound):
        client.access_secret_version(request={"name": f"{secret.name}/versions/latest"})

    stats = gcp.control("stats")
    # The client signs its own JWTs (AIP-4111) instead of calling /token.
    assert stats["self_signed_jwt_requests"] == stats["api_requests"] > 0
    assert stats["token_requests"] == 0
    assert all("%24alt=json%3Benum-encoding%3Dint" in r["path"] for r in stats["requests"])


def test_google_jwt_bearer_grant_and_access_token(gcp):
    from google.cloud import secretmanager
    from google.oauth2.credentials import Credentials

    token = gcp.access_token()
    assert token.startswith("ya29.")
    stats = gcp.control("stats")
    assert stats["tokens_issued"] == 1
    request = stats["last_token_request"]
    assert request["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert request["header"] == {"typ": "JWT", "alg": "RS256", "kid": gcp.key["private_key_id"]}
    assert request["claims"]["aud"] == "https://oauth2.googleapis.com/token"  # google-auth's constant
    assert request["claims"]["iss"] == gcp.key["client_email"]
    assert request["claims"]["scope"] == CLOUD_PLATFORM
    assert request["claims"]["exp"] - request["claims"]["iat"] == 3600

    client = secretmanager.SecretManagerServiceClient(credentials=Credentials(token), transport="rest",
                                                      client_options={"api_endpoint": gcp.url})
    client.create_secret(request={"parent": f"projects/{gcp.number}", "secret_id": "via-token",
                                  "secret": {"replication": {"automatic": {}}}})
    version = client.add_secret_version(request={"parent": f"projects/{gcp.project}/secrets/via-token",
                                                 "payload": {"data": b"x"}})
    assert version.name == f"projects/{gcp.number}/secrets/via-token/versions/1"
    stats = gcp.control("stats")
    assert stats["self_signed_jwt_requests"] == 0 and stats["token_requests"] == 1


def test_google_jwt_signed_by_another_key_is_refused(gcp):
    import google.auth.transport.requests
    from google.api_core import exceptions
    from google.auth.exceptions import RefreshError

    credentials = gcp.credentials(other_key_info(gcp.key))
    with pytest.raises(RefreshError) as refused:
        credentials.refresh(google.auth.transport.requests.Request())
    assert "invalid_grant: Invalid JWT Signature." in str(refused.value)
    # The same key as a self-signed JWT on the API itself: 401.
    with pytest.raises(exceptions.Unauthorized) as unauthenticated:
        gcp.client(credentials).get_secret(request={"name": f"projects/{gcp.project}/secrets/x"})
    assert status_of(unauthenticated) == "UNAUTHENTICATED"


def test_google_bad_bearer_is_401(gcp):
    for token, reason in ((None, "CREDENTIALS_MISSING"), ("ya29.nonsense", "ACCESS_TOKEN_TYPE_UNSUPPORTED")):
        response = gcp.api("GET", f"/v1/projects/{gcp.project}/secrets/x", token)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="https://accounts.google.com/"')
        error = response.json()["error"]
        assert error["code"] == 401 and error["status"] == "UNAUTHENTICATED"
        assert error["details"][0]["reason"] == reason


def test_google_revoked_and_expired_tokens(gcp):
    token = gcp.access_token()
    path = f"/v1/projects/{gcp.project}/secrets/x"
    assert gcp.api("GET", path, token).status_code == 404
    gcp.control("revoke-tokens")
    assert gcp.api("GET", path, token).status_code == 401
    gcp.control("config", {"token_lifetime": 1})
    short = gcp.access_token()
    assert gcp.api("GET", path, short).status_code == 404
    time.sleep(2.1)
    expired = gcp.api("GET", path, short)
    assert expired.status_code == 401
    assert expired.json()["error"]["details"][0]["reason"] == "ACCESS_TOKEN_EXPIRED"


def test_google_invalid_secret_id_is_400(gcp):
    from google.api_core import exceptions

    with pytest.raises(exceptions.BadRequest) as invalid:
        gcp.client().create_secret(request={"parent": f"projects/{gcp.project}", "secret_id": "bad.id",
                                               "secret": {"replication": {"automatic": {}}}})
    assert status_of(invalid) == "INVALID_ARGUMENT"
    token = gcp.access_token()
    response = gcp.api("GET", f"/v1/projects/{gcp.project}/secrets/{'a' * 256}", token)
    assert response.status_code == 400 and response.json()["error"]["status"] == "INVALID_ARGUMENT"
    no_replication = gcp.api("POST", f"/v1/projects/{gcp.project}/secrets?secretId=ok", token, json={})
    assert no_replication.status_code == 400
    unknown_field = gcp.api("POST", f"/v1/projects/{gcp.project}/secrets?secretId=ok", token,
                               json={"replication": {"automatic": {}}, "bogus": 1})
    assert unknown_field.status_code == 400 and 'Unknown name "bogus"' in unknown_field.json()["error"]["message"]


def test_google_another_project_is_403(gcp):
    from google.api_core import exceptions

    with pytest.raises(exceptions.Forbidden) as denied:
        gcp.client().access_secret_version(request={"name": "projects/someone-else/secrets/x/versions/latest"})
    assert status_of(denied) == "PERMISSION_DENIED"
    assert denied.value.reason == "IAM_PERMISSION_DENIED"


def test_google_crc32c_is_checked(gcp):
    from google.api_core import exceptions

    client = gcp.client()
    secret = client.create_secret(request={"parent": f"projects/{gcp.project}", "secret_id": "checked",
                                           "secret": {"replication": {"automatic": {}}}})
    with pytest.raises(exceptions.BadRequest) as mismatch:
        client.add_secret_version(request={"parent": secret.name, "payload": {
            "data": b"payload", "data_crc32c": crc32c(b"payload") ^ 1}})
    assert status_of(mismatch) == "INVALID_ARGUMENT"
    token = gcp.access_token()
    added = gcp.api("POST", f"/v1/projects/{gcp.project}/secrets/checked:addVersion", token, json={
        "payload": {"data": base64.b64encode(b"payload").decode(), "dataCrc32c": str(crc32c(b"payload"))}})
    assert added.status_code == 200
    assert added.json()["state"] == "ENABLED"  # names, without $alt=json;enum-encoding=int
    accessed = gcp.api("GET", f"/v1/projects/{gcp.project}/secrets/checked/versions/1:access", token)
    assert accessed.json()["payload"] == {"data": base64.b64encode(b"payload").decode(),
                                          "dataCrc32c": str(crc32c(b"payload"))}


def test_google_unknown_paths(gcp):
    token = gcp.access_token()
    assert gcp.api("GET", "/v2/projects/p/secrets", token).status_code == 404
    assert gcp.api("GET", "/nothing", token).status_code == 404
    wrong_method = gcp.api("PUT", f"/v1/projects/{gcp.project}/secrets/x", token)
    assert wrong_method.status_code == 404 and wrong_method.json()["error"]["status"] == "NOT_FOUND"


def test_google_fail_control_and_stats(gcp):
    from google.api_core import exceptions

    client = gcp.client()
    secret = client.create_secret(request={"parent": f"projects/{gcp.project}", "secret_id": "flaky",
                                           "secret": {"replication": {"automatic": {}}}})
    client.add_secret_version(request={"parent": secret.name, "payload": {"data": b"v"}})
    gcp.control("fail", {"status": 503, "times": 1, "retry_after": 0})
    # AccessSecretVersion's default retry covers UNAVAILABLE.
    assert client.access_secret_version(request={"name": f"{secret.name}/versions/latest"}).payload.data == b"v"
    stats = gcp.control("stats")
    assert stats["injected_failures"] == 1
    assert [r["status"] for r in stats["requests"][-2:]] == [503, 200]

    gcp.control("fail", {"status": 429, "times": 1, "retry_after": 3, "path_prefix": "/v1/"})
    throttled = gcp.api("GET", f"/v1/projects/{gcp.project}/secrets/flaky", None)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
    assert throttled.json()["error"]["status"] == "RESOURCE_EXHAUSTED"

    before = gcp.control("stats")["token_requests"]
    gcp.control("fail", {"status": 500, "times": 1, "path_prefix": "/token"})
    assert gcp.access_token().startswith("ya29.")  # google-auth retries a 5xx from the token endpoint
    stats = gcp.control("stats")
    assert stats["token_requests"] == before + 2 and stats["requests"][-2]["status"] == 500

    gcp.control("fail", {"status": 403, "times": 1})
    with pytest.raises(exceptions.Forbidden) as forbidden:
        client.get_secret(request={"name": secret.name})
    assert status_of(forbidden) == "PERMISSION_DENIED"
    assert client.get_secret(request={"name": secret.name}).name == secret.name
