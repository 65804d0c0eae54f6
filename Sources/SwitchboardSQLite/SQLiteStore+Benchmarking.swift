import Foundation
import GRDB
import GRDBSQLite
import SwitchboardCore

extension SQLiteStore: StoreBenchmarking {
    package func bulkInsert(_ connections: [Connection]) async throws {
        try await mapped {
            // One write transaction (one WAL sync) for the whole batch, one prepared statement.
            try await pool.write { db in
                let statement = try db.cachedStatement(
                    sql: """
                        INSERT INTO connections (\(Self.connectionColumns), name_sort, category_mask)
                        VALUES \(Self.connectionPlaceholders)
                        """
                )
                for connection in connections {
                    try statement.execute(arguments: StatementArguments(Self.values(of: connection)))
                }
            }
        }
    }

    /// No ANALYZE: a normal install never runs it, so the benchmark does not either. The WAL the
    /// load wrote is checkpointed into the database file and truncated.
    package func settleAfterBulkLoad() async throws {
        try await mapped { try await pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) } }
    }

    package func rawList(_ query: ConnectionQuery) async throws -> Int {
        try await mapped {
            try await pool.read { db in
                try Self.stepAll(try Self.listStatement(query, in: db, now: now()))
            }
        }
    }

    package func rawGet(id: ConnectionID, workspace: WorkspaceID) async throws -> Int {
        try await mapped {
            try await pool.read { db in
                let statement = try db.cachedStatement(sql: Self.connectionByIDSQL)
                statement.arguments = [id.rawValue, workspace.rawValue]
                return try Self.stepAll(statement)
            }
        }
    }

    package func rawJSONDump(workspace: WorkspaceID, environment: String) async throws -> (rows: Int, bytes: Int) {
        try await mapped {
            try await pool.read { db in
                let statement = try db.makeStatement(
                    sql: """
                        SELECT json_object('id', id, 'workspace_id', workspace_id, 'integration_type', integration_type,
                            'integration_name', integration_name, 'external_xref', external_xref,
                            'permissions', permissions, 'categories', categories, 'environment', environment,
                            'auth_key_id', auth_key_id, 'auth_ciphertext', hex(auth_ciphertext),
                            'is_paused', is_paused, 'auth_aws_arn', auth_aws_arn,
                            'auth_azure_keyvault_id', auth_azure_keyvault_id,
                            'auth_gcp_secret_name', auth_gcp_secret_name, 'auth_hashi_vault_path', auth_hashi_vault_path,
                            'secretsmanager_id', secretsmanager_id, 'secretsmanager_key', secretsmanager_key,
                            'last_healthy_at', last_healthy_at, 'last_unhealthy_at', last_unhealthy_at,
                            'last_unhealthy_code', last_unhealthy_code, 'created_at', created_at,
                            'updated_at', updated_at, 'version', version, 'token_expires_at', token_expires_at,
                            'refresh_status', refresh_status, 'refresh_attempts', refresh_attempts,
                            'refresh_next_at', refresh_next_at)
                        FROM connections WHERE workspace_id = ? AND environment = ? ORDER BY created_at, id
                        """
                )
                var rows = 0
                var bytes = 0
                let cursor = try String.fetchCursor(statement, arguments: [workspace.rawValue, environment])
                while let json = try cursor.next() {
                    rows += 1
                    bytes += json.utf8.count
                }
                return (rows, bytes)
            }
        }
    }

    /// Steps through every row and takes each column's value in place, the way the endpoints' row
    /// reader does (`SQLiteConnectionRow`: text as blob bytes), without copying or mapping anything.
    private static func stepAll(_ statement: Statement) throws -> Int {
        var rows = 0
        let cursor = try Row.fetchCursor(statement)
        let sqlite = statement.sqliteStatement
        let columns = sqlite3_column_count(sqlite)
        while try cursor.next() != nil {
            rows += 1
            for column in 0..<columns {
                switch sqlite3_column_type(sqlite, column) {
                case SQLITE_INTEGER: _ = sqlite3_column_int64(sqlite, column)
                case SQLITE_TEXT, SQLITE_BLOB:
                    _ = (sqlite3_column_blob(sqlite, column), sqlite3_column_bytes(sqlite, column))
                default: break
                }
            }
        }
        return rows
    }
}
