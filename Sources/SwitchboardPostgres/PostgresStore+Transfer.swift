import Foundation
import NIOCore
import PostgresNIO
import SwitchboardCore

extension PostgresStore {
    public func isEmpty() async throws -> Bool {
        try await mapped { [client, logger] in
            try await client.query("SELECT 1 FROM workspaces LIMIT 1", logger: logger).collect().isEmpty
        }
    }

    public func allWorkspaces() async throws -> [Workspace] {
        try await mapped { [client, logger] in
            var workspaces: [Workspace] = []
            let rows = try await client.query("SELECT id, name, created_at FROM workspaces ORDER BY id", logger: logger)
            for try await (id, name, createdAt) in rows.decode((String, String, Int64).self) {
                workspaces.append(
                    Workspace(
                        id: WorkspaceID(rawValue: id),
                        name: name,
                        createdAt: Timestamp(millisecondsSinceEpoch: createdAt)
                    )
                )
            }
            return workspaces
        }
    }

    public func allAPIKeys() async throws -> [APIKeyRecord] {
        try await mapped { [client, logger] in
            var keys: [APIKeyRecord] = []
            let rows = try await client.query(
                "SELECT \(unescaped: Self.keyColumns) FROM api_keys ORDER BY id",
                logger: logger
            )
            for try await row in rows.decode(KeyRow.self) {
                keys.append(Self.key(row))
            }
            return keys
        }
    }

    public func connections(after id: ConnectionID?, limit: Int) async throws -> [Connection] {
        try await mapped { [client, logger] in
            var connections: [Connection] = []
            let rows = try await client.query(
                """
                SELECT \(unescaped: Self.connectionColumns) FROM connections
                WHERE id > \(id?.rawValue ?? "") ORDER BY id LIMIT \(Int64(limit))
                """,
                logger: logger
            )
            for try await row in rows { connections.append(try Self.connection(from: row)) }
            return connections
        }
    }

    public func importRecords(
        workspaces: [Workspace],
        apiKeys: [APIKeyRecord],
        connections: [Connection]
    ) async throws
        -> Int
    {
        let placeholders = (1...25).map { "$\($0)" }.joined(separator: ", ")
        let insertConnection = """
            INSERT INTO connections (\(Self.connectionColumns), name_sort, category_mask) VALUES (\(placeholders))
            ON CONFLICT (id) DO NOTHING RETURNING 1
            """
        return try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                var inserted = 0
                for workspace in workspaces {
                    inserted += try await connection.query(
                        """
                        INSERT INTO workspaces (id, name, created_at)
                        VALUES (\(workspace.id.rawValue), \(workspace.name), \(workspace.createdAt.millisecondsSinceEpoch))
                        ON CONFLICT (id) DO NOTHING RETURNING 1
                        """,
                        logger: logger
                    ).collect().count
                }
                for key in apiKeys {
                    var query = Self.insertKeyQuery(key)
                    query.sql += " ON CONFLICT (id) DO NOTHING RETURNING 1"
                    inserted += try await connection.query(query, logger: logger).collect().count
                }
                for row in connections {
                    var binds = PostgresBindings(capacity: 25)
                    Self.bind(row, into: &binds)
                    inserted += try await connection.query(
                        PostgresQuery(unsafeSQL: insertConnection, binds: binds),
                        logger: logger
                    )
                    .collect().count
                }
                return inserted
            }
        }
    }
}
