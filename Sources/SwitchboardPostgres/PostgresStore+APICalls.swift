import PostgresNIO
import SwitchboardCore

extension PostgresStore {
    public func appendAPICalls(_ calls: [APICall]) async throws {
        guard !calls.isEmpty else { return }
        let statement = Self.appendAPICallsQuery(calls)
        try await mapped { [client, logger] in
            _ = try await client.query(statement, logger: logger)
        }
    }

    public func apiCalls(_ query: APICallQuery) async throws -> [APICall] {
        var binds = PostgresBindings()
        var sql = "SELECT \(Self.apiCallColumns) FROM api_calls WHERE workspace_id = $1"
        binds.append(query.workspaceID.rawValue)
        func filter(_ column: String, _ comparison: String, _ value: String?) {
            guard let value else { return }
            binds.append(value)
            sql += " AND \(column) \(comparison) $\(binds.count)"
        }
        filter("connection_id", "=", query.connectionID?.rawValue)
        filter("environment", "=", query.environment)
        filter("external_xref", "=", query.externalXref)
        filter("integration_type", "=", query.integrationType)
        filter("type", "=", query.kind?.rawValue)
        if let isError = query.isError {
            binds.append(isError)
            sql += " AND is_error = $\(binds.count)"
        }
        if let since = query.createdSince {
            binds.append(since.millisecondsSinceEpoch)
            sql += " AND created_at >= $\(binds.count)"
        }
        let direction = query.ascending ? "ASC" : "DESC"
        binds.append(Int64(query.limit))
        binds.append(Int64(query.offset))
        sql += " ORDER BY created_at \(direction), id \(direction) LIMIT $\(binds.count - 1) OFFSET $\(binds.count)"
        let statement = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await mapped { [client, logger] in
            try await Self.apiCalls(try await client.query(statement, logger: logger))
        }
    }

    public func apiCall(id: String, workspace: WorkspaceID) async throws -> APICall? {
        try await mapped { [client, logger] in
            try await Self.apiCalls(
                try await client.query(
                    """
                    SELECT \(unescaped: Self.apiCallColumns) FROM api_calls
                    WHERE id = \(id) AND workspace_id = \(workspace.rawValue)
                    """,
                    logger: logger
                )
            ).first
        }
    }

    public func purgeAPICalls(before cutoff: Timestamp, limit: Int) async throws -> Int {
        try await mapped { [client, logger] in
            try await client.query(
                """
                DELETE FROM api_calls WHERE id IN (
                    SELECT id FROM api_calls WHERE created_at < \(cutoff.millisecondsSinceEpoch) LIMIT \(Int64(limit))
                ) RETURNING 1
                """,
                logger: logger
            ).collect().count
        }
    }

    static let apiCallColumns = """
        id, workspace_id, created_at, connection_id, integration_type, environment, external_xref, name, type, \
        method, path, status, error, size, unified_response_time, endapi_response_time, ip_address, user_agent
        """

    /// Rows in `apiCallColumns` order; a `type` this version does not know is read as `inbound`.
    static func apiCalls(_ rows: PostgresRowSequence) async throws -> [APICall] {
        var calls: [APICall] = []
        for try await row in rows {
            let c = try row.decode(
                (
                    String, String, Int64, String?, String, String, String?, String, String, String, String, String,
                    String?, Int64?, Int64, Int64?, String?, String?
                ).self
            )
            calls.append(
                APICall(
                    id: c.0,
                    workspaceID: WorkspaceID(rawValue: c.1),
                    createdAt: Timestamp(millisecondsSinceEpoch: c.2),
                    connectionID: c.3.map(ConnectionID.init(rawValue:)),
                    integrationType: c.4,
                    environment: c.5,
                    externalXref: c.6,
                    name: c.7,
                    kind: APICall.Kind(rawValue: c.8) ?? .inbound,
                    method: c.9,
                    path: c.10,
                    status: c.11,
                    error: c.12,
                    size: c.13,
                    unifiedResponseTime: c.14,
                    endapiResponseTime: c.15,
                    ipAddress: c.16,
                    userAgent: c.17
                )
            )
        }
        return calls
    }

    /// One multi-row INSERT for all `calls`.
    static func appendAPICallsQuery(_ calls: [APICall]) -> PostgresQuery {
        let width = 19
        var binds = PostgresBindings(capacity: calls.count * width)
        var rows: [String] = []
        rows.reserveCapacity(calls.count)
        func optional(_ value: String?) { if let value { binds.append(value) } else { binds.appendNull() } }
        func optional(_ value: Int64?) { if let value { binds.append(value) } else { binds.appendNull() } }
        for call in calls {
            let first = binds.count + 1
            rows.append("(" + (first..<(first + width)).map { "$\($0)" }.joined(separator: ", ") + ")")
            binds.append(call.id)
            binds.append(call.workspaceID.rawValue)
            binds.append(call.createdAt.millisecondsSinceEpoch)
            optional(call.connectionID?.rawValue)
            binds.append(call.integrationType)
            binds.append(call.environment)
            optional(call.externalXref)
            binds.append(call.name)
            binds.append(call.kind.rawValue)
            binds.append(call.method)
            binds.append(call.path)
            binds.append(call.status)
            binds.append(call.isError)
            optional(call.error)
            optional(call.size)
            binds.append(call.unifiedResponseTime)
            optional(call.endapiResponseTime)
            optional(call.ipAddress)
            optional(call.userAgent)
        }
        return PostgresQuery(
            unsafeSQL: """
                INSERT INTO api_calls (id, workspace_id, created_at, connection_id, integration_type, environment,
                    external_xref, name, type, method, path, status, is_error, error, size, unified_response_time,
                    endapi_response_time, ip_address, user_agent)
                VALUES \(rows.joined(separator: ", "))
                ON CONFLICT (id) DO NOTHING
                """,
            binds: binds
        )
    }
}
