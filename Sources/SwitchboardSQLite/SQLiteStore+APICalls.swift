import GRDB
import SwitchboardCore

extension SQLiteStore {
    public func appendAPICalls(_ calls: [APICall]) async throws {
        guard !calls.isEmpty else { return }
        try await mapped {
            try await pool.write { db in
                let statement = try db.cachedStatement(
                    sql: """
                        INSERT OR IGNORE INTO api_calls (\(Self.apiCallColumns), is_error)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                )
                for call in calls {
                    let values: [(any DatabaseValueConvertible)?] = [
                        call.id, call.workspaceID.rawValue, call.createdAt.millisecondsSinceEpoch,
                        call.connectionID?.rawValue, call.integrationType, call.environment, call.externalXref,
                        call.name, call.kind.rawValue, call.method, call.path, call.status, call.error, call.size,
                        call.unifiedResponseTime, call.endapiResponseTime, call.ipAddress, call.userAgent,
                        call.isError ? 1 : 0,
                    ]
                    try statement.execute(arguments: StatementArguments(values))
                }
            }
        }
    }

    public func apiCalls(_ query: APICallQuery) async throws -> [APICall] {
        var sql = "SELECT \(Self.apiCallColumns) FROM api_calls WHERE workspace_id = ?"
        var arguments: [(any DatabaseValueConvertible)?] = [query.workspaceID.rawValue]
        func filter(_ condition: String, _ value: (any DatabaseValueConvertible)?) {
            guard let value else { return }
            sql += " AND \(condition)"
            arguments.append(value)
        }
        filter("connection_id = ?", query.connectionID?.rawValue)
        filter("environment = ?", query.environment)
        filter("external_xref = ?", query.externalXref)
        filter("integration_type = ?", query.integrationType)
        filter("type = ?", query.kind?.rawValue)
        filter("is_error = ?", query.isError.map { $0 ? 1 : 0 })
        filter("created_at >= ?", query.createdSince?.millisecondsSinceEpoch)
        let direction = query.ascending ? "ASC" : "DESC"
        sql += " ORDER BY created_at \(direction), id \(direction) LIMIT ? OFFSET ?"
        arguments += [query.limit, query.offset]
        let (statementSQL, statementArguments) = (sql, StatementArguments(arguments))
        return try await mapped {
            try await pool.read { db in
                try Row.fetchAll(db, sql: statementSQL, arguments: statementArguments).map(Self.apiCall(from:))
            }
        }
    }

    public func apiCall(id: String, workspace: WorkspaceID) async throws -> APICall? {
        try await mapped {
            try await pool.read { db in
                try Row.fetchOne(
                    db,
                    sql: "SELECT \(Self.apiCallColumns) FROM api_calls WHERE id = ? AND workspace_id = ?",
                    arguments: [id, workspace.rawValue]
                ).map(Self.apiCall(from:))
            }
        }
    }

    public func purgeAPICalls(before cutoff: Timestamp, limit: Int) async throws -> Int {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        DELETE FROM api_calls WHERE rowid IN (
                            SELECT rowid FROM api_calls WHERE created_at < ? LIMIT ?
                        )
                        """,
                    arguments: [cutoff.millisecondsSinceEpoch, limit]
                )
                return db.changesCount
            }
        }
    }

    static let apiCallColumns = """
        id, workspace_id, created_at, connection_id, integration_type, environment, external_xref, name, type, \
        method, path, status, error, size, unified_response_time, endapi_response_time, ip_address, user_agent
        """

    static func apiCall(from row: Row) -> APICall {
        APICall(
            id: row[0],
            workspaceID: WorkspaceID(rawValue: row[1]),
            createdAt: Timestamp(millisecondsSinceEpoch: row[2]),
            connectionID: (row[3] as String?).map(ConnectionID.init(rawValue:)),
            integrationType: row[4],
            environment: row[5],
            externalXref: row[6],
            name: row[7],
            kind: APICall.Kind(rawValue: row[8]) ?? .inbound,
            method: row[9],
            path: row[10],
            status: row[11],
            error: row[12],
            size: row[13],
            unifiedResponseTime: row[14],
            endapiResponseTime: row[15],
            ipAddress: row[16],
            userAgent: row[17]
        )
    }
}
