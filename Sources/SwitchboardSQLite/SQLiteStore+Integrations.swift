import Foundation
import GRDB
import SwitchboardCore

extension SQLiteStore {
    static let integrationColumns = """
        workspace_id, integration_type, client_id, is_active, extra_scopes, auth_key_id, auth_ciphertext, \
        created_at, updated_at, api_base_url
        """

    public func upsert(_ integration: StoredWorkspaceIntegration, audit: AuditRecord) async throws {
        try await mapped {
            try await pool.write { db in
                let type = integration.integration.integrationType
                let workspace = integration.integration.workspaceID
                let wasActive = try Bool.fetchOne(
                    db,
                    sql: "SELECT is_active FROM workspace_integrations WHERE workspace_id = ? AND integration_type = ?",
                    arguments: [workspace.rawValue, type]
                )
                // A replaced row keeps its created_at: the integration was enabled then.
                try db.execute(
                    sql: """
                        INSERT INTO workspace_integrations (\(Self.integrationColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (workspace_id, integration_type) DO UPDATE SET
                            client_id = excluded.client_id, is_active = excluded.is_active,
                            extra_scopes = excluded.extra_scopes, auth_key_id = excluded.auth_key_id,
                            auth_ciphertext = excluded.auth_ciphertext, updated_at = excluded.updated_at,
                            api_base_url = excluded.api_base_url
                        """,
                    arguments: StatementArguments(Self.values(of: integration))
                )
                try Self.appendAudit([audit], db)
                try Self.appendEvents(
                    IntegrationEvents.of(
                        type: type,
                        workspace: workspace,
                        wasActive: wasActive,
                        isActive: integration.integration.isActive,
                        at: audit.at
                    ),
                    db
                )
            }
        }
    }

    public func workspaceIntegration(type: String, workspace: WorkspaceID) async throws -> StoredWorkspaceIntegration? {
        try await mapped {
            try await pool.read { db in
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT \(Self.integrationColumns) FROM workspace_integrations
                        WHERE workspace_id = ? AND integration_type = ?
                        """,
                    arguments: [workspace.rawValue, type]
                ).map(Self.integration(from:))
            }
        }
    }

    public func workspaceIntegrations(workspace: WorkspaceID) async throws -> [StoredWorkspaceIntegration] {
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.integrationColumns) FROM workspace_integrations
                        WHERE workspace_id = ? ORDER BY integration_type
                        """,
                    arguments: [workspace.rawValue]
                ).map(Self.integration(from:))
            }
        }
    }

    public func deleteWorkspaceIntegration(
        type: String,
        workspace: WorkspaceID,
        audit: AuditRecord
    ) async throws
        -> Bool
    {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: "DELETE FROM workspace_integrations WHERE workspace_id = ? AND integration_type = ?",
                    arguments: [workspace.rawValue, type]
                )
                guard db.changesCount > 0 else { return false }
                try Self.appendAudit([audit], db)
                try Self.appendEvents(
                    IntegrationEvents.of(
                        type: type,
                        workspace: workspace,
                        wasActive: true,
                        isActive: nil,
                        at: audit.at
                    ),
                    db
                )
                return true
            }
        }
    }

    public func setRedirectOrigins(_ origins: [String], workspace: WorkspaceID, audit: AuditRecord) async throws -> Bool
    {
        try await setWorkspaceColumn("redirect_origins", to: Self.lines(origins), workspace: workspace, audit: audit)
    }

    public func setAuthorizeRequiresToken(
        _ required: Bool,
        workspace: WorkspaceID,
        audit: AuditRecord
    ) async throws
        -> Bool
    {
        try await setWorkspaceColumn("authorize_requires_token", to: required, workspace: workspace, audit: audit)
    }

    /// One workspace setting and its audit record, in one transaction; false if there is no such
    /// workspace. `column` is one of this file's literals, never input.
    private func setWorkspaceColumn(
        _ column: StaticString,
        to value: some DatabaseValueConvertible & Sendable,
        workspace: WorkspaceID,
        audit: AuditRecord
    ) async throws -> Bool {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: "UPDATE workspaces SET \(column) = ? WHERE id = ?",
                    arguments: [value, workspace.rawValue]
                )
                guard db.changesCount == 1 else { return false }
                try Self.appendAudit([audit], db)
                return true
            }
        }
    }

    public func workspaceIntegrationsSealed(
        notWith keyID: String,
        after: (workspace: WorkspaceID, type: String)?,
        limit: Int
    ) async throws -> [StoredWorkspaceIntegration] {
        var sql = "SELECT \(Self.integrationColumns) FROM workspace_integrations WHERE auth_key_id <> ?"
        var arguments: [(any DatabaseValueConvertible)?] = [keyID]
        if let after {
            sql += " AND (workspace_id, integration_type) > (?, ?)"
            arguments += [after.workspace.rawValue, after.type]
        }
        sql += " ORDER BY workspace_id, integration_type LIMIT ?"
        arguments.append(limit)
        let statementSQL = sql
        let statementArguments = StatementArguments(arguments)
        return try await mapped {
            try await pool.read { db in
                try Row.fetchAll(db, sql: statementSQL, arguments: statementArguments).map(Self.integration(from:))
            }
        }
    }

    public func replaceSealedClientSecret(
        workspace: WorkspaceID,
        type: String,
        old: SealedSecret,
        new: SealedSecret
    ) async throws -> Bool {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE workspace_integrations SET auth_key_id = ?, auth_ciphertext = ?
                        WHERE workspace_id = ? AND integration_type = ? AND auth_key_id = ? AND auth_ciphertext = ?
                        """,
                    arguments: [
                        new.keyID, Data(new.ciphertext), workspace.rawValue, type, old.keyID, Data(old.ciphertext),
                    ]
                )
                return db.changesCount == 1
            }
        }
    }

    public func allWorkspaceIntegrations() async throws -> [StoredWorkspaceIntegration] {
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.integrationColumns) FROM workspace_integrations
                        ORDER BY workspace_id, integration_type
                        """
                ).map(Self.integration(from:))
            }
        }
    }

    public func importWorkspaceIntegrations(_ integrations: [StoredWorkspaceIntegration]) async throws -> Int {
        try await mapped {
            try await pool.write { db in
                let statement = try db.cachedStatement(
                    sql: """
                        INSERT OR IGNORE INTO workspace_integrations (\(Self.integrationColumns))
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                )
                var inserted = 0
                for integration in integrations {
                    try statement.execute(arguments: StatementArguments(Self.values(of: integration)))
                    inserted += db.changesCount
                }
                return inserted
            }
        }
    }

    /// Values in `integrationColumns` order.
    static func values(of stored: StoredWorkspaceIntegration) -> [(any DatabaseValueConvertible)?] {
        let i = stored.integration
        return [
            i.workspaceID.rawValue, i.integrationType, i.clientID, i.isActive, lines(i.extraScopes),
            stored.sealedClientSecret.keyID, Data(stored.sealedClientSecret.ciphertext),
            i.createdAt.millisecondsSinceEpoch, i.updatedAt.millisecondsSinceEpoch, i.apiBaseURL,
        ]
    }

    static func integration(from row: Row) -> StoredWorkspaceIntegration {
        StoredWorkspaceIntegration(
            integration: WorkspaceIntegration(
                workspaceID: WorkspaceID(rawValue: row[0]),
                integrationType: row[1],
                clientID: row[2],
                isActive: row[3],
                extraScopes: lines(row[4] as String),
                apiBaseURL: row[9],
                createdAt: Timestamp(millisecondsSinceEpoch: row[7]),
                updatedAt: Timestamp(millisecondsSinceEpoch: row[8])
            ),
            sealedClientSecret: SealedSecret(keyID: row[5], ciphertext: Array(row[6] as Data))
        )
    }
}
