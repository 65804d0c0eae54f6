import PostgresNIO

// The statements every request runs, prepared once per pooled connection and then only bound and
// executed. PostgreSQL parses and plans an unprepared query on every execution; for a lookup by
// primary key that was most of its server time (pgbench, get by id at 100k rows: 29k/s
// unprepared, 72k/s prepared). Statements whose text varies with the request (list filters) stay
// unprepared. Parameter types are declared, so a NULL in the first execution on a connection does
// not decide a parameter's type.

/// One connection row by id, in `connectionColumns` order, read as raw cells.
struct ConnectionByID: PostgresPreparedStatement {
    static let sql = """
        SELECT \(PostgresStore.connectionColumns) FROM connections WHERE id = $1 AND workspace_id = $2
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .text]
    typealias Row = PostgresRow

    let id: String
    let workspace: String

    func makeBindings() -> PostgresBindings { textBindings(id, workspace) }

    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}

/// `ConnectionByID`, returning the row only while API key `keyID` is unrevoked (the read that
/// confirms a remembered key; see `KeyConfirmedRead`).
struct ConnectionByIDForLiveKey: PostgresPreparedStatement {
    static let sql = """
        SELECT \(PostgresStore.connectionColumns) FROM connections
        WHERE id = $1 AND workspace_id = $2 AND \(PostgresStore.liveKeyCondition(bind: 3))
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .text, .text]
    typealias Row = PostgresRow

    let id: String
    let workspace: String
    let keyID: String

    func makeBindings() -> PostgresBindings { textBindings(id, workspace, keyID) }

    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}

/// Whether API key `keyID` exists and is unrevoked.
struct KeyIsLive: PostgresPreparedStatement {
    static let sql = "SELECT \(PostgresStore.liveKeyCondition(bind: 1))"
    static let bindingDataTypes: [PostgresDataType] = [.text]
    typealias Row = Bool

    let keyID: String

    func makeBindings() -> PostgresBindings { textBindings(keyID) }

    func decodeRow(_ row: PostgresRow) throws -> Bool { try row.decode(Bool.self) }
}

/// One new connection row: the values of `PostgresStore.bind(_:into:)`.
struct InsertConnection: PostgresPreparedStatement {
    static let sql = """
        INSERT INTO connections (\(PostgresStore.connectionColumns), name_sort, category_mask)
        VALUES (\(PostgresStore.connectionPlaceholders))
        """
    /// In `bind(_:into:)` order.
    static let bindingDataTypes: [PostgresDataType] =
        Array(repeating: .text, count: 9) + [.bytea, .bool] + Array(repeating: .text, count: 6)
        + [.int8, .int8, .text, .int8, .int8, .int8, .int8, .text, .int8, .int8, .text, .int8]
    typealias Row = Void

    let binds: PostgresBindings

    func makeBindings() -> PostgresBindings {
        assert(binds.count == Self.bindingDataTypes.count)
        return binds
    }

    func decodeRow(_ row: PostgresRow) {}
}

/// Text parameters $1, $2, ... in order.
private func textBindings(_ values: String...) -> PostgresBindings {
    var binds = PostgresBindings(capacity: values.count)
    for value in values { binds.append(value) }
    return binds
}
