import NIOCore
import PostgresNIO
import SwitchboardCore

/// The read path of keys that may not see credentials: JSON written straight from the cells of
/// each data row (see `StoredConnectionRow`), with the same SQL as `list` and `connection(id:)`.
extension PostgresStore {
    public func listJSONWithoutAuth(
        _ query: ConnectionQuery,
        confirmingKey keyID: String
    ) async throws -> KeyConfirmedRead<ConnectionPageJSON> {
        let page = try await mapped { [client, logger] in
            var page = ConnectionPageWriter(query)
            var row = PostgresConnectionRow()
            let rows = try await Self.pageRows(query, confirmingKey: keyID, now: now(), client: client, logger: logger)
            for try await data in rows {
                try row.load(data)
                page.append(row)
            }
            return page.finish()
        }
        // An empty page may mean a dead key: only then does telling the two apart cost a round trip.
        if page.count == 0, try await !keyIsLive(keyID) { return .keyNotLive }
        return .read(page)
    }

    public func connectionJSONWithoutAuth(
        id: ConnectionID,
        workspace: WorkspaceID,
        confirmingKey keyID: String
    ) async throws -> KeyConfirmedRead<[UInt8]?> {
        let json = try await mapped { [client, logger] in
            let rows = try await client.execute(
                ConnectionByIDForLiveKey(id: id.rawValue, workspace: workspace.rawValue, keyID: keyID),
                logger: logger
            )
            var json: [UInt8]?
            var row = PostgresConnectionRow()
            for try await data in rows {
                try row.load(data)
                var writer = JSONWriter(reservingCapacity: ConnectionPageWriter.bytesPerRow)
                ConnectionJSON.write(row, to: &writer)
                json = writer.bytes
            }
            return json
        }
        if json == nil, try await !keyIsLive(keyID) { return .keyNotLive }
        return .read(json)
    }

    public func connection(
        id: ConnectionID,
        workspace: WorkspaceID,
        confirmingKey keyID: String
    ) async throws -> KeyConfirmedRead<Connection?> {
        let connection = try await mapped { [client, logger] () -> Connection? in
            let rows = try await client.execute(
                ConnectionByIDForLiveKey(id: id.rawValue, workspace: workspace.rawValue, keyID: keyID),
                logger: logger
            )
            for try await row in rows { return try Self.connection(from: row) }
            return nil
        }
        if connection == nil, try await !keyIsLive(keyID) { return .keyNotLive }
        return .read(connection)
    }

    private func keyIsLive(_ keyID: String) async throws -> Bool {
        try await mapped { [client, logger] in
            for try await live in try await client.execute(KeyIsLive(keyID: keyID), logger: logger) { return live }
            return false
        }
    }
}

/// One data row's cells, read in place. Results come in PostgreSQL's binary format: text is its
/// UTF-8 bytes, BIGINT 8 bytes big-endian, BOOLEAN one byte.
struct PostgresConnectionRow: StoredConnectionRow {
    private var cells: [ByteBuffer?] = []

    /// Takes the cells of `row` in column order (the iterator, not random access: see
    /// `PostgresStore.connection(from:)`).
    mutating func load(_ row: PostgresRow) throws {
        cells.removeAll(keepingCapacity: true)
        for cell in row {
            guard cell.format == .binary else { throw RowShapeError(columns: row.count) }
            cells.append(cell.bytes)
        }
        guard cells.count >= StoredConnectionColumn.allCases.count else { throw RowShapeError(columns: row.count) }
    }

    func withText<R>(_ column: StoredConnectionColumn, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        guard let buffer = cells[column.rawValue] else { return try body(nil) }
        return try buffer.withUnsafeReadableBytes { try body($0) }
    }

    func integer(_ column: StoredConnectionColumn) -> Int64? {
        guard let buffer = cells[column.rawValue] else { return nil }
        switch buffer.readableBytes {
        case 8: return buffer.getInteger(at: buffer.readerIndex, as: Int64.self)
        case 1: return buffer.getInteger(at: buffer.readerIndex, as: UInt8.self).map(Int64.init)
        default: return nil
        }
    }
}
