import Foundation
import GRDB
import SwitchboardCore

extension SQLiteStore {
    public func isEmpty() async throws -> Bool {
        try await mapped {
            try await pool.read { db in try !Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM workspaces)")! }
        }
    }

    public func allWorkspaces() async throws -> [Workspace] {
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT \(Self.workspaceColumns) FROM workspaces ORDER BY id").map(
                    Self.workspace(from:)
                )
            }
        }
    }

    public func allAPIKeys() async throws -> [APIKeyRecord] {
        try await mapped {
            try await pool.read { db in
                try String.fetchAll(db, sql: "SELECT id FROM api_keys ORDER BY id").compactMap {
                    try Self.fetchKey(id: $0, db)
                }
            }
        }
    }

    public func connections(after id: ConnectionID?, limit: Int) async throws -> [Connection] {
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT \(Self.connectionColumns) FROM connections WHERE id > ? ORDER BY id LIMIT ?",
                    arguments: [id?.rawValue ?? "", limit]
                ).map(Self.connection(from:))
            }
        }
    }

    public func importRecords(
        workspaces: [Workspace],
        apiKeys: [APIKeyRecord],
        connections: [Connection]
    ) async throws
        -> Int
    {
        try await mapped {
            try await pool.write { db in
                var inserted = 0
                for workspace in workspaces {
                    try Self.insertWorkspace(workspace, orIgnore: true, db)
                    inserted += db.changesCount
                }
                for key in apiKeys where try Self.fetchKey(id: key.id, db) == nil {
                    try Self.insertKey(key, db)
                    inserted += 1
                }
                let statement = try db.cachedStatement(
                    sql: """
                        INSERT OR IGNORE INTO connections (\(Self.connectionColumns), name_sort, category_mask)
                        VALUES \(Self.connectionPlaceholders)
                        """
                )
                for connection in connections {
                    try statement.execute(arguments: StatementArguments(Self.values(of: connection)))
                    inserted += db.changesCount
                }
                return inserted
            }
        }
    }
}
