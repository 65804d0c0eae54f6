import GRDB
import SwitchboardCore

extension SQLiteStore {
    public func append(_ records: [AuditRecord]) async throws {
        try await mapped { try await pool.write { db in try Self.appendAudit(records, db) } }
    }

    public func auditRecords(_ query: AuditQuery) async throws -> [AuditRecord] {
        var sql = "SELECT \(Self.auditColumns) FROM audit_log WHERE workspace_id = ?"
        var arguments: [(any DatabaseValueConvertible)?] = [query.workspaceID.rawValue]
        func filter(_ condition: String, _ value: (any DatabaseValueConvertible)?) {
            guard let value else { return }
            sql += " AND \(condition)"
            arguments.append(value)
        }
        filter("connection_id = ?", query.connectionID?.rawValue)
        filter("action = ?", query.action?.rawValue)
        filter("actor = ?", query.actor)
        filter("at >= ?", query.since?.millisecondsSinceEpoch)
        filter("at <= ?", query.until?.millisecondsSinceEpoch)
        filter("seq < ?", query.before)
        sql += " ORDER BY seq DESC LIMIT ?"
        arguments.append(query.limit)
        let statementArguments = StatementArguments(arguments)
        let statementSQL = sql
        return try await mapped {
            try await pool.read { db in
                try Row.fetchAll(db, sql: statementSQL, arguments: statementArguments).compactMap(
                    Self.auditRecord(from:)
                )
            }
        }
    }

    public func auditRecords(after sequence: Int64?, limit: Int) async throws -> [AuditRecord] {
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT \(Self.auditColumns) FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?",
                    arguments: [sequence ?? 0, limit]
                ).compactMap(Self.auditRecord(from:))
            }
        }
    }

    public func importAuditRecords(_ records: [AuditRecord]) async throws -> Int {
        try await mapped {
            try await pool.write { db in
                // AUTOINCREMENT keeps later appends above the highest sequence inserted here.
                let statement = try db.cachedStatement(
                    sql: "INSERT OR IGNORE INTO audit_log (\(Self.auditColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                )
                var inserted = 0
                for record in records {
                    try statement.execute(arguments: StatementArguments([record.sequence] + Self.auditValues(record)))
                    inserted += db.changesCount
                }
                return inserted
            }
        }
    }

    static let auditColumns = "seq, workspace_id, at, actor, action, connection_id, target, client_address"

    /// A record from a row in `auditColumns` order; nil for an action this version does not know
    /// (written by a newer one), which is skipped rather than misread.
    static func auditRecord(from row: Row) -> AuditRecord? {
        guard let action = AuditAction(rawValue: row[4]) else { return nil }
        return AuditRecord(
            sequence: row[0],
            workspaceID: WorkspaceID(rawValue: row[1]),
            at: Timestamp(millisecondsSinceEpoch: row[2]),
            actor: row[3],
            action: action,
            connectionID: (row[5] as String?).map(ConnectionID.init(rawValue:)),
            target: row[6],
            clientAddress: row[7]
        )
    }

    static func auditValues(_ record: AuditRecord) -> [(any DatabaseValueConvertible)?] {
        [
            record.workspaceID.rawValue, record.at.millisecondsSinceEpoch, record.actor, record.action.rawValue,
            record.connectionID?.rawValue, record.target, record.clientAddress,
        ]
    }

    static func appendAudit(_ records: [AuditRecord], _ db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO audit_log (workspace_id, at, actor, action, connection_id, target, client_address)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        )
        for record in records { try statement.execute(arguments: StatementArguments(auditValues(record))) }
    }
}
