/// The Unified `Connection` JSON object as responses carry it. Absent optional fields are left
/// out; `auth` is spliced in as the stored JSON bytes, without re-encoding.
///
/// Two writers make the same bytes: one from a `RevealedConnection`, one straight from a stored row
/// for callers that get no credentials (the common read path, where building a `Connection` per row
/// cost more than the query). `ConnectionJSONTests` checks they agree.
public enum ConnectionJSON {
    public static func write(_ revealed: RevealedConnection, to w: inout JSONWriter) {
        let c = revealed.connection
        let f = c.fields
        w.beginObject()
        w.member("id", c.id.rawValue)
        w.member("created_at", c.createdAt.rfc3339)
        w.member("updated_at", c.updatedAt.rfc3339)
        w.member("workspace_id", c.workspaceID.rawValue)
        w.member("integration_type", f.integrationType)
        w.member("integration_name", ifPresent: f.integrationName)
        w.member("external_xref", ifPresent: f.externalXref)
        w.key("permissions")
        w.stringArray(f.permissions.map(\.name))
        w.key("categories")
        w.stringArray(f.categories.map(\.name))
        if let auth = revealed.auth {
            w.key("auth")
            w.raw(auth.json)
        }
        w.key("is_paused")
        w.bool(c.isPaused)
        w.member("environment", f.environment)
        w.member("auth_aws_arn", ifPresent: f.authAwsArn)
        w.member("auth_azure_keyvault_id", ifPresent: f.authAzureKeyvaultID)
        w.member("auth_gcp_secret_name", ifPresent: f.authGcpSecretName)
        w.member("auth_hashi_vault_path", ifPresent: f.authHashiVaultPath)
        w.member("last_healthy_at", ifPresent: c.health.lastHealthyAt?.rfc3339)
        w.member("last_unhealthy_at", ifPresent: c.health.lastUnhealthyAt?.rfc3339)
        w.member("last_unhealthy_code", ifPresent: c.health.lastUnhealthyCode)
        w.member("secretsmanager_id", ifPresent: f.secretsmanagerID)
        w.member("secretsmanager_key", ifPresent: f.secretsmanagerKey)
        // Switchboard's own: present only on connections whose OAuth token it refreshes.
        w.member("refresh_status", ifPresent: c.refresh?.status.rawValue)
        w.endObject()
    }

    /// The same object, without `auth`, from a stored row. Unknown permission and category names
    /// (data of a newer schema) are dropped, as when a store maps the row to a `Connection`.
    // Inlinable so each store gets it specialized for its row type: unspecialized, every one of the
    // ~25 fields of every row went through a protocol witness and a generic closure.
    @inlinable
    public static func writeWithoutAuth(_ row: some StoredConnectionRow, to w: inout JSONWriter) {
        func text(_ key: StaticString, _ column: StoredConnectionColumn) {
            row.withText(column) { value in
                guard let value else { return }
                w.key(ascii: key)
                w.string(utf8: value)
            }
        }
        func time(_ key: StaticString, _ column: StoredConnectionColumn) {
            guard let value = row.integer(column) else { return }
            w.key(ascii: key)
            w.timestamp(value)
        }
        func names(_ key: StaticString, _ column: StoredConnectionColumn, _ known: (UnsafeRawBufferPointer) -> Bool) {
            w.key(ascii: key)
            row.withText(column) {
                w.stringArray(commaSeparated: $0 ?? UnsafeRawBufferPointer(start: nil, count: 0), keeping: known)
            }
        }
        w.beginObject()
        text("id", .id)
        time("created_at", .createdAt)
        time("updated_at", .updatedAt)
        text("workspace_id", .workspaceID)
        text("integration_type", .integrationType)
        text("integration_name", .integrationName)
        text("external_xref", .externalXref)
        names("permissions", .permissions, Permission.isName(utf8:))
        names("categories", .categories, Category.isName(utf8:))
        w.key(ascii: "is_paused")
        w.bool((row.integer(.isPaused) ?? 0) != 0)
        text("environment", .environment)
        text("auth_aws_arn", .authAwsArn)
        text("auth_azure_keyvault_id", .authAzureKeyvaultID)
        text("auth_gcp_secret_name", .authGcpSecretName)
        text("auth_hashi_vault_path", .authHashiVaultPath)
        time("last_healthy_at", .lastHealthyAt)
        time("last_unhealthy_at", .lastUnhealthyAt)
        text("last_unhealthy_code", .lastUnhealthyCode)
        text("secretsmanager_id", .secretsmanagerID)
        text("secretsmanager_key", .secretsmanagerKey)
        // As the store maps it: a status this version does not know is left out.
        row.withText(.refreshStatus) { value in
            guard let value, let status = TokenRefreshState.Status(rawValue: String(decoding: value, as: UTF8.self))
            else { return }
            w.member("refresh_status", status.rawValue)
        }
        w.endObject()
    }
}
