import NIOCore
import PostgresNIO
import SwitchboardCore

extension PostgresStore {
    static let integrationColumns = """
        workspace_id, integration_type, client_id, is_active, extra_scopes, auth_key_id, auth_ciphertext, \
        created_at, updated_at, api_base_url
        """
    typealias IntegrationRow = (String, String, String, Bool, String, String, ByteBuffer, Int64, Int64, String?)

    public func upsert(_ integration: StoredWorkspaceIntegration, audit: AuditRecord) async throws {
        var query = Self.insertIntegrationQuery(integration)
        // A replaced row keeps its created_at: the integration was enabled then.
        query.sql += """
             ON CONFLICT (workspace_id, integration_type) DO UPDATE SET
                client_id = excluded.client_id, is_active = excluded.is_active, extra_scopes = excluded.extra_scopes,
                auth_key_id = excluded.auth_key_id, auth_ciphertext = excluded.auth_ciphertext,
                updated_at = excluded.updated_at, api_base_url = excluded.api_base_url
            """
        let type = integration.integration.integrationType
        let workspace = integration.integration.workspaceID
        try await mapped { [client, logger, query] in
            try await client.withTransaction(logger: logger) { connection in
                var wasActive: Bool?
                for try await active in try await connection.query(
                    """
                    SELECT is_active FROM workspace_integrations
                    WHERE workspace_id = \(workspace.rawValue) AND integration_type = \(type) FOR UPDATE
                    """,
                    logger: logger
                ).decode(Bool.self) { wasActive = active }
                _ = try await connection.query(query, logger: logger)
                let events = IntegrationEvents.of(
                    type: type,
                    workspace: workspace,
                    wasActive: wasActive,
                    isActive: integration.integration.isActive,
                    at: audit.at
                )
                _ = try await connection.query(Self.journalQuery(audit: [audit], events: events)!, logger: logger)
            }
        }
    }

    public func workspaceIntegration(type: String, workspace: WorkspaceID) async throws -> StoredWorkspaceIntegration? {
        try await mapped { [client, logger] in
            try await Self.integrations(
                try await client.query(
                    """
                    SELECT \(unescaped: Self.integrationColumns) FROM workspace_integrations
                    WHERE workspace_id = \(workspace.rawValue) AND integration_type = \(type)
                    """,
                    logger: logger
                )
            ).first
        }
    }

    public func workspaceIntegrations(workspace: WorkspaceID) async throws -> [StoredWorkspaceIntegration] {
        try await mapped { [client, logger] in
            try await Self.integrations(
                try await client.query(
                    """
                    SELECT \(unescaped: Self.integrationColumns) FROM workspace_integrations
                    WHERE workspace_id = \(workspace.rawValue) ORDER BY integration_type
                    """,
                    logger: logger
                )
            )
        }
    }

    public func deleteWorkspaceIntegration(
        type: String,
        workspace: WorkspaceID,
        audit: AuditRecord
    ) async throws
        -> Bool
    {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                let deleted = try await !connection.query(
                    """
                    DELETE FROM workspace_integrations
                    WHERE workspace_id = \(workspace.rawValue) AND integration_type = \(type) RETURNING 1
                    """,
                    logger: logger
                ).collect().isEmpty
                if deleted {
                    let events = IntegrationEvents.of(
                        type: type,
                        workspace: workspace,
                        wasActive: true,
                        isActive: nil,
                        at: audit.at
                    )
                    _ = try await connection.query(Self.journalQuery(audit: [audit], events: events)!, logger: logger)
                }
                return deleted
            }
        }
    }

    public func setRedirectOrigins(_ origins: [String], workspace: WorkspaceID, audit: AuditRecord) async throws -> Bool
    {
        try await updateWorkspace(
            "UPDATE workspaces SET redirect_origins = \(Self.lines(origins)) WHERE id = \(workspace.rawValue) RETURNING 1",
            audit: audit
        )
    }

    public func setAuthorizeRequiresToken(
        _ required: Bool,
        workspace: WorkspaceID,
        audit: AuditRecord
    ) async throws
        -> Bool
    {
        try await updateWorkspace(
            "UPDATE workspaces SET authorize_requires_token = \(required) WHERE id = \(workspace.rawValue) RETURNING 1",
            audit: audit
        )
    }

    /// One workspace setting (`update` returns a row when the workspace exists) and its audit
    /// record, in one transaction; false if there is no such workspace.
    private func updateWorkspace(_ update: PostgresQuery, audit: AuditRecord) async throws -> Bool {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                let updated = try await !connection.query(update, logger: logger).collect().isEmpty
                if updated { _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger) }
                return updated
            }
        }
    }

    public func workspaceIntegrationsSealed(
        notWith keyID: String,
        after: (workspace: WorkspaceID, type: String)?,
        limit: Int
    ) async throws -> [StoredWorkspaceIntegration] {
        var query: PostgresQuery =
            "SELECT \(unescaped: Self.integrationColumns) FROM workspace_integrations WHERE auth_key_id <> \(keyID)"
        if let after {
            query.sql += " AND (workspace_id, integration_type) > ($2, $3)"
            query.binds.append(after.workspace.rawValue)
            query.binds.append(after.type)
        }
        query.binds.append(Int64(limit))
        query.sql += " ORDER BY workspace_id, integration_type LIMIT $\(query.binds.count)"
        return try await mapped { [client, logger, query] in
            try await Self.integrations(try await client.query(query, logger: logger))
        }
    }

    public func replaceSealedClientSecret(
        workspace: WorkspaceID,
        type: String,
        old: SealedSecret,
        new: SealedSecret
    ) async throws -> Bool {
        try await mapped { [client, logger] in
            try await !client.query(
                """
                UPDATE workspace_integrations
                SET auth_key_id = \(new.keyID), auth_ciphertext = \(ByteBuffer(bytes: new.ciphertext))
                WHERE workspace_id = \(workspace.rawValue) AND integration_type = \(type)
                  AND auth_key_id = \(old.keyID) AND auth_ciphertext = \(ByteBuffer(bytes: old.ciphertext))
                RETURNING 1
                """,
                logger: logger
            ).collect().isEmpty
        }
    }

    public func allWorkspaceIntegrations() async throws -> [StoredWorkspaceIntegration] {
        try await mapped { [client, logger] in
            try await Self.integrations(
                try await client.query(
                    """
                    SELECT \(unescaped: Self.integrationColumns) FROM workspace_integrations
                    ORDER BY workspace_id, integration_type
                    """,
                    logger: logger
                )
            )
        }
    }

    public func importWorkspaceIntegrations(_ integrations: [StoredWorkspaceIntegration]) async throws -> Int {
        guard !integrations.isEmpty else { return 0 }
        return try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                var inserted = 0
                for integration in integrations {
                    inserted += try await Self.insertUnlessPresent(
                        Self.insertIntegrationQuery(integration),
                        conflict: "workspace_id, integration_type",
                        on: connection,
                        logger
                    )
                }
                return inserted
            }
        }
    }

    static func insertIntegrationQuery(_ stored: StoredWorkspaceIntegration) -> PostgresQuery {
        let i = stored.integration
        return """
            INSERT INTO workspace_integrations (\(unescaped: integrationColumns))
            VALUES (\(i.workspaceID.rawValue), \(i.integrationType), \(i.clientID), \(i.isActive),
                    \(lines(i.extraScopes)), \(stored.sealedClientSecret.keyID),
                    \(ByteBuffer(bytes: stored.sealedClientSecret.ciphertext)), \(i.createdAt.millisecondsSinceEpoch),
                    \(i.updatedAt.millisecondsSinceEpoch), \(i.apiBaseURL))
            """
    }

    /// Rows in `integrationColumns` order.
    static func integrations(_ rows: PostgresRowSequence) async throws -> [StoredWorkspaceIntegration] {
        var integrations: [StoredWorkspaceIntegration] = []
        for try await row in rows.decode(IntegrationRow.self) {
            integrations.append(
                StoredWorkspaceIntegration(
                    integration: WorkspaceIntegration(
                        workspaceID: WorkspaceID(rawValue: row.0),
                        integrationType: row.1,
                        clientID: row.2,
                        isActive: row.3,
                        extraScopes: lines(row.4),
                        apiBaseURL: row.9,
                        createdAt: Timestamp(millisecondsSinceEpoch: row.7),
                        updatedAt: Timestamp(millisecondsSinceEpoch: row.8)
                    ),
                    sealedClientSecret: SealedSecret(keyID: row.5, ciphertext: Array(row.6.readableBytesView))
                )
            )
        }
        return integrations
    }
}
