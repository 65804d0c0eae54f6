import Foundation
import NIOCore
import PostgresNIO
import SwitchboardCore

extension PostgresStore {
    public func insert(_ workspace: Workspace, firstKey: APIKeyRecord) async throws {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(
                    """
                    INSERT INTO workspaces (id, name, created_at)
                    VALUES (\(workspace.id.rawValue), \(workspace.name), \(workspace.createdAt.millisecondsSinceEpoch))
                    """,
                    logger: logger
                )
                _ = try await connection.query(Self.insertKeyQuery(firstKey), logger: logger)
            }
        }
    }

    public func workspace(id: WorkspaceID) async throws -> Workspace? {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                "SELECT id, name, created_at FROM workspaces WHERE id = \(id.rawValue)",
                logger: logger
            )
            for try await (id, name, createdAt) in rows.decode((String, String, Int64).self) {
                return Workspace(
                    id: WorkspaceID(rawValue: id),
                    name: name,
                    createdAt: Timestamp(millisecondsSinceEpoch: createdAt)
                )
            }
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

    public func insert(_ key: APIKeyRecord) async throws {
        try await mapped { [client, logger] in _ = try await client.query(Self.insertKeyQuery(key), logger: logger) }
    }

    public func apiKey(id: String) async throws -> APIKeyRecord? {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                "SELECT id, workspace_id, secret_hash, created_at, revoked_at FROM api_keys WHERE id = \(id)",
                logger: logger
            )
            for try await row in rows.decode((String, String, ByteBuffer, Int64, Int64?).self) { return Self.key(row) }
            return nil
        }
    }

    public func revokeAPIKey(id: String, at time: Timestamp) async throws -> APIKeyRecord? {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                """
                UPDATE api_keys SET revoked_at = COALESCE(revoked_at, \(time.millisecondsSinceEpoch))
                WHERE id = \(id)
                RETURNING id, workspace_id, secret_hash, created_at, revoked_at
                """,
                logger: logger
            )
            for try await row in rows.decode((String, String, ByteBuffer, Int64, Int64?).self) { return Self.key(row) }
            return nil
        }
    }

    static func insertKeyQuery(_ key: APIKeyRecord) -> PostgresQuery {
        """
        INSERT INTO api_keys (id, workspace_id, secret_hash, created_at, revoked_at)
        VALUES (\(key.id), \(key.workspaceID.rawValue), \(ByteBuffer(bytes: key.secretHash)),
                \(key.createdAt.millisecondsSinceEpoch), \(key.revokedAt?.millisecondsSinceEpoch))
        """
    }

    static func key(_ row: (String, String, ByteBuffer, Int64, Int64?)) -> APIKeyRecord {
        APIKeyRecord(
            id: row.0,
            workspaceID: WorkspaceID(rawValue: row.1),
            secretHash: Array(row.2.readableBytesView),
            createdAt: Timestamp(millisecondsSinceEpoch: row.3),
            revokedAt: row.4.map(Timestamp.init(millisecondsSinceEpoch:))
        )
    }
}
