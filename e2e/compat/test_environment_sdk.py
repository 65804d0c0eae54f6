"""The official SDK's environment operations (`sdk.environment` / `sdk.unified`) against the real server."""

from __future__ import annotations

import pytest
from unified_python_sdk.models import errors, shared


def test_environments_through_the_sdk(fresh_workspace):
    _, sdk = fresh_workspace
    assert sdk.environment.list_unified_environments().environments == ["Production"]
    created = sdk.environment.create_unified_environment(request=["Staging", "Dev env"])
    assert created.status_code == 200
    assert created.environments == ["Production", "Staging", "Dev env"]
    # The same operations are reachable through sdk.unified.
    assert sdk.unified.list_unified_environments().environments == ["Production", "Staging", "Dev env"]

    conn = sdk.connection.create_unified_connection(
        request=shared.Connection(
            integration_type="hubspot", categories=["crm"], permissions=["crm_contact_read"], environment="Staging"
        )
    ).connection
    # An environment with connections is refused, naming the count.
    with pytest.raises(errors.SDKError) as refused:
        sdk.environment.remove_unified_environment(request={"env": "Staging"})
    assert refused.value.status_code == 409
    assert "still has 1 connection" in refused.value.body

    # A name with a space travels percent-encoded in the path.
    removed = sdk.environment.remove_unified_environment(request={"env": "Dev env"})
    assert removed.status_code == 200
    assert removed.environments == ["Production", "Staging"]

    sdk.connection.remove_unified_connection(request={"id": conn.id})
    assert sdk.unified.remove_unified_environment(request={"env": "Staging"}).environments == ["Production"]

    with pytest.raises(errors.SDKError) as missing:
        sdk.environment.remove_unified_environment(request={"env": "Staging"})
    assert missing.value.status_code == 404
