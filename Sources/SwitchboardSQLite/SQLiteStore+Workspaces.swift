import Foundation
import GRDB
import SwitchboardCore

extension SQLiteStore {
    public func insert(_ workspace: Workspace, firstKey: APIKeyRecord) async throws {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: "INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)",
                    arguments: [workspace.id.rawValue, workspace.name, workspace.createdAt.millisecondsSinceEpoch]
                )
                try Self.insertKey(firstKey, db)
            }
        }
    }

    public func workspace(id: WorkspaceID) async throws -> Workspace? {
        try await mapped {
            try await pool.read { db in
                try Row.fetchOne(
                    db,
                    sql: "SELECT id, name, created_at FROM workspaces WHERE id = ?",
                    arguments: [id.rawValue]
                )
                .map {
                    Workspace(
                        id: WorkspaceID(rawValue: $0[0]),
                        name: $0[1],
                        createdAt: Timestamp(millisecondsSinceEpoch: $0[2])
                    )
                }
            }
        }
    }

    public func workspaceCount() async throws -> Int {
        try await mapped {
            try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM workspaces") ?? 0 }
        }
    }

    public func insert(_ key: APIKeyRecord) async throws {
        try await mapped { try await pool.write { db in try Self.insertKey(key, db) } }
    }

    public func apiKey(id: String) async throws -> APIKeyRecord? {
        try await mapped {
            try await pool.read { db in try Self.fetchKey(id: id, db) }
        }
    }

    public func revokeAPIKey(id: String, at time: Timestamp) async throws -> APIKeyRecord? {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                    arguments: [time.millisecondsSinceEpoch, id]
                )
                return try Self.fetchKey(id: id, db)
            }
        }
    }

    static func insertKey(_ key: APIKeyRecord, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO api_keys (id, workspace_id, secret_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [
                key.id, key.workspaceID.rawValue, Data(key.secretHash), key.createdAt.millisecondsSinceEpoch,
                key.revokedAt?.millisecondsSinceEpoch,
            ]
        )
    }

    static func fetchKey(id: String, _ db: Database) throws -> APIKeyRecord? {
        let statement = try db.cachedStatement(
            sql: "SELECT id, workspace_id, secret_hash, created_at, revoked_at FROM api_keys WHERE id = ?"
        )
        return try Row.fetchOne(statement, arguments: [id]).map { row in
            APIKeyRecord(
                id: row[0],
                workspaceID: WorkspaceID(rawValue: row[1]),
                secretHash: Array(row[2] as Data),
                createdAt: Timestamp(millisecondsSinceEpoch: row[3]),
                revokedAt: (row[4] as Int64?).map(Timestamp.init(millisecondsSinceEpoch:))
            )
        }
    }
}
