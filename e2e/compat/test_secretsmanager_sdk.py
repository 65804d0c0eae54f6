"""The official SDK's secrets-manager operations against the real server, with moto, and the Azure
Key Vault and Google Secret Manager fakes (checked through Microsoft's and Google's own clients), as
the managers.

A connection created through the SDK with `secretsmanager_id` keeps its `auth` in moto; the SDK
reads it back, and removing the connection removes the secret. Needs moto on loopback
(SWITCHBOARD_TEST_MOTO_URL, from scripts/secrets-up.sh); skipped without it unless
SWITCHBOARD_TEST_REQUIRE_SECRETS=1 (CI sets it).
"""

from __future__ import annotations

import json
import os
import uuid

import httpx
import pytest
from unified_python_sdk import UnifiedTo
from unified_python_sdk.models import errors, shared

MOTO_URL = os.environ.get("SWITCHBOARD_TEST_MOTO_URL", "")


@pytest.fixture
def moto_url() -> str:
    if not MOTO_URL:
        if os.environ.get("SWITCHBOARD_TEST_REQUIRE_SECRETS") == "1":
            pytest.fail("SWITCHBOARD_TEST_REQUIRE_SECRETS=1 but SWITCHBOARD_TEST_MOTO_URL is not set", pytrace=False)
        pytest.skip("SWITCHBOARD_TEST_MOTO_URL is not set (run scripts/secrets-up.sh)")
    return MOTO_URL


def test_secrets_manager_lifecycle_through_the_sdk(sdk_a: UnifiedTo, moto_url: str):
    api = sdk_a.secretsmanager
    created = api.create_unified_secretsmanager(
        request=shared.SecretsManager(
            name="moto",
            type=shared.SecretsManagerType.AWS,
            auth={
                "region": "us-east-1",
                "endpoint": moto_url,
                "access_key_id": "AKIDEXAMPLE",
                "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            },
            dcs=["us"],
        )
    ).secrets_manager
    assert created is not None and created.id
    assert created.auth == {"region": "us-east-1", "endpoint": moto_url}
    assert created.type == shared.SecretsManagerType.AWS
    listed = api.list_unified_secretsmanagers(request={}).secrets_managers
    assert created.id in [m.id for m in listed or []]
    assert api.get_unified_secretsmanager(request={"id": created.id}).secrets_manager.name == "moto"

    conn = sdk_a.connection.create_unified_connection(
        request=shared.Connection(
            integration_type="hubspot",
            categories=["crm"],
            permissions=["crm_contact_read"],
            secretsmanager_id=created.id,
            auth=shared.PropertyConnectionAuth(access_token="kept-in-moto"),
        )
    ).connection
    assert conn.auth.access_token == "kept-in-moto"
    again = sdk_a.connection.get_unified_connection(request={"id": conn.id}).connection
    assert again.auth.access_token == "kept-in-moto"
    assert again.secretsmanager_id == created.id

    with pytest.raises(errors.SDKError) as in_use:
        api.remove_unified_secretsmanager(request={"id": created.id})
    assert in_use.value.status_code == 409
    sdk_a.connection.remove_unified_connection(request={"id": conn.id})
    assert api.remove_unified_secretsmanager(request={"id": created.id}).status_code == 200
    with pytest.raises(errors.SDKError) as gone:
        api.get_unified_secretsmanager(request={"id": created.id})
    assert gone.value.status_code == 404


# ---- Azure Key Vault and Google Secret Manager (the loopback fakes of e2e/secrets-managers) ----


def _cloud_env(kind: str) -> dict[str, str]:
    names = {
        "azure": ["SWITCHBOARD_TEST_AZURE_URL", "SWITCHBOARD_TEST_AZURE_HTTPS_URL", "SWITCHBOARD_TEST_AZURE_CA_FILE",
                  "SWITCHBOARD_TEST_AZURE_TENANT", "SWITCHBOARD_TEST_AZURE_CLIENT_ID",
                  "SWITCHBOARD_TEST_AZURE_CLIENT_SECRET_FILE"],
        "gcp": ["SWITCHBOARD_TEST_GCP_URL", "SWITCHBOARD_TEST_GCP_PROJECT", "SWITCHBOARD_TEST_GCP_KEY_FILE"],
        "hashicorp": ["SWITCHBOARD_TEST_VAULT_URL", "SWITCHBOARD_TEST_VAULT_TOKEN_FILE"],
    }[kind]
    values = {name: os.environ.get(name, "") for name in names}
    missing = [name for name, value in values.items() if not value]
    if missing:
        if os.environ.get("SWITCHBOARD_TEST_REQUIRE_SECRETS") == "1":
            pytest.fail(f"SWITCHBOARD_TEST_REQUIRE_SECRETS=1 but {', '.join(missing)} not set", pytrace=False)
        pytest.skip(f"{', '.join(missing)} not set (run scripts/secrets-up.sh)")
    return values


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


class _OpenBao:
    """The manager's settings, and Vault's own KV v2 HTTP API to look into it."""

    type = shared.SecretsManagerType.HASHICORP
    separator = "/"

    def __init__(self):
        e = _cloud_env("hashicorp")
        self.url = e["SWITCHBOARD_TEST_VAULT_URL"]
        self.token = _read(e["SWITCHBOARD_TEST_VAULT_TOKEN_FILE"]).strip()
        self.settings = {"address": self.url, "token": self.token}
        self.never_shown = [self.token]

    def name_field(self, name: str) -> dict:
        return {"auth_hashi_vault_path": name}

    def read(self, name: str) -> str | None:
        r = httpx.get(f"{self.url}/v1/secret/data/{name}", headers={"X-Vault-Token": self.token}, timeout=10)
        if r.status_code == 404:
            return None
        r.raise_for_status()
        return r.json()["data"]["data"]["value"]


class _AzureVault:
    """The manager's settings, and Microsoft's own client (over TLS) to look into the vault."""

    type = shared.SecretsManagerType.AZURE
    separator = "-"

    def __init__(self):
        e = _cloud_env("azure")
        self.secret = _read(e["SWITCHBOARD_TEST_AZURE_CLIENT_SECRET_FILE"]).strip()
        self.settings = {
            "vault_url": e["SWITCHBOARD_TEST_AZURE_URL"], "authority_host": e["SWITCHBOARD_TEST_AZURE_URL"],
            "tenant_id": e["SWITCHBOARD_TEST_AZURE_TENANT"], "client_id": e["SWITCHBOARD_TEST_AZURE_CLIENT_ID"],
            "client_secret": self.secret,
        }
        self.never_shown = [self.secret]
        self.e = e

    def name_field(self, name: str) -> dict:
        return {"auth_azure_keyvault_id": f"{self.e['SWITCHBOARD_TEST_AZURE_URL']}/secrets/{name}"}

    def read(self, name: str) -> str | None:
        from azure.core.exceptions import ResourceNotFoundError
        from azure.identity import ClientSecretCredential
        from azure.keyvault.secrets import SecretClient

        e = self.e
        credential = ClientSecretCredential(
            e["SWITCHBOARD_TEST_AZURE_TENANT"], e["SWITCHBOARD_TEST_AZURE_CLIENT_ID"], self.secret,
            authority=e["SWITCHBOARD_TEST_AZURE_HTTPS_URL"], disable_instance_discovery=True,
            connection_verify=e["SWITCHBOARD_TEST_AZURE_CA_FILE"])
        client = SecretClient(vault_url=e["SWITCHBOARD_TEST_AZURE_HTTPS_URL"], credential=credential,
                              verify_challenge_resource=False, connection_verify=e["SWITCHBOARD_TEST_AZURE_CA_FILE"])
        try:
            return client.get_secret(name).value
        except ResourceNotFoundError:
            return None


class _GoogleSecretManager:
    """The manager's settings, and Google's own client (REST) to look into the project."""

    type = shared.SecretsManagerType.GCP
    separator = "-"

    def __init__(self):
        e = _cloud_env("gcp")
        self.key = _read(e["SWITCHBOARD_TEST_GCP_KEY_FILE"])
        self.project = e["SWITCHBOARD_TEST_GCP_PROJECT"]
        self.settings = {"project_id": self.project, "endpoint": e["SWITCHBOARD_TEST_GCP_URL"],
                         "service_account_json": self.key}
        self.never_shown = [json.loads(self.key)["private_key"]]
        self.e = e

    def name_field(self, name: str) -> dict:
        return {"auth_gcp_secret_name": f"projects/{self.project}/secrets/{name}"}

    def read(self, name: str) -> str | None:
        from google.api_core.exceptions import NotFound
        from google.cloud import secretmanager
        from google.oauth2 import service_account

        credentials = service_account.Credentials.from_service_account_info(
            json.loads(self.key), scopes=["https://www.googleapis.com/auth/cloud-platform"])
        client = secretmanager.SecretManagerServiceClient(
            credentials=credentials, transport="rest", client_options={"api_endpoint": self.e["SWITCHBOARD_TEST_GCP_URL"]})
        try:
            version = client.access_secret_version(name=f"projects/{self.project}/secrets/{name}/versions/latest")
        except NotFound:
            return None
        return version.payload.data.decode()


@pytest.mark.parametrize("vendor", [_OpenBao, _AzureVault, _GoogleSecretManager], ids=["hashicorp", "azure", "gcp"])
def test_each_manager_holds_credentials_through_the_sdk(sdk_a: UnifiedTo, workspace_a, raw, vendor):
    cloud = vendor()
    api = sdk_a.secretsmanager
    created = api.create_unified_secretsmanager(
        request=shared.SecretsManager(name=f"sdk {cloud.type.value}", type=cloud.type, auth=cloud.settings)
    ).secrets_manager
    assert created is not None and created.id and created.type == cloud.type
    shown = json.dumps(created.auth)
    for secret in cloud.never_shown:
        assert secret not in shown
    assert "client_secret" not in (created.auth or {}) and "service_account_json" not in (created.auth or {})

    # Named by secretsmanager_key (the SDK 0.61.5 model has no auth_azure_keyvault_id or
    # auth_gcp_secret_name; they are tested below over plain HTTP).
    name = f"sdk-{uuid.uuid4().hex[:12]}"
    conn = sdk_a.connection.create_unified_connection(
        request=shared.Connection(
            integration_type="hubspot", categories=["crm"], permissions=["crm_contact_read"],
            secretsmanager_id=created.id, auth=shared.PropertyConnectionAuth(access_token=f"kept-in-{cloud.type.value}"),
            secretsmanager_key=name,
        )
    ).connection
    assert conn.auth.access_token == f"kept-in-{cloud.type.value}"
    # The vendor's own client finds the credentials where the connection says they are.
    assert f"kept-in-{cloud.type.value}" in (cloud.read(name) or "")

    sdk_a.connection.update_unified_connection(
        request={"id": conn.id, "connection": shared.Connection(
            integration_type="hubspot", categories=["crm"], permissions=["crm_contact_read"],
            auth=shared.PropertyConnectionAuth(access_token="rotated"))}
    )
    again = sdk_a.connection.get_unified_connection(request={"id": conn.id}).connection
    assert again.auth.access_token == "rotated"
    assert "rotated" in (cloud.read(name) or "")

    # Without a name, the secret gets the derived one, switchboard/<workspace>/<connection> (with
    # hyphens where names hold no slash).
    plain = sdk_a.connection.create_unified_connection(
        request=shared.Connection(
            integration_type="hubspot", categories=["crm"], permissions=["crm_contact_read"],
            secretsmanager_id=created.id, auth=shared.PropertyConnectionAuth(access_token="derived"),
        )
    ).connection
    sep = cloud.separator
    derived = f"switchboard{sep}{plain.workspace_id}{sep}{plain.id}"
    assert "derived" in (cloud.read(derived) or "")

    # The connection field in the vendor's full form (a Key Vault secret identifier, a Google
    # resource name), which the SDK cannot send: the secret lives under the name it carries.
    field_name = f"field-{uuid.uuid4().hex[:12]}"
    r = raw.post("/unified/connection", headers={"authorization": workspace_a.api_key}, json={
        "integration_type": "hubspot", "categories": ["crm"], "permissions": ["crm_contact_read"],
        "secretsmanager_id": created.id, "auth": {"access_token": "by-field"}, **cloud.name_field(field_name)})
    assert r.status_code == 200, r.text
    by_field = r.json()
    assert by_field["auth"]["access_token"] == "by-field"
    assert "by-field" in (cloud.read(field_name) or "")
    got = sdk_a.connection.get_unified_connection(request={"id": by_field["id"]}).connection
    assert got.auth.access_token == "by-field"

    for c in (conn.id, plain.id, by_field["id"]):
        sdk_a.connection.remove_unified_connection(request={"id": c})
    assert cloud.read(name) is None and cloud.read(derived) is None and cloud.read(field_name) is None
    assert api.remove_unified_secretsmanager(request={"id": created.id}).status_code == 200


def test_instructions_through_the_sdk(sdk_a: UnifiedTo):
    listed = sdk_a.secretsmanager.list_unified_secretsmanager_instructions().secrets_manager_instructions_list
    by_type: dict[str, list[str]] = {}
    for entry in listed or []:
        assert entry.key and entry.label and entry.instructions
        by_type.setdefault(entry.type.value, []).append(entry.key)
    assert set(by_type) == {"aws", "hashicorp", "azure", "gcp"}
    assert by_type["azure"][:4] == ["vault_url", "tenant_id", "client_id", "client_secret"]
    assert by_type["gcp"][:2] == ["project_id", "service_account_json"]
    assert "prefix" in by_type["aws"]
    # The same operation through sdk.unified, and a path that is not a manager's id.
    assert sdk_a.unified.list_unified_secretsmanager_instructions().status_code == 200
