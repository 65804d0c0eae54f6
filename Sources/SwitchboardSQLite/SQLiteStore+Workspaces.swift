import Foundation
import GRDB
import SwitchboardCore

extension SQLiteStore {
    public func insert(_ workspace: Workspace, firstKey: APIKeyRecord, audit: AuditRecord) async throws {
        try await mapped {
            try await pool.write { db in
                try Self.insertWorkspace(workspace, orIgnore: false, db)
                try Self.insertKey(firstKey, db)
                try Self.appendAudit([audit], db)
            }
        }
    }

    public func workspace(id: WorkspaceID) async throws -> Workspace? {
        try await mapped {
            try await pool.read { db in
                try Row.fetchOne(
                    db,
                    sql: "SELECT \(Self.workspaceColumns) FROM workspaces WHERE id = ?",
                    arguments: [id.rawValue]
                )
                .map(Self.workspace(from:))
            }
        }
    }

    public func workspaceCount() async throws -> Int {
        try await mapped {
            try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM workspaces") ?? 0 }
        }
    }

    public func insert(_ key: APIKeyRecord, audit: AuditRecord?) async throws {
        try await mapped {
            try await pool.write { db in
                try Self.insertKey(key, db)
                if let audit { try Self.appendAudit([audit], db) }
            }
        }
    }

    public func apiKeys(workspace: WorkspaceID) async throws -> [APIKeyRecord] {
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT \(Self.keyColumns) FROM api_keys WHERE workspace_id = ? ORDER BY created_at, id",
                    arguments: [workspace.rawValue]
                ).map(Self.key(from:))
            }
        }
    }

    public func touchAPIKey(id: String, at time: Timestamp) async throws {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql:
                        "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ? AND revoked_at IS NULL",
                    arguments: [time.millisecondsSinceEpoch, id]
                )
            }
        }
    }

    public func apiKey(id: String) async throws -> APIKeyRecord? {
        try await mapped {
            try await pool.read { db in try Self.fetchKey(id: id, db) }
        }
    }

    public func revokeAPIKey(id: String, at time: Timestamp, audit: AuditRecord?) async throws -> APIKeyRecord? {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    arguments: [time.millisecondsSinceEpoch, id]
                )
                if db.changesCount == 1, let audit { try Self.appendAudit([audit], db) }
                return try Self.fetchKey(id: id, db)
            }
        }
    }

    static let workspaceColumns = "id, name, created_at, redirect_origins, authorize_requires_token, environments"

    static func insertWorkspace(_ workspace: Workspace, orIgnore: Bool, _ db: Database) throws {
        try db.execute(
            sql:
                "INSERT \(orIgnore ? "OR IGNORE " : "")INTO workspaces (\(workspaceColumns)) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                workspace.id.rawValue, workspace.name, workspace.createdAt.millisecondsSinceEpoch,
                lines(workspace.redirectOrigins), workspace.authorizeRequiresToken, lines(workspace.environments),
            ]
        )
    }

    static func workspace(from row: Row) -> Workspace {
        Workspace(
            id: WorkspaceID(rawValue: row[0]),
            name: row[1],
            createdAt: Timestamp(millisecondsSinceEpoch: row[2]),
            redirectOrigins: lines(row[3] as String),
            authorizeRequiresToken: row[4],
            environments: lines(row[5] as String)
        )
    }

    /// Lists stored one item a line (items never contain a newline), the empty list as ''.
    static func lines(_ items: [String]) -> String { items.joined(separator: "\n") }

    static func lines(_ text: String) -> [String] {
        text.isEmpty ? [] : text.split(separator: "\n").map(String.init)
    }

    static let keyColumns = "id, workspace_id, secret_hash, scopes, created_at, revoked_at, last_used_at"

    static func insertKey(_ key: APIKeyRecord, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO api_keys (\(keyColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                key.id, key.workspaceID.rawValue, Data(key.secretHash), key.scopes.text,
                key.createdAt.millisecondsSinceEpoch, key.revokedAt?.millisecondsSinceEpoch,
                key.lastUsedAt?.millisecondsSinceEpoch,
            ]
        )
    }

    static func fetchKey(id: String, _ db: Database) throws -> APIKeyRecord? {
        let statement = try db.cachedStatement(sql: "SELECT \(keyColumns) FROM api_keys WHERE id = ?")
        return try Row.fetchOne(statement, arguments: [id]).map(key(from:))
    }

    static func key(from row: Row) -> APIKeyRecord {
        func time(_ value: Int64?) -> Timestamp? { value.map(Timestamp.init(millisecondsSinceEpoch:)) }
        return APIKeyRecord(
            id: row[0],
            workspaceID: WorkspaceID(rawValue: row[1]),
            secretHash: Array(row[2] as Data),
            // Written from a validated set; a name this version does not know grants nothing.
            scopes: ScopeSet((row[3] as String).split(separator: ",").compactMap { Scope(rawValue: String($0)) }),
            createdAt: Timestamp(millisecondsSinceEpoch: row[4]),
            revokedAt: time(row[5]),
            lastUsedAt: time(row[6])
        )
    }
}
