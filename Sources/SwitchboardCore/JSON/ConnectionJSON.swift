/// The Unified `Connection` JSON object as responses carry it. Absent optional fields are left
/// out; `auth` is spliced in as the stored JSON bytes, without re-encoding.
///
/// One writer, over the row adapter that both a store's row (the read path of keys that may not
/// see credentials: no `Connection` is built per row) and a `Connection` (`ConnectionRow`) provide.
public enum ConnectionJSON {
    public static func write(_ revealed: RevealedConnection, to w: inout JSONWriter) {
        write(ConnectionRow(revealed.connection), auth: revealed.auth?.json, to: &w)
    }

    /// The object for `row`, with `auth` (one complete JSON object) when given. Unknown permission
    /// and category names and refresh statuses (data of a newer schema) are left out, as when a
    /// store maps the row to a `Connection`.
    // Inlinable so each store gets it specialized for its row type: unspecialized, every one of the
    // ~25 fields of every row went through a protocol witness and a generic closure.
    @inlinable
    public static func write(_ row: some StoredConnectionRow, auth: [UInt8]? = nil, to w: inout JSONWriter) {
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
        if let auth {
            w.key(ascii: "auth")
            w.raw(auth)
        }
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
        // Switchboard's own: present only on connections whose OAuth token it refreshes.
        row.withText(.refreshStatus) { value in
            guard let value, let status = TokenRefreshState.Status(rawValue: String(decoding: value, as: UTF8.self))
            else { return }
            w.member("refresh_status", status.rawValue)
        }
        w.endObject()
    }
}

/// A `Connection` seen as a stored row, for `ConnectionJSON.write`: each column holds what a
/// store writes for the field (names comma-separated, times in milliseconds, booleans as 0/1).
/// The sealed-credential and bookkeeping columns the wire does not carry read as NULL.
public struct ConnectionRow: StoredConnectionRow {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    public func withText<R>(
        _ column: StoredConnectionColumn,
        _ body: (UnsafeRawBufferPointer?) throws -> R
    ) rethrows
        -> R
    {
        let f = connection.fields
        let value: String? =
            switch column {
            case .id: connection.id.rawValue
            case .workspaceID: connection.workspaceID.rawValue
            case .integrationType: f.integrationType
            case .integrationName: f.integrationName
            case .externalXref: f.externalXref
            case .permissions: f.permissions.map(\.name).joined(separator: ",")
            case .categories: f.categories.map(\.name).joined(separator: ",")
            case .environment: f.environment
            case .authAwsArn: f.authAwsArn
            case .authAzureKeyvaultID: f.authAzureKeyvaultID
            case .authGcpSecretName: f.authGcpSecretName
            case .authHashiVaultPath: f.authHashiVaultPath
            case .secretsmanagerID: f.secretsmanagerID
            case .secretsmanagerKey: f.secretsmanagerKey
            case .lastUnhealthyCode: connection.health.lastUnhealthyCode
            case .refreshStatus: connection.refresh?.status.rawValue
            case .authKeyID, .authCiphertext, .isPaused, .lastHealthyAt, .lastUnhealthyAt, .createdAt, .updatedAt,
                .version, .tokenExpiresAt:
                nil
            }
        guard var value else { return try body(nil) }
        return try value.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }

    public func integer(_ column: StoredConnectionColumn) -> Int64? {
        switch column {
        case .isPaused: connection.isPaused ? 1 : 0
        case .createdAt: connection.createdAt.millisecondsSinceEpoch
        case .updatedAt: connection.updatedAt.millisecondsSinceEpoch
        case .lastHealthyAt: connection.health.lastHealthyAt?.millisecondsSinceEpoch
        case .lastUnhealthyAt: connection.health.lastUnhealthyAt?.millisecondsSinceEpoch
        default: nil
        }
    }
}
