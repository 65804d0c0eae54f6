"""The official SDK's secrets-manager operations against the real server, with moto as the manager.

A connection created through the SDK with `secretsmanager_id` keeps its `auth` in moto; the SDK
reads it back, and removing the connection removes the secret. Needs moto on loopback
(SWITCHBOARD_TEST_MOTO_URL, from scripts/secrets-up.sh); skipped without it unless
SWITCHBOARD_TEST_REQUIRE_SECRETS=1 (CI sets it).
"""

from __future__ import annotations

import os

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
