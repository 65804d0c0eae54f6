import PostgresNIO
import SwitchboardCore

extension PostgresStore {
    public func append(_ records: [AuditRecord]) async throws {
        guard !records.isEmpty else { return }
        let query = Self.appendAuditQuery(records)
        try await mapped { [client, logger] in _ = try await client.query(query, logger: logger) }
    }

    public func auditRecords(_ query: AuditQuery) async throws -> [AuditRecord] {
        var binds = PostgresBindings()
        var sql = """
            SELECT seq, workspace_id, at, actor, action, connection_id, target, client_address
            FROM audit_log WHERE workspace_id = $1
            """
        binds.append(query.workspaceID.rawValue)
        func filter(_ column: String, _ comparison: String, _ value: String?) {
            guard let value else { return }
            binds.append(value)
            sql += " AND \(column) \(comparison) $\(binds.count)"
        }
        func filter(_ column: String, _ comparison: String, _ value: Int64?) {
            guard let value else { return }
            binds.append(value)
            sql += " AND \(column) \(comparison) $\(binds.count)"
        }
        filter("connection_id", "=", query.connectionID?.rawValue)
        filter("action", "=", query.action?.rawValue)
        filter("actor", "=", query.actor)
        filter("at", ">=", query.since?.millisecondsSinceEpoch)
        filter("at", "<=", query.until?.millisecondsSinceEpoch)
        filter("seq", "<", query.before)
        binds.append(Int64(query.limit))
        sql += " ORDER BY seq DESC LIMIT $\(binds.count)"
        let statement = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await mapped { [client, logger] in
            var records: [AuditRecord] = []
            let rows = try await client.query(statement, logger: logger)
            for try await row in rows.decode((Int64, String, Int64, String, String, String?, String?, String?).self) {
                // An action this version does not know (written by a newer one) is skipped, not misread.
                guard let action = AuditAction(rawValue: row.4) else { continue }
                records.append(
                    AuditRecord(
                        sequence: row.0,
                        workspaceID: WorkspaceID(rawValue: row.1),
                        at: Timestamp(millisecondsSinceEpoch: row.2),
                        actor: row.3,
                        action: action,
                        connectionID: row.5.map(ConnectionID.init(rawValue:)),
                        target: row.6,
                        clientAddress: row.7
                    )
                )
            }
            return records
        }
    }

    /// One multi-row INSERT for all `records`, in order.
    static func appendAuditQuery(_ records: [AuditRecord]) -> PostgresQuery {
        var binds = PostgresBindings(capacity: records.count * 7)
        var rows: [String] = []
        rows.reserveCapacity(records.count)
        for record in records {
            let first = binds.count + 1
            rows.append("(" + (first..<(first + 7)).map { "$\($0)" }.joined(separator: ", ") + ")")
            binds.append(record.workspaceID.rawValue)
            binds.append(record.at.millisecondsSinceEpoch)
            binds.append(record.actor)
            binds.append(record.action.rawValue)
            if let id = record.connectionID { binds.append(id.rawValue) } else { binds.appendNull() }
            if let target = record.target { binds.append(target) } else { binds.appendNull() }
            if let address = record.clientAddress { binds.append(address) } else { binds.appendNull() }
        }
        return PostgresQuery(
            unsafeSQL: """
                INSERT INTO audit_log (workspace_id, at, actor, action, connection_id, target, client_address)
                VALUES \(rows.joined(separator: ", "))
                """,
            binds: binds
        )
    }
}
