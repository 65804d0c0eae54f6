import Foundation
import NIOCore
import PostgresNIO
import SwitchboardCore

extension PostgresStore {
    public func insert(_ workspace: Workspace, firstKey: APIKeyRecord, audit: AuditRecord) async throws {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(Self.insertWorkspaceQuery(workspace), logger: logger)
                _ = try await connection.query(Self.insertKeyQuery(firstKey), logger: logger)
                _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger)
            }
        }
    }

    public func workspace(id: WorkspaceID) async throws -> Workspace? {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                "SELECT \(unescaped: Self.workspaceColumns) FROM workspaces WHERE id = \(id.rawValue)",
                logger: logger
            )
            for try await row in rows.decode(WorkspaceRow.self) { return Self.workspace(row) }
            return nil
        }
    }

    public func workspaceCount() async throws -> Int {
        try await mapped { [client, logger] in
            let rows = try await client.query("SELECT COUNT(*) FROM workspaces", logger: logger)
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        }
    }

    public func insert(_ key: APIKeyRecord, audit: AuditRecord?) async throws {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(Self.insertKeyQuery(key), logger: logger)
                if let audit { _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger) }
            }
        }
    }

    public func apiKey(id: String) async throws -> APIKeyRecord? {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                "SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE id = \(id)",
                logger: logger
            )
            for try await row in rows.decode(KeyRow.self) { return Self.key(row) }
            return nil
        }
    }

    public func apiKeys(workspace: WorkspaceID) async throws -> [APIKeyRecord] {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                """
                SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE workspace_id = \(workspace.rawValue)
                ORDER BY created_at, id
                """,
                logger: logger
            )
            var keys: [APIKeyRecord] = []
            for try await row in rows.decode(KeyRow.self) { keys.append(Self.key(row)) }
            return keys
        }
    }

    public func revokeAPIKey(id: String, at time: Timestamp, audit: AuditRecord?) async throws -> APIKeyRecord? {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                let revoked = try await connection.query(
                    """
                    UPDATE api_keys SET revoked_at = \(time.millisecondsSinceEpoch)
                    WHERE id = \(id) AND revoked_at IS NULL RETURNING 1
                    """,
                    logger: logger
                ).collect()
                if !revoked.isEmpty, let audit {
                    _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger)
                }
                let rows = try await connection.query(
                    "SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE id = \(id)",
                    logger: logger
                )
                for try await row in rows.decode(KeyRow.self) { return Self.key(row) }
                return nil
            }
        }
    }

    public func touchAPIKey(id: String, at time: Timestamp) async throws {
        try await mapped { [client, logger] in
            _ = try await client.query(
                """
                UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, 0), \(time.millisecondsSinceEpoch))
                WHERE id = \(id) AND revoked_at IS NULL
                """,
                logger: logger
            )
        }
    }

    static let workspaceColumns = "id, name, created_at, redirect_origins, authorize_requires_token, environments"
    typealias WorkspaceRow = (String, String, Int64, String, Bool, String)

    static func insertWorkspaceQuery(_ workspace: Workspace) -> PostgresQuery {
        """
        INSERT INTO workspaces (\(unescaped: workspaceColumns))
        VALUES (\(workspace.id.rawValue), \(workspace.name), \(workspace.createdAt.millisecondsSinceEpoch),
                \(lines(workspace.redirectOrigins)), \(workspace.authorizeRequiresToken),
                \(lines(workspace.environments)))
        """
    }

    static func workspace(_ row: WorkspaceRow) -> Workspace {
        Workspace(
            id: WorkspaceID(rawValue: row.0),
            name: row.1,
            createdAt: Timestamp(millisecondsSinceEpoch: row.2),
            redirectOrigins: lines(row.3),
            authorizeRequiresToken: row.4,
            environments: lines(row.5)
        )
    }

    /// Lists stored one item a line (items never contain a newline), the empty list as ''.
    static func lines(_ items: [String]) -> String { items.joined(separator: "\n") }

    static func lines(_ text: String) -> [String] {
        text.isEmpty ? [] : text.split(separator: "\n").map(String.init)
    }

    static let keyColumns = "id, workspace_id, secret_hash, scopes, created_at, revoked_at, last_used_at"
    typealias KeyRow = (String, String, ByteBuffer, String, Int64, Int64?, Int64?)

    static func insertKeyQuery(_ key: APIKeyRecord) -> PostgresQuery {
        """
        INSERT INTO api_keys (\(unescaped: keyColumns))
        VALUES (\(key.id), \(key.workspaceID.rawValue), \(ByteBuffer(bytes: key.secretHash)), \(key.scopes.text),
                \(key.createdAt.millisecondsSinceEpoch), \(key.revokedAt?.millisecondsSinceEpoch),
                \(key.lastUsedAt?.millisecondsSinceEpoch))
        """
    }

    static func key(_ row: KeyRow) -> APIKeyRecord {
        func time(_ value: Int64?) -> Timestamp? { value.map(Timestamp.init(millisecondsSinceEpoch:)) }
        return APIKeyRecord(
            id: row.0,
            workspaceID: WorkspaceID(rawValue: row.1),
            secretHash: Array(row.2.readableBytesView),
            // Written from a validated set; a name this version does not know grants nothing.
            scopes: ScopeSet(row.3.split(separator: ",").compactMap { Scope(rawValue: String($0)) }),
            createdAt: Timestamp(millisecondsSinceEpoch: row.4),
            revokedAt: time(row.5),
            lastUsedAt: time(row.6)
        )
    }
}
