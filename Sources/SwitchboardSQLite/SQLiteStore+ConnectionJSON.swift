import GRDB
import GRDBSQLite
import SwitchboardCore

/// The read path of keys that may not see credentials: JSON written straight from SQLite's
/// current row (see `StoredConnectionRow`), with the same SQL as `list` and `connection(id:)`.
extension SQLiteStore {
    public func listJSONWithoutAuth(
        _ query: ConnectionQuery,
        confirmingKey keyID: String
    ) async throws -> KeyConfirmedRead<ConnectionPageJSON> {
        try await mapped {
            try await pool.read { db in
                guard try Self.keyIsLive(keyID, db) else { return .keyNotLive }
                let statement = try Self.listStatement(query, in: db, now: now())
                var page = ConnectionPageWriter(query)
                let row = SQLiteConnectionRow(statement: statement.sqliteStatement)
                let cursor = try Row.fetchCursor(statement)
                while try cursor.next() != nil { page.append(row) }
                return .read(page.finish())
            }
        }
    }

    public func connectionJSONWithoutAuth(
        id: ConnectionID,
        workspace: WorkspaceID,
        confirmingKey keyID: String
    ) async throws -> KeyConfirmedRead<[UInt8]?> {
        try await mapped {
            try await pool.read { db in
                guard try Self.keyIsLive(keyID, db) else { return .keyNotLive }
                let statement = try db.cachedStatement(sql: Self.connectionByIDSQL)
                statement.arguments = [id.rawValue, workspace.rawValue]
                let cursor = try Row.fetchCursor(statement)
                guard try cursor.next() != nil else { return .read(nil) }
                var writer = JSONWriter(reservingCapacity: ConnectionPageWriter.bytesPerRow)
                // The cursor resets the statement when released: it must outlive the reads of its row.
                withExtendedLifetime(cursor) {
                    ConnectionJSON.write(SQLiteConnectionRow(statement: statement.sqliteStatement), to: &writer)
                }
                return .read(writer.bytes)
            }
        }
    }

    public func connection(
        id: ConnectionID,
        workspace: WorkspaceID,
        confirmingKey keyID: String
    ) async throws -> KeyConfirmedRead<Connection?> {
        try await mapped {
            try await pool.read { db in
                guard try Self.keyIsLive(keyID, db) else { return .keyNotLive }
                return .read(try Self.fetchConnection(id: id, workspace: workspace, db))
            }
        }
    }

    /// Whether the API key exists unrevoked, read in the same transaction as the page it guards.
    static func keyIsLive(_ keyID: String, _ db: Database) throws -> Bool {
        let statement = try db.cachedStatement(sql: "SELECT 1 FROM api_keys WHERE id = ? AND revoked_at IS NULL")
        return try Bool.fetchOne(statement, arguments: [keyID]) != nil
    }
}

/// The statement's current row, read through SQLite's C API without copying.
struct SQLiteConnectionRow: StoredConnectionRow {
    let statement: SQLiteStatement

    func withText<R>(_ column: StoredConnectionColumn, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        let index = Int32(column.rawValue)
        guard sqlite3_column_type(statement, index) != SQLITE_NULL else { return try body(nil) }
        // The text's bytes as a blob: sqlite3_column_text would first copy a value that points into
        // the page, to NUL-terminate it. (An empty value may come back as a NULL pointer, which is
        // why NULL is told by the type above.) Blob before bytes, as SQLite documents.
        let bytes = sqlite3_column_blob(statement, index)
        return try body(UnsafeRawBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement, index))))
    }

    func integer(_ column: StoredConnectionColumn) -> Int64? {
        let index = Int32(column.rawValue)
        guard sqlite3_column_type(statement, index) != SQLITE_NULL else { return nil }
        return sqlite3_column_int64(statement, index)
    }
}
