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
        var sql = "SELECT \(Self.auditColumns) FROM audit_log WHERE workspace_id = $1"
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
            try await Self.auditRecords(try await client.query(statement, logger: logger))
        }
    }

    public func auditRecords(after sequence: Int64?, limit: Int) async throws -> [AuditRecord] {
        try await mapped { [client, logger] in
            try await Self.auditRecords(
                try await client.query(
                    """
                    SELECT \(unescaped: Self.auditColumns) FROM audit_log WHERE seq > \(sequence ?? 0)
                    ORDER BY seq LIMIT \(Int64(limit))
                    """,
                    logger: logger
                )
            )
        }
    }

    public func importAuditRecords(_ records: [AuditRecord]) async throws -> Int {
        guard !records.isEmpty else { return 0 }
        return try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                var inserted = 0
                for r in records {
                    inserted += try await connection.query(
                        """
                        INSERT INTO audit_log (\(unescaped: Self.auditColumns)) OVERRIDING SYSTEM VALUE
                        VALUES (\(r.sequence), \(r.workspaceID.rawValue), \(r.at.millisecondsSinceEpoch), \(r.actor),
                                \(r.action.rawValue), \(r.connectionID?.rawValue), \(r.target), \(r.clientAddress))
                        ON CONFLICT (seq) DO NOTHING RETURNING 1
                        """,
                        logger: logger
                    ).collect().count
                }
                // Later appends continue after the highest sequence copied in.
                _ = try await connection.query(
                    """
                    SELECT setval(pg_get_serial_sequence('audit_log', 'seq'), (SELECT MAX(seq) FROM audit_log))
                    """,
                    logger: logger
                )
                return inserted
            }
        }
    }

    static let auditColumns = "seq, workspace_id, at, actor, action, connection_id, target, client_address"

    /// Rows in `auditColumns` order. An action this version does not know (written by a newer one)
    /// is skipped, not misread.
    static func auditRecords(_ rows: PostgresRowSequence) async throws -> [AuditRecord] {
        var records: [AuditRecord] = []
        for try await row in rows.decode((Int64, String, Int64, String, String, String?, String?, String?).self) {
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
