import Foundation
import Logging
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
            let rows = try await client.query(
                "SELECT \(unescaped: Self.workspaceColumns) FROM workspaces ORDER BY id",
                logger: logger
            )
            for try await row in rows.decode(WorkspaceRow.self) { workspaces.append(Self.workspace(row)) }
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
        let insertConnection = """
            INSERT INTO connections (\(Self.connectionColumns), name_sort, category_mask)
            VALUES (\(Self.connectionPlaceholders))
            ON CONFLICT (id) DO NOTHING RETURNING 1
            """
        return try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                var inserted = 0
                for workspace in workspaces {
                    inserted += try await Self.insertUnlessPresent(
                        Self.insertWorkspaceQuery(workspace),
                        on: connection,
                        logger
                    )
                }
                for key in apiKeys {
                    inserted += try await Self.insertUnlessPresent(Self.insertKeyQuery(key), on: connection, logger)
                }
                for row in connections {
                    var binds = PostgresBindings(capacity: Self.boundColumnCount)
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

    /// Runs an `INSERT` that skips a row whose key (`conflict`) already exists, as an import that
    /// can be run again must; 1 if it inserted the row, 0 if not.
    static func insertUnlessPresent(
        _ insert: PostgresQuery,
        conflict: String = "id",
        on connection: PostgresConnection,
        _ logger: Logger
    ) async throws -> Int {
        var query = insert
        query.sql += " ON CONFLICT (\(conflict)) DO NOTHING RETURNING 1"
        return try await connection.query(query, logger: logger).collect().count
    }
}
